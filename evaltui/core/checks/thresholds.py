"""Thresholds as a gate: the latest run of each eval's current version, per model, against `threshold`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from evaltui.core.errors import Problem
from evaltui.core.formatting import score_text
from evaltui.core.registry.model import Registry
from evaltui.core.team.coverage import RunSummary


@dataclass(frozen=True)
class ThresholdResult:
    """One (eval, model): its latest score at the eval's current version against the eval's threshold."""

    eval: str
    model: str
    threshold: float
    score: float
    eval_version: str | None
    run: str  # the run record's id
    time: dt.datetime | None

    @property
    def passed(self) -> bool:
        return self.score >= self.threshold


def threshold_results(
    registry: Registry, runs: Sequence[RunSummary], current: Mapping[str, str | None]
) -> tuple[ThresholdResult, ...]:
    """For each eval with a `threshold`, the newest run per model of its current version.

    `runs` are oldest first (as `coverage.read_runs` gives them); `current` maps an eval to
    its version in the working tree. Runs of other versions are left out: a score of 1.0
    says nothing about 1.1. When the current version is unknown, the newest run counts.
    """
    latest: dict[tuple[str, str], RunSummary] = {}
    for run in runs:
        ev = registry.evals.get(run.eval)
        if ev is None or ev.threshold is None or run.aggregate is None:
            continue
        version = current.get(run.eval)
        if version is not None and run.eval_version is not None and run.eval_version != version:
            continue
        latest[(run.eval, run.model)] = run
    out = []
    for name, ev in registry.evals.items():
        if ev.threshold is None:
            continue
        for (eval_name, model), run in sorted(latest.items()):
            if eval_name == name and run.aggregate is not None:
                out.append(
                    ThresholdResult(name, model, ev.threshold, run.aggregate, run.eval_version, run.path, run.time)
                )
    return tuple(out)


def threshold_problems(registry: Registry, results: Sequence[ThresholdResult]) -> list[Problem]:
    """A `below-threshold` error per (eval, model) whose latest score at the current version is under the gate."""
    from evaltui.core.registry.tomlpos import FileLocator

    locator = FileLocator(registry.path)
    problems = []
    for r in results:
        if r.passed:
            continue
        line, column = locator.find(("evals", r.eval, "threshold"))
        if line is None and locator.failed:
            line = registry.evals[r.eval].line
        version = f" {r.eval_version}" if r.eval_version else ""
        when = f" of {r.time:%Y-%m-%d}" if r.time else ""
        problems.append(
            Problem(
                "error",
                "below-threshold",
                f"{r.model} scores {score_text(r.score)} on{version}, below the threshold {r.threshold:g} "
                f"(run {r.run}{when}); fix the model, or change the threshold with a note saying why",
                file=registry.path.name,
                line=line,
                column=column,
                key=f"evals.{r.eval}.threshold",
                eval=r.eval,
            )
        )
    return problems
