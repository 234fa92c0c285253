"""The eval list: a filterable table of evals (lazygit's left panel)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, NamedTuple

from rich.cells import cell_len
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input

from evaltui.core.formatting import ago
from evaltui.core.registry.overview import EvalSummary
from evaltui.core.textsafe import clean
from evaltui.tui.messages import EvalSelected
from evaltui.tui.widgets.eval_table import EvalTable

if TYPE_CHECKING:  # the triage module pulls in git, notes and runs: not needed to draw
    from evaltui.core.team.triage import EvalStatus

COLUMNS = (
    ("badges", " "),
    ("name", "eval"),
    ("version", "ver"),
    ("owner", "owner"),
    ("changed", "changed"),
    ("score", "score"),
    ("valid_for", "valid for"),
    ("covers", "covers"),
)
SILENT_BADGE = "!"  # unacknowledged silent change since the last bump
BLIND_BADGE = "◇"  # declares a failure mode that no case exercises
PENDING_BADGE = "~"  # its files have uncommitted changes


def below_threshold(status: EvalStatus | None) -> bool:
    """Whether the core's triage found a model under the eval's threshold."""
    return status is not None and bool(status.below_threshold)


# The orders `s` cycles through: (label shown in the list's title, key for a row, reversed).
SORTS: tuple[str, ...] = ("evals.toml order", "lowest score", "latest change", "owner", "name")


def sort_key(order: str, summary: EvalSummary, status: EvalStatus | None) -> tuple:
    """Where a row goes in `order`: evals without the value (no run, no history) go last."""
    if order == "lowest score":
        scores = list(status.scores.values()) if status is not None else []
        return (not scores, min(scores) if scores else 0.0)
    if order == "latest change":
        last = status.last_change if status is not None else None
        return (last is None, -last.timestamp() if last is not None else 0.0)
    if order == "owner":
        owner = status.owner if status is not None else summary.eval.owner
        return (owner is None, owner or "")
    if order == "name":
        return (summary.name,)
    return ()


def haystack(summary: EvalSummary, owner: str | None = None) -> str:
    """The eval's visible fields in lower case, which the filter's words are looked for in.

    `owner` is the owner the list shows (the rotation's, a cover or a pin), so filtering by a
    member finds the evals they hold this period, not only the pinned ones.
    """
    ev = summary.eval
    return " ".join(
        [
            ev.name,
            ev.description,
            summary.version.version or "",
            summary.version.valid_for or "",
            ev.owner or "",
            owner or "",
            *ev.covers,
        ]
    ).lower()


class Plain(NamedTuple):
    """One eval's row as text: what the cells say (`EvalList.texts`) and the columns they take."""

    texts: list[str]
    widths: tuple[int, ...]


def width(text: str) -> int:
    """Terminal cells `text` takes (one per character for ASCII, the common case)."""
    return len(text) if text.isascii() else cell_len(text)


class EvalList(Vertical):
    """Filter box over the eval table; posts `EvalSelected` as the cursor moves."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.summaries: tuple[EvalSummary, ...] = ()
        self.statuses: Mapping[str, EvalStatus] = {}
        self.now: dt.datetime | None = None
        self.shown: list[str] = []
        self.order = SORTS[0]
        self.me: str | None = None  # the member the user is in `[people]` (from git's user.email)
        self.mine_only = False
        # Each eval's texts and their widths, worked out once per load; its styled cells are made
        # when the table first draws its row, and the filter text when the filter is first used:
        # thousands of evals then cost the few on screen.
        self._plain: dict[str, Plain] = {}
        self._cells: dict[str, list[Text]] = {}
        self._cells_colors: dict[str, str] = {}
        self._haystacks: dict[str, str] = {}
        self._after_paint: list[Callable[[], object]] = []

    def compose(self) -> ComposeResult:
        yield Input(placeholder="filter: words in name, version, owner, covers…  (esc clears)", id="filter")
        yield EvalTable([(label, 3 if key == "badges" else None) for key, label in COLUMNS], id="evals")

    @property
    def table(self) -> EvalTable:
        return self.query_one(EvalTable)

    def set_summaries(self, summaries: tuple[EvalSummary, ...]) -> None:
        """Replace the rows, keeping the filter and, where it still exists, the selected eval."""
        self.summaries = summaries
        self._forget()
        self.refill()

    def set_statuses(self, statuses: Mapping[str, EvalStatus], now: dt.datetime) -> None:
        """Owner, last change, badges and scores arrived (after the history was read)."""
        self.statuses, self.now = statuses, now
        self._forget()
        self.refill()

    def after_paint(self, *work: Callable[[], object], wait: bool = True) -> None:
        """Run `work` once the frame that draws the rows just filled in is out (after a second if none
        comes); without `wait`, once the messages pending now are handled."""
        if not wait:
            for step in work:
                self.call_after_refresh(step)
            return
        self._after_paint = list(work)
        self.table.announce_paint()
        self.set_timer(1.0, self._painted)

    @on(EvalTable.Painted, "#evals")
    def _painted(self, event: EvalTable.Painted | None = None) -> None:
        if event is not None:
            event.stop()
        work, self._after_paint = self._after_paint, []
        for step in work:
            step()

    def _forget(self) -> None:
        self._plain, self._cells, self._haystacks = {}, {}, {}

    def refill(self) -> None:
        table = self.table
        selected = self.current
        words = self.query_one("#filter", Input).value.lower().split()
        table.clear()
        kept = list(self.summaries)
        if words:
            haystacks = self._haystacks_of()
            kept = [s for s in kept if all(word in haystacks[s.name] for word in words)]
        if self.mine_only:
            kept = [s for s in kept if self._owner(s) == self.me]
        if self.order != SORTS[0]:
            kept.sort(key=lambda s: sort_key(self.order, s, self.statuses.get(s.name)))
        self.shown = [s.name for s in kept]
        colors = self._colors()
        if colors != self._cells_colors:
            self._cells, self._cells_colors = {}, colors
        plain = [self._plain_of(s) for s in kept]
        widths = [max(column) for column in zip(*(p.widths for p in plain), strict=True)] if plain else []
        table.set_rows(len(kept), lambda i: self._cells_of(kept[i], plain[i].texts), widths)
        if selected in self.shown:
            # Announced once, below, for the whole refill.
            with table.prevent(EvalTable.CursorMoved):
                table.move_cursor(row=self.shown.index(selected))
        self.post_message(EvalSelected(self.current))

    def _plain_of(self, summary: EvalSummary) -> Plain:
        found = self._plain.get(summary.name)
        if found is None:
            texts = self.texts(summary, self.statuses.get(summary.name), self.now)
            found = self._plain[summary.name] = Plain(texts, tuple(width(t) for t in texts))
        return found

    def _cells_of(self, summary: EvalSummary, texts: list[str]) -> list[Text]:
        """The row's cells, styled, made when the table first draws it (again after a theme change)."""
        found = self._cells.get(summary.name)
        if found is None:
            status = self.statuses.get(summary.name)
            found = self._cells[summary.name] = self.styled(summary, status, texts, self._cells_colors)
        return found

    def _haystacks_of(self) -> dict[str, str]:
        if not self._haystacks:
            self._haystacks = {s.name: haystack(s, self._owner(s)) for s in self.summaries}
        return self._haystacks

    def _owner(self, summary: EvalSummary) -> str | None:
        status = self.statuses.get(summary.name)
        return status.owner if status is not None else summary.eval.owner

    def cycle_sort(self) -> str:
        """The next order of `SORTS`; returns its label."""
        self.order = SORTS[(SORTS.index(self.order) + 1) % len(SORTS)]
        self.refill()
        self._title()
        return self.order

    def toggle_mine(self) -> bool:
        """Show only the evals the user owns now, or every eval again; False when the user is not a member."""
        if self.me is None and not self.mine_only:
            return False
        self.mine_only = not self.mine_only
        self.refill()
        self._title()
        return True

    def _title(self) -> None:
        parts = ["[1] Evals"]
        if self.mine_only:
            parts.append(f"mine ({self.me})")
        if self.order != SORTS[0]:
            parts.append(f"by {self.order}")
        self.border_title = " · ".join(parts)

    def _colors(self) -> dict[str, str]:
        return self.app.get_css_variables()

    @classmethod
    def cells(
        cls, s: EvalSummary, status: EvalStatus | None, now: dt.datetime | None, colors: dict[str, str]
    ) -> list[Text]:
        """One row: badges, name, version, owner, last change, latest scores, valid for, covers."""
        return cls.styled(s, status, cls.texts(s, status, now), colors)

    @staticmethod
    def texts(s: EvalSummary, status: EvalStatus | None, now: dt.datetime | None) -> list[str]:
        """What each cell of the row says, unstyled (the columns are measured on these)."""
        version = s.version.version
        valid_for = clean(s.version.valid_for or "", keep_newlines=False)
        badges, owner, changed, score = "", clean(s.eval.owner or ""), "", ""
        if status is not None:
            badges = (
                PENDING_BADGE * bool(status.pending)  # uncommitted changes to its files
                + SILENT_BADGE * bool(status.silent)
                + BLIND_BADGE * bool(status.blind_spots)
            )
            owner = clean(status.owner or "–")
            changed = ago(status.last_change, now) if now else ""
            score = "/".join(f"{v:.2f}" for v in status.scores.values())
        return [
            badges,
            s.name,
            clean(version) if version else ("error" if s.version_error else "–"),
            owner,
            changed,
            score,
            valid_for[:30] + ("…" if len(valid_for) > 30 else ""),
            ", ".join(s.eval.covers),
        ]

    @staticmethod
    def styled(s: EvalSummary, status: EvalStatus | None, texts: list[str], colors: dict[str, str]) -> list[Text]:
        """The cells of `texts` (from `texts`) with the styles of what they say."""
        badges = Text()
        badge_colors = {
            PENDING_BADGE: colors.get("accent", "blue"),
            SILENT_BADGE: colors.get("warning", "yellow"),
            BLIND_BADGE: colors.get("error", "red"),
        }
        for badge in texts[0]:
            badges.append(badge, style=f"bold {badge_colors[badge]}")
        if s.version.version:
            version = Text(texts[2], style="bold")
        elif s.version_error:
            version = Text(texts[2], style=f"bold {colors.get('error', 'red')}")
        else:
            version = Text(texts[2], style="dim")
        pinned = status is None or status.owner_reason == "pin"
        score = Text(texts[5])
        if below_threshold(status):
            score.stylize(colors.get("error", "red"))
        return [
            badges,
            Text(texts[1]),
            version,
            Text(texts[3], style="italic" if pinned else ""),
            Text(texts[4], style="dim" if status is not None else ""),
            score,
            Text(texts[6]),
            Text(texts[7]),
        ]

    @property
    def current(self) -> str | None:
        row = self.table.cursor_row
        return self.shown[row] if self.shown and 0 <= row < len(self.shown) else None

    def around(self, name: str | None, count: int) -> list[str]:
        """`name` and up to `count` evals below and above it in the list, nearest first."""
        at = self.shown.index(name) if name in self.shown else -1
        if at < 0:
            return []
        steps = [0, *(d * sign for d in range(1, count + 1) for sign in (1, -1))]
        return [self.shown[at + step] for step in steps if 0 <= at + step < len(self.shown)]

    def select(self, name: str) -> bool:
        """Move the cursor to `name`, clearing the filter if it hides it."""
        if name not in self.shown:
            self.query_one("#filter", Input).value = ""
            self.refill()
        if name in self.shown:
            self.table.move_cursor(row=self.shown.index(name))
            return True
        return False

    def open_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self) -> None:
        self.refill()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.table.focus()

    def key_escape(self) -> None:
        box = self.query_one("#filter", Input)
        if box.display:
            box.value = ""
            box.display = False
            self.refill()
            self.table.focus()

    @on(EvalTable.CursorMoved, "#evals")
    def _moved(self, event: EvalTable.CursorMoved) -> None:
        event.stop()
        self.post_message(EvalSelected(self.current))
