"""`evaltui check`: every problem that should fail CI, each with a code, severity and place."""

from __future__ import annotations

from dataclasses import replace

from evaltui.core import versions
from evaltui.core.errors import Problem, VersionSourceError
from evaltui.core.registry import Registry


def version_problems(registry: Registry) -> list[Problem]:
    """An eval whose version cannot be resolved from its source, or that declares none."""
    problems = []
    read = versions.working_tree_reader(registry.root)
    for ev in registry.evals.values():
        try:
            info = versions.resolve(ev, read)
        except VersionSourceError as exc:
            problems.append(Problem("error", "version-unresolvable", str(exc), file=registry.path.name,
                                    line=ev.line, key=f"evals.{ev.name}.version_from", eval=ev.name))
            continue
        if info.source == "none":
            problems.append(Problem("warning", "no-version", "no version: add `version = \"1.0\"` or "
                                    "`version_from` so changes can be told from bumps",
                                    file=registry.path.name, line=ev.line, key=f"evals.{ev.name}", eval=ev.name))
    return problems


def run_checks(registry: Registry) -> list[Problem]:
    """All problems for `registry`, errors first, then by file and line."""
    problems = [replace(p) for p in registry.problems] + version_problems(registry)
    return sorted(problems, key=lambda p: (p.severity != "error", p.file or "", p.line or 0))


def exit_code(problems: list[Problem], strict: bool = False) -> int:
    """1 when there are errors (or warnings under `strict`), else 0."""
    if any(p.severity == "error" for p in problems):
        return 1
    if strict and problems:
        return 1
    return 0
