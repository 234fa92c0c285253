"""The job/record interface of a run: what a job is, what an executor needs to run it, the events it emits.

An executor (local processes today; others such as a cluster later) receives `JobSpec`s and
must deliver, per job, a `JobStarted`, any number of `JobProgress` and `RunWarning`, and
exactly one terminal event (`JobFinished`, `JobFailed` or `JobCancelled`). Everything here
is a small picklable frozen dataclass, so it crosses process boundaries unchanged.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from evaltui.core.registry.model import Eval, Model
from evaltui.core.runs.store import RunRecord


@dataclass(frozen=True)
class Job:
    """One (eval, model) pair; `rev` is the commit the eval's files come from (None: the working tree)."""

    eval: str
    model: str
    rev: str | None = None

    @property
    def label(self) -> str:
        return f"{self.eval} × {self.model}" + (f" @ {self.rev[:10]}" if self.rev else "")


@dataclass(frozen=True)
class JobStarted:
    """A job has loaded its dataset and model and starts producing outputs."""

    job: Job
    total: int
    version: str | None
    fingerprint: str


@dataclass
class CallCounts:
    """What the calls of one endpoint job did so far: in flight and sent, retries, tokens, cost."""

    in_flight: int = 0
    requests: int = 0
    retries: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float | None = None


@dataclass(frozen=True)
class JobProgress:
    """Cases done so far (coalesced: at most one event per job every 0.1 s, plus the last)."""

    job: Job
    done: int
    total: int
    cache_hits: int
    cache_misses: int
    errors: int
    elapsed: float
    calls: CallCounts = field(default_factory=lambda: CallCounts())  # an endpoint model's, this run's


@dataclass(frozen=True)
class JobFinished:
    """A job ran to the end; its record is written."""

    job: Job
    record: RunRecord


@dataclass(frozen=True)
class JobFailed:
    """A job could not produce a score (its metric raised, its dataset is broken); recorded when possible.

    It may come without a `JobStarted` before it, when the job failed while loading.
    """

    job: Job
    error: str
    record: RunRecord | None = None


@dataclass(frozen=True)
class JobCancelled:
    """A job was stopped before it finished; only an endpoint job records it (as interrupted, with its done count)."""

    job: Job


@dataclass(frozen=True)
class RunWarning:
    """Something the user should know that did not stop the run (a discarded cache, a missing version)."""

    message: str
    job: Job | None = None


Event = JobStarted | JobProgress | JobFinished | JobFailed | JobCancelled | RunWarning


@dataclass(frozen=True)
class JobSpec:
    """Everything a worker needs to run one job, picklable (params are plain dicts)."""

    job: Job
    repo_root: str
    tree_root: str  # where the eval's files are: the repository, or a revision's materialised tree
    state_dir: str
    eval: Eval
    model: Model
    commit: str | None
    dirty: bool
    time: dt.datetime
    run: str
    concurrency: int = 4
    use_cache: bool = True
    write: bool = True
    share: int = 1  # endpoint models: jobs of this model that may run at once; its concurrency is split among them


def plain(value: Any) -> Any:
    """An Eval or Model with its params (and prices) as plain dicts, so it can cross into a worker process."""
    if isinstance(value, Model):
        return replace(value, params=dict(value.params), prices=dict(value.prices))
    return replace(value, params=dict(value.params))


def event_json(event: Any) -> dict[str, Any]:
    """An event as a JSON-ready object with an "event" kind (`run --json` streams these, one per line)."""
    job = getattr(event, "job", None)
    where: dict[str, Any] = {"eval": job.eval, "model": job.model, "rev": job.rev} if job is not None else {}
    if isinstance(event, JobStarted):
        return {
            "event": "started",
            **where,
            "total": event.total,
            "version": event.version,
            "fingerprint": event.fingerprint,
        }
    if isinstance(event, JobProgress):
        return {
            "event": "progress",
            **where,
            "done": event.done,
            "total": event.total,
            "cache_hits": event.cache_hits,
            "cache_misses": event.cache_misses,
            "errors": event.errors,
            "elapsed": round(event.elapsed, 3),
            **asdict(event.calls),
        }
    if isinstance(event, JobFinished):
        return {"event": "finished", **where, "record": event.record.summary()}
    if isinstance(event, JobFailed):
        return {"event": "failed", **where, "error": event.error}
    if isinstance(event, JobCancelled):
        return {"event": "cancelled", **where}
    if isinstance(event, RunWarning):
        return {"event": "warning", **where, "message": event.message}
    return {"event": type(event).__name__}
