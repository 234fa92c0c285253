"""The flipped cases of a pull-request report, one per line: Enter opens that case's drill-down."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from evaltui.core.runs.cases import ReportFlip
from evaltui.core.textsafe import clean


class CasePicker(ModalScreen[ReportFlip | None]):
    """Choose one flipped case (eval, model, direction); dismisses with it, or None."""

    DEFAULT_CSS = """
    CasePicker { align: center middle; }
    #case-picker-box {
        width: 90;
        max-width: 96%;
        height: auto;
        max-height: 80%;
        padding: 0 1;
        border: round $primary;
        border-title-color: $primary;
        border-subtitle-color: $foreground-muted;
        background: $surface;
    }
    #case-picker-list { height: auto; max-height: 24; border: none; }
    """

    BINDINGS = [Binding("escape", "dismiss", "Cancel", id="case-picker-cancel")]
    """Escape closes; Enter opens the case under the cursor."""

    def __init__(self, flips: Sequence[ReportFlip]) -> None:
        super().__init__(id="case-picker")
        self.flips = tuple(flips)

    def compose(self) -> ComposeResult:
        with Vertical(id="case-picker-box") as box:
            box.border_title = f"Flipped cases ({len(self.flips)})"
            box.border_subtitle = "enter open · esc cancel"
            variables = self.app.get_css_variables()
            options = []
            for n, f in enumerate(self.flips):
                colour = variables.get("error" if f.kind == "to fail" else "success", "default")
                prompt = Text.assemble(
                    (f"{clean(f.eval, keep_newlines=False)}  ", "bold"),
                    (f"{clean(f.model, keep_newlines=False)}  ", "dim"),
                    (f"{f.kind:<8} ", colour),
                    clean(f.case_id, keep_newlines=False),
                )
                options.append(Option(prompt, id=str(n)))
            yield OptionList(*options, id="case-picker-list")

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.flips[int(event.option.id or 0)])
