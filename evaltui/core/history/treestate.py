"""The repository as one commit left it, as the replay carries it from parent to child."""

from __future__ import annotations

from typing import NamedTuple

from evaltui.core.history.defs import EvalDef
from evaltui.core.history.vkeys import VersionKey

Chain = tuple[tuple[str, str], ...]


class EvalState(NamedTuple):
    """One eval as a commit left it: its own files and its version key."""

    files: dict[str, str]  # the files its table names: path -> blob
    vkey: VersionKey | None
    chain: Chain = ()  # the files its version file includes (lm-eval `include:`), also files of the eval

    def all_files(self) -> dict[str, str]:
        chain = self.chain
        return {**self.files, **dict(chain)} if chain else self.files


class TreeState:
    """The repository as one commit left it: tree, eval definitions and each eval's state."""

    __slots__ = ("blobs", "chained", "defs", "evals", "fixed", "globs", "toml")
    __cache_record__ = True  # kept in the lineage cache; unpickling sets its slots and runs nothing

    def __init__(self) -> None:
        self.blobs: dict[str, str] = {}  # path -> blob sha
        self.toml: str | None = None  # blob of evals.toml
        self.defs: dict[str, EvalDef] = {}
        self.evals: dict[str, EvalState] = {}
        self.fixed: dict[str, tuple[str, ...]] = {}  # fixed path -> eval names
        self.globs: dict[str, tuple[tuple[str, str], ...]] = {}  # literal prefix -> ((pattern, eval name), ...)
        self.chained: dict[str, tuple[str, ...]] = {}  # a file included by a version file -> eval names

    def copy(self) -> TreeState:
        new = TreeState.__new__(TreeState)
        for slot in TreeState.__slots__:
            value = getattr(self, slot)
            setattr(new, slot, value.copy() if isinstance(value, dict) else value)
        return new

    def rechain(self, name: str, old: Chain, new: Chain) -> None:
        """Index the files an eval's version file includes, as they change."""
        olds, news = {p for p, _ in old}, {p for p, _ in new}
        for path in olds - news:
            rest = tuple(n for n in self.chained.get(path, ()) if n != name)
            if rest:
                self.chained[path] = rest
            else:
                self.chained.pop(path, None)
        for path in news - olds:
            self.chained[path] = (*self.chained.get(path, ()), name)

    def reindex(self, name: str, old: EvalDef | None, new: EvalDef | None) -> None:
        if old is not None:
            for path in old.fixed:
                rest = tuple(n for n in self.fixed.get(path, ()) if n != name)
                if rest:
                    self.fixed[path] = rest
                else:
                    self.fixed.pop(path, None)
            for prefix, _pattern in old.globs:
                kept = tuple(x for x in self.globs.get(prefix, ()) if x[1] != name)
                if kept:
                    self.globs[prefix] = kept
                else:
                    self.globs.pop(prefix, None)
        if new is not None:
            for path in new.fixed:
                self.fixed[path] = (*self.fixed.get(path, ()), name)
            for prefix, pattern in new.globs:
                self.globs[prefix] = (*self.globs.get(prefix, ()), (pattern, name))
