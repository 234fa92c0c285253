"""The case loop of one job: outputs from predictions, the cache or model calls, then scores, chunk by chunk."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from evaltui.core.registry.datasets import Dataset
from evaltui.core.runs import endpoint, models
from evaltui.core.runs.cache import OutputCache
from evaltui.core.runs.jobs import CallCounts, JobProgress, JobSpec
from evaltui.core.runs.providers.base import ChatRequest

CHUNK = 1024  # cases scored between two cancellation checks / progress events
PROGRESS_EVERY = 0.1  # seconds between progress events of one job
CHECKPOINT_EVERY = 1.0  # seconds between rewrites of a running endpoint job's record


class Cancelled(Exception):
    """Raised inside a job when its cancellation was requested."""


class Tally:
    """Counts of one job and its throttled progress events; endpoint calls add their counters and columns."""

    def __init__(self, job: Any, total: int, emit: Callable[[Any], None], fingerprint: str):
        self.job, self.total, self.emit, self.fingerprint = job, total, emit, fingerprint
        self.done = self.hits = self.misses = self.errors = 0
        self.start = time.perf_counter()
        self._last = 0.0
        self.counters: CallCounts | None = None
        self.calls: endpoint.CaseCalls | None = None
        self.checkpoint: Callable[[], None] | None = None  # called at most every CHECKPOINT_EVERY seconds
        self._last_checkpoint = self.start

    def report(self, force: bool = False) -> None:
        now = time.perf_counter()
        if force or now - self._last >= PROGRESS_EVERY:
            self._last = now
            calls = replace(self.counters) if self.counters else CallCounts()  # a snapshot: the counters go on
            self.emit(
                JobProgress(
                    self.job, self.done, self.total, self.hits, self.misses, self.errors, now - self.start, calls
                )
            )
            if self.checkpoint is not None and now - self._last_checkpoint >= CHECKPOINT_EVERY:
                self._last_checkpoint = now
                self.checkpoint()


@dataclass(frozen=True)
class EndpointCases:
    """What an endpoint job sends: each case's rendered request (or why it has none) and its cache key."""

    requests: tuple[ChatRequest | None, ...]
    problems: tuple[str | None, ...]
    keys: tuple[str, ...]


def run_cases(
    spec: JobSpec,
    dataset: Dataset,
    caller: models.Caller | None,
    cache: OutputCache | None,
    tally: Tally,
    cancelled: Callable[[], bool],
    metric: Callable[..., Any],
    per_case: bool,
    cases: EndpointCases | None = None,
) -> tuple[float | None, list[float | None], list[str | None]]:
    """Outputs (cache, predictions or calls) and scores, chunk by chunk; (aggregate, scores, errors).

    With `cases` (an endpoint model) every missing answer is requested first, concurrently,
    each cached as it arrives; the chunks then only score.
    """
    n = len(dataset.ids)
    params = dict(spec.eval.params)
    outputs, errors, pending, canon = _known_outputs(spec, dataset, cache, tally, cases)
    scores: list[float | None] = [None] * n
    fresh: list[int] = []
    failed: list[int] = [i for i in range(n) if errors[i] is not None]
    if cases is not None:
        _call_endpoint(spec, cases, pending, outputs, errors, failed, cache, tally, cancelled)
        pending = []
    pool = ThreadPoolExecutor(spec.concurrency) if caller is not None and spec.concurrency > 1 and pending else None
    try:
        cursor = 0
        for lo in range(0, n, CHUNK):
            hi = min(lo + CHUNK, n)
            todo = []
            while cursor < len(pending) and pending[cursor] < hi:
                todo.append(pending[cursor])
                cursor += 1
            tally.done += (hi - lo) - len(todo)
            if todo:
                # Only endpoint jobs come without a caller, and they have called every case above.
                assert caller is not None
                _call(caller, todo, dataset.inputs, outputs, errors, fresh, failed, tally, cancelled, pool)
            if per_case:
                tally.errors += score_cases(metric, params, outputs, errors, dataset.references, range(lo, hi), scores)
            tally.report()
            if cancelled():
                raise Cancelled
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        if cache is not None and fresh:
            cache.put_many(tally.fingerprint, [(canon[i], outputs[i]) for i in fresh])
    if cache is not None and (pending or (cases is not None and tally.misses)):
        model_failed = set(failed)
        cache.put_batch(
            tally.fingerprint,
            dataset.sha256,
            [None if i in model_failed else o for i, o in enumerate(outputs)],
            sorted(model_failed),
        )
    total = aggregate(metric, spec.eval.metric, per_case, params, outputs, errors, scores, dataset.references)
    return total, scores, errors


