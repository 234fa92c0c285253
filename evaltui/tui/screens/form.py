"""Dialogs: the look every dialog shares, and a small form (used for adding a failure mode and a case)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static
from textual.worker import Worker

from evaltui.core.errors import EvaltuiError
from evaltui.core.textsafe import clean
from evaltui.tui.messages import FormFailed, FormSaved, StateChanged

if TYPE_CHECKING:
    from evaltui.tui.app import EvaltuiApp

ResultT = TypeVar("ResultT")


class DialogScreen(ModalScreen[ResultT]):
    """A modal dialog: a framed box over the dimmed screen, with `form-*` classes for its title, hint,
    labels, error line and buttons."""

    DEFAULT_CSS = """
    DialogScreen {
        align: center middle;
        background: $background 60%;
        .form-box {
            width: 100;
            max-width: 95%;
            height: auto;
            max-height: 95%;
            padding: 0 2;
            border: round $primary;
            background: $surface;
        }
        .form-title { height: 1; margin: 1 0; color: $foreground; }
        .form-hint { height: auto; color: $foreground-muted; }
        .form-label { color: $foreground-muted; }
        .form-error { height: auto; color: $error; }
        .form-buttons { height: auto; margin: 1 0; align-horizontal: right; }
        .form-buttons Button { margin-left: 2; }
    }
    """

    ERROR_TITLE = "Not saved"
    """The title of the notification that repeats an error shown in the dialog."""

    WORKER_FAILED = "the edit failed"
    """What a crash of one of the dialog's workers meant, said before its error."""

    @on(Button.Pressed, ".form-save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, ".form-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_save(self) -> None:
        """Save what the dialog holds; a dialog with a `form-save` button says how."""

    def action_cancel(self) -> None:
        self.dismiss(None)

    def show_error(self, error: str) -> None:
        """Why the dialog could not save, in its `form-error` line and as a notification."""
        text = clean(error, keep_newlines=False)
        self.query_one(".form-error", Static).update(Text(text))
        self.app.notify(text, title=self.ERROR_TITLE, severity="error", markup=False)

    def worker_failed(self, worker: Worker) -> bool:
        """Show the failure of one of this node's workers where it happened (the app calls it)."""
        self.show_error(f"{self.WORKER_FAILED}: {worker.error}")
        return True


@dataclass(frozen=True)
class Field:
    """One line of a form."""

    key: str
    label: str
    placeholder: str = ""
    value: str = ""


class FormDialog(DialogScreen[str | None]):
    """A few inputs and Save; `submit(values)` runs in a worker and returns a summary, or raises to keep the form open."""

    if TYPE_CHECKING:  # the screens and tabs run inside evaltui's app: say so to the type checker
        app: EvaltuiApp

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="form-cancel"),
        Binding("ctrl+s", "save", "Save", id="form-save"),
    ]
    """Escape closes without writing; ctrl+s (or enter in the last field) saves."""

    def __init__(
        self,
        title: str,
        fields: Sequence[Field],
        submit: Callable[[dict[str, str]], str],
        hint: str = "",
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id, classes="form-dialog")
        self.title_text = title
        self.fields = tuple(fields)
        self.submit = submit
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(classes="form-box"):
            yield Static(Text(self.title_text, style="bold"), classes="form-title")
            if self.hint:
                yield Static(Text(self.hint), classes="form-hint")
            for f in self.fields:
                yield Label(f.label, classes="form-label")
                yield Input(value=f.value, placeholder=f.placeholder, id=f"field-{f.key}")
            yield Static(classes="form-error")
            with Horizontal(classes="form-buttons"):
                yield Button("Save  ctrl+s", variant="primary", classes="form-save")
                yield Button("Cancel  esc", classes="form-cancel")

    def on_mount(self) -> None:
        self.query_one(f"#field-{self.fields[0].key}", Input).focus()

    def values(self) -> dict[str, str]:
        return {f.key: self.query_one(f"#field-{f.key}", Input).value for f in self.fields}

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        keys = [f"field-{f.key}" for f in self.fields]
        at = keys.index(event.input.id) if event.input.id in keys else len(keys) - 1
        if at + 1 < len(keys):
            self.query_one(f"#{keys[at + 1]}", Input).focus()
        else:
            self.action_save()

    def action_save(self) -> None:
        self.query_one(".form-error", Static).update("")
        self.save(self.values())

    @work(thread=True, exclusive=True, exit_on_error=False, group="form")
    def save(self, values: dict[str, str]) -> None:
        """Run the edit off the UI thread; a refusal keeps the form open with the reason."""
        try:
            summary = self.submit(values)
        except (EvaltuiError, OSError) as exc:
            self.post_message(FormFailed(str(exc)))
            return
        self.post_message(FormSaved(summary))

    @on(FormSaved)
    def _saved(self, message: FormSaved) -> None:
        message.stop()
        self.app.post_message(StateChanged("registry", source="a form"))  # a case or a mode was added
        self.dismiss(message.summary)

    @on(FormFailed)
    def _failed(self, message: FormFailed) -> None:
        message.stop()
        self.show_error(message.error)
