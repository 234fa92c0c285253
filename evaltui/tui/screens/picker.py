"""A short list to choose one item from: a modal option list that dismisses with the item, or None."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

T = TypeVar("T")


class Picker(ModalScreen[T | None], Generic[T]):
    """One line per item (`prompt` draws it); Enter dismisses with the item under the cursor, Escape with None."""

    DEFAULT_CSS = """
    Picker { align: center middle; }
    Picker #picker-box {
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
    Picker #picker-list { height: auto; max-height: 24; border: none; }
    """

    BINDINGS = [Binding("escape", "dismiss", "Cancel", id="picker-cancel")]
    """Escape closes without choosing; Enter chooses the item under the cursor."""

    def __init__(self, items: Sequence[T], title: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.items, self.title_text = tuple(items), title

    def prompt(self, item: T) -> Text:
        """How one item reads in the list."""
        return Text(str(item))

    def compose(self) -> ComposeResult:
        with Vertical(id="picker-box") as box:
            box.border_title = self.title_text
            box.border_subtitle = "enter open · esc cancel"
            options = [Option(self.prompt(item), id=str(n)) for n, item in enumerate(self.items)]
            yield OptionList(*options, id="picker-list")

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.items[int(event.option.id or 0)])
