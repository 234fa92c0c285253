"""One case on two sides: its input and reference, and each model's output and score from the runs.

Run records hold scores, not outputs; outputs come from where the run took them: the
recorded predictions file, or the output cache (a dataset's batch entry first, then the
case's own entry). Anything missing is a state with a reason ("not run", "not cached"),
never an exception, so a drill-down always shows what can be known.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from evaltui.core import fsutil, history
from evaltui.core.errors import EvaltuiError, VersionSourceError
from evaltui.core.registry import versions
from evaltui.core.registry.datasets import Case, Dataset, read_cases
from evaltui.core.registry.model import FILENAME, Eval, Registry, parse_registry
from evaltui.core.runs import models, store
from evaltui.core.runs.cache import OutputCache, outputs_dir
from evaltui.core.runs.store import PASS_MARK, RunRecord

if TYPE_CHECKING:
    from evaltui.core.runs.report import EvalReport, Report

# What a model's cell on one side can be.
SHOWN = "output"  # the output is known (it may still have an error or no score)
NOT_RUN = "not run"  # no successful run of the eval on this side for the model
NOT_IN_RUN = "not in run"  # the run has no result for this case id
NOT_CACHED = "not cached"  # the run scored the case but its output is not stored any more


@dataclass(frozen=True)
class SideSpec:
    """One side of a drill-down: the eval at a version or revision, optionally with runs pinned per model."""

    label: str  # "A", "base", "1.0", ... as the user sees it
    version: str | None = None
    rev: str | None = None  # the commit the eval's files come from; None: the working tree
    runs: Mapping[str, str] = field(default_factory=dict)  # model -> run record id


@dataclass(frozen=True)
class Outcome:
    """One model's result for the case on one side."""

    model: str
    state: str  # SHOWN, NOT_RUN, NOT_IN_RUN or NOT_CACHED
    run: str | None = None  # the run record's id
    score: float | None = None
    error: str | None = None  # the case's error in the run
    output: Any = None
    note: str | None = None  # why there is no output or score, or a caveat about it

    @property
    def passed(self) -> bool | None:
        return None if self.score is None else self.score >= PASS_MARK

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "state": self.state,
            "run": self.run,
            "score": self.score,
            "passed": self.passed,
            "error": self.error,
            "output": self.output,
            "note": self.note,
        }


@dataclass(frozen=True)
class CaseSide:
    """The case as one side has it, and every model's outcome there."""

    label: str
    version: str | None
    rev: str | None
    dataset: str | None  # the dataset's path on this side
    case: Case | None  # None: the case does not exist on this side (or the dataset is unreadable)
    outcomes: tuple[Outcome, ...]
    problem: str | None = None  # why the case could not be read

    def to_json(self) -> dict[str, Any]:
        c = self.case
        return {
            "label": self.label,
            "version": self.version,
            "rev": self.rev,
            "dataset": self.dataset,
            "present": c is not None,
            "line": c.line if c else None,
            "tags": list(c.tags) if c else [],
            "input": c.input if c else None,
            "reference": c.reference if c else None,
            "problem": self.problem,
            "outcomes": [o.to_json() for o in self.outcomes],
        }


@dataclass(frozen=True)
class CaseView:
    """A case of an eval on each side, and where it is in today's dataset file (for an editor)."""

    eval: str
    case_id: str
    sides: tuple[CaseSide, ...]
    models: tuple[str, ...]
    dataset: str | None  # the dataset path in the working tree
    line: int | None  # the case's line there; None when the case is not in today's file

    @property
    def same_case(self) -> bool:
        """Whether every side that has the case has the same input and reference."""
        seen = {models.canonical([s.case.input, s.case.reference]) for s in self.sides if s.case is not None}
        return len(seen) <= 1

    def to_json(self) -> dict[str, Any]:
        return {
            "eval": self.eval,
            "case": self.case_id,
            "models": list(self.models),
            "dataset": self.dataset,
            "line": self.line,
            "sides": [s.to_json() for s in self.sides],
        }


def side_of_run(label: str, record: RunRecord) -> SideSpec:
    """The side a run stands for: its eval version and revision, that run pinned for its model."""
    return SideSpec(label, record.eval_version, record.eval_rev, {record.model: record.id})


class ReportFlip(NamedTuple):
    """A case that flipped for one model between the report's base and head."""

    eval: str
    model: str
    kind: str  # "to fail" | "to pass"
    case_id: str


def report_flips(report: Report) -> list[ReportFlip]:
    """Every flipped case of a pull-request report, eval by eval, model by model."""
    out = []
    for row in report.evals:
        for model, (to_fail, to_pass) in row.flips.items():
            out += [ReportFlip(row.eval, model, "to fail", c) for c in to_fail]
            out += [ReportFlip(row.eval, model, "to pass", c) for c in to_pass]
    return out


