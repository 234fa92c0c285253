"""Comparing two runs of an eval: the score delta and the cases that flipped, errored or moved."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from evaltui.core.runs.record import PASS_MARK, RunRecord


@dataclass(frozen=True)
class Comparison:
    """Score delta and per-case changes from run `a` to run `b` (same eval, any versions or models)."""

    a: str  # record ids
    b: str
    score_a: float | None
    score_b: float | None
    delta: float | None
    per_case: bool  # False when either side has only an aggregate
    common: int  # cases scored on both sides
    added: tuple[str, ...]  # case ids only in b
    removed: tuple[str, ...]  # case ids only in a
    to_fail: tuple[str, ...]  # passed in a, fails in b
    to_pass: tuple[str, ...]  # failed in a, passes in b
    changed: tuple[tuple[str, float, float], ...]  # (id, score a, score b) where the score moved, largest first
    new_errors: tuple[str, ...]  # scored in a, an error in b
    fixed_errors: tuple[str, ...]  # an error in a, scored in b

    def to_json(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "score_a": self.score_a,
            "score_b": self.score_b,
            "delta": self.delta,
            "per_case": self.per_case,
            "common": self.common,
            "added": list(self.added),
            "removed": list(self.removed),
            "to_fail": list(self.to_fail),
            "to_pass": list(self.to_pass),
            "changed": [list(c) for c in self.changed],
            "new_errors": list(self.new_errors),
            "fixed_errors": list(self.fixed_errors),
        }


def compare(a: RunRecord, b: RunRecord, *, pass_mark: float = PASS_MARK) -> Comparison:
    """Score delta and per-case flips between two run records (loaded with their results)."""
    delta = None if a.aggregate is None or b.aggregate is None else b.aggregate - a.aggregate
    sa, sb = a.score_map(), b.score_map()
    added = tuple(i for i in b.ids if i not in sa)
    removed = tuple(i for i in a.ids if i not in sb)
    per_case = a.per_case and b.per_case
    to_fail, to_pass, changed, new_errors, fixed = [], [], [], [], []
    common = 0
    if per_case:
        for case_id in a.ids:
            if case_id not in sb:
                continue
            x, y = sa[case_id], sb[case_id]
            if x is None or y is None:
                if x is not None:
                    new_errors.append(case_id)
                elif y is not None:
                    fixed.append(case_id)
                continue
            common += 1
            if x != y:
                changed.append((case_id, x, y))
            if x >= pass_mark > y:
                to_fail.append(case_id)
            elif y >= pass_mark > x:
                to_pass.append(case_id)
    changed.sort(key=lambda c: -abs(c[2] - c[1]))
    return Comparison(
        a.id,
        b.id,
        a.aggregate,
        b.aggregate,
        delta,
        per_case,
        common,
        added,
        removed,
        tuple(to_fail),
        tuple(to_pass),
        tuple(changed),
        tuple(new_errors),
        tuple(fixed),
    )
