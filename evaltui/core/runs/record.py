"""A run record: one job's run with every case's score or error, and its JSON form."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

SCHEMA = 1
PASS_MARK = 0.5  # a case passes when its score is at least this (1/0 and True/False scores alike)


@dataclass(frozen=True)
class Provenance:
    """Where an imported run came from: the harness, its log file and the file's sha256."""

    harness: str  # "lm-eval" | "inspect"
    file: str  # relative to the repository when inside it
    sha256: str
    task: str  # the harness's own name for the eval

    def to_json(self) -> dict[str, str]:
        return {"harness": self.harness, "file": self.file, "sha256": self.sha256, "task": self.task}


@dataclass(frozen=True)
class RunRecord:
    """One job's run: where its code came from, the model, every case's score or error, the totals.

    Per-case results are columns (`ids`, `scores`, `errors`) of equal length; a summary read
    (`load_record(path, results=False)`) leaves them empty with `has_results` False.

    Endpoint models add per-case columns (`latency` of the last attempt in seconds,
    `input_tokens`, `output_tokens`, `attempts`, and `raw`: the body of a malformed answer),
    empty for other models and None for cases answered from the cache, and run totals
    (`requests`, `retries`, tokens, `cost` in US dollars when the model has prices). Records
    written before these fields existed read with the defaults. A job in progress is
    recorded with status "running", its `pid` and `done` count; one whose process is gone
    reads as "interrupted" (see `state`).
    """

    id: str
    time: dt.datetime
    run: str  # the invocation this job was part of
    commit: str | None  # HEAD when it ran
    dirty: bool
    eval: str
    eval_version: str | None
    eval_rev: str | None  # the commit the eval's files came from; None = the working tree
    eval_files_sha256: str  # the eval's definition and files, so equal code can be recognised
    metric: str | None
    metric_kind: str  # "scorer" | "aggregate" | "unknown"
    dataset: str | None
    dataset_sha256: str | None
    model: str
    model_kind: str
    fingerprint: str
    status: str  # "ok" | "failed"
    error: str | None
    aggregate: float | None
    threshold: float | None
    n_cases: int
    n_errors: int
    cache_hits: int
    cache_misses: int
    duration: float
    ids: tuple[str, ...] = ()
    scores: tuple[float | None, ...] = ()
    errors: tuple[str | None, ...] = ()
    has_results: bool = True
    path: str | None = field(default=None, compare=False)
    # -- provenance of an imported run (None: evaltui ran it); absent from older records
    source: Provenance | None = None
    executor: str = "local"  # "local" (this machine's processes) or "ray" (a Ray cluster)
    done: int | None = None  # cases with an outcome so far (running or interrupted jobs)
    pid: int | None = None  # the process of a running job
    requests: int = 0
    retries: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float | None = None
    latency: tuple[float | None, ...] = ()
    case_input_tokens: tuple[int | None, ...] = ()
    case_output_tokens: tuple[int | None, ...] = ()
    attempts: tuple[int | None, ...] = ()
    raw: tuple[str | None, ...] = ()

    @property
    def state(self) -> str:
        """The status, with a "running" record whose process is gone read as "interrupted"."""
        if self.status == "running" and not pid_alive(self.pid):
            return "interrupted"
        return self.status

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def per_case(self) -> bool:
        """Whether per-case scores exist (aggregate metrics only have the total)."""
        return self.metric_kind == "scorer"

    @property
    def below_threshold(self) -> bool:
        """Whether the eval's `threshold` is set and this run did not reach it."""
        if self.threshold is None or self.status != "ok":
            return False
        return self.aggregate is None or self.aggregate < self.threshold

    def score_map(self) -> dict[str, float | None]:
        return dict(zip(self.ids, self.scores, strict=False))

    def error_map(self) -> dict[str, str]:
        return {i: e for i, e in zip(self.ids, self.errors, strict=False) if e is not None}

    def summary(self) -> dict[str, Any]:
        """Every field except the per-case results, JSON-ready."""
        return {
            "schema": SCHEMA,
            "id": self.id,
            "time": self.time.isoformat(),
            "run": self.run,
            "commit": self.commit,
            "dirty": self.dirty,
            "eval": self.eval,
            "eval_version": self.eval_version,
            "eval_rev": self.eval_rev,
            "eval_files_sha256": self.eval_files_sha256,
            "metric": self.metric,
            "metric_kind": self.metric_kind,
            "dataset": self.dataset,
            "dataset_sha256": self.dataset_sha256,
            "model": self.model,
            "model_kind": self.model_kind,
            "fingerprint": self.fingerprint,
            "status": self.status,
            "error": self.error,
            "aggregate": self.aggregate,
            "threshold": self.threshold,
            "n_cases": self.n_cases,
            "n_errors": self.n_errors,
            "cache_hits": self.cache_hits,
            "cache_misses": self.cache_misses,
            "duration": self.duration,
            "executor": self.executor,
            "source": self.source.to_json() if self.source else None,
            "state": self.state,
            "done": self.done,
            "pid": self.pid,
            "requests": self.requests,
            "retries": self.retries,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost": self.cost,
        }

    def columns(self) -> dict[str, list[Any]]:
        """The per-case results as columns (the endpoint columns only when present)."""
        cols: dict[str, list[Any]] = {"id": list(self.ids), "score": list(self.scores), "error": list(self.errors)}
        for name, values in (
            ("latency", self.latency),
            ("input_tokens", self.case_input_tokens),
            ("output_tokens", self.case_output_tokens),
            ("attempts", self.attempts),
            ("raw", self.raw),
        ):
            if values:
                cols[name] = list(values)
        return cols

    def to_json(self) -> dict[str, Any]:
        data = self.summary()
        data["results"] = self.columns()
        return data


