"""`evaltui adopt`: `[evals.*]` tables for an existing lm-eval, Inspect or OpenAI evals tree."""

from __future__ import annotations

import fnmatch
import operator
import os
import re
from collections.abc import Callable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evaltui.core.errors import EvaltuiError
from evaltui.core.registry.model import NAME_RE

HARNESSES = ("lm-eval", "inspect", "openai-evals")
_SKIP_DIRS = {".git", ".evaltui", "node_modules", "__pycache__", ".venv", "venv", ".tox", ".mypy_cache"}
_BAD_NAME = re.compile(r"[^A-Za-z0-9_.\-]+")
_CLEAN_NAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_])?")


class AdoptError(EvaltuiError):
    """Adoption cannot start: a folder outside the repository, an unknown harness."""


@dataclass(frozen=True)
class Candidate:
    """One eval found in a harness's tree, before it gets its final name."""

    harness: str
    name: str  # as the harness calls it (may need cleaning to be a registry name)
    source: str  # the file that defines it, relative to the root
    table: dict[str, Any]  # the keys of its [evals.NAME] table, in order


@dataclass(frozen=True)
class Adopted:
    """An eval to add: its registry name and its table."""

    name: str
    harness: str
    source: str
    table: dict[str, Any]


@dataclass
class Scan:
    """What a scan found: evals to add, and what it passed over (each with a reason)."""

    adopted: list[Adopted] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "path: reason", for the report


def walk(root: Path, dirs: list[str], suffixes: tuple[str, ...]) -> Iterator[str]:
    """Files under `dirs` (relative to `root`) ending in one of `suffixes`, sorted, repository-relative."""
    return (path for path in _listing(root, dirs) if path.endswith(suffixes))


# The files under the scanned folders, walked once for all the harnesses during a `scan`.
_LISTINGS: dict[tuple[str, tuple[str, ...]], list[str]] = {}


def _listing(root: Path, dirs: list[str]) -> list[str]:
    key = (str(root), tuple(dirs))
    found = _LISTINGS.get(key)
    if found is not None:
        return found
    paths: set[str] = set()
    for d in dirs:
        base = root / d
        if base.is_file():
            paths.add(Path(os.path.relpath(base, root)).as_posix())
            continue
        for folder, subdirs, files in os.walk(base):
            subdirs[:] = [s for s in subdirs if s not in _SKIP_DIRS and not s.startswith(".")]
            rel = Path(os.path.relpath(folder, root)).as_posix()
            paths.update(files if rel == "." else (f"{rel}/{name}" for name in files))
    return _LISTINGS.setdefault(key, sorted(paths))


def registry_name(raw: str) -> str:
    """`raw` made into a name `evals.toml` accepts (letters, digits, `_`, `-`, `.`)."""
    if _CLEAN_NAME.fullmatch(raw):
        return raw  # nothing below would change it (most harness names)
    name = _BAD_NAME.sub("_", raw.strip()).strip(".-") or "eval"
    return name if NAME_RE.match(name) else f"_{name}"


def name_all(candidates: list[Candidate], taken: set[str]) -> tuple[list[Adopted], list[str]]:
    """Registry names for `candidates`, unique and stable: a clash gets `-2`, `-3`... in source order.

    A candidate whose exact name is already in `evals.toml` is left alone (adopting twice adds nothing).
    """
    out, skipped, used = [], [], set(taken)
    for c in sorted(candidates, key=operator.attrgetter("harness", "source", "name")):
        name = registry_name(c.name)
        if name in taken:
            skipped.append(f"{c.source}: {name} is already in evals.toml")
            continue
        unique, n = name, 2
        while unique in used:
            unique, n = f"{name}-{n}", n + 1
        used.add(unique)
        out.append(Adopted(unique, c.harness, c.source, c.table))
    return out, skipped


def scan(
    root: Path,
    dirs: list[str],
    harness: str = "auto",
    only: str | None = None,
    taken: AbstractSet[str] = frozenset(),
) -> Scan:
    """Every eval the harnesses' scanners find under `dirs`, named, filtered by `only` (a glob on name or file)."""
    from evaltui.core.registry.adopt import inspect as inspect_scan
    from evaltui.core.registry.adopt import lmeval, openai_evals

    if harness != "auto" and harness not in HARNESSES:
        raise AdoptError(f"unknown harness {harness!r}; expected auto, {', '.join(HARNESSES)}")
    scanners: dict[str, Callable[[Path, list[str], list[str]], list[Candidate]]] = {
        "lm-eval": lmeval.scan,
        "inspect": inspect_scan.scan,
        "openai-evals": openai_evals.scan,
    }
    result = Scan()
    candidates: list[Candidate] = []
    _LISTINGS.clear()
    try:
        for name, scanner in scanners.items():
            if harness in ("auto", name):
                candidates += scanner(root, dirs, result.skipped)
    finally:
        _LISTINGS.clear()
    if only:
        candidates = [
            c
            for c in candidates
            if fnmatch.fnmatchcase(c.name, only)
            or fnmatch.fnmatchcase(registry_name(c.name), only)
            or fnmatch.fnmatchcase(c.source, only)
        ]
    result.adopted, skipped = name_all(candidates, set(taken))
    result.skipped += skipped
    return result
