"""The Ray executor: a run's uncached cases go to a Ray cluster in shards; the driver keeps cache and records.

    interrupted = run_specs(specs, RayOptions(address="auto"), deliver, cancel)

The driver prepares every job (dataset, version, cache) as a local run does, ships the
working tree and the revisions' trees as the job's `runtime_env` `working_dir`, and sends
each job's uncached cases as shards: Ray tasks for commands, and for callables (which hold
state once loaded) an actor per worker that loads the model once and runs shard after shard.
A worker that dies loses its shard, which Ray retries (`max_retries`); a cancel stops the
outstanding shards, and every shard that finished has its outputs in the cache already.
Jobs whose model is not a callable or a command (recorded predictions) run on the driver.
"""

from __future__ import annotations

import queue as queue_module
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

from evaltui.core.errors import EvaltuiError
from evaltui.core.registry.model import Model
from evaltui.core.runs.execution import JobCancelled, JobFailed, JobSpec, execute
from evaltui.core.runs.models import describe
from evaltui.core.runs.shard_driver import DriverJob
from evaltui.core.runs.shards import (
    REMOTE_KINDS,
    REPO_DIR,
    RayOptions,
    ShardsDispatched,
    ShardTask,
    ShardWorker,
    run_shard,
    wants_actor,
)

Events = queue_module.Queue[tuple[int, Any]]  # events of jobs run on the driver, handed to its main thread
IN_FLIGHT_PER_ACTOR = 2  # one shard running, one queued, so an actor never waits on the driver


def require_ray() -> ModuleType:
    """The `ray` module, or an error that names the extra to install."""
    try:
        import ray
    except ImportError:
        raise EvaltuiError(
            "the ray executor needs Ray, which is not installed: "
            "pip install 'evaltui[ray]' (or run with --executor local)"
        ) from None
    return ray


def resources(model: Model) -> dict[str, Any]:
    """The Ray resource options of a model (`[models.NAME] ray = {...}`); one CPU when it names none."""
    chosen = model.ray.options() if model.ray is not None else {}
    chosen.setdefault("num_cpus", 1)
    return chosen


class Stage:
    """The directory shipped as `working_dir`: links to the working tree and to each revision's tree."""

    def __init__(self, specs: Sequence[JobSpec]):
        self.dir = Path(tempfile.mkdtemp(prefix="evaltui-ray-"))
        self.names: dict[str, str] = {}
        self.excludes: list[str] = []
        for spec in specs:
            if spec.repo_root not in self.names:
                (self.dir / REPO_DIR).symlink_to(spec.repo_root, target_is_directory=True)
                self.names[spec.repo_root] = REPO_DIR
                state = Path(spec.state_dir)
                inside = state.resolve().is_relative_to(Path(spec.repo_root).resolve())
                self.excludes += [f"/{REPO_DIR}/.git"] + (
                    [f"/{REPO_DIR}/{state.resolve().relative_to(Path(spec.repo_root).resolve()).as_posix()}"]
                    if inside
                    else []
                )
            if spec.tree_root not in self.names:
                name = f"rev-{Path(spec.tree_root).name}"
                (self.dir / name).symlink_to(spec.tree_root, target_is_directory=True)
                self.names[spec.tree_root] = name
            if spec.eval.dataset:
                # The cases travel in the shards; the dataset file itself would only grow the upload
                # (Ray caps a working_dir at 512 MiB).
                self.excludes.append(f"/{self.names[spec.tree_root]}/{spec.eval.dataset}")

    def runtime_env(self) -> dict[str, Any]:
        import evaltui

        # evaltui itself goes along, so the workers run the driver's version of it.
        return {
            "working_dir": str(self.dir),
            "excludes": [*self.excludes, "__pycache__/"],
            "py_modules": [str(Path(evaltui.__file__).parent)],
        }

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


