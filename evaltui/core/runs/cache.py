"""The model-output cache: diskcache under `state_dir/cache`, keyed by model fingerprint and case input.

Two kinds of entry serve one key space. A *case* entry maps (fingerprint, canonical JSON of
one input) to that input's output. A *batch* entry maps (fingerprint, dataset sha256) to the
outputs of every case of that dataset in order, so a warm run of 100,000 cases is one read
instead of 100,000 lookups. Batch entries are written from case results and checked on read;
anything that does not look exactly right is discarded with a warning, never trusted.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import diskcache

from evaltui.core.safepickle import record_disk

SCHEMA = 1
_CASE = "o1:"  # case keys: "o1:<fingerprint>:<canonical input>"
_BATCH = "b1:"  # batch keys: "b1:<fingerprint>:<dataset sha256>"
_MISS = object()


@dataclass(frozen=True)
class CacheStats:
    """What the cache holds: entries, bytes, and case entries per model fingerprint."""

    directory: str
    entries: int
    batches: int
    size_bytes: int
    fingerprints: tuple[tuple[str, int], ...]  # (fingerprint, case entries), most first

    def to_json(self) -> dict[str, Any]:
        return {
            "directory": self.directory,
            "entries": self.entries,
            "batches": self.batches,
            "size_bytes": self.size_bytes,
            "fingerprints": dict(self.fingerprints),
        }


def outputs_dir(state_dir: Path) -> Path:
    """Where a repository's model outputs are cached: its own folder under `state_dir/cache`,
    so clearing or discarding it never touches the lineage cache, the version memo or locks."""
    from evaltui.core.fsutil import cache_dir

    return cache_dir(state_dir) / "outputs"


class OutputCache:
    """Model outputs on disk; every failure of the store degrades to a miss plus a warning."""

    def __init__(self, directory: Path, warn: Callable[[str], None] | None = None):
        self.directory = Path(directory)
        self._warn = warn or (lambda message: None)
        self._cache: diskcache.Cache | None = None
        self._open()

    # -- life cycle ---------------------------------------------------------------------------

    def _open(self) -> None:
        try:
            self._cache = self._connect()
            # A file that sqlite opens lazily can still turn out to be garbage on first query.
            self._cache.get(_BATCH + "probe")
        except Exception as exc:  # corrupt database, unreadable directory, wrong format
            self._discard(
                f"the output cache at {self.directory} is unreadable ({type(exc).__name__}: {exc}); "
                "it was discarded and outputs will be recomputed"
            )

    def _connect(self) -> diskcache.Cache:
        # "none": outputs are costly to recompute, so never evict silently, and reads stay reads
        # (no access-time updates).
        return diskcache.Cache(
            str(self.directory), eviction_policy="none", size_limit=2**62, disk=record_disk()
        )  # a cache planted in a clone runs no code as it is read

    def _discard(self, message: str) -> None:
        self._warn(message)
        if self._cache is not None:
            try:
                self._cache.close()
            except Exception:
                pass
        self._cache = None
        shutil.rmtree(self.directory, ignore_errors=True)
        try:
            self._cache = self._connect()
        except Exception as exc:  # the directory cannot be recreated: run without a cache
            self._warn(f"cannot create the output cache at {self.directory}: {exc}; running uncached")
            self._cache = None

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
            self._cache = None

    def __enter__(self) -> OutputCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reads ---------------------------------------------------------------------------------

    def get_batch(self, fingerprint: str, dataset_sha: str, n: int) -> tuple[list[Any], list[int]] | None:
        """(outputs in dataset order, indices without an output) for a dataset seen before, else None."""
        if self._cache is None:
            return None
        key = f"{_BATCH}{fingerprint}:{dataset_sha}"
        try:
            value = self._cache.get(key, default=None)
        except sqlite3.DatabaseError as exc:
            self._discard(f"the output cache at {self.directory} is corrupt ({exc}); it was discarded")
            return None
        except Exception as exc:  # a truncated or foreign value file
            self._drop(
                key, f"a cached batch for model {fingerprint[:12]} was unreadable ({type(exc).__name__}); discarded"
            )
            return None
        if value is None:
            return None
        ok = (
            isinstance(value, dict)
            and value.get("schema") == SCHEMA
            and value.get("fingerprint") == fingerprint
            and value.get("dataset") == dataset_sha
            and value.get("n") == n
            and isinstance(value.get("outputs"), list)
            and len(value["outputs"]) == n
            and isinstance(value.get("missing"), list)
            and all(isinstance(i, int) and 0 <= i < n for i in value["missing"])
        )
        if not ok:
            self._drop(key, f"a cached batch for model {fingerprint[:12]} did not match its key; discarded")
            return None
        return value["outputs"], value["missing"]

    def get_many(self, fingerprint: str, keyed: Iterable[tuple[int, str]]) -> dict[int, Any]:
        """Outputs for (index, canonical input) pairs that are cached, read in one transaction."""
        if self._cache is None:
            return {}
        found: dict[int, Any] = {}
        prefix = f"{_CASE}{fingerprint}:"
        cache = self._cache
        try:
            with cache.transact():
                for index, text in keyed:
                    value = cache.get(prefix + text, default=_MISS)
                    if value is not _MISS:
                        found[index] = value
        except sqlite3.DatabaseError as exc:
            self._discard(f"the output cache at {self.directory} is corrupt ({exc}); it was discarded")
            return {}
        except Exception as exc:
            self._discard(
                f"the output cache at {self.directory} held an unreadable entry "
                f"({type(exc).__name__}); it was discarded"
            )
            return {}
        return found

    # -- writes --------------------------------------------------------------------------------

    def put_many(self, fingerprint: str, items: Sequence[tuple[str, Any]]) -> None:
        """Store (canonical input, output) pairs in one transaction."""
        if self._cache is None or not items:
            return
        prefix = f"{_CASE}{fingerprint}:"
        cache = self._cache
        try:
            with cache.transact():
                for text, value in items:
                    cache.set(prefix + text, value)
        except Exception as exc:  # unpicklable output, full disk, corrupt database
            self._warn(f"could not store model outputs in the cache ({type(exc).__name__}: {exc})")

    def put_batch(self, fingerprint: str, dataset_sha: str, outputs: list[Any], missing: list[int]) -> None:
        """Store a dataset's outputs in order (`missing`: indices whose call failed, retried next time)."""
        if self._cache is None:
            return
        value = {
            "schema": SCHEMA,
            "fingerprint": fingerprint,
            "dataset": dataset_sha,
            "n": len(outputs),
            "outputs": outputs,
            "missing": missing,
        }
        try:
            self._cache.set(f"{_BATCH}{fingerprint}:{dataset_sha}", value)
        except Exception as exc:
            self._warn(f"could not store model outputs in the cache ({type(exc).__name__}: {exc})")

    def _drop(self, key: str, message: str) -> None:
        self._warn(message)
        try:
            if self._cache is not None:
                self._cache.delete(key)
        except Exception:
            pass

    # -- maintenance ---------------------------------------------------------------------------

    def stats(self) -> CacheStats:
        """Entries, size on disk and case entries per fingerprint."""
        entries = batches = 0
        per: dict[str, int] = {}
        size = 0
        if self._cache is not None:
            try:
                for key in self._cache.iterkeys():
                    entries += 1
                    if isinstance(key, str) and key.startswith(_BATCH):
                        batches += 1
                    elif isinstance(key, str) and key.startswith(_CASE):
                        fp = key[len(_CASE) :].split(":", 1)[0]
                        per[fp] = per.get(fp, 0) + 1
                size = int(self._cache.volume())
            except Exception as exc:
                self._discard(f"the output cache at {self.directory} is corrupt ({exc}); it was discarded")
                return self.stats()
        ranked = tuple(sorted(per.items(), key=lambda kv: (-kv[1], kv[0])))
        return CacheStats(str(self.directory), entries, batches, size, ranked)

    def clear(self) -> int:
        """Remove every entry (and the directory itself); return how many entries there were."""
        try:
            count = len(self._cache) if self._cache is not None else 0
        except Exception:
            count = 0
        self.close()
        shutil.rmtree(self.directory, ignore_errors=True)
        return count
