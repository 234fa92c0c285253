"""Replaying commit records, parents first, over the tree and each eval's definition and files."""

from __future__ import annotations

import bisect
from typing import Any

from evaltui.core.history.blobs import BlobReader
from evaltui.core.history.defs import EvalDef
from evaltui.core.history.fastversions import VersionReader
from evaltui.core.history.logparse import Change, CopySource, LogRecord
from evaltui.core.history.rows import (
    CONTENT,
    GONE,
    META,
    MOVED,
    AfterReplay,
    FirstSeen,
    Transition,
)
from evaltui.core.history.tables import Tables
from evaltui.core.history.treestate import EvalState, TreeState
from evaltui.core.history.vkeys import BlobKey, FileSource, KeySpec, VersionKey
from evaltui.core.history.walkback import WalkBack
from evaltui.core.registry.model import glob_pattern


class NeedsFullBuild(Exception):
    """An incremental refresh met something only a full replay can place (e.g. older files)."""


class Builder(WalkBack, AfterReplay):
    """Replays commit records in order (parents first) into per-eval transitions."""

    def __init__(
        self,
        toml: str,
        reader: BlobReader,
        vers: VersionReader,
        tables: Tables,
        children: dict[str, int],
        *,
        start: dict[str, Any] | None = None,
        copies: dict[tuple[str, str], CopySource | None] | None = None,
    ):
        self.toml = toml
        self.reader = reader
        self.vers = vers
        self.tables = tables
        self.children = children
        self.lines: dict[str, TreeState] = {}
        self.last_line: TreeState | None = None
        self.records: list[LogRecord] = []
        self.trans: dict[str, list[Transition]] = {}
        self.first_def: dict[str, FirstSeen] = {}
        self.vpaths: dict[VersionKey | None, str] = {}
        self.copies = {} if copies is None else copies  # (commit, added path) -> where it was copied from
        self.prekeys = {}
        self.keyed: set[str] = set()  # structured version files and what they include: read ahead
        self.notes: list[str] = []
        self.left: set[str] = set()
        self.ever: set[str] = set()
        self.last_known: dict[str, object] = {}
        self.incremental = start is not None
        self._sorted: tuple[int, list[str]] = (-1, [])  # (commit index, its tree's paths sorted)
        self._touched: tuple[int, dict[str, Change]] = (-1, {})  # (commit index, new path -> its change)
        if start is not None:
            self.lines[start["head"]] = start["line"]
            self.children[start["head"]] = self.children.get(start["head"], 0) + 1
            self.ever = set(start["ever"])
            self.last_known = dict(start["last_known"])

    def feed(self, record: LogRecord) -> None:
        i = len(self.records)
        self.records.append(record)
        sha, parents, changes = record.sha, record.parents, record.changes
        lines, children = self.lines, self.children
        first = parents[0] if parents else None
        if first in lines:
            left = children.get(first, 1) - 1
            children[first] = left
            line = lines.pop(first) if left <= 0 else lines[first].copy()
        else:
            line = TreeState()  # a root, or the boundary of a shallow clone
        blobs, toml = line.blobs, self.toml
        for kind, old, new, _ob, nb in changes:
            if kind == "D" or nb is None:  # only a deletion has no new blob
                blobs.pop(old, None)
            else:
                if kind == "R":
                    blobs.pop(old, None)
                blobs[new] = nb
        changed: dict[str, EvalDef | None] = {}
        if record.watched and blobs.get(toml) != line.toml:
            changed = self._new_defs(line, blobs.get(toml), sha)
        affected = dict.fromkeys(changed)
        fixed, globs, chained = line.fixed, line.globs, line.chained
        for ch in changes:
            for path in (ch.old,) if ch.old == ch.new else (ch.old, ch.new):
                names = fixed.get(path)
                if names:
                    affected.update(dict.fromkeys(names))
                if chained:
                    names = chained.get(path)
                    if names:
                        affected.update(dict.fromkeys(names))
                if globs:
                    j = 0
                    while True:
                        for pattern, name in globs.get(path[:j], ()):
                            if glob_pattern(pattern).match(path):
                                affected[name] = None
                        j = path.find("/", j) + 1
                        if j == 0:
                            break
        if affected:
            if len(affected) >= 8:  # many evals at once (an adoption): one round trip for their files
                prefetch = self.vers.prefetch
                for name in affected:
                    d = line.defs.get(name)
                    if d is not None and d.vfile is not None:
                        prefetch(d.vfile, blobs)
                self.reader.send()
            others = [lines.get(p) for p in parents[1:]]
            for name in affected:
                self._eval(i, name, line, changes, changed, others, len(parents) > 1)
        for parent in parents[1:]:
            if parent in lines:
                left = children.get(parent, 1) - 1
                children[parent] = left
                if left <= 0:
                    del lines[parent]
        if children.get(sha, 0) > 0:
            lines[sha] = line
        self.last_line = line

    def _new_defs(self, line: TreeState, blob: str | None, sha: str) -> dict[str, EvalDef | None]:
        new: dict[str, EvalDef] | None
        if blob is None:
            new = {}
        else:
            if blob in self.tables.by_blob:
                new = self.tables.by_blob[blob]
            else:
                content = self.reader.get(blob)
                if content is None:
                    self.vers.missing.add(blob)
                new = self.tables.defs(blob, content, line.toml)
            if new is None:
                why = "is missing from this clone" if blob in self.vers.missing else "cannot be parsed"
                self.notes.append(f"evals.toml at {sha[:10]} {why}; its evals keep the definitions they had before")
                line.toml = blob
                return {}
        old = line.defs
        delta = self.tables.delta.get(blob) if blob is not None else None
        if delta is not None and delta[0] == line.toml:
            candidates = delta[1]  # the tables that differ from this parent's, known from the text
        else:
            candidates = {name for name, _ in new.items() ^ old.items()}  # defs compare by identity
        line.toml = blob
        changed: dict[str, EvalDef | None] = {}
        for name in candidates:
            before, after = old.get(name), new.get(name)
            if before is after:
                continue
            if before is None or after is None or before.table != after.table:
                changed[name] = before
                if before is None or after is None or before.files_key != after.files_key:
                    line.reindex(name, before, after)
        line.defs = new
        return changed

    def _eval(
        self,
        i: int,
        name: str,
        line: TreeState,
        changes: tuple[Change, ...],
        changed: dict[str, EvalDef | None],
        others: list[TreeState | None],
        merge: bool,
    ) -> None:
        prev = line.evals.get(name)
        d = line.defs.get(name)
        before = changed.get(name, d)
        if d is None:
            if prev is None:
                return
            del line.evals[name]
            if prev.chain:
                line.rechain(name, prev.chain, ())
            if merge and any(o is not None and name not in o.defs for o in others):
                return  # the removal came from the other line, which has its own entry
            self._emit(
                name,
                Transition(
                    i, "removed", prev.vkey, None, 0, tuple(sorted(prev.all_files())), (), "removed from evals.toml"
                ),
            )
            return
        blobs = line.blobs
        if prev is None or (before is not d and (before is None or before.files_key != d.files_key)):
            files = {p: blobs[p] for p in d.fixed if p in blobs}
            for prefix, pattern in d.globs:
                rx = glob_pattern(pattern)
                files.update((p, blobs[p]) for p in self._under(i, blobs, prefix) if rx.match(p))
        else:
            files = prev.files
            copied = False
            for kind, old, new, _ob, nb in changes:
                if kind in ("D", "R") and old in files:
                    if not copied:
                        files, copied = dict(files), True
                    del files[old]
                if nb is not None and d.matches(new):  # not a deletion
                    if not copied:
                        files, copied = dict(files), True
                    files[new] = nb
        vspec = d.vspec
        vkey: VersionKey | None
        if isinstance(vspec, FileSource):
            vkey = self.vers.key(vspec, blobs)
            if isinstance(vkey, BlobKey) and (prev is None or prev.vkey != vkey):
                self.vpaths.setdefault(vkey, vspec.path)
                self.vers.want(vkey, vspec.path)
        else:
            vkey = vspec  # inline, unreadable or none: the source is its own key
        state = line.evals[name] = EvalState(files, vkey, vkey.chain if type(vkey) is BlobKey else ())
        if state.chain or (prev is not None and prev.chain):
            line.rechain(name, prev.chain if prev is not None else (), state.chain)
            self.keyed.update(p for p, _ in state.chain)
        if isinstance(vspec, FileSource) and isinstance(vspec.spec, KeySpec):
            self.keyed.add(vspec.path)
        if merge:
            sources = [(prev, before)] + [(o.evals.get(name), o.defs.get(name)) for o in others if o is not None]
            found = [(s, sd) for s, sd in sources if s is not None]
            if found and not _merge_changed(state, d, found):
                return
            if prev is not None and before is d and self._taken_from_unregistered(state, vspec, others, name):
                return  # the branch's own commits are the eval's (found by the walk back), not the merge
            if prev is None and found:
                prev, before = found[0]
        every = state.all_files()
        if prev is None:
            note = "added to evals.toml again" if name in self.ever else None
            if name not in self.ever:
                self._first(i, name, d, every, changes)
            self.ever.add(name)
            self._emit(name, Transition(i, "created", None, vkey, 0, tuple(sorted(every)), (), note))
            return
        flags = 0
        paths: list[str] = []
        renames: list[tuple[str, str]] = []
        old_files = prev.all_files()
        files = every
        if files is not old_files:
            moved: dict[str, str] = {}  # new path -> old path
            for kind, old, new, _ob, _nb in changes:
                if kind == "R" and old in old_files and new in files:
                    moved[new] = old
                    renames.append((old, new))
                    flags |= MOVED | (CONTENT if old_files[old] != files[new] else 0)
            for path, blob in files.items():
                if path in moved:
                    paths.append(path)
                elif old_files.get(path) != blob:
                    flags |= CONTENT
                    paths.append(path)
            sources_moved = set(moved.values())
            for path in old_files:
                if path not in files and path not in sources_moved:
                    paths.append(path)
                    flags |= CONTENT if path in blobs else GONE
        if before is not None and before is not d:
            if before.sem != d.sem:
                flags |= CONTENT
            if before.meta != d.meta:
                flags |= META
        if flags or vkey != prev.vkey:
            self._emit(
                name,
                Transition(
                    i, None, prev.vkey, vkey, flags, tuple(sorted(paths)), tuple(renames), "merge" if merge else None
                ),
            )

    def _taken_from_unregistered(
        self, state: EvalState, vspec: object, others: list[TreeState | None], name: str
    ) -> bool:
        """Whether a merge took the eval's files and version as they are from a parent that does not
        register the eval (a branch forked before the registration): TREESAME to it, as git says."""
        every = state.all_files()
        for other in others:
            if other is None or name in other.defs:
                continue
            blobs = other.blobs
            same = all(blobs.get(p) == b for p, b in every.items())
            if same and (not isinstance(vspec, FileSource) or self.vers.key(vspec, blobs) == state.vkey):
                return True
        return False

    def _under(self, i: int, blobs: dict[str, str], prefix: str) -> list[str]:
        """The paths of commit `i`'s tree under `prefix` (sorted once per commit that asks)."""
        if self._sorted[0] != i:
            self._sorted = (i, sorted(blobs))
        paths = self._sorted[1]
        start = bisect.bisect_left(paths, prefix)
        end = bisect.bisect_left(paths, prefix + "\U0010ffff") if prefix else len(paths)
        return paths[start:end]

    def _first(self, i: int, name: str, d: EvalDef, files: dict[str, str], changes: tuple[Change, ...]) -> None:
        """Remember where an eval's files came from when it first appears, to look further back."""
        if self._touched[0] != i:
            self._touched = (i, {ch.new: ch for ch in changes})
        touched = self._touched[1]
        origins, flags, paths, renames = {}, 0, [], []
        older = False  # whether a file existed before this commit
        for path in files:
            ch = touched.get(path)
            if ch is None:
                origins[path] = path
                older = True
                continue
            origins[path] = ch.old
            paths.append(path)
            if ch.kind == "A":
                # Born with the eval, but like `git log --follow` the walk goes on: a side
                # branch may have added the same file, or it existed once and was deleted.
                flags |= CONTENT
                continue
            older = True
            if ch.kind == "R":
                renames.append((ch.old, path))
                flags |= MOVED | (CONTENT if ch.old_blob != ch.new_blob else 0)
            else:
                flags |= CONTENT
        if origins:
            if self.incremental:
                if not older:
                    return  # new files on top of a known history: nothing older to find
                raise NeedsFullBuild(name)
            vpath = d.vfile.path if d.vfile is not None else None
            self.first_def[name] = FirstSeen(i, d, origins, vpath, flags, tuple(sorted(paths)), tuple(renames))

    def _emit(self, name: str, item: Transition) -> None:
        items = self.trans.get(name)
        if items is None:
            self.trans[name] = [item]
        else:
            items.append(item)


def _merge_changed(state: EvalState, d: EvalDef, sources: list[tuple[EvalState, EvalDef | None]]) -> bool:
    """Whether a merge itself changed an eval: a file, the version or the table unlike every parent."""
    files, vkey = state.files, state.vkey
    if any(s.files == files and s.vkey == vkey and sd is not None and sd.table == d.table for s, sd in sources):
        return False
    paths = set(files).union(*(s.files for s, _ in sources))
    if any(all(s.files.get(p) != files.get(p) for s, _ in sources) for p in paths):
        return True
    if all(sd is None or sd.table != d.table for _, sd in sources):
        return True
    return all(s.vkey != vkey for s, _ in sources)
