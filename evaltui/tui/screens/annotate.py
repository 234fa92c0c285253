"""The annotate dialog: a note on an eval, or on one of its commits, with the kind chosen from a list."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from evaltui.core import history
from evaltui.core.errors import EvaltuiError
from evaltui.core.team import notes as notes_core
from evaltui.core.team.notes import Note
from evaltui.core.textsafe import clean
from evaltui.tui.messages import NoteFailed, NoteSaved, StateChanged
from evaltui.tui.screens.form import DialogScreen
from evaltui.tui.widgets.notes_tab import NotesTab

if TYPE_CHECKING:
    from evaltui.tui.app import EvaltuiApp


def kind_option(kind: str) -> Option:
    """A kind with what it means, as one entry of the list."""
    return Option(Text.assemble((kind.ljust(15), "bold"), (notes_core.KIND_HELP.get(kind, ""), "dim")), id=kind)


class AnnotateDialog(DialogScreen[Note | None]):
    """Write a note on `eval_name` (and `commit`, when given); dismisses with the saved note, or None."""

    if TYPE_CHECKING:  # the screens and tabs run inside evaltui's app: say so to the type checker
        app: EvaltuiApp

    DEFAULT_CSS = """
    AnnotateDialog {
        #annotate-kind { height: auto; }
        #annotate-text { height: 5; }
    }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="annotate-cancel"),
        Binding("ctrl+s", "save", "Save", id="annotate-save"),
    ]
    """Escape closes without saving; ctrl+s saves from any field."""

    ERROR_TITLE = "Note not saved"
    WORKER_FAILED = "saving the note failed"

    def __init__(
        self,
        eval_name: str | None,
        commit: str | None = None,
        *,
        kind: str = "note",
        now: dt.datetime | None = None,
        follow_selection: bool = False,
    ) -> None:
        super().__init__(id="annotate-dialog")
        self.eval_name = eval_name
        self.commit = commit
        self.kind = kind if kind in notes_core.KINDS else "note"
        self.now = now
        # Opened from the main screen: a detail tab that exposes `selected_commit` (the Lineage
        # tab's cursor) prefills the commit, so a note lands on the change being looked at.
        self.follow_selection = follow_selection

    def compose(self) -> ComposeResult:
        with Vertical(id="annotate-box", classes="form-box"):
            yield Static(id="annotate-title", classes="form-title")
            yield Label("Kind", classes="form-label")
            yield OptionList(*(kind_option(k) for k in notes_core.KINDS), id="annotate-kind")
            yield Label("Text", classes="form-label")
            yield TextArea(id="annotate-text", soft_wrap=True, show_line_numbers=False, tab_behavior="focus")
            yield Label(
                "Commit (optional: the change this note is about; any revision git understands)", classes="form-label"
            )
            yield Input(placeholder="e.g. ec1bc58", id="annotate-commit")
            yield Static(id="annotate-error", classes="form-error")
            with Horizontal(id="annotate-buttons", classes="form-buttons"):
                yield Button("Save  ctrl+s", variant="primary", id="annotate-save-button", classes="form-save")
                yield Button("Cancel  esc", id="annotate-cancel-button", classes="form-cancel")

    def on_mount(self) -> None:
        if self.eval_name is None:
            self.app.notify("Select an eval first: a note belongs to an eval.", severity="warning")
            self.dismiss(None)
            return
        if self.commit is None and self.follow_selection:
            self.commit = self._selected_commit()
        title = Text.assemble(("Annotate ", "bold"), (self.eval_name, "bold"))
        if self.commit:
            title.append(f" at {clean(self.commit[:12], keep_newlines=False)}", style="bold")
        self.query_one("#annotate-title", Static).update(title)
        self.query_one("#annotate-commit", Input).value = clean(self.commit or "", keep_newlines=False)
        kinds = self.query_one("#annotate-kind", OptionList)
        kinds.highlighted = notes_core.KINDS.index(self.kind)
        self.query_one("#annotate-text", TextArea).focus()

    def _selected_commit(self) -> str | None:
        from evaltui.tui.screens.main import MainScreen

        for screen in self.app.screen_stack:
            if isinstance(screen, MainScreen):
                return getattr(screen.active_tab(), "selected_commit", None)
        return None

    @property
    def chosen_kind(self) -> str:
        kinds = self.query_one("#annotate-kind", OptionList)
        index = kinds.highlighted
        return notes_core.KINDS[index] if index is not None else "note"

    @on(OptionList.OptionSelected, "#annotate-kind")
    def _kind_chosen(self) -> None:
        self.query_one("#annotate-text", TextArea).focus()

    @on(Input.Submitted, "#annotate-commit")
    def _commit_submitted(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        text = self.query_one("#annotate-text", TextArea).text
        commit = self.query_one("#annotate-commit", Input).value.strip() or None
        kind = self.chosen_kind
        if not text.strip():
            self.show_error("Write something first: a note needs some text.")
            return
        if kind == "non-semantic" and not commit:
            self.show_error("A non-semantic note acknowledges a commit: give the commit it is about.")
            return
        self.query_one("#annotate-error", Static).update("")
        self.save(kind, text, commit)

    @work(thread=True, exclusive=True, exit_on_error=False, group="annotate")
    def save(self, kind: str, text: str, commit: str | None) -> None:
        """Resolve the commit, pick the author from git's identity, and append the note under the file lock."""
        registry = self.app.state.registry
        if registry is None:
            self.post_message(NoteFailed("evals.toml is not loaded yet"))
            return
        try:
            full = history.rev_parse(registry.root, commit) if commit else None
            author = notes_core.default_author(
                registry, history.config_email(registry.root), history.config_name(registry.root)
            )
            note = notes_core.make_note(
                self.eval_name or "", text, kind=kind, author=author, time=self.now or self.app.now(), commit=full
            )
            notes_core.append_note(registry.root, registry.state_dir, note)
        except (EvaltuiError, OSError) as exc:
            self.post_message(NoteFailed(str(exc)))
            return
        self.post_message(NoteSaved(note))

    @on(NoteFailed)
    def _failed(self, message: NoteFailed) -> None:
        message.stop()
        self.show_error(message.error)

    @on(NoteSaved)
    def _saved(self, message: NoteSaved) -> None:
        message.stop()
        note = message.note
        state = self.app.state
        state.notes = None
        # Every Notes tab in the stack reads the file again (the message is theirs to handle).
        for screen in self.app.screen_stack:
            for tab in screen.query(NotesTab):
                tab.post_message(NoteSaved(note))
        self.app.post_message(StateChanged("status", (note.eval,), "a note"))  # an acknowledgement clears `!`
        self.app.notify(notes_core.saved_message(note), title="Notes", markup=False)
        self.dismiss(note)
