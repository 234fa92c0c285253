"""Loading `evals.toml`: find it, read it, validate it into a `Registry` with every problem found.

The records themselves live in `records` and the glob helpers in `globs`; they are re-exported
here because most callers import everything registry-shaped from this module.
"""

from __future__ import annotations

from pathlib import Path

from evaltui.core.errors import Problem, RegistryError
from evaltui.core.registry.globs import expand_glob, glob_pattern
from evaltui.core.registry.records import (
    CADENCE_RE,
    FILENAME,
    KEY_SUFFIXES,
    MAX_CADENCE_DAYS,
    NAME_RE,
    Absence,
    Eval,
    FailureMode,
    Model,
    Override,
    Person,
    Project,
    RayResources,
    Registry,
    ReportRoles,
    Rotation,
    Runner,
)
from evaltui.core.registry.schema import SchemaReader

__all__ = [
    "FILENAME",
    "NAME_RE",
    "CADENCE_RE",
    "MAX_CADENCE_DAYS",
    "KEY_SUFFIXES",
    "Project",
    "Person",
    "Model",
    "Eval",
    "FailureMode",
    "Absence",
    "Override",
    "Rotation",
    "Registry",
    "RayResources",
    "ReportRoles",
    "Runner",
    "glob_pattern",
    "expand_glob",
    "find_root",
    "load_registry",
    "parse_registry",
    "read_registry_text",
]


def find_root(start: Path) -> Path:
    """The nearest directory at or above `start` that holds `evals.toml` (else `start`)."""
    start = Path(start).resolve()
    for candidate in (start, *start.parents):
        if (candidate / FILENAME).is_file():
            return candidate
    return start


def load_registry(root: Path, *, strict: bool = True, check_files: bool = True) -> Registry:
    """Read `root/evals.toml`. With `strict`, any error raises `RegistryError` with all problems."""
    root = Path(root).resolve()
    registry = parse_registry(read_registry_text(root), root, check_files=check_files)
    if strict and registry.errors:
        raise RegistryError(registry.problems)
    return registry


def read_registry_text(root: Path) -> str:
    """The text of `root/evals.toml` (a resolved root); `RegistryError` when it is missing or not UTF-8."""
    path = root / FILENAME
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise RegistryError(
            [
                Problem(
                    "error",
                    "no-file",
                    f"no {FILENAME} in {root}; create one with an [evals.NAME] table "
                    "(see `evaltui --help`), or run `evaltui demo` to see a complete example",
                    file=str(path),
                )
            ]
        ) from None
    except OSError as exc:
        raise RegistryError(
            [Problem("error", "unreadable", f"cannot read {FILENAME}: {exc.strerror or exc}", file=str(path))]
        ) from None
    try:
        return raw.decode("utf-8-sig")  # an editor's byte-order mark is not a mistake
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise RegistryError(
            [
                Problem(
                    "error",
                    "unreadable",
                    f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8",
                    file=FILENAME,
                    line=line,
                )
            ]
        ) from None


def parse_registry(text: str, root: Path, *, check_files: bool = True, filename: str = FILENAME) -> Registry:
    """Parse `evals.toml` text. Never raises for bad content: problems are collected.

    `check_files=False` skips the checks against the working tree, for reading the file as
    it was at an old commit.
    """
    return SchemaReader(text.removeprefix("\ufeff"), Path(root), filename, check_files).run()
