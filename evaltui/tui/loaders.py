"""What the main screen reads off the UI thread, each returned as the message that carries it."""

from __future__ import annotations

import datetime as dt
import gc
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING

from evaltui.core.errors import EvaltuiError, RegistryError
from evaltui.core.registry.overview import load_overview
from evaltui.tui.messages import ChecksDone, ChecksPrefetched, HistoryLoaded, RegistryFailed, RegistryLoaded

if TYPE_CHECKING:
    from textual.app import App

    from evaltui.core.registry.model import Registry
    from evaltui.core.team.triage import Triage


def read_registry(root: Path, prefetch: Future | None = None) -> RegistryLoaded | RegistryFailed:
    """`evals.toml` and every eval's summary (from `prefetch` when the app started reading it)."""
    try:
        return RegistryLoaded(*(prefetch.result() if prefetch is not None else load_overview(root)))
    except RegistryError as exc:
        return RegistryFailed(exc.problems)


def read_history(registry: Registry, now: dt.datetime, generation: int) -> HistoryLoaded:
    """The lineage (cached, incremental), owners, badges and scores, and who the user is in `[people]`."""
    from evaltui.core import history  # imported here: only the thread that reads history needs them
    from evaltui.core.team import triage

    lineage, error, me = None, None, None
    try:
        email = history.config_email(registry.root)
        me = registry.member_for_email(email) if email else None
    except Exception:  # no git identity: "mine" is simply unavailable
        pass
    try:
        lineage = history.load_lineage(registry)
    except EvaltuiError as exc:
        error = str(exc)
    except Exception as exc:  # shown to the user, never a crash
        error = f"reading history failed: {exc}"
    loaded = HistoryLoaded(lineage, error, triage.triage(registry, lineage, now), generation, me)
    set_aside()
    return loaded


FULL_COLLECTION_EVERY = 100
"""Middle-generation collections between two full ones (CPython's default is 10)."""


def set_aside() -> None:
    """Keep what a background read just built out of the collector's full passes.

    A long history (or the checks of 2,000 evals, with the parsed `evals.toml` they point into)
    is hundreds of thousands of small objects that live until the next reload: left to the
    collector, each full collection walks them all, a fifth of a second on whichever key press
    it falls. They are set aside like start-up's objects (the app freezes those once the list
    is shown). What is already garbage is collected first, here in the background thread: a
    frozen object is never collected, and without that pass the cycles a reload left behind
    (replaced widgets and records) would be kept for good, a little more at every reload. The
    pass walks only what is not frozen yet, mostly this read's objects, once per read.
    """
    if gc.isenabled():
        gc.collect()
        gc.freeze()
        # Frozen, they no longer count as long-lived, and CPython's full collection (run once the
        # long-lived objects grew by a quarter) would come every ten middle ones, walking every
        # widget and cache each time: a full collection waits for a hundred instead.
        young, middle, old = gc.get_threshold()
        gc.set_threshold(young, middle, max(old, FULL_COLLECTION_EVERY))


def run_checks(registry: Registry, triage: Triage, now: dt.datetime) -> ChecksPrefetched:
    """What `evaltui check` reports for `registry`, tagged with the history pass (`triage`) it ran after."""
    from evaltui.core.checks import problems as checks
    from evaltui.tui.screens.check import laid_out

    try:
        done = ChecksDone(tuple(checks.check_repository(registry, now=now)))
    except EvaltuiError as exc:
        done = ChecksDone(error=str(exc))
    except Exception as exc:  # shown on the Check screen, never a crash of the thread unseen
        done = ChecksDone(error=f"check failed: {exc}")
    laid_out(done.problems)  # here, off the UI thread, rather than when the Check screen opens
    set_aside()
    return ChecksPrefetched(registry, triage, done)


def hand_over_checks(app: App, done: ChecksDone) -> None:
    """Give `done` to every Check screen waiting for the checks the main screen runs."""
    for screen in app.screen_stack:
        waiting = getattr(screen, "awaiting_checks", None)
        if waiting is not None and waiting():
            screen.post_message(ChecksDone(done.problems, done.error))
