"""An incremental refresh: the commits on top of the cached HEAD replayed alone over the state kept there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evaltui.core.history.blobs import BlobReader
from evaltui.core.history.builder import Builder, NeedsFullBuild
from evaltui.core.history.cache import BuildKey, CachedResult, Result, Rows, Store, save_result
from evaltui.core.history.fastversions import VersionReader
from evaltui.core.history.gitcmd import Streamed
from evaltui.core.history.logparse import LogRecord, run_log
from evaltui.core.history.repo import RepoInfo
from evaltui.core.history.tables import Tables
from evaltui.core.history.vkeys import BlobKey, Resolved
from evaltui.core.registry.model import FILENAME


def incremental(
    root: Path,
    repo: RepoInfo,
    store: Store,
    key: BuildKey,
    snap: dict[str, Any],
    previous: CachedResult,
    log: Streamed | None = None,
) -> Result:
    # `snap` is read back from the cache unchecked: whatever is wrong in it raises, and the
    # caller falls back to a full replay.
    head = key[0]
    old = snap["key"][0]
    records: list[LogRecord] = []
    if run_log(root, ["HEAD", f"^{old}"], repo.prefix, True, records.append, log) is not None:
        raise NeedsFullBuild("the previous HEAD is gone")
    new = {r.sha for r in records}
    if not any(old in r.parents for r in records):
        raise NeedsFullBuild("history was rewritten")
    children: dict[str, int] = {}
    for r in records:
        for p in r.parents:
            if p not in new and p != old:
                raise NeedsFullBuild("new commits join older history")
            children[p] = children.get(p, 0) + 1
    children[head] = children.get(head, 0) + 1
    known: dict[BlobKey, Resolved] = dict(snap["vcur"])
    with BlobReader(root) as reader:
        vers = VersionReader(reader, known)
        builder = Builder(FILENAME, reader, vers, Tables(), children, start={**snap, "head": old})
        for record in records:
            builder.feed(record)
        builder.prehistory()
        built = builder.rows()
    if vers.missing:
        raise NeedsFullBuild("blobs are missing")
    fresh: Rows = {name: tuple(reversed(items)) for name, items in built.items()}
    rows: Rows = dict(previous["rows"])
    for name, items in fresh.items():
        rows[name] = items + rows.get(name, ())
    notes = tuple(dict.fromkeys((*previous["notes"], *builder.notes)))
    line = builder.lines[head]
    more: dict[str, object] = {
        "snapshot": {
            "key": key,
            "line": line,
            "ever": builder.ever,
            "last_known": builder.last_known,
            "vcur": {v.vkey: known[v.vkey] for v in line.evals.values() if v.vkey in known},
        }
    }
    if len(known) > len(snap["vcur"]):
        more["versions"] = {**(store.get("versions") or {}), **known}
    save_result(store, key, rows, notes, previous, fresh, **more)
    return Result(key=key, rows=rows, notes=notes)
