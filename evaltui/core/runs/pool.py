"""Jobs in worker processes: the pool, its event queue and cancellation, and the collector of their events."""

from __future__ import annotations

import multiprocessing
import os
import queue as queue_module
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from typing import Any

from evaltui.core.runs.execution import (
    Job,
    JobCancelled,
    JobFailed,
    JobFinished,
    JobSpec,
    RunWarning,
    init_worker,
    work,
)
from evaltui.core.runs.models import describe
from evaltui.core.runs.store import RunRecord

TERMINAL = (JobFinished, JobFailed, JobCancelled)


class Collector:
    """Forwards events to the caller's callback once each and gathers the result."""

    def __init__(self, on_event: Callable[[Any], None] | None):
        self.on_event = on_event or (lambda event: None)
        self.records: dict[int, RunRecord] = {}
        self.failed: list[JobFailed] = []
        self.cancelled: list[Job] = []
        self.warnings: list[str] = []
        self.done: set[int] = set()
        self.interrupted = False

    def deliver(self, index: int, event: Any) -> None:
        """Pass job `index`'s event on; a second terminal event of a job is dropped."""
        if isinstance(event, TERMINAL):
            if index in self.done:
                return
            self.done.add(index)
            if isinstance(event, JobFinished):
                self.records[index] = event.record
            elif isinstance(event, JobFailed):
                self.failed.append(event)
                if event.record is not None:
                    self.records[index] = event.record
            else:
                self.cancelled.append(event.job)
        elif isinstance(event, RunWarning):
            self.warnings.append(f"{event.job.label}: {event.message}" if event.job else event.message)
        self.on_event(event)


def ensure_tracker() -> None:
    """Start multiprocessing's resource tracker with a real stderr (devnull if ours has none).

    It starts on first use by handing `sys.stderr.fileno()` to the new process; inside a
    Textual app `sys.stderr` is a capture whose fileno is -1, and the pool would fail with
    "bad value(s) in fds_to_keep". Its output must not reach a terminal an app draws on.
    """
    from multiprocessing import resource_tracker

    try:
        if sys.stderr is not None and sys.stderr.fileno() >= 0:
            resource_tracker.ensure_running()
            return
    except (AttributeError, ValueError, OSError):
        pass
    saved = sys.stderr
    try:
        with open(os.devnull, "w") as null:
            sys.stderr = null
            resource_tracker.ensure_running()
    finally:
        sys.stderr = saved


def shares(specs: list[JobSpec], workers: int) -> list[JobSpec]:
    """Each endpoint job's share: how many jobs of its model may run at once, to split its concurrency.

    The rpm/tpm buckets are shared across processes; requests in flight are split instead.
    """
    counts: dict[str, int] = {}
    for spec in specs:
        counts[spec.job.model] = counts.get(spec.job.model, 0) + 1
    return [replace(s, share=min(counts[s.job.model], workers)) if s.model.kind == "endpoint" else s for s in specs]


def run_pool(
    specs: list[JobSpec],
    workers: int,
    collector: Collector,
    cancel: threading.Event,
    budgets: dict[str, Any] | None = None,
) -> None:
    """Run `specs` on `workers` processes, events to `collector` as they come; a dead worker fails its own job."""
    # spawn: a clean interpreter per worker, safe with the threads of the caller (the app); the
    # worker side lives in `execution`, which keeps its imports light (no git, no CLI).
    ctx = multiprocessing.get_context("spawn")
    ensure_tracker()
    events = ctx.Queue()
    stop = ctx.Event()
    pending = set(range(len(specs)))
    with ProcessPoolExecutor(
        workers, mp_context=ctx, initializer=init_worker, initargs=(events, stop, budgets or {})
    ) as pool:
        futures = {pool.submit(work, i, spec): i for i, spec in enumerate(specs)}
        while pending:
            try:
                if cancel.is_set() and not stop.is_set():
                    stop.set()
                    for future, i in futures.items():
                        if future.cancel():
                            collector.deliver(i, JobCancelled(specs[i].job))
                    pending -= collector.done
                try:
                    index, event = events.get(timeout=0.05)
                except queue_module.Empty:
                    for future, i in futures.items():
                        failure = (
                            future.exception() if i in pending and future.done() and not future.cancelled() else None
                        )
                        if failure is not None:
                            # The worker died (killed, crashed): its job fails, the others go on.
                            collector.deliver(i, JobFailed(specs[i].job, f"worker process failed: {describe(failure)}"))
                    pending -= collector.done
                    continue
                collector.deliver(index, event)
                pending -= collector.done
            except KeyboardInterrupt:
                cancel.set()
                collector.interrupted = True
