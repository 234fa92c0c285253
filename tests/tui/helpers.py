"""Shared pieces of the TUI tests: starting the app on a repository and reading its screen."""

from __future__ import annotations

import datetime as dt
import io
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console
from textual.widgets import Static

from evaltui.tui.app import EvaltuiApp
from evaltui.tui.config import UserConfig

SIZE = (120, 36)
# The instant every snapshot is taken at: owners, "changed 2w" and handoffs depend on it.
NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))


def pinned_app(root: Path) -> EvaltuiApp:
    """The app with its clock pinned to `NOW`, for snapshots."""
    return EvaltuiApp(root, clock=lambda: NOW)


def make_app(root: Path, config: UserConfig | None = None, clock=None) -> EvaltuiApp:
    """The real app on `root`, with a config file in the (isolated) XDG config dir."""
    return EvaltuiApp(root, config=config, clock=clock)


async def settle(app: EvaltuiApp, pilot, timeout: float = 30.0) -> None:
    """Wait until every worker is done, the history pass has answered, and messages are handled."""
    await pilot.pause()
    deadline = time.monotonic() + timeout
    while True:
        await app.workers.wait_for_complete()
        await pilot.pause()
        main = next((s for s in app.screen_stack if getattr(s, "id", None) == "main"), None)
        if main is None or not getattr(main, "history_pending", False):
            break
        if time.monotonic() > deadline:
            raise AssertionError("the history pass never answered")
        await pilot.pause(0.05)
    await pilot.pause()
    await pilot.pause()


def static_text(widget: Static, width: int = 100) -> str:
    """What a Static shows, as plain text."""
    console = Console(width=width, file=io.StringIO(), record=True, color_system=None)
    console.print(widget.content)
    return console.export_text()


def table_names(app: EvaltuiApp) -> list[str]:
    """Eval names in the list, top to bottom."""
    return list(app.screen.query_one("EvalList").shown)
