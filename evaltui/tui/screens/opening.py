"""The screens the main screen opens by key, each imported when it is first opened, not at start-up."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from textual.app import App
from textual.screen import Screen

from evaltui.tui.widgets.base import load_object

# Screens the main screen opens by key: name -> factory(selected eval name or None) -> Screen.
# Each screen's module is imported when it is first opened, not at start-up.
OPEN_SCREENS: dict[str, Callable[[str | None], Screen]] = {
    "run": lambda name: load_object("evaltui.tui.screens.run:open_run")(name),
    "run-all": lambda name: load_object("evaltui.tui.screens.run:RunScreen")(),
    "report": lambda name: load_object("evaltui.tui.screens.report:ReportScreen")(),
    "coverage": lambda name: load_object("evaltui.tui.screens.coverage:CoverageScreen")(name),
    "rotation": lambda name: load_object("evaltui.tui.screens.rotation:RotationScreen")(name),
    "check": lambda name: load_object("evaltui.tui.screens.check:CheckScreen")(name),
    "annotate": lambda name: load_object("evaltui.tui.screens.annotate:AnnotateDialog")(name, follow_selection=True),
}

KEPT = ("check",)
"""Screens built once per app and shown again, refreshed by `reopen`: building one (thousands of
rows, its footer) costs more than the key that opens it should."""


@runtime_checkable
class Reopened(Protocol):
    """A kept screen: shown again for the eval under the cursor, with what changed since."""

    def reopen(self, eval_name: str | None) -> None: ...


def screen_for(app: App, name: str, eval_name: str | None) -> Screen | None:
    """The screen `name` of `OPEN_SCREENS` for `eval_name`: a new one, or the kept one refreshed."""
    factory = OPEN_SCREENS.get(name)
    if factory is None:
        return None
    if name not in KEPT:
        return factory(eval_name)
    if app.is_screen_installed(name):
        screen = app.get_screen(name)
        if isinstance(screen, Reopened):
            screen.reopen(eval_name)
        return screen
    screen = factory(eval_name)
    app.install_screen(screen, name)
    return screen
