"""The import prompt of the Runs tab: a path with completion, for `evaltui import` from the app."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.suggester import Suggester
from textual.widgets import Input, Label, Static

from evaltui.tui.screens.form import DialogScreen

MAX_ENTRIES = 2000  # entries read per folder while completing


class PathSuggester(Suggester):
    """Completes the last part of a path (relative to `root`, absolute, or `~`) from the folder's entries."""

    def __init__(self, root: Path) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.root = Path(root)

    async def get_suggestion(self, value: str) -> str | None:
        return await asyncio.to_thread(self.complete, value)

    def complete(self, value: str) -> str | None:
        """`value` extended to the first entry of its folder that starts with what was typed."""
        if not value:
            return None
        folder, slash, partial = value.rpartition("/")
        directory = Path(os.path.expanduser(folder)) if folder else Path("/" if slash else ".")
        if not directory.is_absolute():
            directory = self.root / directory
        try:
            with os.scandir(directory) as entries:
                names = []
                for n, entry in enumerate(entries):
                    if n >= MAX_ENTRIES:
                        break
                    if entry.name.startswith(partial) and (partial.startswith(".") or not entry.name.startswith(".")):
                        names.append((entry.name, entry.is_dir()))
        except OSError:
            return None
        candidates = sorted(names)
        if not candidates or (len(candidates) == 1 and candidates[0][0] == partial and not candidates[0][1]):
            return None
        name, is_dir = candidates[0]
        return value + name[len(partial) :] + ("/" if is_dir else "")


class ImportPrompt(DialogScreen["str | None"]):
    """Ask for a log to import; dismisses with the path typed, or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="import-cancel")]
    """Escape closes without importing; enter imports; right arrow (or end) takes the completion."""

    def __init__(self, root: Path) -> None:
        super().__init__(classes="form-dialog")
        self.root = Path(root)

    def compose(self) -> ComposeResult:
        with Vertical(classes="form-box"):
            yield Static("Import harness results", classes="form-title")
            yield Label(
                "An lm-eval --output_path folder, results_*.json or samples_*.jsonl, or an Inspect .eval or "
                ".json log; relative to the repository. → takes the completion, enter imports.",
                classes="form-hint",
            )
            yield Input(placeholder="path", suggester=PathSuggester(self.root), id="import-path")

    def on_mount(self) -> None:
        self.query_one("#import-path", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)
