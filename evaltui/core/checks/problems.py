"""`evaltui check`: every problem that should fail CI, each with a code, severity and place."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import replace
from typing import TYPE_CHECKING, TypedDict

from evaltui.core.checks.baseline import Baseline, is_registration, read_baseline
from evaltui.core.checks.functions import function_problems
from evaltui.core.checks.team import coverage_problems, notes_problems, ownership_problems
from evaltui.core.checks.thresholds import (
    ThresholdResult,
    threshold_problems,
    threshold_results,
)
from evaltui.core.errors import GitError, Problem, VersionSourceError
from evaltui.core.registry import chains, endpoints, versions
from evaltui.core.registry.model import Registry

if TYPE_CHECKING:
    from evaltui.core.history import Lineage
    from evaltui.core.history.pending import PendingFile
    from evaltui.core.team.coverage import Coverage, RunSummary
    from evaltui.core.team.notes import NotesFile

__all__ = [
    "Pending",
    "Where",
    "check_repository",
    "coverage_problems",
    "current_thresholds",
    "exit_code",
    "lineage_problems",
    "notes_problems",
    "ownership_problems",
    "pending_problems",
    "run_checks",
    "shown_version",
    "unreadable",
    "version_problems",
]

Pending = Mapping[str, "tuple[PendingFile, ...]"]  # eval -> its uncommitted changes


class Where(TypedDict):
    """The place of an eval's table, as `Problem` keywords."""

    file: str
    line: int | None
    key: str
    eval: str


def version_problems(registry: Registry) -> list[Problem]:
    """An eval whose version cannot be resolved from its source, or that declares none."""
    # A version file the registry already reported (missing, outside the repository) is not
    # reported a second time as unresolvable.
    reported = {
        p.eval
        for p in registry.problems
        if p.severity == "error" and p.key and p.key.startswith(f"evals.{p.eval}.version_from")
    }
    problems = []
    # The versions as `list` reads them (one parse per file: a family's tasks share their templates),
    # without the files and chains a summary also gathers.
    read = chains.Documents(versions.working_tree_reader(registry.root))
    # A family of tasks shares one version source (their template): resolved once for all of them.
    by_source: dict[tuple[str, str | None], tuple[str, str | None]] = {}
    for name, ev in registry.evals.items():
        shared = (ev.version_from, ev.version_format) if ev.version_from else None
        found = by_source.get(shared) if shared is not None else None
        if found is None:
            try:
                found = versions.resolve(ev, read).source, None
            except VersionSourceError as exc:
                found = "error", str(exc)
            if shared is not None:
                by_source[shared] = found
        source, error = found
        if error is not None:
            if name not in reported:
                problems.append(
                    Problem(
                        "error",
                        "version-unresolvable",
                        error,
                        file=registry.path.name,
                        line=ev.line,
                        key=f"evals.{name}.version_from",
                        eval=name,
                    )
                )
        elif source == "none":
            problems.append(
                Problem(
                    "warning",
                    "no-version",
                    'no version: add `version = "1.0"` or `version_from` so changes can be told from bumps',
                    file=registry.path.name,
                    line=ev.line,
                    key=f"evals.{name}",
                    eval=name,
                )
            )
    return problems


def lineage_problems(
    registry: Registry, lineage: Lineage, acknowledged: AbstractSet[str] = frozenset(), baseline: Baseline | None = None
) -> list[Problem]:
    """Silent changes since each eval's last bump that no note acknowledges, and a bump without `why`.

    `acknowledged` holds commit shas (full or abbreviated, at least 7 characters). Only the
    bump that started the current version is held to having a `why`. Commits at or before
    `[project] baseline` are never reported, nor is the version an eval gets when its table
    is added over files that already had history.
    """
    from evaltui.core.history import since_last_bump

    if baseline is None and lineage.since is not None:
        # A lineage bounded by the baseline holds no commit before it: the baseline itself is
        # all that can be covered (and it is a commit, or the lineage would not be bounded).
        baseline = Baseline(registry.project.baseline, frozenset({lineage.since}))
    baseline = baseline if baseline is not None else read_baseline(registry)
    problems = []
    if baseline.problem:
        problems.append(
            Problem("warning", "bad-baseline", baseline.problem, file=registry.path.name, key="project.baseline")
        )
    for ev in registry.evals.values():
        where: Where = {"file": registry.path.name, "line": ev.line, "key": f"evals.{ev.name}", "eval": ev.name}
        start, silent = since_last_bump(lineage, ev.name, acknowledged)
        for entry in silent:
            if baseline.covers(entry.commit):
                continue
            files = ", ".join(entry.paths) or "its definition"
            stayed = f"the version stayed {entry.version}" if entry.version else "no version could be read"
            problems.append(
                Problem(
                    "warning",
                    "silent-change",
                    f"silent change in {entry.commit[:7]} ({entry.date.date()}, {entry.author}: {entry.subject!r}): "
                    f"{files} changed but {stayed}; bump it, or acknowledge the commit with "
                    f"a non-semantic note",
                    **where,
                )
            )
        if start is None or start.kind != "bump" or (start.why or "").strip() or baseline.covers(start.commit):
            continue
        if start.previous_version is None and is_registration(start):
            continue  # the first version an adopted eval is given is not a change that needs a reason
        problems.append(
            Problem(
                "warning",
                "bump-without-why",
                f"version {shown_version(start.version)} was bumped in {start.commit[:7]} ({start.date.date()}, "
                f"{start.author}: {start.subject!r}) without a `why`; say what changed next to the version",
                **where,
            )
        )
    return problems


