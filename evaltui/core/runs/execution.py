"""One job (an eval against a model) from dataset to run record, and the progress events it emits.

This module runs inside worker processes as well as in the caller's process; what it
receives and emits is defined in `jobs` (re-exported here for existing callers).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from evaltui.core.errors import EvaltuiError, VersionSourceError
from evaltui.core.registry import versions
from evaltui.core.registry.datasets import load_dataset
from evaltui.core.registry.model import Eval
from evaltui.core.runs import models, prompts, providers, store
from evaltui.core.runs.cache import OutputCache, outputs_dir
from evaltui.core.runs.endpoint import CaseCalls, close_providers, install_budgets
from evaltui.core.runs.jobs import (
    CallCounts,
    Event,
    Job,
    JobCancelled,
    JobFailed,
    JobFinished,
    JobProgress,
    JobSpec,
    JobStarted,
    RunWarning,
    plain,
)
from evaltui.core.runs.scoring import Cancelled, EndpointCases, MetricError, Tally, run_cases
from evaltui.core.runs.store import RunRecord

__all__ = [
    "Event",
    "Job",
    "JobCancelled",
    "JobFailed",
    "JobFinished",
    "JobProgress",
    "JobSpec",
    "JobStarted",
    "RunWarning",
    "plain",
    "execute",
    "init_worker",
    "work",
    "eval_files_sha256",
    "record_base",
]


def eval_files_sha256(ev: Eval, tree_root: Path, known: dict[str, str] | None = None) -> str:
    """A hash of the eval's definition and the content of its files in `tree_root`."""
    from evaltui.core import fsutil

    root = Path(tree_root)
    files = dict.fromkeys(ev.fixed_files)
    for pattern in ev.globs:
        for match in sorted(root.glob(pattern)):
            if match.is_file():
                files[match.relative_to(root).as_posix()] = None
    digests = {}
    for rel in sorted(files):
        digests[rel] = (known or {}).get(rel) or (models.file_sha256(root / rel) if fsutil.inside(root, rel) else None)
    definition = {
        "metric": ev.metric,
        "dataset": ev.dataset,
        "version_from": ev.version_from,
        "version": ev.version,
        "paths": list(ev.paths),
        "params": dict(ev.params),
    }
    return models.sha256_bytes(models.canonical({"definition": definition, "files": digests}).encode())


# -- running one job ------------------------------------------------------------------------


def execute(
    spec: JobSpec,
    emit: Callable[[Any], None],
    cancelled: Callable[[], bool],
    head: Callable[[], tuple[str | None, bool]] | None = None,
) -> RunRecord | None:
    """Run one job, emit its events and write its record; None when it was cancelled.

    `head`, when given, supplies (commit, dirty) for the record when the job ends, so a slow
    `git status` can run while the job does.
    """
    job, ev, model = spec.job, spec.eval, spec.model
    started = time.perf_counter()
    tree = Path(spec.tree_root)
    repo = Path(spec.repo_root)
    base = dict(
        record_base(spec),
        eval_files_sha256="",
        dataset_sha256=None,
        eval_version=None,
        fingerprint="",
        metric_kind="unknown",
    )
    is_endpoint = model.kind == "endpoint"
    cases: EndpointCases | None = None

    def finish(record: RunRecord, event: Any) -> RunRecord:
        if head is not None:
            commit, dirty = head()
            record = replace(record, commit=commit, dirty=dirty)
        if spec.write:
            # An endpoint job replaces its own "running" record.
            record = store.write_record(Path(spec.state_dir), record, overwrite=is_endpoint)
        event = replace(event, record=record)
        emit(event)
        return record

    def fail(message: str, **fields: Any) -> RunRecord:
        record = RunRecord(
            **{
                **base,
                **fields,
                "status": "failed",
                "error": message,
                "aggregate": None,
                "duration": time.perf_counter() - started,
            }
        )
        return finish(record, JobFailed(job, message, record))

    try:
        templates = prompts.read_templates(ev, tree) if is_endpoint else None
        base["fingerprint"] = models.fingerprint(model, repo, templates)
        if is_endpoint:
            providers.api_key(model)  # a missing key fails the job before anything else
        try:
            base["eval_version"] = versions.resolve(ev, versions.working_tree_reader(tree)).version
        except VersionSourceError as exc:
            emit(RunWarning(f"{ev.name}: version unknown ({exc})", job))
        if not ev.metric or not ev.dataset:
            return fail(f"eval {ev.name} has no {'metric' if not ev.metric else 'dataset'}; it cannot be run here")
        dataset = load_dataset(tree, ev.dataset)
        base.update(
            dataset_sha256=dataset.sha256,
            n_cases=len(dataset.ids),
            eval_files_sha256=eval_files_sha256(ev, tree, {ev.dataset: dataset.sha256}),
        )
        if templates is not None:
            rendered = prompts.render(ev, templates, dataset, tree)
            cases = EndpointCases(
                rendered.requests,
                rendered.problems,
                tuple("" if r is None else models.canonical(r.to_json()) for r in rendered.requests),
            )
    except EvaltuiError as exc:
        return fail(str(exc))
    tally = Tally(job, len(dataset.ids), emit, base["fingerprint"])
    emit(JobStarted(job, len(dataset.ids), base["eval_version"], base["fingerprint"]))

    def progress_record(status: str) -> RunRecord:
        """The record of an endpoint job not finished yet: its done count and what its calls cost so far."""
        c = tally.counters
        return RunRecord(
            **{
                **base,
                "status": status,
                "error": None,
                "aggregate": None,
                "n_errors": tally.errors,
                "cache_hits": tally.hits,
                "cache_misses": tally.misses,
                "has_results": False,
                "duration": time.perf_counter() - started,
                "done": tally.done,
                "pid": os.getpid() if status == "running" else None,
                **(totals(c) if c else {}),
            }
        )

    if is_endpoint and spec.write:

        def checkpoint() -> None:
            store.write_record(Path(spec.state_dir), progress_record("running"), overwrite=True)

        tally.checkpoint = checkpoint
        checkpoint()
    cache = None
    try:
        if model.kind != "predictions":  # without `use_cache` it is written, not read
            cache = OutputCache(outputs_dir(Path(spec.state_dir)), warn=lambda m: emit(RunWarning(m, job)))
        model_dir = (repo / (model.callable or "")).parent if model.kind == "callable" else repo
        # The model's modules load first, from the working tree, so an old revision's tree
        # (first on the path while the metric loads) cannot shadow them.
        with models.user_code(repo, model_dir):
            caller = models.open_caller(model, repo) if model.kind in ("callable", "command") else None
            with models.user_code(tree, (tree / ev.metric).parent):
                metric = models.import_function(tree, ev.metric, f"metric {ev.name}:")
                per_case = bool(getattr(metric, "__evaltui_scorer__", False))
                base["metric_kind"] = "scorer" if per_case else "aggregate"
                try:
                    aggregate, scores, errors = run_cases(
                        spec, dataset, caller, cache, tally, cancelled, metric, per_case, cases
                    )
                finally:
                    if caller is not None:
                        caller.cancel()
    except Cancelled:
        if is_endpoint and spec.write:  # the answers so far are cached; the record says how far it got
            store.write_record(Path(spec.state_dir), progress_record("interrupted"), overwrite=True)
        emit(JobCancelled(job))
        return None
    except EvaltuiError as exc:
        return fail(
            str(exc),
            cache_hits=tally.hits,
            cache_misses=tally.misses,
            **(totals(tally.counters) if tally.counters else {}),
        )
    except MetricError as exc:
        return fail(
            str(exc),
            ids=dataset.ids,
            scores=tuple(exc.scores),
            errors=tuple(exc.errors),
            n_errors=sum(e is not None for e in exc.errors),
            cache_hits=tally.hits,
            cache_misses=tally.misses,
            **(totals(tally.counters) if tally.counters else {}),
            **(columns(tally.calls) if tally.calls else {}),
        )
    finally:
        if cache is not None:
            cache.close()
    tally.done = tally.total
    tally.report(force=True)
    record = RunRecord(
        **{
            **base,
            "status": "ok",
            "error": None,
            "aggregate": aggregate,
            "n_errors": sum(e is not None for e in errors),
            "cache_hits": tally.hits,
            "cache_misses": tally.misses,
            "duration": time.perf_counter() - started,
            "ids": dataset.ids,
            "scores": tuple(scores),
            "errors": tuple(errors),
            **(totals(tally.counters) if tally.counters else {}),
            **(columns(tally.calls) if tally.calls else {}),
        }
    )
    return finish(record, JobFinished(job, record))


