"""The protocol every tab of the detail pane follows."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from rich.console import ConsoleRenderable, RichCast
from textual import work
from textual.containers import VerticalScroll
from textual.widgets import Static

from evaltui.tui.messages import NotesLoaded
from evaltui.tui.state import AppState

if TYPE_CHECKING:
    from evaltui.tui.app import EvaltuiApp


def load_object(path: str) -> Any:
    """`"package.module:Name"` → the object, imported on first use so start-up stays fast."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


class DetailTab(VerticalScroll):
    """A tab of the detail pane.

    The main screen calls `show_eval(name)` when the selected eval changes while the tab is
    visible, and `refresh_data()` when something it may show was (re)loaded, e.g. the lineage.
    Tabs read what they show from `self.state` (the app's `AppState`) and start their own
    workers for anything slow; they never touch git or disk on the UI thread.
    """

    if TYPE_CHECKING:  # the screens and tabs run inside evaltui's app: say so to the type checker
        app: EvaltuiApp

    can_focus = True

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.eval_name: str | None = None

    @property
    def state(self) -> AppState:
        return self.app.state

    def show_eval(self, name: str | None) -> None:
        """Show eval `name` (None: nothing selected)."""
        self.eval_name = name
        self.refresh_data()

    def refresh_data(self) -> None:
        """Redraw from `self.state` for `self.eval_name`."""

    def find(self, query: str, after: tuple[int, int] | None = None) -> tuple[int, int] | None:
        """Scroll to the first line showing `query` (case-insensitive) after `after`; its (block, line) or None.

        Blocks are the tab's visible `Static`s in order; lines are as drawn at the tab's width.
        """
        needle = query.lower().strip()
        if not needle:
            return None
        console = self.app.console
        options = console.options.update_width(max(10, self.scrollable_content_region.width))
        blocks = [w for w in self.query(Static) if w.display and w.content]
        for b, block in enumerate(blocks):
            content = block.content
            if not isinstance(content, (str, ConsoleRenderable, RichCast)):
                continue  # a Textual-only visual has no Rich lines to search
            lines = console.render_lines(content, options, pad=False)
            for n, segments in enumerate(lines):
                if after is not None and (b, n) <= after:
                    continue
                if needle in "".join(s.text for s in segments).lower():
                    self.scroll_to_widget(block, animate=False, top=True)
                    self.scroll_relative(y=n, animate=False)
                    return (b, n)
        return None

    @work(thread=True, exclusive=True, exit_on_error=False, group="notes")
    def load_notes(self) -> None:
        """Read `state_dir/notes.jsonl` off the UI thread; the answer arrives as `NotesLoaded`."""
        from evaltui.core.team import notes

        registry = self.state.registry
        if registry is not None:
            self.post_message(NotesLoaded(notes.read_notes(registry.state_dir, registry.root), registry))