def shown_version(version: str | None) -> str:
    """A version as a person reads it; an absent one is "unversioned", never "None"."""
    return version if version is not None else "unversioned"


def run_checks(
    registry: Registry,
    lineage: Lineage | None = None,
    *,
    notes: NotesFile | None = None,
    coverage: Coverage | None = None,
    today: dt.date | None = None,
    runs: Sequence[RunSummary] | None = None,
    pending: Pending | None = None,
) -> list[Problem]:
    """All problems for `registry`, errors first, then by file and line.

    `lineage` (from `history.load_lineage`) adds the history checks; without it they are
    skipped. `notes`, `coverage` and `runs` (for thresholds) are read from the working tree
    when not given; `today` skips overrides that have ended; `pending` (eval -> uncommitted
    changes, from `history.pending.pending_by_eval`) adds a `pending` note per eval.
    """
    from evaltui.core.team import coverage as coverage_module
    from evaltui.core.team import notes as notes_module

    if unreadable(registry):
        # Nothing was read, so every other check would only echo the syntax error (notes "on an
        # undefined eval", evals without owner...).
        return sorted(registry.problems, key=lambda p: (p.severity != "error", p.file or "", p.line or 0))
    if notes is None:
        notes = notes_module.read_notes(registry.state_dir, registry.root)
    if coverage is None:
        coverage = coverage_module.coverage(registry)
    problems = [replace(p) for p in registry.problems] + version_problems(registry)
    problems += endpoints.key_problems(registry)
    problems += coverage_problems(registry, coverage)
    problems += ownership_problems(registry, lineage.authorship if lineage is not None else None, today)
    problems += notes_problems(registry, notes)
    problems += function_problems(registry)
    problems += threshold_problems(registry, current_thresholds(registry, runs))
    problems += pending_problems(registry, pending or {})
    if lineage is not None:
        # The one place history joins the check: silent changes not acknowledged by a
        # `non-semantic` note, bumps without a `why`.
        problems += lineage_problems(registry, lineage, notes_module.acknowledged_commits(notes))
    return sorted(problems, key=lambda p: (p.severity != "error", p.file or "", p.line or 0))


def check_repository(registry: Registry, now: dt.datetime | None = None) -> list[Problem]:
    """`run_checks` with the git history loaded; a repository without usable history skips those checks."""
    from evaltui.core import history

    now = now or dt.datetime.now(dt.timezone.utc)
    # Nothing at or before the baseline is reported, so the history before it is not read, unless
    # `fresh_eyes` needs every commit's author.
    rot = registry.rotation
    since = registry.project.baseline if rot is None or not rot.fresh_eyes else None
    from evaltui.core.history.pending import pending_by_eval, start_working_changes

    try:
        changes = start_working_changes(registry.root)  # `git status` runs while the lineage loads
    except GitError:
        changes = tuple
    lineage, error = history.try_load_lineage(registry, since=since)
    extra = [Problem("warning", "no-history", f"git history not checked: {error}")] if error else []
    today = now.date()
    if registry.rotation is not None:
        from zoneinfo import ZoneInfo

        today = now.astimezone(ZoneInfo(registry.rotation.timezone)).date()
    try:
        pending = pending_by_eval(registry, changes())
    except GitError:
        pending = {}  # the badge is a hint, not a gate
    problems = run_checks(registry, lineage, today=today, pending=pending) + extra
    return sorted(problems, key=lambda p: (p.severity != "error", p.file or "", p.line or 0))


def unreadable(registry: Registry) -> bool:
    """Whether evals.toml could not be parsed at all (a TOML syntax error)."""
    return any(p.code == "toml-syntax" for p in registry.problems)


def current_thresholds(registry: Registry, runs: Sequence[RunSummary] | None = None) -> tuple[ThresholdResult, ...]:
    """Threshold results from the recorded runs (read from `state_dir/runs` when `runs` is None)
    against each eval's current version in the working tree."""
    from evaltui.core.team.coverage import read_runs

    if not any(ev.threshold is not None for ev in registry.evals.values()):
        return ()
    if runs is None:
        runs = read_runs(registry.state_dir)
    # Only the versions of evals with a threshold and a run are read (a large registry stays quick).
    read = versions.working_tree_reader(registry.root)
    current: dict[str, str | None] = {}
    for name in {r.eval for r in runs}:
        ev = registry.evals.get(name)
        if ev is not None and ev.threshold is not None:
            try:
                current[name] = versions.resolve(ev, read).version
            except VersionSourceError:
                current[name] = None
    return threshold_results(registry, runs, current)


def pending_problems(registry: Registry, pending: Pending) -> list[Problem]:
    """An `info` per eval with uncommitted changes to its files: a pending change, not yet history."""
    from evaltui.core.history.pending import describe

    out = []
    for name, files in pending.items():
        ev = registry.evals.get(name)
        if ev is None:
            continue
        out.append(
            Problem(
                "info",
                "pending",
                f"uncommitted changes: {describe(files)}; commit them (with a "
                "version bump if they change what the eval measures)",
                file=registry.path.name,
                line=ev.line,
                key=f"evals.{name}",
                eval=name,
            )
        )
    return out


def exit_code(problems: list[Problem], strict: bool = False) -> int:
    """2 when evals.toml cannot be parsed, 1 when there are errors (or warnings under `strict`), else 0.

    `info` problems (pending changes) never fail the check."""
    if any(p.code == "toml-syntax" for p in problems):
        return 2
    if any(p.severity == "error" for p in problems):
        return 1
    if strict and any(p.severity == "warning" for p in problems):
        return 1
    return 0
