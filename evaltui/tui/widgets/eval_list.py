"""The eval list: a filterable table of evals (lazygit's left panel)."""

from __future__ import annotations

import datetime as dt
from typing import Mapping, TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Input

from evaltui.core.overview import EvalSummary
from evaltui.core.textsafe import clean
from evaltui.tui.messages import EvalSelected

if TYPE_CHECKING:  # the triage module pulls in git, notes and runs: not needed to draw
    from evaltui.core.triage import EvalStatus

COLUMNS = (("badges", " "), ("name", "eval"), ("version", "ver"), ("owner", "owner"), ("changed", "changed"),
           ("score", "score"), ("valid_for", "valid for"), ("covers", "covers"))
SILENT_BADGE = "!"  # unacknowledged silent change since the last bump
BLIND_BADGE = "◇"  # declares a failure mode that no case exercises


def ago(when: dt.datetime | None, now: dt.datetime) -> str:
    """`when` relative to `now`, short: "today", "3d", "5w", "4mo", "2y"."""
    if when is None:
        return ""
    days = (now - when).days
    if days < 1:
        return "today"
    if days < 14:
        return f"{days}d"
    if days < 60:
        return f"{days // 7}w"
    if days < 730:
        return f"{days // 30}mo"
    return f"{days // 365}y"


def matches(summary: EvalSummary, query: str) -> bool:
    """Case-insensitive match of every word of `query` against the eval's visible fields."""
    ev = summary.eval
    haystack = " ".join([ev.name, ev.description, summary.version.version or "", summary.version.valid_for or "",
                         ev.owner or "", *ev.covers]).lower()
    return all(word in haystack for word in query.lower().split())


class EvalTable(DataTable):
    """The table of evals (a class of its own so CSS and tests can name it)."""


class EvalList(Vertical):
    """Filter box over the eval table; posts `EvalSelected` as the cursor moves."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.summaries: tuple[EvalSummary, ...] = ()
        self.statuses: Mapping[str, EvalStatus] = {}
        self.now: dt.datetime | None = None
        self.shown: list[str] = []

    def compose(self) -> ComposeResult:
        yield Input(placeholder="filter: words in name, version, owner, covers…  (esc clears)", id="filter")
        table = EvalTable(id="evals", cursor_type="row", zebra_stripes=False)
        yield table

    def on_mount(self) -> None:
        table = self.query_one(EvalTable)
        for key, label in COLUMNS:
            table.add_column(label, key=key, width=2 if key == "badges" else None)

    @property
    def table(self) -> EvalTable:
        return self.query_one(EvalTable)

    def set_summaries(self, summaries: tuple[EvalSummary, ...]) -> None:
        """Replace the rows, keeping the filter and, where it still exists, the selected eval."""
        self.summaries = summaries
        self.refill()

    def set_statuses(self, statuses: Mapping[str, EvalStatus], now: dt.datetime) -> None:
        """Owner, last change, badges and scores arrived (after the history was read)."""
        self.statuses, self.now = statuses, now
        self.refill()

    def refill(self) -> None:
        table = self.table
        selected = self.shown[table.cursor_row] if self.shown and 0 <= table.cursor_row < len(self.shown) else None
        query = self.query_one("#filter", Input).value.strip()
        table.clear()
        self.shown = []
        colors = self._colors()
        for s in self.summaries:
            if query and not matches(s, query):
                continue
            self.shown.append(s.name)
            table.add_row(*self.cells(s, self.statuses.get(s.name), self.now, colors), key=s.name)
        if selected in self.shown:
            table.move_cursor(row=self.shown.index(selected))
        self.post_message(EvalSelected(self.current))

    def _colors(self) -> dict[str, str]:
        return self.app.get_css_variables()

    @staticmethod
    def cells(s: EvalSummary, status: EvalStatus | None, now: dt.datetime | None,
              colors: dict[str, str]) -> list[Text]:
        """One row: badges, name, version, owner, last change, latest scores, valid for, covers."""
        version = s.version.version
        version_cell = Text(clean(version), style="bold") if version else (
            Text("error", style=f"bold {colors.get('error', 'red')}") if s.version_error else Text("–", style="dim"))
        valid_for = clean(s.version.valid_for or "", keep_newlines=False)
        badges = Text()
        owner = Text(clean(s.eval.owner or ""), style="italic")
        changed = score = Text("")
        if status is not None:
            if status.silent:
                badges.append(SILENT_BADGE, style=f"bold {colors.get('warning', 'yellow')}")
            if status.blind_spots:
                badges.append(BLIND_BADGE, style=f"bold {colors.get('error', 'red')}")
            owner = Text(clean(status.owner or "–"), style="italic" if status.owner_reason == "pin" else "")
            changed = Text(ago(status.last_change, now) if now else "", style="dim")
            score = Text("/".join(f"{v:.2f}" for v in status.scores.values()))
            if s.eval.threshold is not None and any(v < s.eval.threshold for v in status.scores.values()):
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

    @on(DataTable.RowHighlighted, "#evals")
    def _moved(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.post_message(EvalSelected(self.current))
