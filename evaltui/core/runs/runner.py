"""Run evals against models: jobs in parallel worker processes, a stream of progress events, cancellation.

    jobs = runner.plan(registry, ["qa_accuracy"], ["baseline", "candidate"])
    result = runner.run(registry, jobs, on_event=print, cancel=threading.Event())

Events (`JobStarted`, `JobProgress`, `JobFinished`, `JobFailed`, `JobCancelled`,
`RunWarning`) are small frozen dataclasses delivered to `on_event` on the thread that
called `run`; `stream` yields the same events from a background thread and ends with
`RunDone`. Setting `cancel` (or Ctrl-C) stops the jobs still running at their next chunk of
cases; jobs that finished keep their records, the others write nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
import multiprocessing
import os
import queue as queue_module
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from evaltui.core import history
from evaltui.core.errors import EvaltuiError, UnknownEvalError
from evaltui.core.registry.model import FILENAME, Model, Registry
from evaltui.core.runs.endpoint import close_providers, install_budgets, make_budgets
from evaltui.core.runs.execution import (
    Event,
    Job,
    JobCancelled,
    JobFailed,
    JobFinished,
    JobProgress,
    JobSpec,
    JobStarted,
    RunWarning,
    execute,
    plain,
)
from evaltui.core.runs.models import describe
from evaltui.core.runs.planning import Trees, plan, plan_models, runnable
from evaltui.core.runs.pool import Collector, ensure_tracker, run_pool, shares
from evaltui.core.runs.shards import RayOptions
from evaltui.core.runs.store import RunRecord

__all__ = [
    "Event",
    "Job",
    "JobStarted",
    "JobProgress",
    "JobFinished",
    "JobFailed",
    "JobCancelled",
    "RunWarning",
    "RunDone",
    "RunOptions",
    "RayOptions",
    "RunResult",
    "Trees",
    "plan",
    "plan_models",
    "run",
    "stream",
    "runnable",
    "in_process",
]


@dataclass(frozen=True)
class RunOptions:
    """How to run: parallel jobs, model calls in flight per job, process isolation, cache and records."""

    jobs: int | None = None  # jobs at once; None = the number of cores
    concurrency: int = 4  # model calls in flight within one job (callables and commands)
    isolate: bool = False  # always use worker processes (a long-lived caller such as the app wants this)
    use_cache: bool = True  # False: call every model afresh (the outputs are still stored)
    write: bool = True
    ray: RayOptions | None = None  # set: the executor is a Ray cluster (see ray_executor)


@dataclass(frozen=True)
class RunResult:
    """What a run produced: records of finished and failed jobs, and what was cancelled."""

    records: tuple[RunRecord, ...]
    failed: tuple[JobFailed, ...]
    cancelled: tuple[Job, ...]
    warnings: tuple[str, ...]
    interrupted: bool = False  # Ctrl-C

    @property
    def below_threshold(self) -> tuple[RunRecord, ...]:
        return tuple(r for r in self.records if r.below_threshold)

    @property
    def exit_code(self) -> int:
        """130 when interrupted, 1 when a job failed or an eval fell below its threshold, else 0."""
        if self.interrupted:
            return 130
        return 1 if self.failed or self.below_threshold else 0


@dataclass(frozen=True)
class RunDone:
    """The last item of `stream`: the run's result."""

    result: RunResult


def run(
    registry: Registry,
    jobs: Sequence[Job],
    *,
    options: RunOptions | None = None,
    on_event: Callable[[Any], None] | None = None,
    cancel: threading.Event | None = None,
    now: dt.datetime | None = None,
    trees: Trees | None = None,
) -> RunResult:
    """Run `jobs`, deliver their events to `on_event`, write a record per finished or failed job."""
    options = options or RunOptions()
    cancel = cancel or threading.Event()
    now = now or dt.datetime.now(dt.timezone.utc)
    own_trees = trees is None
    trees = trees or Trees(registry.root)
    collector = Collector(on_event)
    head = _HeadProbe(registry.root)
    try:
        specs = _specs(registry, jobs, options, trees, now)
        workers = max(1, min(options.jobs or os.cpu_count() or 1, len(specs)))
        if options.ray is not None:  # executor selection: Ray; endpoint models stay here (they are I/O-bound)
            on_ray = [s for s in specs if registry.models[s.job.model].kind != "endpoint"]
            specs = [s for s in specs if registry.models[s.job.model].kind == "endpoint"]
            if on_ray:
                from evaltui.core.runs import ray_executor

                commit, dirty = head.result()
                collector.interrupted = ray_executor.run_specs(
                    [replace(s, commit=commit, dirty=dirty) for s in on_ray], options.ray, collector.deliver, cancel
                )
            if collector.interrupted:
                specs = []
        inline = in_process([s.model for s in specs], workers, options) or not _can_spawn()
        specs = shares(specs, 1 if inline else workers)
        chosen = [registry.models[m] for m in dict.fromkeys(s.job.model for s in specs)]
        budgets: dict[str, Any] = {}
        if any(m.rpm or m.tpm for m in chosen):
            ensure_tracker()  # the buckets' locks are semaphores the tracker watches
            budgets = make_budgets(chosen, multiprocessing.get_context("spawn"))
        if inline:
            install_budgets(budgets)
            _run_inline(specs, collector, cancel, head.result)
        elif specs:
            commit, dirty = head.result()
            run_pool([replace(s, commit=commit, dirty=dirty) for s in specs], workers, collector, cancel, budgets)
    finally:
        if own_trees:
            trees.close()
    return _result(collector)


