"""Shared pieces of the TUI tests: starting the app on a repository, waiting on it, reading its screen.

Nothing here waits on time: `settle` and `wait_until` poll a condition (workers done, the
history pass answered, a screen mounted, a predicate true), with Pilot's own "process what
is pending" between polls and a generous overall limit that only a hung app reaches.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import time
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Static
from textual.worker import WorkerState

from evaltui.tui.app import EvaltuiApp
from evaltui.tui.config import UserConfig

SIZE = (120, 36)
NARROW = (80, 24)
# The instant every snapshot is taken at: owners, "changed 2w" and handoffs depend on it.
NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
# Only a hung app reaches it: a loaded machine can be many times slower than an idle one.
LIMIT = 180.0


def pinned_app(root: Path) -> EvaltuiApp:
    """The app with its clock pinned to `NOW`, for snapshots.

    The file watcher is off: a snapshot shows one state, and an outside-change refresh landing
    while the frame is captured (a busy machine delays the watcher's debounce) would redraw it.
    """
    return EvaltuiApp(root, clock=lambda: NOW, follow=False)


def make_app(root: Path, config: UserConfig | None = None, clock=None) -> EvaltuiApp:
    """The real app on `root`, with a config file in the (isolated) XDG config dir."""
    return EvaltuiApp(root, config=config, clock=clock)


def busy(app: EvaltuiApp) -> bool:
    """Whether the app still has work under way: a worker, the history pass or the checks after it,
    or a widget not yet mounted."""
    if any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in finite_workers(app)):
        return True
    if any(getattr(s, "history_pending", False) for s in app.screen_stack):
        return True
    if app.state.checks_under_way():  # the checks the main screen runs after a history pass
        return True
    screen = app.screen
    return not screen.is_mounted or any(not w.is_mounted for w in screen.walk_children())


def finite_workers(app: EvaltuiApp) -> list:
    """Every worker but the file watcher, which runs as long as the app does."""
    return [w for w in app.workers if w.group != "watch"]


async def _step(pilot: Pilot) -> None:
    """Let the app handle what is pending; yield to threads that post back (they need the loop)."""
    await pilot.pause()
    await asyncio.sleep(0.01)  # a poll interval, not a synchronisation: the condition decides


async def wait_until(
    pilot: Pilot, condition: Callable[[], bool], what: str = "the app", timeout: float = LIMIT, quiet: bool = True
) -> None:
    """Let the app run until `condition()` holds, then (with `quiet`) until it is quiet again.

    Without `quiet` it returns while workers may still run: for acting in the middle of a run.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await _step(pilot)
    if quiet:
        await settle(pilot.app, pilot, timeout=max(1.0, deadline - time.monotonic()))


async def wait_for(pilot: Pilot, condition: Callable[[], bool], what: str = "the app") -> None:
    """`wait_until` without waiting for quiet afterwards: for acting while a run or an import goes on."""
    await wait_until(pilot, condition, what, quiet=False)


async def settle(app: EvaltuiApp, pilot: Pilot, timeout: float = LIMIT) -> None:
    """Wait until the app is quiet twice in a row: no worker, no history pass, every widget mounted,
    every message handled and every scheduled animation finished."""
    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < 2:
        workers = finite_workers(app)
        if workers:  # an empty list would mean "every worker", the watcher too
            await app.workers.wait_for_complete(workers)
        await pilot.wait_for_scheduled_animations()
        await _step(pilot)
        quiet = 0 if busy(app) else quiet + 1
        if time.monotonic() > deadline:
            raise AssertionError("the app never became quiet (a worker or the history pass never finished)")


async def press(pilot: Pilot, *keys: str) -> None:
    """Press `keys`, then wait until the app is quiet (screens they open mounted, their workers done)."""
    await pilot.press(*keys)
    await settle(pilot.app, pilot)


async def palette_run(pilot: Pilot, text: str) -> None:
    """Open the command palette, type `text`, wait until a command matching it is highlighted, run it."""
    from textual.command import CommandList, CommandPalette

    await press(pilot, "ctrl+p")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, CommandPalette), "the command palette")
    await pilot.press(*text)

    def highlighted() -> bool:
        commands = pilot.app.screen.query_one(CommandList)
        index = commands.highlighted
        if index is None:
            return False
        return text.lower() in str(commands.get_option_at_index(index).prompt).lower()

    await wait_until(pilot, highlighted, f"the palette to offer {text!r}")
    await press(pilot, "enter")


def static_text(widget: Static, width: int = 100) -> str:
    """What a Static shows, as plain text."""
    console = Console(width=width, file=io.StringIO(), record=True, color_system=None)
    console.print(widget.content)
    return console.export_text()


def table_names(app: EvaltuiApp) -> list[str]:
    """Eval names in the list, top to bottom."""
    return list(app.screen.query_one("EvalList").shown)
