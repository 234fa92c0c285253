"""The pull-request report: (eval at base, eval at head) × (baseline, candidate), with flips and a paired test.

For each eval whose definition or files differ between the two refs, both versions are run
against both models (reusing any recorded run of the same eval files and model
fingerprint), so "the metric moved" can be told from "the model got worse". Unchanged evals
get baseline vs candidate on their one version.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaltui.core import history
from evaltui.core.errors import EvaltuiError, VersionSourceError
from evaltui.core.registry import versions
from evaltui.core.registry.datasets import Dataset, DatasetError, load_dataset
from evaltui.core.registry.model import FILENAME, Eval, Registry, parse_registry
from evaltui.core.runs import models as model_fp
from evaltui.core.runs import runner, stats, store
from evaltui.core.runs.execution import Job, eval_files_sha256
from evaltui.core.runs.report_markdown import to_markdown
from evaltui.core.runs.report_model import EvalReport, Report
from evaltui.core.runs.store import PASS_MARK, RunRecord

__all__ = ["EvalReport", "Report", "build_report", "choose_models", "to_markdown"]

Cells = Mapping[tuple[str, int, str], RunRecord | None]  # (eval, 0 base / 1 head, model) -> its run


def choose_models(registry: Registry, names: Sequence[str] = (), imported: Sequence[str] = ()) -> tuple[str, ...]:
    """-m names as given; else the `[report]` roles; else `baseline` and `candidate` when both exist;
    else the first two models. The first is the baseline, the second the candidate ("This PR").

    `imported` are the models of imported runs: they count as models without a table in evals.toml.
    """
    if names:
        own = [n for n in names if n not in imported]
        if own:
            runner.plan_models(registry, own)
        return tuple(dict.fromkeys(names))
    roles = registry.report
    if roles.baseline and roles.candidate:
        return tuple(dict.fromkeys((roles.baseline, roles.candidate)))
    known = list(dict.fromkeys([*registry.models, *imported]))
    if "baseline" in known and "candidate" in known:
        return ("baseline", "candidate")
    if not known:
        raise EvaltuiError("no models in evals.toml: add [models.NAME] tables to compare")
    return tuple(known[:2])


@dataclass
class _Side:
    """One eval at one side: its definition, dataset, files hash and version."""

    ev: Eval | None
    tree: Path
    rev: str | None
    dataset: Dataset | None = None
    files: str | None = None
    version: str | None = None
    why: str | None = None
    problem: str | None = None


def _side(ev: Eval | None, tree: Path, rev: str | None, tracked: bool = False) -> _Side:
    """`tracked`: the eval has imported runs, so it is reported even when evaltui cannot run it."""
    runnable = ev is not None and bool(ev.metric and ev.dataset)
    side = _Side(ev if runnable or tracked else None, tree, rev)
    if side.ev is None:
        return side
    dataset_path = side.ev.dataset if runnable else None  # a runnable eval has a dataset
    try:
        if dataset_path:
            side.dataset = load_dataset(tree, dataset_path)
            side.files = eval_files_sha256(side.ev, tree, {dataset_path: side.dataset.sha256})
        else:
            side.files = eval_files_sha256(side.ev, tree)
    except DatasetError as exc:
        side.problem = str(exc)
    try:
        info = versions.resolve(side.ev, versions.working_tree_reader(tree))
        side.version, side.why = info.version, info.why
    except VersionSourceError as exc:
        side.problem = side.problem or f"version unknown: {exc}"
    return side


def _endpoint_fingerprint(registry: Registry, model: str, ev: Any, tree: Path) -> str | None:
    """An endpoint model's fingerprint with an eval's prompt templates (None: the prompts cannot be read)."""
    from evaltui.core.errors import EvaltuiError
    from evaltui.core.runs import prompts

    try:
        return model_fp.fingerprint(registry.models[model], registry.root, prompts.read_templates(ev, tree))
    except EvaltuiError:
        return None


def build_report(
    registry: Registry,
    base: str,
    head: str | None = None,
    models: Sequence[str] = (),
    *,
    options: runner.RunOptions | None = None,
    on_event: Callable[[Any], None] | None = None,
    cancel: threading.Event | None = None,
    now: dt.datetime | None = None,
    seed: int = 0,
) -> Report:
    """Run (or reuse) what the 2×2 needs and compute every row."""
    root = registry.root
    base_sha = history.rev_parse(root, base)
    head_sha = history.rev_parse(root, head) if head else None
    listing = store.list_records(registry.state_dir)
    imported = [r for r in listing.records if r.source is not None and r.ok]
    chosen = choose_models(registry, models, [r.model for r in reversed(imported)])
    fingerprints = {m: model_fp.fingerprint(registry.models[m], root) for m in chosen if m in registry.models}
    with runner.Trees(root) as trees:
        # A base from before evaltui was set up has no evals.toml: every eval is new.
        base_reg = (
            trees.registry(base_sha)
            if (trees.path(base_sha) / FILENAME).is_file()
            else parse_registry("", trees.path(base_sha), check_files=False)
        )
        head_reg = registry if head_sha is None else trees.registry(head_sha)
        tracked = {r.eval for r in imported if r.eval in head_reg.evals or r.eval in base_reg.evals}
        names = list(
            dict.fromkeys(
                runner.runnable(head_reg)
                + runner.runnable(base_reg)
                + [n for n in [*head_reg.evals, *base_reg.evals] if n in tracked]
            )
        )
        sides = {
            n: (
                _side(base_reg.evals.get(n), trees.path(base_sha), base_sha, n in tracked),
                _side(head_reg.evals.get(n), trees.path(head_sha), head_sha, n in tracked),
            )
            for n in names
        }
        before = _system_before(base_reg, trees.path(base_sha), chosen, fingerprints, sides, listing.records)
        cells: dict[tuple[str, int, str], RunRecord | None] = {}
        jobs, wanted, reused = [], {}, 0
        for name, pair in sides.items():
            changed = _changed(*pair)
            for index, side in enumerate(pair):
                if side.ev is None or side.files is None or (index == 0 and not changed):
                    continue
                for m in chosen:
                    found = None
                    if m in fingerprints:
                        fingerprint = fingerprints[m]
                        if registry.models[m].kind == "endpoint":  # its fingerprint covers this side's prompts
                            fingerprint = _endpoint_fingerprint(registry, m, side.ev, trees.path(side.rev)) or "-"
                        found = store.find(
                            listing.records, eval=name, fingerprint=fingerprint, eval_files_sha256=side.files
                        )
                    if found is None and side.version is not None:
                        # A harness's run of this eval version needs no model callable here.
                        found = store.find(imported, eval=name, model=m, version=side.version)
                    if found is not None:
                        assert found.path is not None  # records listed from disk carry their file
                        cells[(name, index, m)] = store.load_record(Path(found.path))
                        reused += 1
                    elif m in fingerprints and side.dataset is not None:
                        job = Job(name, m, side.rev)
                        jobs.append(job)
                        wanted[job] = (name, index, m)
        result = (
            runner.run(registry, jobs, options=options, on_event=on_event, cancel=cancel, now=now, trees=trees)
            if jobs
            else None
        )
    failed = []
    if result is not None:
        for record in result.records:
            job = Job(record.eval, record.model, record.eval_rev)
            if job in wanted and record.ok:
                cells[wanted[job]] = record
        failed = [f"{f.job.label}: {f.error}" for f in result.failed]
        if result.interrupted:
            raise KeyboardInterrupt
        if result.cancelled:
            raise EvaltuiError("the report was cancelled before its runs finished")
    rows = tuple(_row(name, *sides[name], chosen, cells, seed, before) for name in names)
    warnings = tuple(listing.warnings) + (result.warnings if result else ())
    return Report(
        base, base_sha, head or "working tree", head_sha, chosen, rows, len(jobs), reused, warnings, tuple(failed)
    )


def _system_before(
    base_reg: Registry,
    base_tree: Path,
    chosen: Sequence[str],
    fingerprints: Mapping[str, str],
    sides: Mapping[str, tuple[_Side, _Side]],
    records: Sequence[RunRecord],
) -> dict[str, tuple[float | None, str | None] | None]:
    """For evals the PR leaves alone while it changes the candidate (its code, command or params):
    the candidate's recorded score at base, on the same eval files. Models are run only as they
    are in the working tree, so "before" comes from a recorded run of the base's candidate."""
    out: dict[str, tuple[float | None, str | None] | None] = {}
    if len(chosen) < 2 or chosen[1] not in base_reg.models:
        return out
    candidate = chosen[1]
    try:
        old_fp = model_fp.fingerprint(base_reg.models[candidate], base_tree)
    except (OSError, EvaltuiError):
        return out
    if old_fp == fingerprints.get(candidate, old_fp):
        return out
    for name, (base, head) in sides.items():
        if _changed(base, head) or head.files is None:
            continue
        found = store.find(records, eval=name, fingerprint=old_fp, eval_files_sha256=head.files)
        out[name] = (found.aggregate, found.id) if found is not None else (None, None)
    return out


