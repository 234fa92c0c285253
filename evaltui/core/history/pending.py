"""Pending changes: uncommitted edits to an eval's files, read from `git status --porcelain -z`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from evaltui.core.errors import GitError
from evaltui.core.history.gitcmd import finish, stream
from evaltui.core.history.repo import work_tree_prefix
from evaltui.core.registry.model import Registry


@dataclass(frozen=True)
class PendingFile:
    """One uncommitted change to a file of the working tree."""

    path: str  # repository-relative, posix; the new name of a rename
    change: str  # "modified" | "added" | "deleted" | "renamed" | "untracked" | "conflict"
    staged: bool  # part of the change is in the index
    old_path: str | None = None  # the old name of a rename


_CHANGES = {
    "M": "modified",
    "T": "modified",
    "A": "added",
    "D": "deleted",
    "R": "renamed",
    "C": "added",
    "U": "conflict",
}


def parse_porcelain(raw: bytes) -> tuple[PendingFile, ...]:
    """Parse `git status --porcelain -z` (v1): `XY path\\0`, and `XY new\\0old\\0` for renames and copies."""
    fields = raw.decode("utf-8", "surrogateescape").split("\0")
    out = []
    i = 0
    while i < len(fields):
        item = fields[i]
        i += 1
        if len(item) < 4:
            continue
        x, y, path = item[0], item[1], item[3:]
        old = None
        if x in "RC":
            old = fields[i] if i < len(fields) else None
            i += 1
        if x == "?":
            change = "untracked"
        elif "U" in (x, y) or (x, y) in (("A", "A"), ("D", "D")):
            change = "conflict"
        else:
            change = _CHANGES.get(x if x != " " else y, "modified")
        out.append(PendingFile(path, change, x not in (" ", "?"), old))
    return tuple(out)


def working_changes(root: Path) -> tuple[PendingFile, ...]:
    """Every uncommitted change in the repository at `root` (empty outside a repository)."""
    return start_working_changes(root)()


def start_working_changes(root: Path) -> Callable[[], tuple[PendingFile, ...]]:
    """`working_changes`, with git started now and read when the result is called for: `git status`
    runs beside whatever the caller does meanwhile. `GitError` comes with the result."""
    prefix = work_tree_prefix(root)  # porcelain paths are relative to the top; evals.toml may sit below it
    if prefix is None:
        return tuple
    status = stream(
        Path(root), "status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames", lazy_fetch=True
    )

    def result() -> tuple[PendingFile, ...]:
        try:
            raw = status.stdout.read()
        except OSError:
            raw = b""
        code, message = finish(status)
        if code != 0:
            raise GitError(f"git status: {message or f'exit {code}'}")
        out: list[PendingFile] = []
        for change in parse_porcelain(raw):
            if change.path.startswith(prefix):
                old = change.old_path[len(prefix) :] if change.old_path and change.old_path.startswith(prefix) else None
                out.append(PendingFile(change.path[len(prefix) :], change.change, change.staged, old))
        return tuple(out)

    return result


def pending_by_eval(
    registry: Registry, changes: tuple[PendingFile, ...] | None = None
) -> Mapping[str, tuple[PendingFile, ...]]:
    """Per eval, the uncommitted changes to its files (metric, dataset, version file, `paths` globs).

    Evals without pending changes are left out. A repository git cannot read gives no
    pending changes rather than an error: the badge is a hint, not a gate.
    """
    if changes is None:
        try:
            changes = working_changes(registry.root)
        except GitError:
            return {}
    out: dict[str, tuple[PendingFile, ...]] = {}
    for ev in registry.evals.values():
        mine = tuple(c for c in changes if ev.matches(c.path) or (c.old_path is not None and ev.matches(c.old_path)))
        if mine:
            out[ev.name] = mine
    return out


def describe(files: tuple[PendingFile, ...]) -> str:
    """`data/qa.jsonl modified, prompts/qa/new.txt untracked`."""
    return ", ".join(
        f"{f.path} {f.change}" + (" (staged)" if f.staged and f.change != "untracked" else "") for f in files
    )