@dataclass
class ActorPool:
    """The actors of one model (by fingerprint): created as shards queue up, at most `limit`, killed when done."""

    ray: Any
    factory: Any
    limit: int
    actors: list[Any] = field(default_factory=list)
    busy: dict[int, int] = field(default_factory=dict)  # actor position -> shards in flight
    queued: list[ShardTask] = field(default_factory=list)
    jobs: set[int] = field(default_factory=set)  # jobs with shards still to come back

    def pump(self, submitted: Callable[[Any, ShardTask, ActorPool, int], None]) -> None:
        while self.queued:
            free = [i for i in range(len(self.actors)) if self.busy[i] < IN_FLIGHT_PER_ACTOR]
            if not free and len(self.actors) < self.limit:
                self.actors.append(self.factory.remote())
                self.busy[len(self.actors) - 1] = 0
                continue
            if not free:
                return
            position = min(free, key=lambda i: self.busy[i])
            shard = self.queued.pop(0)
            self.busy[position] += 1
            submitted(self.actors[position].run.remote(shard), shard, self, position)

    def release(self, position: int) -> None:
        self.busy[position] -= 1

    def close(self) -> None:
        for actor in self.actors:
            self.ray.kill(actor)
        self.actors.clear()
        self.busy.clear()


class Link:
    """The driver's connection to the cluster, made on first need; shut down after the run if it made it."""

    def __init__(self, ray: ModuleType, options: RayOptions):
        self.ray, self.address = ray, options.address
        self.env: dict[str, Any] = {}  # per task and actor, when the caller had connected already
        self.capacity: dict[str, float] = {}
        self.owns = self.opened = False
        self.task_fn: Any = None
        self.actor_cls: Any = None

    def open(self, stage: Stage) -> None:
        if self.opened:
            return
        ray, env = self.ray, stage.runtime_env()
        if ray.is_initialized():
            self.env = env
        else:
            extra = {} if self.address else {"include_dashboard": False}
            try:
                ray.init(
                    address=self.address,
                    runtime_env=env,
                    log_to_driver=False,
                    logging_level="ERROR",
                    configure_logging=False,
                    **extra,
                )
            except ConnectionError as exc:
                raise EvaltuiError(f"cannot reach the Ray cluster at {self.address!r}: {exc}") from None
            self.owns = True
        self.opened = True
        self.capacity = ray.cluster_resources()
        self.task_fn = ray.remote(run_shard)
        self.actor_cls = ray.remote(ShardWorker)

    def options(self, model: Model) -> dict[str, Any]:
        """`.options()` for a model's tasks or actors: its resources, and the shipped tree when needed."""
        return {**resources(model), **({"runtime_env": self.env} if self.env else {})}

    def close(self) -> None:
        if self.owns:
            self.ray.shutdown()


@dataclass(frozen=True)
class InFlight:
    """A submitted shard: its task, and the actor pool and position that run it (None for a task)."""

    shard: ShardTask
    pool: ActorPool | None
    position: int


def run_specs(
    specs: Sequence[JobSpec], options: RayOptions, deliver: Callable[[int, Any], None], cancel: threading.Event
) -> bool:
    """Run the jobs on Ray (predictions jobs on the driver), delivering events; True when interrupted by Ctrl-C."""
    ray = require_ray()
    remote = [i for i, s in enumerate(specs) if s.model.kind in REMOTE_KINDS]
    local = [i for i, s in enumerate(specs) if s.model.kind not in REMOTE_KINDS]
    events: Events = queue_module.Queue()
    thread = threading.Thread(
        target=_run_local, args=([(i, specs[i]) for i in local], events, cancel), name="evaltui-ray-local", daemon=True
    )
    thread.start()
    stage = Stage([specs[i] for i in remote]) if remote else None
    interrupted = False
    drivers: dict[int, DriverJob] = {}
    flight: dict[Any, InFlight] = {}
    pools: dict[str, ActorPool] = {}
    link = Link(ray, options)
    try:
        if stage is not None:

            def submitted(ref: Any, shard: ShardTask, pool: ActorPool | None, position: int) -> None:
                flight[ref] = InFlight(shard, pool, position)

            def pool_for(spec: JobSpec, key: str) -> ActorPool:
                if key not in pools:
                    opts = link.options(spec.model)
                    factory = link.actor_cls.options(
                        max_restarts=options.max_retries, max_task_retries=options.max_retries, **opts
                    )
                    pools[key] = ActorPool(ray, factory, _limit(link.capacity, opts))
                return pools[key]

            for index in remote:
                if cancel.is_set():
                    break
                spec = specs[index]
                driver = DriverJob(index, spec, partial(deliver, index), stage.names[spec.tree_root])
                drivers[index] = driver
                _drain(events, deliver)
                try:
                    if not driver.prepare():
                        continue
                    shards = driver.shards(options.shard_size)
                except Exception as exc:  # a bug or a full disk: this job only
                    driver.close()
                    deliver(index, JobFailed(spec.job, f"internal error: {describe(exc)}"))
                    continue
                deliver(index, ShardsDispatched(spec.job, len(shards), len(driver.pending)))
                if not shards:
                    driver.finish()
                    continue
                link.open(stage)  # only now: a run whose answers are all cached never touches the cluster
                if wants_actor(spec.model):
                    pool = pool_for(spec, driver.base["fingerprint"])
                    pool.jobs.add(index)
                    pool.queued.extend(shards)
                    pool.pump(submitted)
                else:
                    fn = link.task_fn.options(max_retries=options.max_retries, **link.options(spec.model))
                    for shard in shards:
                        submitted(fn.remote(shard), shard, None, 0)
            while flight and not cancel.is_set():
                _drain(events, deliver)
                ready, _ = ray.wait(list(flight), num_returns=len(flight), timeout=0.1)
                for ref in ready:
                    _settle(ray, ref, flight.pop(ref), drivers, pools, submitted, options)
                for driver in drivers.values():
                    driver.flush()
    except KeyboardInterrupt:
        cancel.set()
        interrupted = True
    finally:
        try:
            for ref, item in flight.items():  # left over only after a cancel or an error
                ray.cancel(ref, force=item.pool is None)
            for driver in drivers.values():
                if not driver.closed:
                    driver.cancel()
            if cancel.is_set():
                for index in remote:
                    if index not in drivers:  # never prepared
                        deliver(index, JobCancelled(specs[index].job))
            for pool in pools.values():
                pool.close()
        finally:
            thread.join()
            _drain(events, deliver)
            link.close()
            if stage is not None:
                stage.close()
    return interrupted