def report_sides(report: Report, row: EvalReport) -> tuple[SideSpec, SideSpec]:
    """The report's base and head for one eval, each with the runs the report used pinned per model."""
    base = SideSpec("base", row.base_version, report.base_sha, {m: b for m, (b, _) in row.runs.items() if b})
    head = SideSpec("head", row.head_version, report.head_sha, {m: h for m, (_, h) in row.runs.items() if h})
    return base, head


def side_at(registry: Registry, name: str, label: str, commit: str | None) -> SideSpec:
    """The eval at `commit` (None: the working tree) with its version there; runs are found per model."""
    ev = _definition(registry, name, commit)
    version = None
    if ev is not None:
        read = versions.working_tree_reader(registry.root) if commit is None else _reader(registry.root, commit)
        try:
            version = versions.resolve(ev, read).version
        except VersionSourceError:
            version = None
    return SideSpec(label, version, commit)


def read_case(
    registry: Registry, name: str, case_id: str, sides: Sequence[SideSpec], only: Sequence[str] = ()
) -> CaseView:
    """The case `case_id` of eval `name` on each side, with each model's output and score there.

    Models: `only` when given, else every model with a run of the eval, pinned runs first.
    """
    records = store.list_records(registry.state_dir, name).records
    wanted = list(only) or list(
        dict.fromkeys([m for s in sides for m in s.runs] + sorted({r.model for r in records if r.ok}))
    )
    cache_dir = outputs_dir(registry.state_dir)
    cache = OutputCache(cache_dir) if cache_dir.is_dir() else None
    try:
        out = tuple(_side(registry, name, case_id, spec, wanted, records, cache) for spec in sides)
    finally:
        if cache is not None:
            cache.close()
    current = registry.evals.get(name)
    dataset = current.dataset if current is not None else None
    line = None
    if dataset is not None:
        target = fsutil.inside(registry.root, dataset)
        if target is not None and target.is_file():
            found = _find(read_cases(target.read_bytes(), dataset, name).cases, case_id)
            line = found.line if found is not None else None
    return CaseView(name, case_id, out, tuple(wanted), dataset, line)


# -- one side --------------------------------------------------------------------------------


def _side(
    registry: Registry,
    name: str,
    case_id: str,
    spec: SideSpec,
    wanted: Sequence[str],
    records: Sequence[RunRecord],
    cache: OutputCache | None,
) -> CaseSide:
    ev = _definition(registry, name, spec.rev)
    runs: dict[str, RunRecord | None] = {m: _run_for(records, spec, m) for m in wanted}
    dataset_path = ev.dataset if ev is not None else None
    if dataset_path is None:  # an eval gone from evals.toml at this side: its runs still know the file
        dataset_path = next((r.dataset for r in runs.values() if r is not None and r.dataset), None)
    case, problem, data = None, None, None
    if dataset_path is None:
        problem = f"{name} has no dataset on this side"
    else:
        data = _read(registry.root, spec.rev, dataset_path)
        if data is None:
            problem = f"{dataset_path} does not exist on this side"
        else:
            found = read_cases(data, dataset_path, name)
            case = _find(found.cases, case_id)
            if case is None:
                problem = f"no case {case_id!r} in {dataset_path} on this side"
    sha = hashlib.sha256(data).hexdigest() if data is not None else None
    outcomes = tuple(_outcome(registry, m, runs[m], case_id, case, sha, ev, spec, data, cache) for m in wanted)
    return CaseSide(spec.label, spec.version, spec.rev, dataset_path, case, outcomes, problem)


def _run_for(records: Sequence[RunRecord], spec: SideSpec, model: str) -> RunRecord | None:
    """The pinned run, else the newest successful run of this side's code (its revision, then its version)."""
    pinned = spec.runs.get(model)
    if pinned is not None:
        chosen = next((r for r in records if r.id == pinned), None)
    else:
        mine = [r for r in records if r.ok and r.model == model]
        chosen = next((r for r in mine if spec.rev is not None and r.eval_rev == spec.rev), None)
        if chosen is None and spec.version is not None:
            chosen = store.find(mine, version=spec.version)
    if chosen is None or chosen.path is None:
        return chosen
    try:
        return store.load_record(Path(chosen.path))
    except store.RecordError:
        return None


