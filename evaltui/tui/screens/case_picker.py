"""The flipped cases of a pull-request report, one per line: Enter opens that case's drill-down."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from evaltui.core.runs.cases import ReportFlip
from evaltui.core.textsafe import clean
from evaltui.tui.screens.picker import Picker


class CasePicker(Picker[ReportFlip]):
    """Choose one flipped case (eval, model, direction); dismisses with it, or None."""

    DEFAULT_CSS = """
    CasePicker #picker-box { width: 90; }
    """

    def __init__(self, flips: Sequence[ReportFlip]) -> None:
        super().__init__(flips, f"Flipped cases ({len(flips)})", id="case-picker")
        self.flips = self.items

    def prompt(self, item: ReportFlip) -> Text:
        colour = self.app.get_css_variables().get("error" if item.kind == "to fail" else "success", "default")
        return Text.assemble(
            (f"{clean(item.eval, keep_newlines=False)}  ", "bold"),
            (f"{clean(item.model, keep_newlines=False)}  ", "dim"),
            (f"{item.kind:<8} ", colour),
            clean(item.case_id, keep_newlines=False),
        )
