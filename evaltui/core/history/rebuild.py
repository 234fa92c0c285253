"""Builds that do not read the whole log from git: from the cached per-commit log, and past a commit git cannot diff."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from evaltui.core.history.blobs import BlobReader
from evaltui.core.history.builder import Builder
from evaltui.core.history.cache import Store
from evaltui.core.history.fastversions import VersionReader
from evaltui.core.history.feed import Lookahead
from evaltui.core.history.gitcmd import finish, stream
from evaltui.core.history.logparse import LOG_ARGS, LOG_CONFIG, LogRecord, Tee, log_commits, parse_log, rev_order
from evaltui.core.history.repo import RepoInfo
from evaltui.core.history.tables import Tables
from evaltui.core.history.vkeys import BlobKey, Resolved
from evaltui.core.registry.model import FILENAME


def replay(
    root: Path, repo: RepoInfo, store: Store, reader: BlobReader, known: dict[BlobKey, Resolved], raw: list[bytes]
) -> tuple[Builder, VersionReader] | None:
    """Rebuild from the per-commit log cached by earlier builds, asking git only for the
    commits it lacks. None when there is no such log or most of the history is new."""
    cached = store.get("log", bytes)
    if not cached:
        return None
    walk = stream(root, "rev-list", "--reverse", "--date-order", "--parents", "HEAD")
    records = {r.sha: r for r in parse_log(io.BytesIO(cached), repo.prefix)}
    out = walk.stdout.read()
    code, _message = finish(walk)
    order = [line.split() for line in out.decode().splitlines()]
    missing = [row[0] for row in order if row[0] not in records]
    if code != 0 or not order or len(missing) * 2 > len(order):
        return None
    fresh: list[bytes] = []
    if missing:
        fetch = stream(
            root,
            *LOG_CONFIG,
            *[a for a in LOG_ARGS if a not in ("--reverse", "--date-order")],
            "--no-walk=unsorted",
            "--stdin",
            "-M",
            stdin=True,
        )
        fetch.pipe_in.write("".join(f"{sha}\n" for sha in missing).encode())
        fetch.pipe_in.close()
        for record in parse_log(Tee(fetch.stdout, fresh), repo.prefix):
            records[record.sha] = record
        code, _message = finish(fetch)
        if code != 0 or any(sha not in records for sha in missing):
            return None
    children: dict[str, int] = {}
    for row in order:
        for parent in row[1:]:
            children[parent] = children.get(parent, 0) + 1
    head = repo.head
    if head is not None:  # always: only a repository with commits is replayed
        children[head] = children.get(head, 0) + 1
    vers = VersionReader(reader, known)
    builder = Builder(FILENAME, reader, vers, Tables(), children, copies=store.get("copies"))
    ahead = Lookahead(builder, reader, FILENAME)
    for row in order:
        ahead(records[row[0]])
    ahead.flush()
    if len(records) <= 1.5 * len(order):  # keep the log while old histories do not crowd it
        raw.append(cached)
        raw.extend(fresh)
    return builder, vers


def resume(
    root: Path, prefix: str, received: list[str], on_record: Callable[[LogRecord], None], notes: list[str], error: str
) -> str | None:
    """Go on after `git log` stopped: the commit it could not diff is read without rename
    detection (only it degrades, with a note), the rest with renames as before.

    A missing object stops git where rename detection needs it. Returns an error only when
    even that cannot get past a commit."""
    order = rev_order(root)
    if order[: len(received)] != received:
        return error
    pos = len(received)
    while pos < len(order):
        count, plain = log_commits(root, order[pos : pos + 1], prefix, False, on_record)
        if plain is not None or count != 1:
            return plain or error
        notes.append(
            f"renames are not followed at {order[pos][:10]}: git could not compare file contents "
            f"({error}); a file moved there shows as removed and added"
        )
        pos += 1
        if pos >= len(order):
            break
        count, failed = log_commits(root, order[pos:], prefix, True, on_record)
        pos += count
        if failed is None:
            break
        error = failed
    return None