def in_process(models: Sequence[Model], workers: int, options: RunOptions) -> bool:
    """Whether the jobs run one after another in this process rather than in worker processes.

    Besides a single worker, that is every run whose jobs all call one endpoint model: they
    wait on the network, and the model's concurrency bounds them whether its jobs run side by
    side or in turn, so each runs with all of it here and no worker pays the second of CPU that
    importing the provider's client costs. A caller that wants isolation (the app) keeps it.
    """
    if options.isolate:
        return False
    return workers == 1 or (len({m.name for m in models}) == 1 and all(m.kind == "endpoint" for m in models))


def stream(
    registry: Registry,
    jobs: Sequence[Job],
    *,
    options: RunOptions | None = None,
    cancel: threading.Event | None = None,
    now: dt.datetime | None = None,
) -> Iterator[Any]:
    """`run` in a background thread, yielding its events and finally `RunDone(result)`."""
    cancel = cancel or threading.Event()
    items: queue_module.Queue[Any] = queue_module.Queue()

    def target() -> None:
        try:
            items.put(RunDone(run(registry, jobs, options=options, on_event=items.put, cancel=cancel, now=now)))
        except BaseException as exc:  # handed to the consumer, raised there
            items.put(_Raised(exc))

    thread = threading.Thread(target=target, name="evaltui-run", daemon=True)
    thread.start()
    try:
        while True:
            item = items.get()
            if isinstance(item, _Raised):
                raise item.exc
            yield item
            if isinstance(item, RunDone):
                return
    finally:
        if thread.is_alive():
            cancel.set()
            thread.join()


@dataclass(frozen=True)
class _Raised:
    exc: BaseException


def _specs(
    registry: Registry, jobs: Sequence[Job], options: RunOptions, trees: Trees, now: dt.datetime
) -> list[JobSpec]:
    utc = now.astimezone(dt.timezone.utc) if now.tzinfo else now.replace(tzinfo=dt.timezone.utc)
    run_id = utc.strftime("%Y%m%dT%H%M%S%fZ")
    specs = []
    for job in jobs:
        if job.rev is None:
            tree, ev = registry.root, registry.eval(job.eval)
        else:
            tree = trees.path(job.rev)
            found = trees.registry(job.rev).evals.get(job.eval)
            if found is None:
                raise UnknownEvalError(f"no eval named {job.eval!r} in {FILENAME} at {job.rev[:12]}")
            ev = found
        if job.model not in registry.models:
            raise EvaltuiError(f"no model named {job.model!r} in {FILENAME}")
        specs.append(
            JobSpec(
                job,
                str(registry.root),
                str(tree),
                str(registry.state_dir),
                plain(ev),
                plain(registry.models[job.model]),
                None,
                False,
                utc,
                run_id,
                max(1, options.concurrency),
                options.use_cache,
                options.write,
            )
        )
    return specs


def _result(collector: Collector) -> RunResult:
    return RunResult(
        tuple(collector.records[i] for i in sorted(collector.records)),
        tuple(collector.failed),
        tuple(collector.cancelled),
        tuple(collector.warnings),
        collector.interrupted,
    )


def _can_spawn() -> bool:
    """Whether worker processes can start: spawn re-imports the caller's main script, which must exist."""
    main = sys.modules.get("__main__")
    if getattr(getattr(main, "__spec__", None), "name", None):
        return True
    path = getattr(main, "__file__", None)
    return path is None or os.path.isfile(path)


class _HeadProbe:
    """`git status` for the records' commit and dirty flag, in a thread so it overlaps the first job."""

    def __init__(self, root: Path):
        self._value: tuple[str | None, bool] = (None, False)
        self._thread = threading.Thread(target=self._probe, args=(root,), name="evaltui-head", daemon=True)
        self._thread.start()

    def _probe(self, root: Path) -> None:
        self._value = history.head_state(root)

    def result(self) -> tuple[str | None, bool]:
        self._thread.join()
        return self._value


def _run_inline(
    specs: list[JobSpec], collector: Collector, cancel: threading.Event, head: Callable[[], tuple[str | None, bool]]
) -> None:
    try:
        for index, spec in enumerate(specs):
            if cancel.is_set():
                collector.deliver(index, JobCancelled(spec.job))
                continue
            try:
                execute(spec, functools.partial(collector.deliver, index), cancel.is_set, head)
            except KeyboardInterrupt:
                cancel.set()
                collector.interrupted = True
                collector.deliver(index, JobCancelled(spec.job))
            except (Exception, SystemExit) as exc:  # a bug, a full disk, user code exiting: this job only
                collector.deliver(index, JobFailed(spec.job, f"internal error: {describe(exc)}"))
    finally:
        close_providers()  # the endpoint clients its jobs shared
