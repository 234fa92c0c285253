"""Files written whole or not at all, and paths that must stay inside the repository."""

from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path


def atomic_write(path: Path, data: str | bytes, encoding: str = "utf-8") -> None:
    """Write `data` to a temporary file beside `path`, then rename it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode(encoding) if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@functools.lru_cache(maxsize=64)
def _real(root: str) -> str:
    return os.path.realpath(root)


def inside(root: Path, relative: str) -> Path | None:
    """`root/relative` resolved (symlinks followed) when it stays inside `root`, else None."""
    if not relative or os.path.isabs(relative):
        return None
    real_root = _real(str(root))
    parts = relative.replace("\\", "/").split("/")
    if ".." not in parts:
        # The common case, checked with one lstat per component below the root instead of
        # resolving the whole path: no component is a link, so nothing can lead outside.
        current = real_root
        for part in parts:
            if part in ("", "."):
                continue
            current = os.path.join(current, part)
            if os.path.islink(current):
                break
        else:
            return Path(current)
    target = os.path.realpath(os.path.join(real_root, relative))
    if target == real_root or target.startswith(real_root.rstrip(os.sep) + os.sep):
        return Path(target)
    return None


def is_glob(pattern: str) -> bool:
    """Whether `pattern` has glob characters."""
    return "*" in pattern or "?" in pattern or "[" in pattern  # called for every path of every eval


def cache_dir(state_dir: Path) -> Path:
    """`state_dir/cache`, created with a `.gitignore` of `*` so nothing in it is ever committed."""
    folder = Path(state_dir) / "cache"
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        atomic_write(ignore, "# evaltui's cache and locks: never committed\n*\n")
    return folder


def write_export(state_dir: Path, path: Path, text: str) -> None:
    """Write a generated file (a report, a calendar) atomically; one written straight into
    `state_dir` is listed in `state_dir/.gitignore` so that it is never committed by accident
    (notes.jsonl beside it stays tracked)."""
    atomic_write(path, text)
    try:
        inside_state = Path(path).resolve().parent == Path(state_dir).resolve()
    except OSError:
        return
    if not inside_state:
        return
    ignore = Path(state_dir) / ".gitignore"
    try:
        current = ignore.read_text(encoding="utf-8") if ignore.exists() else ""
    except (OSError, UnicodeDecodeError):
        return
    name = Path(path).name
    if name not in current.splitlines():
        head = current if not current or current.endswith("\n") else current + "\n"
        if not head:
            head = "# files evaltui generates here; notes.jsonl stays tracked\n"
        atomic_write(ignore, f"{head}{name}\n")
