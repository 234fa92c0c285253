"""Which file to open in `$EDITOR` when the row under the cursor names several: one per line, Enter opens."""

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

from evaltui.core.registry.locate import FileLine
from evaltui.core.textsafe import clean


class OpenFile(ModalScreen[FileLine | None]):
    """Choose one of an eval's files (with the line it opens at); dismisses with it, or None."""

    DEFAULT_CSS = """
    OpenFile { align: center middle; }
    #open-file-box {
        width: 72;
        max-width: 96%;
        height: auto;
        max-height: 80%;
        padding: 0 1;
        border: round $primary;
        border-title-color: $primary;
        border-subtitle-color: $foreground-muted;
        background: $surface;
    }
    #open-file-list { height: auto; max-height: 20; border: none; }
    """

    BINDINGS = [Binding("escape", "dismiss", "Cancel", id="open-file-cancel")]
    """Escape closes without opening anything; Enter opens the file under the cursor."""

    def __init__(self, files: Sequence[FileLine], title: str = "Open in $EDITOR") -> None:
        super().__init__(id="open-file")
        self.files, self.title_text = tuple(files), title

    def compose(self) -> ComposeResult:
        with Vertical(id="open-file-box") as box:
            box.border_title = self.title_text
            box.border_subtitle = "enter open · esc cancel"
            options = []
            for n, f in enumerate(self.files):
                where = f":{f.line}" if f.line else ""
                options.append(
                    Option(
                        Text.assemble((f"{f.label:<11}", "dim"), clean(f.path, keep_newlines=False), (where, "bold")),
                        id=str(n),
                    )
                )
            yield OptionList(*options, id="open-file-list")

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.files[int(event.option.id or 0)])
