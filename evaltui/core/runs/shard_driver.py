"""The driver's side of a sharded job: cached outputs in, shards out, their results merged, the record written.

Nothing here imports Ray: `DriverJob` is the driver's bookkeeping for one job (cache reads
before, cache writes and the run record after), so the record of a distributed job is built
exactly as `execution.execute` builds a local one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from evaltui.core.errors import EvaltuiError, VersionSourceError
from evaltui.core.registry import versions
from evaltui.core.registry.datasets import Dataset, load_dataset
from evaltui.core.runs import models, store
from evaltui.core.runs.cache import OutputCache, outputs_dir
from evaltui.core.runs.execution import (
    JobCancelled,
    JobFailed,
    JobFinished,
    JobProgress,
    JobSpec,
    JobStarted,
    RunWarning,
    eval_files_sha256,
    record_base,
)
from evaltui.core.runs.scoring import PROGRESS_EVERY, MetricError, aggregate, score_cases
from evaltui.core.runs.shards import ShardResult, ShardTask, cut
from evaltui.core.runs.store import RunRecord


@dataclass
class DriverJob:
    """One job on the driver: cached outputs in, shards out, their results merged, the record written."""

    index: int
    spec: JobSpec
    emit: Callable[[Any], None]
    tree_name: str
    started: float = field(default_factory=time.perf_counter)
    base: dict[str, Any] = field(default_factory=dict)
    dataset: Dataset | None = None
    cache: OutputCache | None = None
    per_case: bool = False
    outputs: list[Any] = field(default_factory=list)
    errors: list[str | None] = field(default_factory=list)
    scores: list[float | None] = field(default_factory=list)
    pending: list[int] = field(default_factory=list)
    canon: dict[int, str] = field(default_factory=dict)
    model_failed: set[int] = field(default_factory=set)
    hits: int = 0
    misses: int = 0
    done: int = 0
    failures: int = 0
    shards_left: int = 0
    closed: bool = False
    _last: float = 0.0
    _behind: bool = False

    def prepare(self) -> bool:
        """Read the dataset, the version and the cache, score what is cached; False when the job ended already."""
        spec = self.spec
        ev, model, tree, repo = spec.eval, spec.model, Path(spec.tree_root), Path(spec.repo_root)
        self.base = dict(
            record_base(spec),
            eval_files_sha256="",
            dataset_sha256=None,
            eval_version=None,
            fingerprint="",
            metric_kind="unknown",
            executor="ray",
        )
        try:
            self.base["fingerprint"] = models.fingerprint(model, repo)
            try:
                self.base["eval_version"] = versions.resolve(ev, versions.working_tree_reader(tree)).version
            except VersionSourceError as exc:
                self.emit(RunWarning(f"{ev.name}: version unknown ({exc})", spec.job))
            if not ev.metric or not ev.dataset:
                self.fail(f"eval {ev.name} has no {'metric' if not ev.metric else 'dataset'}; it cannot be run here")
                return False
            dataset = self.dataset = load_dataset(tree, ev.dataset)
            self.base.update(
                dataset_sha256=dataset.sha256,
                n_cases=len(dataset.ids),
                eval_files_sha256=eval_files_sha256(ev, tree, {ev.dataset: dataset.sha256}),
            )
        except EvaltuiError as exc:
            self.fail(str(exc))
            return False
        n = len(dataset.ids)
        self.emit(JobStarted(spec.job, n, self.base["eval_version"], self.base["fingerprint"]))
        self.outputs, self.errors, self.scores = [None] * n, [None] * n, [None] * n
        self.cache = OutputCache(outputs_dir(Path(spec.state_dir)), warn=lambda m: self.emit(RunWarning(m, spec.job)))
        try:
            with self.metric() as metric:
                self.per_case = bool(getattr(metric, "__evaltui_scorer__", False))
                self.base["metric_kind"] = "scorer" if self.per_case else "aggregate"
                self.read_cache()
                if self.per_case:
                    waiting = set(self.pending)
                    self.failures += score_cases(
                        metric,
                        dict(ev.params),
                        self.outputs,
                        self.errors,
                        dataset.references,
                        [i for i in range(n) if i not in waiting],
                        self.scores,
                    )
        except EvaltuiError as exc:
            self.fail(str(exc), cache_hits=self.hits, cache_misses=self.misses)
            return False
        self.done = n - len(self.pending)
        self.report(force=True)
        return True

    @contextmanager
    def metric(self) -> Iterator[Callable[..., Any]]:
        """The eval's metric imported from its tree, with that tree first on the path while it is used."""
        tree, ref = Path(self.spec.tree_root), self.spec.eval.metric or ""
        with models.user_code(tree, (tree / ref).parent):
            yield models.import_function(tree, ref, f"metric {self.spec.eval.name}:")

    def read_cache(self) -> None:
        assert self.dataset is not None and self.cache is not None
        dataset, fp, n = self.dataset, self.base["fingerprint"], len(self.dataset.ids)
        missing: Sequence[int] = range(n)
        if self.spec.use_cache:
            batch = self.cache.get_batch(fp, dataset.sha256, n)
            if batch is not None:
                self.outputs, missing = list(batch[0]), batch[1]
        self.canon = {i: models.canonical(dataset.inputs[i]) for i in missing}
        found = self.cache.get_many(fp, self.canon.items()) if self.spec.use_cache and self.canon else {}
        for i, value in found.items():
            self.outputs[i] = value
        self.pending = [i for i in missing if i not in found]
        self.hits, self.misses = n - len(self.pending), len(self.pending)

    def shards(self, size: int) -> list[ShardTask]:
        """The uncached cases as shard tasks."""
        assert self.dataset is not None
        spec, dataset = self.spec, self.dataset
        pieces = cut(self.pending, size)
        self.shards_left = len(pieces)
        return [
            ShardTask(
                self.index,
                number,
                self.base["fingerprint"],
                spec.model,
                self.tree_name,
                spec.eval.metric if self.per_case else None,
                dict(spec.eval.params),
                piece,
                tuple(dataset.inputs[i] for i in piece),
                tuple(dataset.references[i] for i in piece) if self.per_case else (),
                spec.concurrency,
            )
            for number, piece in enumerate(pieces)
        ]

    def merge(self, result: ShardResult) -> None:
        """A finished shard: its outputs into the cache at once (kept if the run is cancelled), its counts."""
        assert self.cache is not None
        fresh = []
        for k, i in enumerate(result.indices):
            self.outputs[i] = result.outputs[k]
            self.scores[i] = result.scores[k]
            self.errors[i] = result.errors[k]
            if result.answered[k]:
                fresh.append((self.canon[i], result.outputs[k]))
            else:
                self.model_failed.add(i)
            if result.errors[k] is not None:
                self.failures += 1
        self.cache.put_many(self.base["fingerprint"], fresh)
        self.done += len(result.indices)
        self.shards_left -= 1
        self.report()

    def finish(self) -> RunRecord:
        """Every shard is in: the batch entry, the aggregate, the record (written), `JobFinished` or `JobFailed`."""
        assert self.dataset is not None and self.cache is not None
        dataset, n, fp = self.dataset, len(self.dataset.ids), self.base["fingerprint"]
        if self.pending:
            self.cache.put_batch(
                fp,
                dataset.sha256,
                [None if i in self.model_failed else o for i, o in enumerate(self.outputs)],
                sorted(self.model_failed),
            )
        counts = {"cache_hits": self.hits, "cache_misses": self.misses}
        try:
            total = self.aggregate()
        except EvaltuiError as exc:
            return self.fail(str(exc), **counts)
        except MetricError as exc:
            return self.fail(
                str(exc),
                ids=dataset.ids,
                scores=tuple(self.scores),
                errors=tuple(self.errors),
                n_errors=self.n_errors(),
                **counts,
            )
        self.done = n
        self.report(force=True)
        record = RunRecord(
            **{
                **self.base,
                "status": "ok",
                "error": None,
                "aggregate": total,
                "n_errors": self.n_errors(),
                **counts,
                "duration": self.elapsed(),
                "ids": dataset.ids,
                "scores": tuple(self.scores),
                "errors": tuple(self.errors),
            }
        )
        return self.write(record, JobFinished(self.spec.job, record))

    def aggregate(self) -> float | None:
        assert self.dataset is not None
        with self.metric() as metric:
            return aggregate(
                metric,
                self.spec.eval.metric,
                self.per_case,
                dict(self.spec.eval.params),
                self.outputs,
                self.errors,
                self.scores,
                self.dataset.references,
            )

    def n_errors(self) -> int:
        return sum(e is not None for e in self.errors)

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def report(self, force: bool = False) -> None:
        now = time.perf_counter()
        if force or now - self._last >= PROGRESS_EVERY:
            self._last = now
            self._behind = False
            self.emit(
                JobProgress(
                    self.spec.job,
                    self.done,
                    len(self.outputs),
                    self.hits,
                    self.misses,
                    self.failures,
                    now - self.started,
                )
            )
        else:
            self._behind = True

    def flush(self) -> None:
        """Send the progress a throttled `report` held back, once its 0.1 s have passed."""
        if self._behind and not self.closed:
            self.report()

    def fail(self, message: str, **fields: Any) -> RunRecord:
        record = RunRecord(
            **{
                **self.base,
                **fields,
                "status": "failed",
                "error": message,
                "aggregate": None,
                "duration": self.elapsed(),
            }
        )
        return self.write(record, JobFailed(self.spec.job, message, record))

    def cancel(self) -> None:
        self.close()
        self.emit(JobCancelled(self.spec.job))

    def write(self, record: RunRecord, event: Any) -> RunRecord:
        self.close()
        if self.spec.write:
            record = store.write_record(Path(self.spec.state_dir), record)
        self.emit(replace(event, record=record))
        return record

    def close(self) -> None:
        self.closed = True
        if self.cache is not None:
            self.cache.close()
            self.cache = None
