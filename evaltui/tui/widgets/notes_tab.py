"""The Notes tab: what people wrote about the selected eval, its commits and versions, newest first."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Static

from evaltui.core.registry.model import Registry
from evaltui.core.team import notes as notes_core
from evaltui.core.team.notes import Note, NotesFile
from evaltui.core.team.ownership import local_time
from evaltui.core.textsafe import clean
from evaltui.tui.messages import NoteSaved, NotesLoaded
from evaltui.tui.widgets.base import DetailTab

# Theme variables per kind, so a regression stands out and an acknowledgement reads as settled.
KIND_COLORS = {
    "regression": "error",
    "blind-spot": "warning",
    "non-semantic": "success",
    "expected-shift": "accent",
    "handoff": "primary",
    "note": "foreground",
}


def note_heading(note: Note, registry: Registry, colors: dict[str, str]) -> Text:
    """`2026-11-04 14:05  bruno  regression  f2bc43bd`, styled by kind."""
    when = local_time(registry, note.time)
    text = Text(f"{when:%Y-%m-%d %H:%M}", style="dim")
    text.append("  ")
    text.append(clean(note.author, keep_newlines=False), style="bold")
    text.append("  ")
    text.append(note.kind, style=f"bold {colors.get(KIND_COLORS.get(note.kind, 'foreground'), 'default')}")
    if note.commit:
        text.append(f"  {clean(note.commit[:8], keep_newlines=False)}", style="dim")
    elif note.version:
        text.append(f"  v{clean(note.version, keep_newlines=False)}", style="dim")
    return text


def render_notes(name: str, found: NotesFile, registry: Registry, colors: dict[str, str]) -> Group:
    """The notes on eval `name`, newest first, each a heading and its (cleaned) text."""
    mine = sorted(found.for_eval(name), key=lambda n: n.time, reverse=True)
    count = len(mine)
    parts: list = [
        Text.assemble((name, "bold"), f"  ·  {count} note{'s' * (count != 1)}", ("  ·  a: annotate", "dim")),
        Text(""),
    ]
    if not mine:
        parts.append(
            Text(
                "No notes yet. Press a to write one: a remark, an expected score shift, a regression, "
                "or a non-semantic note that acknowledges a silent change.",
                style="dim",
            )
        )
    for note in mine:
        parts.append(note_heading(note, registry, colors))
        parts.append(Text(clean(note.text), overflow="fold"))
        parts.append(Text(""))
    if found.problems:
        lines = ", ".join(str(p.line) for p in found.problems[:8] if p.line is not None)
        parts.append(
            Text(
                f"{len(found.problems)} unreadable line(s) in {notes_core.FILENAME} skipped"
                + (f" (line {lines})" if lines else ""),
                style=colors.get("warning", "default"),
            )
        )
    return Group(*parts)


class NotesTab(DetailTab):
    """Notes on the selected eval; the notes file is read in a worker and shared through `AppState.notes`."""

    DEFAULT_CSS = """
    NotesTab {
        padding: 0 1;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._read_for: object = None  # the registry the shared notes were read for: a reload reads them again
        self._drawn: tuple = ()  # what the body was last drawn from

    def compose(self) -> ComposeResult:
        yield Static(Text("Reading notes…", style="dim"), id="notes-body")

    def refresh_data(self) -> None:
        body = self.query_one("#notes-body", Static)
        registry = self.state.registry
        if registry is None:
            self._drawn = ()
            body.update(Text("Loading evals…", style="dim"))
            return
        found = self.state.notes
        if found is None or self._read_for is not registry:
            self._drawn = ()
            body.update(Text("Reading notes…", style="dim"))
            self.load_notes()
            return
        if self.eval_name is None or self.eval_name not in registry.evals:
            self._drawn = ()
            body.update(Text("No eval selected.", style="dim"))
            return
        # Drawing lays the pane out again: a tab switched back to on the same notes keeps its body.
        key = (self.eval_name, found, registry, self.app.theme)
        if key != self._drawn:
            self._drawn = key
            body.update(render_notes(self.eval_name, found, registry, self.app.get_css_variables()))

    @on(NotesLoaded)
    def _notes_loaded(self, message: NotesLoaded) -> None:
        message.stop()
        self.state.notes = message.notes
        self._read_for = message.registry
        self.refresh_data()

    @on(NoteSaved)
    def _note_saved(self, message: NoteSaved) -> None:
        message.stop()
        self.state.notes = None
        self.load_notes()