def _known_outputs(
    spec: JobSpec, dataset: Dataset, cache: OutputCache | None, tally: Tally, cases: EndpointCases | None = None
) -> tuple[list[Any], list[str | None], list[int], dict[int, str]]:
    """(outputs, errors, indices still to call, cache keys of those) before any model call.

    The key of a case is its canonical input, or for an endpoint model its rendered request.
    """
    n = len(dataset.ids)
    model = spec.model
    errors: list[str | None] = [None] * n
    if model.kind == "predictions":
        recorded = models.load_predictions(model, Path(spec.repo_root))
        outputs: list[Any] = [recorded.get(case_id, _NONE) for case_id in dataset.ids]
        for i, value in enumerate(outputs):
            if value is _NONE:
                outputs[i] = None
                errors[i] = f"model: no prediction with this id in {model.predictions}"
        tally.errors = sum(e is not None for e in errors)
        return outputs, errors, [], {}
    missing: list[int] | range = range(n)
    outputs = [None] * n
    read = cache if spec.use_cache else None
    if read is not None:
        batch = read.get_batch(tally.fingerprint, dataset.sha256, n)
        if batch is not None:
            outputs, missing = list(batch[0]), batch[1]
    if cases is not None:
        for i, problem in enumerate(cases.problems):
            if problem is not None:
                errors[i] = f"model: {problem}"
        missing = [i for i in missing if errors[i] is None]
        canon = {i: cases.keys[i] for i in missing}
    else:
        canon = {i: models.canonical(dataset.inputs[i]) for i in missing}
    found = read.get_many(tally.fingerprint, canon.items()) if read is not None and canon else {}
    for i, value in found.items():
        outputs[i] = value
    pending = [i for i in missing if i not in found]
    tally.hits, tally.misses = n - len(pending), len(pending)
    if cases is not None:  # a case without a request is neither a hit nor a miss
        tally.hits -= sum(p is not None for p in cases.problems)
        tally.errors = sum(e is not None for e in errors)
    return outputs, errors, pending, canon