def totals(c: CallCounts) -> dict[str, Any]:
    """Record fields from an endpoint job's counters."""
    return {
        "requests": c.requests,
        "retries": c.retries,
        "input_tokens": c.input_tokens,
        "output_tokens": c.output_tokens,
        "cost": c.cost,
    }


def columns(calls: CaseCalls) -> dict[str, Any]:
    """Record columns from an endpoint job's per-case calls."""
    return {
        "latency": tuple(calls.latency),
        "case_input_tokens": tuple(calls.input_tokens),
        "case_output_tokens": tuple(calls.output_tokens),
        "attempts": tuple(calls.attempts),
        "raw": tuple(calls.raw),
    }


def record_base(spec: JobSpec) -> dict[str, Any]:
    """The fields of a record known before the job runs."""
    ev, model = spec.eval, spec.model
    return {
        "id": store.make_id(spec.time, ev.name, model.name, f"{spec.run}|{spec.job.rev or ''}"),
        "time": spec.time,
        "run": spec.run,
        "commit": spec.commit,
        "dirty": spec.dirty,
        "eval": ev.name,
        "eval_rev": spec.job.rev,
        "metric": ev.metric,
        "dataset": ev.dataset,
        "model": model.name,
        "model_kind": model.kind,
        "threshold": ev.threshold,
        "n_cases": 0,
        "n_errors": 0,
        "cache_hits": 0,
        "cache_misses": 0,
        "duration": 0.0,
    }


# -- the worker side of a process pool -------------------------------------------------------

_QUEUE: Any = None
_STOP: Any = None


def init_worker(events: Any, stop: Any, budgets: dict[str, Any] | None = None) -> None:
    """Pool initializer: keep the event queue, the stop flag and the models' shared budgets; leave Ctrl-C to the parent."""
    global _QUEUE, _STOP
    install_budgets(budgets or {})
    # Ctrl-C belongs to the parent, which turns it into a cancellation the workers see.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # User code that prints must not draw over the progress display (or the app's screen).
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    os.close(null)
    _QUEUE, _STOP = events, stop


def work(index: int, spec: JobSpec) -> None:
    """Run one job in a pool worker, its events (the last one terminal) going to the shared queue."""

    def emit(event: Any) -> None:
        _QUEUE.put((index, event))

    try:
        if _STOP.is_set():
            emit(JobCancelled(spec.job))
            return
        execute(spec, emit, _STOP.is_set)
    except BaseException as exc:
        emit(JobFailed(spec.job, f"internal error: {models.describe(exc)}"))
    finally:
        close_providers()  # a worker's next job may be another model's
