"""The pull-request report's records: a row per eval, and the whole report with its two sides."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from evaltui.core.runs import stats


@dataclass(frozen=True)
class EvalReport:
    """One eval's row of the report."""

    eval: str
    base_version: str | None
    head_version: str | None
    changed: bool
    why: str | None
    exists: tuple[bool, bool]  # (at base, at head)
    scores: Mapping[str, tuple[float | None, float | None]]  # model -> (base, head)
    cases_added: tuple[str, ...] = ()
    cases_removed: tuple[str, ...] = ()
    cases_changed: tuple[str, ...] = ()
    flips: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = field(default_factory=dict)  # (to_fail, to_pass)
    hard_added: Mapping[str, int] = field(default_factory=dict)  # added cases each model fails
    test: stats.PairedTest | None = None  # candidate vs baseline at head
    runs: Mapping[str, tuple[str | None, str | None]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    threshold: float | None = None  # the eval's gate at head (at base when it is gone at head)
    # The candidate before the PR's system change, at the same eval version (unchanged evals only):
    # (score, run id); None when the system did not change.
    system_before: tuple[float | None, str | None] | None = None

    def passed(self, model: str) -> tuple[bool | None, bool | None]:
        """Whether `model` meets the threshold at (base, head); None without a threshold or a score."""
        b, h = self.scores.get(model, (None, None))
        return (_meets(b, self.threshold), _meets(h, self.threshold))

    def to_json(self) -> dict[str, Any]:
        return {
            "eval": self.eval,
            "base_version": self.base_version,
            "head_version": self.head_version,
            "changed": self.changed,
            "why": self.why,
            "scores": {m: {"base": b, "head": h} for m, (b, h) in self.scores.items()},
            "cases_added": list(self.cases_added),
            "cases_removed": list(self.cases_removed),
            "cases_changed": list(self.cases_changed),
            "flips": {m: {"to_fail": list(f), "to_pass": list(p)} for m, (f, p) in self.flips.items()},
            "hard_added": dict(self.hard_added),
            "p_value": self.test.p_value if self.test else None,
            "test": self.test.to_json() if self.test else None,
            "runs": {m: {"base": b, "head": h} for m, (b, h) in self.runs.items()},
            "notes": list(self.notes),
            "threshold": self.threshold,
            "passed": {m: dict(zip(("base", "head"), self.passed(m), strict=True)) for m in self.scores},
            "system_before": (
                {"score": self.system_before[0], "run": self.system_before[1]} if self.system_before else None
            ),
        }


@dataclass(frozen=True)
class Report:
    """The whole report: the two sides, the models compared and a row per eval."""

    base: str
    base_sha: str
    head: str
    head_sha: str | None  # None: the working tree
    models: tuple[str, ...]
    evals: tuple[EvalReport, ...]
    ran: int  # jobs run for this report (the others came from recorded runs)
    reused: int
    warnings: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "base": {"ref": self.base, "commit": self.base_sha},
            "head": {"ref": self.head, "commit": self.head_sha},
            "models": list(self.models),
            "evals": [e.to_json() for e in self.evals],
            "ran": self.ran,
            "reused": self.reused,
            "warnings": list(self.warnings),
            "failed": list(self.failed),
        }


def _meets(score: float | None, threshold: float | None) -> bool | None:
    return None if score is None or threshold is None else score >= threshold