def _call_endpoint(
    spec: JobSpec,
    cases: EndpointCases,
    pending: list[int],
    outputs: list[Any],
    errors: list[str | None],
    failed: list[int],
    cache: OutputCache | None,
    tally: Tally,
    cancelled: Callable[[], bool],
) -> None:
    """Request every pending case from the endpoint; raise `Cancelled` when stopped midway."""
    n = len(outputs)
    tally.counters = CallCounts(cost=endpoint.cost_of(spec.model, 0, 0))
    tally.calls = endpoint.CaseCalls.empty(n)
    tally.done = n - len(pending)
    if not pending:
        return
    writer = endpoint.ArrivalWriter(cache, tally.fingerprint)

    def on_case(i: int, ok: bool) -> None:
        tally.done += 1
        if not ok:
            failed.append(i)
            tally.errors += 1
        tally.report()

    concurrency = max(1, spec.model.concurrency // max(1, spec.share))
    plan = endpoint.CallPlan(
        spec.model, pending, cases.requests, {i: cases.keys[i] for i in pending}, concurrency, counters=tally.counters
    )
    try:
        finished = endpoint.event_loop().run_until_complete(
            endpoint.call_all(plan, outputs, errors, tally.calls, writer, on_case, cancelled)
        )
    finally:
        writer.close()
    if not finished:
        raise Cancelled


def _call(
    caller: models.Caller,
    todo: list[int],
    inputs: Sequence[Any],
    outputs: list[Any],
    errors: list[str | None],
    fresh: list[int],
    failed: list[int],
    tally: Tally,
    cancelled: Callable[[], bool],
    pool: ThreadPoolExecutor | None,
) -> None:
    """Call the model for the cases in `todo`, concurrently when a pool is given."""

    def settle(i: int, call: Callable[[], Any]) -> None:
        try:
            outputs[i] = call()
            fresh.append(i)
        except models.CaseError as exc:
            errors[i] = f"model: {exc}"
            failed.append(i)
            tally.errors += 1
        tally.done += 1
        tally.report()

    if pool is None:
        for i in todo:
            if cancelled():
                raise Cancelled
            settle(i, partial(caller, inputs[i]))
        return
    futures = {pool.submit(caller, inputs[i]): i for i in todo}
    waiting = set(futures)
    try:
        while waiting:
            # A timeout, so a cancel is seen even while every call in flight is slow.
            done, waiting = wait(waiting, timeout=PROGRESS_EVERY, return_when=FIRST_COMPLETED)
            for future in done:
                settle(futures[future], future.result)
            if cancelled():
                caller.cancel()
                raise Cancelled
    finally:
        for future in futures:
            future.cancel()


def score_cases(
    fn: Callable[..., Any],
    params: dict[str, Any],
    outputs: Sequence[Any],
    errors: list[str | None],
    references: Sequence[Any],
    indices: Sequence[int] | range,
    scores: list[float | None],
) -> int:
    """Score the cases at `indices` that have an output; return how many raised or returned a non-score."""
    failures = 0
    for i in indices:
        if errors[i] is not None:
            continue
        try:
            s = fn(outputs[i], references[i], **params) if params else fn(outputs[i], references[i])
        except Exception as exc:
            errors[i] = f"scorer: {models.describe(exc)}"
            failures += 1
            continue
        if s is True or s is False:
            scores[i] = 1.0 if s else 0.0
        elif type(s) is float and s - s == 0.0:  # finite (inf - inf and nan - nan are nan)
            scores[i] = s
        else:
            value = finite(s)
            if value is None:
                errors[i] = f"scorer: returned {s!r:.60}, expected a finite number or a boolean"
                failures += 1
            else:
                scores[i] = value
    return failures


def aggregate(
    metric: Callable[..., Any],
    metric_ref: str | None,
    per_case: bool,
    params: dict[str, Any],
    outputs: Sequence[Any],
    errors: list[str | None],
    scores: list[float | None],
    references: Sequence[Any],
) -> float | None:
    """The job's aggregate: the scores combined (per-case metric) or the metric over the answered cases.

    No scored case at all leaves a per-case mean empty; `MetricError` when the metric raises or
    returns something that is not a finite number.
    """
    total: Any
    if per_case:
        values = [s for s in scores if s is not None]
        combine = getattr(metric, "__evaltui_aggregate__", None)
        if combine is None:
            return math.fsum(values) / len(values) if values else None
        try:
            total = combine(values)
        except Exception as exc:
            raise MetricError(f"metric {metric_ref}: aggregate raised {models.describe(exc)}", scores, errors) from None
    else:
        keep = [i for i in range(len(outputs)) if errors[i] is None]
        try:
            total = metric([outputs[i] for i in keep], [references[i] for i in keep], **params)
        except Exception as exc:
            raise MetricError(f"metric {metric_ref} raised {models.describe(exc)}", scores, errors) from None
    value = finite(total)
    if value is None:
        raise MetricError(f"metric {metric_ref} returned {total!r:.60}, expected a number", scores, errors)
    return value


class MetricError(Exception):
    """The metric raised or returned something that is not a score: the job fails, its cases are kept."""

    def __init__(self, message: str, scores: list[float | None], errors: list[str | None]) -> None:
        super().__init__(message)
        self.scores = scores
        self.errors = errors


_NONE = object()


def finite(value: Any) -> float | None:
    """A score as a float, or None when it is not a finite real number."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if isinstance(value, (str, bytes)) or not math.isfinite(number):
        return None
    return number
