"""Garbage collection paused while one piece of work builds many objects that all outlive it."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """No collection passes while thousands of tables, documents and commits are read: they
    live on after the work, so the collector's passes over them would only cost time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            # Enabled as it is, the collector would first walk every object made meanwhile (tens of
            # milliseconds); moved aside and back, they join the oldest generation untouched.
            gc.freeze()
            gc.enable()
            gc.unfreeze()
