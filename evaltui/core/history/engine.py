"""Loading a lineage: from the cache, by an incremental refresh, or by a full replay of the log."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from evaltui.core import fsutil
from evaltui.core.errors import GitError
from evaltui.core.gcpause import paused_gc
from evaltui.core.history.blobs import BlobReader
from evaltui.core.history.bounded import bounded
from evaltui.core.history.builder import Builder, NeedsFullBuild
from evaltui.core.history.cache import BuildKey, CachedResult, Result, Store, read_result, save_result
from evaltui.core.history.fastversions import VersionReader
from evaltui.core.history.feed import Lookahead, count_children, start_parents
from evaltui.core.history.gitcmd import Streamed, finish
from evaltui.core.history.identities import Identities, materialize
from evaltui.core.history.incremental import incremental
from evaltui.core.history.logparse import LogRecord, run_log, start_log
from evaltui.core.history.model import Lineage
from evaltui.core.history.rebuild import replay, resume
from evaltui.core.history.repo import RepoInfo, probe
from evaltui.core.history.tables import Tables
from evaltui.core.history.vkeys import BlobKey, Resolved
from evaltui.core.registry.model import FILENAME

if TYPE_CHECKING:
    from evaltui.core.registry.model import Registry

# -- the lineage engine ------------------------------------------------------------------------
#
# One `git log --reverse --raw -M -z` stream is parsed as it arrives and replayed commit by
# commit, parents first, over a model of the tree (path -> blob), the eval definitions of that
# commit's evals.toml, and each eval's files and version source. Blobs (evals.toml, version
# files) go through one `git cat-file --batch`, requested ahead of need while the log streams.
# Versions are resolved once per (blob, source) and cached; the state at HEAD is kept so that
# new commits on top of it are replayed alone. History from before an eval was registered is
# found afterwards by walking back from its files (renames followed by path). Here: the choice
# between the cache, an incremental refresh (`incremental`), a rebuild from the cached log or
# past a failing commit (`rebuild`), and a full replay of one log stream (`feed`).


def load_lineage(registry: Registry, *, cache_dir: Path | None = None, since: str | None = None) -> Lineage:
    """Every eval's lineage and authorship at HEAD, from the cache when HEAD has not moved.

    With `since` (a revision HEAD descends from, `[project] baseline`) and nothing cached, only
    the commits after it are replayed, over the state it left (`bounded`): entries before it
    are missing and authorship counts only the commits after it, which is all the lineage
    problems need. Such a lineage (`source` "bounded") is never cached; when it cannot be
    told apart from the full one's the full lineage is built instead.

    Never raises for the state of the repository: a missing repository, no commits, a shallow
    or partial clone become notes on the result.
    """
    with paused_gc():  # hundreds of thousands of small tuples that all outlive the build
        return _load(registry, Path(cache_dir) if cache_dir else _default_cache(registry.state_dir), since)


def _load(registry: Registry, cache_dir: Path, since: str | None = None) -> Lineage:
    names = tuple(registry.evals)
    # Written behind: the lineage is returned once built, the cache written in a thread.
    store = Store(cache_dir, behind=True)
    cached = store.existed
    result: Result | None = None
    previous: CachedResult | None = None
    if cached:
        result = previous = read_result(store)
    repo, problem = probe(registry.root)
    if repo is None or repo.head is None:
        store.close()
        return materialize({}, None, names, (problem,) if problem is not None else (), None)
    identities = Identities(registry, repo.mailmap)
    live = (f"HEAD is detached at {repo.head[:10]}",) if repo.detached else ()
    key: BuildKey = (repo.head, repo.prefix, repo.shallow)
    if since is not None and not cached:
        try:
            built, base = bounded(registry.root, repo, since)
        except (NeedsFullBuild, GitError):
            pass
        else:
            store.close()  # nothing was written: a bounded lineage is never cached
            lineage = materialize(built["rows"], identities, names, live, repo.head, "bounded")
            return dataclasses.replace(lineage, since=base)
    # Without a cache the whole history is read anyway: let git start walking at once.
    try:
        early = None if cached else _start_full(registry.root)
    except GitError as exc:  # git itself is not installed
        store.close()
        return materialize({}, None, names, (str(exc),), None)
    try:
        source = "cache"
        if result is None or result["key"] != key:
            result, source = _refresh(registry.root, repo, store, key, previous, early)
            early = None
        return materialize(result["rows"], identities, names, (*result["notes"], *live), repo.head, source)
    finally:
        store.close()  # after `materialize`: the write behind does not compete with it
        if early is not None:
            for proc in early:
                _stop(proc)


def _start_full(root: Path) -> tuple[Streamed, Streamed]:
    """The two walks of a full build: child counts, and the log itself."""
    return start_parents(root), start_log(root, ["HEAD"])


def _stop(proc: Streamed) -> None:
    if proc.poll() is None:
        proc.kill()
    finish(proc)


def _refresh(
    root: Path,
    repo: RepoInfo,
    store: Store,
    key: BuildKey,
    previous: CachedResult | None,
    early: tuple[Streamed, Streamed] | None = None,
) -> tuple[Result, str]:
    if early is not None:
        return _full(root, repo, store, key, early, previous)
    log = start_log(root, ["HEAD", f"^{previous['key'][0]}"]) if previous else None
    snap = store.get("snapshot")  # read while git walks the new commits
    if previous and snap and snap.get("key") == previous["key"] and snap["key"][1:] == key[1:]:
        try:
            return incremental(root, repo, store, key, snap, previous, log), "incremental"
        except (NeedsFullBuild, KeyError, TypeError, AttributeError, ValueError):
            pass  # anything surprising in the snapshot: a full replay is always right
    if log is not None:
        _stop(log)
    return _full(root, repo, store, key, previous=previous)


def _full(
    root: Path,
    repo: RepoInfo,
    store: Store,
    key: BuildKey,
    early: tuple[Streamed, Streamed] | None = None,
    previous: CachedResult | None = None,
) -> tuple[Result, str]:
    """Replay the whole history at HEAD: from the cached per-commit log when most of it is
    still there (history was rewritten), else from one `git log` stream (renames off if git
    cannot compare contents)."""
    head = key[0]
    known: dict[BlobKey, Resolved] = store.get("versions") or {}
    notes: list[str] = []
    raw: list[bytes] = []
    source = "full"
    error: str | None
    with BlobReader(root) as reader:
        replayed = None if early is not None else replay(root, repo, store, reader, known, raw)
        if replayed is not None:
            builder, vers = replayed
            error = None
            source = "rebuild"
        else:
            # The walk for child counts runs beside the log: both start before either is read.
            rev_list, log = early or (start_parents(root), start_log(root, ["HEAD"]))
            early = None
            vers = VersionReader(reader, known)
            children: dict[str, int] = {}
            builder = Builder(FILENAME, reader, vers, Tables(), children, copies=store.get("copies"))
            ahead = Lookahead(builder, reader, FILENAME)
            received: list[str] = []
            counting = True

            def counted(record: LogRecord) -> None:
                nonlocal counting
                if counting:
                    counting = False
                    count_children(rev_list, children, head)
                received.append(record.sha)
                ahead(record)

            error = run_log(root, ["HEAD"], repo.prefix, True, counted, log, raw)
            count_children(rev_list, children, head)
            if error is not None:
                raw.clear()
                error = resume(root, repo.prefix, received, counted, notes, error)
            ahead.flush()
            if error is not None:
                notes.append(f"history is incomplete: git log failed ({error})")
        builder.prehistory()
        rows = builder.rows()
    notes.extend(_dedupe(builder.notes))
    if repo.shallow:
        notes.append(_shallow_note(repo.shallow, builder.records))
    if vers.missing:
        notes.append(
            f"{len(vers.missing)} blob(s) are missing from this clone (a partial clone?): a version "
            "held in one shows as 'unknown'; an evals.toml among them is skipped"
        )
    result = Result(key=key, rows={n: tuple(reversed(r)) for n, r in rows.items()}, notes=tuple(notes))
    if not vers.missing and error is None:
        line = builder.lines.get(head, builder.last_line)
        more: dict[str, object] = {}
        if raw:
            more["log"] = b"".join(raw)
        save_result(
            store,
            key,
            result["rows"],
            result["notes"],
            previous,
            None,
            **more,
            versions=known if len(known) < 200_000 else {},
            copies=builder.copies,
            snapshot={
                "key": key,
                "line": line,
                "ever": builder.ever,
                "last_known": builder.last_known,
                "vcur": {v.vkey: known[v.vkey] for v in (line.evals.values() if line else ()) if v.vkey in known},
            },
        )
    return result, source


def _dedupe(notes: list[str], keep: int = 3) -> list[str]:
    unique = list(dict.fromkeys(notes))
    if len(unique) <= keep:
        return unique
    return [*unique[:keep], f"... and {len(unique) - keep} more like these"]


def _shallow_note(boundary: tuple[str, ...], records: list[LogRecord]) -> str:
    dates = {r.sha: r.date[:10] for r in records if r.sha in boundary}
    where = ", ".join(f"{sha[:10]} ({dates[sha]})" if sha in dates else sha[:10] for sha in boundary[:3])
    return (
        f"this is a shallow clone: history stops at {where}; evals that existed then show as created "
        "there (run `git fetch --unshallow` for the full lineage)"
    )


def _default_cache(state_dir: Path) -> Path:
    try:
        return fsutil.cache_dir(state_dir) / "lineage"
    except OSError:
        return Path(state_dir) / "cache" / "lineage"  # the store reports what it cannot write