def _changed(base: _Side, head: _Side) -> bool:
    if base.ev is None or head.ev is None:
        return True
    return base.files != head.files or base.version != head.version


def _row(
    name: str,
    base: _Side,
    head: _Side,
    chosen: Sequence[str],
    cells: Cells,
    seed: int,
    system: Mapping[str, tuple[float | None, str | None] | None],
) -> EvalReport:
    changed = _changed(base, head)
    notes = [p for p in (base.problem, head.problem) if p]
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()
    if changed and base.dataset is not None and head.dataset is not None:
        added, removed, modified = _case_diff(base.dataset, head.dataset)
    elif changed and base.ev is not None and head.ev is not None:
        added, removed = _run_case_diff(name, chosen, cells)
    scores: dict[str, tuple[float | None, float | None]] = {}
    flips: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    hard: dict[str, int] = {}
    runs: dict[str, tuple[str | None, str | None]] = {}
    for m in chosen:
        rh = cells.get((name, 1, m))
        rb = cells.get((name, 0, m)) if changed else rh
        if head.ev is not None and rh is None:
            notes.append(f"no run of {name} at head for {m}")
        if changed and base.ev is not None and rb is None:
            notes.append(f"no run of {name} at base for {m}")
        scores[m] = (rb.aggregate if rb else None, rh.aggregate if rh else None)
        runs[m] = (rb.id if rb else None, rh.id if rh else None)
        if changed and rb is not None and rh is not None and rb.per_case and rh.per_case:
            cmp = store.compare(rb, rh)
            flips[m] = (cmp.to_fail, cmp.to_pass)
        else:
            flips[m] = ((), ())
        if rh is not None and rh.per_case and added:
            by_id = rh.score_map()
            hard[m] = sum(1 for s in map(by_id.get, added) if s is None or s < PASS_MARK)
    test = None
    if len(chosen) >= 2:
        ra, rc = cells.get((name, 1, chosen[0])), cells.get((name, 1, chosen[1]))
        if ra is not None and rc is not None and ra.per_case and rc.per_case:
            a_scores, c_scores = ra.score_map(), rc.score_map()
            pairs = [
                (a, c) for i in ra.ids if (a := a_scores.get(i)) is not None and (c := c_scores.get(i)) is not None
            ]
            test = stats.paired_test([p[0] for p in pairs], [p[1] for p in pairs], seed=seed)
        elif ra is not None and rc is not None:
            notes.append("aggregate metric: per-case flips and the paired test are unavailable")
    defined = head.ev or base.ev
    return EvalReport(
        name,
        base.version if base.ev else None,
        head.version if head.ev else None,
        changed,
        head.why,
        (base.ev is not None, head.ev is not None),
        scores,
        added,
        removed,
        modified,
        flips,
        hard,
        test,
        runs,
        tuple(dict.fromkeys(notes)),
        threshold=defined.threshold if defined is not None else None,
        system_before=system.get(name),
    )


def _run_case_diff(name: str, chosen: Sequence[str], cells: Cells) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Cases added and removed, from the ids of the first model's runs on both sides (imported runs)."""
    for m in chosen:
        rb, rh = cells.get((name, 0, m)), cells.get((name, 1, m))
        if rb is not None and rh is not None:
            cmp = store.compare(rb, rh)
            return cmp.added, cmp.removed
    return (), ()


def _case_diff(base: Dataset, head: Dataset) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    old = {i: (x, r) for i, x, r in zip(base.ids, base.inputs, base.references, strict=True)}
    new_ids = set(head.ids)
    added = tuple(i for i in head.ids if i not in old)
    removed = tuple(i for i in base.ids if i not in new_ids)
    changed = tuple(
        i
        for i, x, r in zip(head.ids, head.inputs, head.references, strict=True)
        if i in old and model_fp.canonical(old[i]) != model_fp.canonical((x, r))
    )
    return added, removed, changed