def _settle(
    ray: Any,
    ref: Any,
    item: InFlight,
    drivers: dict[int, DriverJob],
    pools: dict[str, ActorPool],
    submitted: Callable[..., None],
    options: RayOptions,
) -> None:
    """A shard came back: merge it, finish its job when it was the last, keep its actor busy."""
    driver = drivers[item.shard.job]
    if item.pool is not None:
        item.pool.release(item.position)
    try:
        result = ray.get(ref)
    except Exception as exc:  # the worker died more often than `max_retries`, or the task itself broke
        result = None
        error = (
            f"a Ray worker failed on shard {item.shard.number} (after {options.max_retries} retries): {describe(exc)}"
        )
    if not driver.closed:
        if result is None:
            driver.close()
            driver.emit(JobFailed(driver.spec.job, error))
        elif result.fatal is not None:
            driver.fail(result.fatal, cache_hits=0, cache_misses=0)
        else:
            driver.merge(result)
            if driver.shards_left == 0:
                driver.finish()
    pool = item.pool
    if pool is not None:
        if driver.closed:
            pool.jobs.discard(driver.index)
            pool.queued = [s for s in pool.queued if s.job != driver.index]
        if not pool.jobs and not any(pool.busy.values()):
            pool.close()  # its resources go to the next model's actors
        else:
            pool.pump(submitted)


def _limit(capacity: dict[str, float], opts: dict[str, Any]) -> int:
    """How many actors of a model the cluster can hold at once."""
    limits = [int(capacity.get("CPU", 1) // opts["num_cpus"])] if opts.get("num_cpus") else []
    if opts.get("num_gpus"):
        limits.append(int(capacity.get("GPU", 0) // opts["num_gpus"]))
    return max(1, min(limits)) if limits else max(1, int(capacity.get("CPU", 1)))


def _run_local(items: list[tuple[int, JobSpec]], events: Events, cancel: threading.Event) -> None:
    """Jobs that stay on the driver (recorded predictions), their events queued for the driver's thread."""
    for index, spec in items:
        if cancel.is_set():
            events.put((index, JobCancelled(spec.job)))
            continue
        try:
            execute(spec, partial(_put, events, index), cancel.is_set)
        except Exception as exc:
            events.put((index, JobFailed(spec.job, f"internal error: {describe(exc)}")))


def _put(events: Events, index: int, event: Any) -> None:
    events.put((index, event))


def _drain(events: Events, deliver: Callable[[int, Any], None]) -> None:
    while True:
        try:
            index, event = events.get_nowait()
        except queue_module.Empty:
            return
        deliver(index, event)
