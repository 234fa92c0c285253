"""The app's read of `evals.toml` and its list summaries, kept across starts (diskcache under `state_dir/cache`).

Parsing and validating a large `evals.toml`, stat-ing every file it names and expanding its
globs takes far longer than drawing the list, and between two starts nothing has usually
changed. An entry is used only when every input of the read it holds is unchanged: the bytes
of evals.toml (path, size, mtime_ns, inode), the kind and stamps of every path the schema looked
at, each folder above them (a folder turned into a symlink), the folders the globs were expanded
in (their mtime moves when a file is added, removed or renamed in them), the files of every
eval's summary (version sources and their include chains) and the code that did the reading.
A read whose inputs changed within `RACY_NS` of it is not kept: a file written again in the
same clock tick would keep its stamp. An entry that cannot be read is ignored and replaced.

The entry is a pickle read back by an unpickler that builds only the registry's own records
(browsing never runs code from the repository, and the cache lives inside it).
"""

from __future__ import annotations

import functools
import io
import os
import pickle
import re
import stat
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from evaltui.core import safepickle
from evaltui.core.compat import tomllib
from evaltui.core.fsutil import cache_dir
from evaltui.core.registry.globs import glob_split
from evaltui.core.registry.records import FILENAME, Registry
from evaltui.core.registry.schema import SchemaReader

if TYPE_CHECKING:
    import diskcache

    from evaltui.core.registry.overview import EvalSummary

FORMAT = 1
"""Of an entry; another value is ignored."""
RACY_NS = 2_000_000_000
"""A read with an input changed less than this before it is not kept (see the module's note)."""
KEY = "overview"
FOLDER = "registry"
"""The diskcache directory under `state_dir/cache`."""

Stamp = tuple[int, ...] | None
"""(mode, size, mtime_ns, inode) from `lstat`, then the same from `stat` for a symlink; None: absent."""


class Noted(NamedTuple):
    """A fresh read of `evals.toml` and what it looked at on disk."""

    registry: Registry
    paths: frozenset[str]  # repository paths whose kind the schema read
    listings: dict[str, list[str]]  # each glob pattern it expanded -> the files that matched


def parse_noting(root: Path, text: str) -> Noted:
    """`parse_registry(text, root)` (files checked), with the paths and globs the check read."""
    reader = SchemaReader(text.removeprefix("\ufeff"), root, FILENAME, True)
    registry = reader.run()
    return Noted(registry, frozenset(reader.looked_at), reader.listings)


def stamp(path: str) -> Stamp:
    """What changes when `path` is written, replaced, removed or (for a symlink) pointed elsewhere."""
    try:
        st = os.lstat(path)
        out: tuple[int, ...] = (st.st_mode, st.st_size, st.st_mtime_ns, st.st_ino)
        if stat.S_ISLNK(st.st_mode):
            st = os.stat(path)
            out += (st.st_mode, st.st_size, st.st_mtime_ns, st.st_ino)
        return out
    except (OSError, ValueError):
        return None


@functools.cache
def code_stamps() -> tuple[tuple[str, Stamp], ...]:
    """The modules that read the registry and its versions: a changed evaltui reads afresh."""
    registry = Path(__file__).resolve().parent
    core = registry.parent
    files = sorted(registry.glob("*.py")) + [core / name for name in ("fsutil.py", "errors.py", "compat.py")]
    return (("python", (*sys.version_info[:3],)), *((f.name, stamp(str(f))) for f in files))


def state_dir_of(text: str) -> str:
    """Where `[project] state_dir` points, read from the `[project]` table alone (a quick look, no full parse).

    Only locates the cache: an entry found there is used only if its registry has that same
    state_dir, so a layout this misreads costs a fresh read, never a wrong one.
    """
    found = re.search(r"(?m)^[ \t]*\[[ \t]*project[ \t]*\][ \t]*(?:#.*)?$", text)
    if found is None:
        return ".evaltui"
    end = re.search(r"(?m)^[ \t]*\[", text[found.end() :])
    table = text[found.end() : found.end() + end.start() if end else len(text)]
    try:
        value = tomllib.loads(table).get("state_dir", ".evaltui")
    except tomllib.TOMLDecodeError:
        return ".evaltui"
    return os.path.normpath(value) if isinstance(value, str) else ".evaltui"


