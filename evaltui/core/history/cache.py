"""The lineage cache: one diskcache store holding the rows, the raw log and the state at HEAD."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias, TypedDict, TypeVar, overload

from evaltui.core.history.rows import Row

if TYPE_CHECKING:
    import diskcache

SCHEMA = 10  # of the cache; another value is discarded (10: copies followed for single-file evals only)


BuildKey: TypeAlias = tuple[str, str, tuple[str, ...]]  # (HEAD, registry prefix, shallow boundary)
Rows: TypeAlias = dict[str, tuple[Row, ...]]  # eval name -> its rows, newest first


class Result(TypedDict):
    """A lineage build: the key it was built for, each eval's rows and the repository's notes."""

    key: BuildKey
    rows: Rows
    notes: tuple[str, ...]


class CachedResult(Result):
    """A build as read back: its rows are the stored base with the delta on top."""

    base: str  # the HEAD whose full build holds the base rows
    delta: Rows  # rows added by incremental refreshes since


_T = TypeVar("_T")


_writes: dict[Path, threading.Thread] = {}  # cache directory -> its write still under way
_writes_lock = threading.Lock()


def wait_for_writes(path: Path) -> None:
    """Return once this process's write behind to the cache at `path` (if any) is done."""
    with _writes_lock:
        writer = _writes.get(path)
    if writer is not None:
        writer.join()


class Store:
    """The lineage cache (diskcache): anything unreadable or from another schema is thrown away.

    It is opened on first use. With `behind`, writes are kept until `close`, which makes them
    in a thread: a lineage is returned as soon as it is built, and the cache is written while
    it is shown. The thread is not a daemon, so a process waits for it before it exits, and
    the next `Store` on the same directory waits for it before reading.
    """

    def __init__(self, path: Path, *, behind: bool = False) -> None:
        wait_for_writes(path)
        self.path = path
        self.behind = behind
        self.existed = (path / "cache.db").exists()
        self._cache: diskcache.Cache | None = None
        self._opened = False
        self._ops: list[tuple[str, dict[str, object]]] = []  # ("save", values) or ("drop", {key: None})

    @property
    def cache(self) -> diskcache.Cache | None:
        if not self._opened:
            self._opened = True
            try:
                self._cache = self._open()
            except Exception:  # a corrupt database or a directory we cannot use: start over once
                shutil.rmtree(self.path, ignore_errors=True)
                try:
                    self._cache = self._open()
                except Exception:
                    self._cache = None
        return self._cache

    def _open(self) -> diskcache.Cache:
        import diskcache  # only when history is loaded: it takes a while to import

        from evaltui.core.safepickle import record_disk  # a cache planted in a clone runs no code

        # No fsync: after a crash the worst case is a cache that fails to read, and that is
        # thrown away and rebuilt like any other.
        cache = diskcache.Cache(str(self.path), size_limit=2**30, sqlite_synchronous=0, disk=record_disk())
        if cache.get("schema") != SCHEMA:
            cache.clear()
            cache.set("schema", SCHEMA)
        return cache

    @overload
    def get(self, key: str) -> dict[Any, Any] | None: ...
    @overload
    def get(self, key: str, kind: type[_T]) -> _T | None: ...

    def get(self, key: str, kind: type[object] = dict) -> object:
        """The value under `key` when it is a `kind`, else None (unreadable values are dropped)."""
        if not self.existed and not self._opened:
            return None  # a cache that did not exist holds nothing: no need to create it to find out
        cache = self.cache
        if cache is None:
            return None
        try:
            value = cache.get(key)
        except Exception:  # unpickling garbage, a vanished value file, a locked database
            self.reset()
            return None
        return value if isinstance(value, kind) else None

    def save(self, **values: object) -> None:
        """Write several values in one transaction (at `close` when writing behind)."""
        if self.behind:
            self._ops.append(("save", values))
        else:
            self._save(values)

    def _save(self, values: dict[str, object]) -> None:
        cache = self.cache
        if cache is None:
            return
        try:
            with cache.transact():
                for key, value in values.items():
                    cache.set(key, value)
        except Exception:
            self.reset()

    def drop(self, key: str) -> None:
        if self.behind:
            self._ops.append(("drop", {key: None}))
        else:
            self._drop(key)

    def _drop(self, key: str) -> None:
        cache = self.cache
        if cache is not None:
            try:
                cache.delete(key)
            except Exception:
                self.reset()

    def reset(self) -> None:
        if self._cache is None:
            return
        try:
            self._cache.clear()
            self._cache.set("schema", SCHEMA)
        except Exception:
            self._cache = None

    def close(self) -> None:
        """Close the store; writes kept behind are made, then the store closed, in a thread."""
        if self._ops:
            ops, self._ops = self._ops, []
            writer = threading.Thread(target=self._write, args=(ops,), name="evaltui-lineage-cache")
            with _writes_lock:
                _writes[self.path] = writer
            writer.start()
        elif self._cache is not None:
            self._cache.close()

    def _write(self, ops: list[tuple[str, dict[str, object]]]) -> None:
        try:
            for op, values in ops:
                if op == "save":
                    self._save(values)
                else:
                    self._drop(next(iter(values)))
            if self._cache is not None:
                self._cache.close()
        except Exception:  # a cache that cannot be written is rebuilt next time; never an error here
            pass
        finally:
            with _writes_lock:
                if _writes.get(self.path) is threading.current_thread():
                    del _writes[self.path]


# The rows of a build are kept as one large base, written by full builds, plus a small delta
# that incremental refreshes rewrite; the base is folded in again when the delta grows.
_FOLD_AT = 2000


def read_result(store: Store) -> CachedResult | None:
    meta = store.get("result")
    if not meta or not isinstance(meta.get("delta"), dict) or not isinstance(meta.get("notes"), tuple):
        return None
    base = store.get(f"rows:{meta.get('base')}")
    if base is None:
        return None
    rows: Rows = dict(base)
    for name, items in meta["delta"].items():
        rows[name] = items + base.get(name, ())
    return CachedResult(key=meta["key"], notes=meta["notes"], base=meta["base"], delta=meta["delta"], rows=rows)


def save_result(
    store: Store,
    key: BuildKey,
    rows: Rows,
    notes: tuple[str, ...],
    previous: CachedResult | None = None,
    fresh: Rows | None = None,
    /,
    **more: object,
) -> None:
    """Write a full result, or only the new rows on top of `previous` when they are few.

    `more` are other values of the store written in the same transaction (the snapshot, ...).
    """
    if previous is not None and fresh is not None:
        delta = dict(previous["delta"])
        for name, items in fresh.items():
            delta[name] = items + delta.get(name, ())
        if sum(len(v) for v in delta.values()) < _FOLD_AT:
            store.save(result={"key": key, "notes": notes, "base": previous["base"], "delta": delta}, **more)
            return
    base = key[0]
    old = previous["base"] if previous else None
    store.save(**{f"rows:{base}": rows}, result={"key": key, "notes": notes, "base": base, "delta": {}}, **more)
    if old and old != base:
        store.drop(f"rows:{old}")
