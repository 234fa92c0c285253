"""The eval list: a filterable table of evals (lazygit's left panel)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple

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


class Row(NamedTuple):
    """One eval's row as drawn, and the lower-case text the filter searches."""

    cells: list[Text]
    haystack: str


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
        # Each eval's cells and filter text, built once per load: typing in the filter then only
        # picks rows, and the table draws the few on screen.
        self._rows: dict[str, Row] = {}
        self._rows_colors: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Input(placeholder="filter: words in name, version, owner, covers…  (esc clears)", id="filter")
        yield EvalTable([(label, 3 if key == "badges" else None) for key, label in COLUMNS], id="evals")

    @property
    def table(self) -> EvalTable:
        return self.query_one(EvalTable)

    def set_summaries(self, summaries: tuple[EvalSummary, ...]) -> None:
        """Replace the rows, keeping the filter and, where it still exists, the selected eval."""
        self.summaries = summaries
        self._rows = {}
        self.refill()

    def set_statuses(self, statuses: Mapping[str, EvalStatus], now: dt.datetime) -> None:
        """Owner, last change, badges and scores arrived (after the history was read)."""
        self.statuses, self.now = statuses, now
        self._rows = {}
        self.refill()

    def refill(self) -> None:
        table = self.table
        selected = self.current
        words = self.query_one("#filter", Input).value.lower().split()
        table.clear()
        rows = self._built()
        kept = [s for s in self.summaries if all(word in rows[s.name].haystack for word in words)]
        if self.mine_only:
            kept = [s for s in kept if self._owner(s) == self.me]
        if self.order != SORTS[0]:
            kept.sort(key=lambda s: sort_key(self.order, s, self.statuses.get(s.name)))
        self.shown = [s.name for s in kept]
        table.add_rows(rows[s.name].cells for s in kept)
        if selected in self.shown:
            # Announced once, below, for the whole refill.
            with table.prevent(EvalTable.CursorMoved):
                table.move_cursor(row=self.shown.index(selected))
        self.post_message(EvalSelected(self.current))

    def _built(self) -> dict[str, Row]:
        """Every eval's `Row`, built again after a load or a change of theme."""
        colors = self._colors()
        if colors != self._rows_colors:
            self._rows, self._rows_colors = {}, colors
        if not self._rows:
            self._rows = {
                s.name: Row(self.cells(s, self.statuses.get(s.name), self.now, colors), haystack(s, self._owner(s)))
                for s in self.summaries
            }
        return self._rows

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

    @staticmethod
    def cells(s: EvalSummary, status: EvalStatus | None, now: dt.datetime | None, colors: dict[str, str]) -> list[Text]:
        """One row: badges, name, version, owner, last change, latest scores, valid for, covers."""
        version = s.version.version
        version_cell = (
            Text(clean(version), style="bold")
            if version
            else (
                Text("error", style=f"bold {colors.get('error', 'red')}") if s.version_error else Text("–", style="dim")
            )
        )
        valid_for = clean(s.version.valid_for or "", keep_newlines=False)
        badges = Text()
        owner = Text(clean(s.eval.owner or ""), style="italic")
        changed = score = Text("")
        if status is not None:
            if status.pending:  # uncommitted changes to its files
                badges.append(PENDING_BADGE, style=f"bold {colors.get('accent', 'blue')}")
            if status.silent:
                badges.append(SILENT_BADGE, style=f"bold {colors.get('warning', 'yellow')}")
            if status.blind_spots:
                badges.append(BLIND_BADGE, style=f"bold {colors.get('error', 'red')}")
            owner = Text(clean(status.owner or "–"), style="italic" if status.owner_reason == "pin" else "")
            changed = Text(ago(status.last_change, now) if now else "", style="dim")
            score = Text("/".join(f"{v:.2f}" for v in status.scores.values()))
            if below_threshold(status):
                score.stylize(colors.get("error", "red"))
        return [
            badges,
            Text(s.name),
            version_cell,
            owner,
            changed,
            score,
            Text(valid_for[:30] + ("…" if len(valid_for) > 30 else "")),
            Text(", ".join(s.eval.covers)),
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