def pid_alive(pid: int | None) -> bool:
    """Whether a process with this id exists on this machine."""
    import os

    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists but belongs to someone else
        return True
    return True


class RecordError(ValueError):
    """A run record that cannot be read or does not have the expected shape."""


def from_json(obj: Any, *, path: str | None = None, results: bool = True) -> RunRecord:
    """A record from its JSON form; `RecordError` when a field is missing or of the wrong type."""
    if not isinstance(obj, dict):
        raise RecordError("expected a JSON object")
    if obj.get("schema") != SCHEMA:
        raise RecordError(f"unknown record schema {obj.get('schema')!r}")
    try:
        ids: tuple[str, ...] = ()
        scores: tuple[float | None, ...] = ()
        errors: tuple[str | None, ...] = ()
        if results:
            cols = obj["results"]
            ids, scores, errors = tuple(cols["id"]), tuple(cols["score"]), tuple(cols["error"])
            if not (len(ids) == len(scores) == len(errors)):
                raise RecordError("per-case columns differ in length")
            extra = {
                name: tuple(cols.get(name) or ())
                for name in ("latency", "input_tokens", "output_tokens", "attempts", "raw")
            }
            if any(v and len(v) != len(ids) for v in extra.values()):
                raise RecordError("per-case columns differ in length")
        else:
            extra = {}
        return RunRecord(
            id=str(obj["id"]),
            time=dt.datetime.fromisoformat(obj["time"]),
            run=str(obj["run"]),
            commit=obj["commit"],
            dirty=bool(obj["dirty"]),
            eval=str(obj["eval"]),
            eval_version=obj["eval_version"],
            eval_rev=obj["eval_rev"],
            eval_files_sha256=str(obj["eval_files_sha256"]),
            metric=obj["metric"],
            metric_kind=str(obj["metric_kind"]),
            dataset=obj["dataset"],
            dataset_sha256=obj["dataset_sha256"],
            model=str(obj["model"]),
            model_kind=str(obj["model_kind"]),
            fingerprint=str(obj["fingerprint"]),
            status=str(obj["status"]),
            error=obj["error"],
            aggregate=None if obj["aggregate"] is None else float(obj["aggregate"]),
            threshold=None if obj["threshold"] is None else float(obj["threshold"]),
            n_cases=int(obj["n_cases"]),
            n_errors=int(obj["n_errors"]),
            cache_hits=int(obj["cache_hits"]),
            cache_misses=int(obj["cache_misses"]),
            duration=float(obj["duration"]),
            ids=ids,
            scores=scores,
            errors=errors,
            has_results=results,
            path=path,
            source=_provenance(obj.get("source")),
            executor=str(obj.get("executor", "local")),
            done=None if obj.get("done") is None else int(obj["done"]),
            pid=None if obj.get("pid") is None else int(obj["pid"]),
            requests=int(obj.get("requests") or 0),
            retries=int(obj.get("retries") or 0),
            input_tokens=int(obj.get("input_tokens") or 0),
            output_tokens=int(obj.get("output_tokens") or 0),
            cost=None if obj.get("cost") is None else float(obj["cost"]),
            latency=extra.get("latency", ()),
            case_input_tokens=extra.get("input_tokens", ()),
            case_output_tokens=extra.get("output_tokens", ()),
            attempts=extra.get("attempts", ()),
            raw=extra.get("raw", ()),
        )
    except RecordError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise RecordError(f"missing or invalid field ({type(exc).__name__}: {exc})") from None


def _provenance(value: Any) -> Provenance | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise RecordError("field 'source' is not an object")
    return Provenance(str(value["harness"]), str(value["file"]), str(value["sha256"]), str(value.get("task", "")))