class OverviewCache:
    """The cached read of one repository; `load` before reading, `save` after a fresh read."""

    def __init__(self, root: Path, text: str) -> None:
        self.root = root
        self.started = time.time_ns()
        self.state_dir = state_dir_of(text)

    def _folder(self) -> Path | None:
        if os.path.isabs(self.state_dir) or self.state_dir.split(os.sep)[0] == "..":
            return None  # the schema refuses it; the app reads afresh
        return self.root / self.state_dir / "cache" / FOLDER

    def load(self) -> tuple[Registry, tuple[EvalSummary, ...]] | None:
        """The cached read when every input is unchanged, else None."""
        folder = self._folder()
        if folder is None or not folder.is_dir():
            return None
        store = open_store(folder)
        if store is None:
            return None
        try:
            raw = store.get(KEY)
        except Exception:  # a corrupt database or value: read afresh, the next save replaces it
            raw = None
        finally:
            store.close()
        if not isinstance(raw, bytes):
            return None
        try:
            head, data = _loads(raw)
            if head != self._head() or not _unchanged(data["paths"], data["stamps"]):
                return None
            registry, summaries = _loads(data["value"])
        except Exception:  # unreadable or from another evaltui: read afresh
            return None
        if not isinstance(registry, Registry) or registry.root != self.root:
            return None
        if os.path.normpath(registry.project.state_dir) != self.state_dir:
            return None
        return registry, summaries

    def _head(self) -> tuple[object, ...]:
        return (FORMAT, str(self.root), code_stamps())

    def save(self, noted: Noted, summaries: tuple[EvalSummary, ...], memo: Path | None = None) -> bool:
        """Keep a fresh read for the next start; False when it cannot be kept (see the module's note).

        `memo` is the version memo the summaries were read through: an input too (a memo
        written over by hand is read again), though this very read may just have written it.
        """
        registry = noted.registry
        if any(s.version_error for s in summaries):
            return False  # a failed version read may depend on a file no stamp names (a missing include)
        if os.path.normpath(registry.project.state_dir) != self.state_dir:
            return False  # the next start would not look where this one would write
        paths = inputs(self.root, noted, summaries)
        stamps = [stamp(p) for p in paths]
        limit = self.started - RACY_NS
        if any(s is not None and max(s[2], s[6] if len(s) > 4 else 0) > limit for s in stamps):
            return False
        if memo is not None:
            paths.append(str(memo))
            stamps.append(stamp(str(memo)))
        try:
            folder = cache_dir(registry.state_dir) / FOLDER
            value = _dumps((registry, summaries))
            blob = _dumps((self._head(), {"paths": paths, "stamps": stamps, "value": value}))
        except (OSError, pickle.PicklingError, TypeError):
            return False
        store = open_store(folder)
        if store is None:
            return False
        try:
            store.set(KEY, blob)
        except Exception:  # a full disk, a locked database: the next start reads afresh
            return False
        finally:
            store.close()
        return True


def inputs(root: Path, noted: Noted, summaries: Iterable[EvalSummary]) -> list[str]:
    """Every path whose stamp must be unchanged for the read of `noted` and `summaries` to hold, sorted."""
    files = {FILENAME, *noted.paths}
    for summary in summaries:
        files.update(summary.files)
    folders: set[str] = set()
    for pattern in noted.listings:
        prefix, rest = glob_split(pattern)
        folders.add(prefix)
        if "/" in rest:  # matched below the first folder: every folder under it may be listed
            folders.update(_subfolders(root, prefix))
    for path in [*files, *folders]:
        parent = os.path.dirname(path)
        while parent:  # a folder on the way that becomes a symlink changes what is inside the repository
            folders.add(parent)
            parent = os.path.dirname(parent)
    folders.discard("")
    listed = sorted(files | folders)
    # Globs expanded at the root list the root itself.
    if any(glob_split(p)[0] == "" for p in noted.listings):
        return [str(root), *(os.path.join(root, p) for p in listed)]
    return [os.path.join(root, p) for p in listed]


def _subfolders(root: Path, prefix: str) -> list[str]:
    """Folders below `root/prefix`, symlinked ones followed once, git's directory never entered."""
    out: list[str] = []
    seen: set[tuple[int, int]] = set()
    top = os.path.join(root, prefix) if prefix else str(root)
    for here, dirs, _ in os.walk(top, followlinks=True):
        try:
            st = os.stat(here)
        except OSError:
            dirs[:] = []
            continue
        if (st.st_dev, st.st_ino) in seen:
            dirs[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        dirs[:] = [d for d in dirs if d != ".git"]
        out.extend(os.path.relpath(os.path.join(here, d), root) for d in dirs)
    return out


def _unchanged(paths: object, stamps: object) -> bool:
    if not isinstance(paths, list) or not isinstance(stamps, list) or len(paths) != len(stamps):
        return False
    return all(stamp(p) == s for p, s in zip(paths, stamps, strict=True))


def open_store(folder: Path) -> diskcache.Cache | None:
    """The diskcache store in `folder`, None when it cannot be used (a fresh read follows)."""
    import diskcache  # here: the app's start-up imports this module, and diskcache takes a while

    try:
        return diskcache.Cache(str(folder), size_limit=2**28, sqlite_synchronous=0, disk=safepickle.record_disk())
    except Exception:  # an unusable directory or database: no cache this time
        return None


def _proxy(items: dict[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(items)


class _Pickler(pickle.Pickler):
    dispatch_table = {MappingProxyType: lambda m: (_proxy, (dict(m),))}


def _dumps(value: object) -> bytes:
    out = io.BytesIO()
    _Pickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return out.getvalue()


def _loads(raw: bytes) -> Any:
    return safepickle.loads(raw, extra=frozenset({(__name__, "_proxy")}))
