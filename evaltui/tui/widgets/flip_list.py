"""The case ids that moved between two runs, one per row: Enter opens that case's drill-down."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from evaltui.core.runs.store import Comparison, RunRecord
from evaltui.core.textsafe import clean

if TYPE_CHECKING:
    from evaltui.tui.app import EvaltuiApp

LIMIT = 500  # rows listed; the comparison above still counts them all


def flip_rows(cmp: Comparison) -> list[tuple[str, str, str]]:
    """(kind, case id, theme colour) for every case that moved, flips first."""
    rows: list[tuple[str, str, str]] = []
    groups = (
        ("to fail", cmp.to_fail, "error"),
        ("to pass", cmp.to_pass, "success"),
        ("new error", cmp.new_errors, "error"),
        ("fixed", cmp.fixed_errors, "success"),
        ("added", cmp.added, ""),
        ("removed", cmp.removed, ""),
    )
    for kind, ids, colour in groups:
        rows += [(kind, i, colour) for i in ids]
    flipped = {i for _, i, _ in rows}
    rows += [("changed", c[0], "warning") for c in cmp.changed if c[0] not in flipped]
    return rows


class FlipList(OptionList):
    """Every case that flipped, moved, appeared or went between runs A and B; Enter shows it side by side."""

    DEFAULT_CSS = """
    FlipList {
        height: auto;
        max-height: 12;
        margin-top: 1;
        border: round $pane-border;
        border-title-color: $foreground-muted;
        &:focus { border: round $primary; border-title-color: $primary; }
    }
    """

    if TYPE_CHECKING:
        app: EvaltuiApp

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.eval_name: str | None = None
        self.runs: tuple[RunRecord, RunRecord] | None = None
        self._ids: list[str] = []  # the case id of each row
        self.display = False

    def show(self, eval_name: str, a: RunRecord, b: RunRecord, cmp: Comparison) -> None:
        """List the cases that moved from run A to run B."""
        self.eval_name, self.runs = eval_name, (a, b)
        colors = self.app.get_css_variables()
        rows = flip_rows(cmp)
        options = []
        for n, (kind, case_id, colour) in enumerate(rows[:LIMIT]):
            style = colors.get(colour, "") if colour else "dim"
            prompt = Text.assemble((f"{kind:<10}", style), clean(case_id, keep_newlines=False))
            options.append(Option(prompt, id=f"{n}"))
        self.set_options(options)
        self._ids = [case_id for _, case_id, _ in rows[:LIMIT]]
        more = f", first {LIMIT}" if len(rows) > LIMIT else ""
        self.border_title = f"cases that moved ({len(rows)}{more}) · tab, enter: details"
        self.display = bool(options)

    def clear_flips(self) -> None:
        self.eval_name, self.runs, self._ids = None, None, []
        self.clear_options()
        self.display = False

    @on(OptionList.OptionSelected)
    def _open(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self.eval_name is None or self.runs is None or event.option.id is None:
            return
        from evaltui.core.runs.cases import side_of_run
        from evaltui.tui.screens.case import CaseScreen

        a, b = self.runs
        case_id = self._ids[int(event.option.id)]
        self.app.push_screen(CaseScreen(self.eval_name, case_id, (side_of_run("A", a), side_of_run("B", b))))
