"""The team's checks: failure modes no case exercises, owners and overrides that do not hold, stray notes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, TypedDict

from evaltui.core.errors import Problem
from evaltui.core.registry.model import Registry, glob_pattern

if TYPE_CHECKING:
    from evaltui.core.history import Authorship
    from evaltui.core.registry.tomlpos import FileLocator, KeyPath
    from evaltui.core.team.coverage import Coverage
    from evaltui.core.team.notes import NotesFile


class At(TypedDict):
    """Where a key sits in evals.toml, as `Problem` keywords."""

    line: int | None
    column: int | None


def _locator(registry: Registry) -> FileLocator:
    from evaltui.core.registry.tomlpos import FileLocator  # maps evals.toml only when a problem needs a line

    return FileLocator(registry.path)


def _at(locator: FileLocator | None, key: KeyPath) -> At:
    line, column = locator.find(key) if locator is not None else (None, None)
    return {"line": line, "column": column}


def coverage_problems(registry: Registry, cov: Coverage) -> list[Problem]:
    """Failure modes no eval exercises, evals claiming a mode they have no case for, unreadable datasets."""
    loc = _locator(registry)
    name = registry.path.name
    problems = [replace(p) for p in cov.problems]
    for mode in cov.blind_spots:
        problems.append(
            Problem(
                "warning",
                "blind-spot",
                f"failure mode {mode.name!r} is a blind spot: {mode.reason}",
                file=name,
                **_at(loc, ("failure_modes", mode.name)),
                key=f"failure_modes.{mode.name}",
            )
        )
    for cell in cov.gaps:
        if cov.mode(cell.mode).blind:
            continue  # already reported once, for the mode
        problems.append(
            Problem(
                "warning",
                "mode-without-cases",
                f"covers {cell.mode!r} but no case in its dataset carries the mode's tags",
                file=name,
                **_at(loc, ("evals", cell.eval, "covers")),
                key=f"evals.{cell.eval}.covers",
                eval=cell.eval,
            )
        )
    return problems


def ownership_problems(
    registry: Registry, authorship: Mapping[str, Authorship] | None = None, today: dt.date | None = None
) -> list[Problem]:
    """Evals nobody owns, and owners forced onto an eval they mainly wrote while `fresh_eyes` is on."""
    loc = _locator(registry)
    name = registry.path.name
    rot = registry.rotation
    authorship = authorship or {}
    problems = []
    for ev in registry.evals.values():
        if not ev.owner and (rot is None or not rot.members):
            problems.append(
                Problem(
                    "warning",
                    "no-owner",
                    'nobody owns it: add `owner = "..."` or a [rotation]',
                    file=name,
                    line=ev.line,
                    key=f"evals.{ev.name}",
                    eval=ev.name,
                )
            )
    if rot is None or not rot.fresh_eyes:
        return problems
    for ev in registry.evals.values():
        main = _main_author(authorship, ev.name)
        if ev.owner and main == ev.owner and len(rot.members) > 1:
            problems.append(
                Problem(
                    "warning",
                    "owner-is-main-author",
                    f"pinned to {ev.owner}, its main author, "
                    "while `fresh_eyes` is on; let the rotation choose or pin someone else",
                    file=name,
                    **_at(loc, ("evals", ev.name, "owner")),
                    key=f"evals.{ev.name}.owner",
                    eval=ev.name,
                )
            )

    for i, o in enumerate(rot.overrides):
        if today is not None and o.end < today:
            continue
        for ev in registry.evals.values():
            main = _main_author(authorship, ev.name)
            if ev.owner or main != o.member or not any(glob_pattern(p).match(ev.name) for p in o.evals):
                continue
            problems.append(
                Problem(
                    "warning",
                    "owner-is-main-author",
                    f"override gives {ev.name} to {o.member}, "
                    f"its main author, from {o.start} to {o.end} while `fresh_eyes` is on",
                    file=name,
                    **_at(loc, ("rotation", "overrides", i)),
                    key=f"rotation.overrides[{i}]",
                    eval=ev.name,
                )
            )
    return problems


def _main_author(authorship: Mapping[str, Authorship], name: str) -> str | None:
    found = authorship.get(name)
    return found.main_author if found is not None else None


def notes_problems(registry: Registry, notes: NotesFile) -> list[Problem]:
    """Unreadable lines in the notes file, and notes on evals that do not exist."""
    problems = [replace(p) for p in notes.problems]
    for note in notes.notes:
        if note.eval not in registry.evals:
            path = f"{registry.project.state_dir}/notes.jsonl"
            problems.append(
                Problem(
                    "warning",
                    "note-unknown-eval",
                    f"note {note.id} is on {note.eval!r}, which {registry.path.name} does not define (renamed?)",
                    file=path,
                    line=note.line,
                    eval=note.eval,
                )
            )
    return problems