def _outcome(
    registry: Registry,
    model: str,
    record: RunRecord | None,
    case_id: str,
    case: Case | None,
    sha: str | None,
    ev: Eval | None,
    spec: SideSpec,
    data: bytes | None,
    cache: OutputCache | None,
) -> Outcome:
    if record is None:
        return Outcome(model, NOT_RUN, note=f"no run of this side for {model}")
    if not record.ok:
        return Outcome(model, NOT_RUN, record.id, note=f"the run failed: {record.error or record.state}")
    try:
        index = record.ids.index(case_id)
    except ValueError:
        return Outcome(model, NOT_IN_RUN, record.id, note=f"run {record.id} has no result for this case")
    score, error = record.scores[index], record.errors[index]
    if not record.per_case:
        score = None
    base = Outcome(model, NOT_CACHED, record.id, score, error)
    note = None if record.per_case else "aggregate metric: no per-case score"
    if record.dataset_sha256 is not None and sha is not None and sha != record.dataset_sha256:
        note = "; ".join(filter(None, [note, "the dataset changed since this run"]))
    found, why = _output(registry, record, index, case, ev, spec, data, cache)
    if why is not None:
        return _with(base, NOT_CACHED, None, "; ".join(filter(None, [why, note])))
    return _with(base, SHOWN, found, note)


def _with(base: Outcome, state: str, output: Any, note: str | None) -> Outcome:
    return Outcome(base.model, state, base.run, base.score, base.error, output, note)


def _output(
    registry: Registry,
    record: RunRecord,
    index: int,
    case: Case | None,
    ev: Eval | None,
    spec: SideSpec,
    data: bytes | None,
    cache: OutputCache | None,
) -> tuple[Any, str | None]:
    """(the output, None) or (None, why it is unknown)."""
    if record.source is not None:
        return None, f"imported from {record.source.harness}: outputs stay in its log ({record.source.file})"
    model = registry.models.get(record.model)
    if record.model_kind == "predictions":
        if model is None or model.kind != "predictions":
            return None, f"model {record.model} is no longer a predictions model in {FILENAME}"
        try:
            current = models.fingerprint(model, registry.root)
            recorded = models.load_predictions(model, registry.root) if current == record.fingerprint else None
        except (EvaltuiError, OSError) as exc:
            return None, f"cannot read {model.predictions}: {exc}"
        if recorded is None:
            return None, f"{model.predictions} changed since this run"
        if record.ids[index] not in recorded:
            return None, f"no prediction with this id in {model.predictions}"
        return recorded[record.ids[index]], None
    if cache is None:
        return None, "the output cache is empty"
    if record.dataset_sha256 is not None:
        batch = cache.get_batch(record.fingerprint, record.dataset_sha256, len(record.ids))
        if batch is not None and index not in batch[1]:
            return batch[0][index], None
    if case is None:
        return None, "not in the output cache"
    key = _key(registry, record, case, ev, spec, data)
    if key is None:
        return None, "not in the output cache (its request cannot be rebuilt)"
    found = cache.get_many(record.fingerprint, [(0, key)])
    if 0 in found:
        return found[0], None
    return None, "not in the output cache"


def _key(
    registry: Registry, record: RunRecord, case: Case, ev: Eval | None, spec: SideSpec, data: bytes | None
) -> str | None:
    """The cache key the run used for this case: its input, or an endpoint model's rendered request."""
    if record.model_kind != "endpoint":
        return models.canonical(case.input)
    if ev is None or data is None:
        return None
    from evaltui.core.runs import prompts
    from evaltui.core.runs.runner import Trees

    found = read_cases(data, ev.dataset or "", ev.name).cases
    dataset = Dataset(ev.dataset or "", "", tuple(c.id for c in found), tuple(c.input for c in found), ())
    index = dataset.ids.index(case.id)
    try:
        with Trees(registry.root) as trees:
            tree = trees.path(spec.rev)
            rendered = prompts.render(ev, prompts.read_templates(ev, tree), dataset, tree)
    except (EvaltuiError, OSError):
        return None
    request = rendered.requests[index]
    return None if request is None else models.canonical(request.to_json())


# -- reading a side ----------------------------------------------------------------------------


def _definition(registry: Registry, name: str, commit: str | None) -> Eval | None:
    if commit is None:
        return registry.evals.get(name)
    text = _read(registry.root, commit, FILENAME)
    if text is None:
        return None
    return parse_registry(text.decode("utf-8", "replace"), registry.root, check_files=False).evals.get(name)


def _read(root: Path, commit: str | None, path: str) -> bytes | None:
    if commit is not None:
        return history.file_at(root, commit, path)
    target = fsutil.inside(root, path)
    try:
        return target.read_bytes() if target is not None else None
    except OSError:
        return None


def _reader(root: Path, commit: str) -> versions.Reader:
    def read(path: str) -> bytes | None:
        return history.file_at(root, commit, path)

    return read


def _find(cases: Sequence[Case], case_id: str) -> Case | None:
    return next((c for c in cases if c.id == case_id), None)
