"""The screens the main screen opens by key, each imported when it is first opened, not at start-up."""

from __future__ import annotations

from collections.abc import Callable

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
