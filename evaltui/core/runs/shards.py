"""Shards: a job's uncached cases cut into pieces a remote worker runs, and the worker that runs them.

Nothing here imports Ray: `ShardWorker` is what a Ray task or actor runs; the driver's side of
a sharded job is `shard_driver.DriverJob`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaltui.core.errors import EvaltuiError
from evaltui.core.registry.model import Model, Runner
from evaltui.core.runs import models
from evaltui.core.runs.scoring import score_cases

DEFAULT_SHARD_SIZE = 500
DEFAULT_MAX_RETRIES = 3
REMOTE_KINDS = ("callable", "command")  # model kinds that run on Ray; the others run on the driver
REPO_DIR = "repo"  # the working tree's folder inside the shipped working directory


@dataclass(frozen=True)
class RayOptions:
    """Where and how to run on Ray: `address` as in `ray.init` (None: a local instance), cases per shard, retries."""

    address: str | None = None
    shard_size: int = DEFAULT_SHARD_SIZE
    max_retries: int = DEFAULT_MAX_RETRIES


@dataclass(frozen=True)
class ShardsDispatched:
    """A job's uncached cases were sent to the cluster as `shards` tasks (0 when every output was cached)."""

    job: Any
    shards: int
    cases: int


@dataclass(frozen=True)
class ShardTask:
    """What a worker needs for one shard: the model, the scorer, and the cases' inputs and references."""

    job: int
    number: int
    fingerprint: str
    model: Model
    tree: str  # the eval's folder inside the working directory: REPO_DIR or a revision's tree
    metric: str | None  # a per-case scorer to run beside the model; None: outputs only (aggregate metric)
    params: dict[str, Any]
    indices: tuple[int, ...]
    inputs: tuple[Any, ...]
    references: tuple[Any, ...]
    concurrency: int = 4


@dataclass(frozen=True)
class ShardResult:
    """A shard's outputs (None where the model failed), per-case errors and scores, in `indices` order."""

    job: int
    number: int
    indices: tuple[int, ...]
    outputs: tuple[Any, ...]
    answered: tuple[bool, ...]  # the model gave an output (it goes to the cache)
    errors: tuple[str | None, ...]
    scores: tuple[float | None, ...]
    fatal: str | None = None  # the model or the metric could not load: the job fails with this


def configured(runner: Runner) -> RayOptions | None:
    """The Ray options `[runner]` in evals.toml asks for, or None when runs stay local."""
    if runner.executor != "ray":
        return None
    return RayOptions(address=runner.address, shard_size=runner.shard_size or DEFAULT_SHARD_SIZE)


def cut(indices: Sequence[int], size: int) -> list[tuple[int, ...]]:
    """`indices` in consecutive pieces of at most `size`."""
    size = max(1, size)
    return [tuple(indices[lo : lo + size]) for lo in range(0, len(indices), size)]


def wants_actor(model: Model) -> bool:
    """A callable holds state once loaded (weights, a tokenizer): it lives in an actor; a command is a task."""
    return model.kind == "callable"


# -- the worker side --------------------------------------------------------------------------


class ShardWorker:
    """Runs shards inside a worker: each model loaded once per worker and reused, metrics imported per shard."""

    def __init__(self, base: str | None = None):
        self.base = Path(base or os.getcwd())
        self.callers: dict[str, models.Caller] = {}

    def run(self, shard: ShardTask) -> ShardResult:
        repo, tree = self.base / REPO_DIR, self.base / shard.tree
        model = shard.model
        model_dir = (repo / (model.callable or "")).parent if model.kind == "callable" else repo
        n = len(shard.indices)
        outputs: list[Any] = [None] * n
        answered = [False] * n
        errors: list[str | None] = [None] * n
        scores: list[float | None] = [None] * n
        try:
            with models.user_code(repo, model_dir):
                caller = self.callers.get(shard.fingerprint)
                if caller is None:
                    caller = self.callers[shard.fingerprint] = models.open_caller(model, repo)
                call_all(caller, shard.inputs, outputs, answered, errors, shard.concurrency)
                if shard.metric:
                    with models.user_code(tree, (tree / shard.metric).parent):
                        metric = models.import_function(tree, shard.metric, f"metric {shard.metric}:")
                        score_cases(metric, shard.params, outputs, errors, shard.references, range(n), scores)
        except EvaltuiError as exc:
            return ShardResult(shard.job, shard.number, shard.indices, (), (), (), (), fatal=str(exc))
        return ShardResult(
            shard.job, shard.number, shard.indices, tuple(outputs), tuple(answered), tuple(errors), tuple(scores)
        )


def run_shard(shard: ShardTask) -> ShardResult:
    """A stateless worker's entry point (command models): load, run, forget."""
    return ShardWorker().run(shard)


def call_all(
    caller: models.Caller,
    inputs: Sequence[Any],
    outputs: list[Any],
    answered: list[bool],
    errors: list[str | None],
    concurrency: int,
) -> None:
    """The model's output for every input, `concurrency` calls in flight; a failed call is that case's error."""

    def one(i: int) -> None:
        try:
            outputs[i] = caller(inputs[i])
            answered[i] = True
        except models.CaseError as exc:
            errors[i] = f"model: {exc}"

    if concurrency > 1 and len(inputs) > 1:
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(one, range(len(inputs))))
    else:
        for i in range(len(inputs)):
            one(i)
