"""A lineage that starts at a baseline: the commits after it replayed over the state it left, for `check`.

`check` never reports a commit at or before `[project] baseline`, so it does not need the history
before it: the baseline's tree stands in for it as one commit that adds every file (evals.toml
and the version files among them), and the commits after it are replayed over that by the
same `Builder` as a full build. Every eval then has an entry at the baseline carrying the
version it had there, so `since_last_bump` and the kinds of the later entries come out as in
the full lineage. Entries before the baseline are missing and authorship is partial: the
result is never cached, and only a caller that needs no more (the lineage problems) asks
for it. Where the state at the baseline cannot stand for the older history (a branch forked
before the baseline, a followed file or an eval's name that git knows from before it),
`NeedsFullBuild` says so and the caller builds the full lineage.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from evaltui.core.history.blobs import BlobReader
from evaltui.core.history.builder import Builder, NeedsFullBuild
from evaltui.core.history.cache import Result
from evaltui.core.history.fastversions import VersionReader
from evaltui.core.history.gitcmd import finish, git, stream
from evaltui.core.history.logparse import Change, LogRecord, run_log, start_log
from evaltui.core.history.repo import RepoInfo
from evaltui.core.history.tables import Tables
from evaltui.core.registry.model import FILENAME


class Bounded(NamedTuple):
    """Each eval's rows from the baseline on, and the baseline commit's sha."""

    result: Result
    base: str


def bounded(root: Path, repo: RepoInfo, since: str) -> Bounded:
    """Each eval's rows from the baseline `since` (a revision) on, the baseline's own entry included."""
    head = repo.head
    if head is None or repo.shallow:
        raise NeedsFullBuild("no HEAD, or a shallow clone")
    # Four small git commands, started together: the baseline's tree (first: it is read first and
    # takes git longest), the baseline commit itself, the commits after it, and whether evals.toml
    # has any history at or before it.
    tree = stream(root, "ls-tree", "-r", "-z", since, "--", ".")
    meta = stream(root, "log", "-1", "--no-walk", "--format=%H%x00%an%x00%ae%x00%aI%x00%s", since, "--")
    log = start_log(root, ["HEAD", f"^{since}"])
    toml = stream(root, "--literal-pathspecs", "rev-list", "-1", "--full-history", since, "--", FILENAME)
    try:
        base = _baseline_record(meta.stdout.read(), tree.stdout.read())
        records: list[LogRecord] = []
        failed = run_log(root, ["HEAD", f"^{since}"], repo.prefix, True, records.append, log)
        if failed is not None or base is None or finish(meta)[0] or finish(tree)[0]:
            raise NeedsFullBuild(f"the baseline {since!r} cannot be read")
        children = _children(records, base.sha, head)
        with BlobReader(root) as reader:
            vers = VersionReader(reader, {})
            builder = Builder(FILENAME, reader, vers, Tables(), children)
            builder.feed(base)
            at_baseline = set(builder.ever)
            for record in records:
                builder.feed(record)
            builder.prehistory()
            present = base_paths(base) if builder.left else set()
            older = {p for p in builder.left if p not in present}
            # An eval registered after the baseline may have been registered before it too: git's
            # answer (it walked evals.toml's history meanwhile) says whether there is a "before".
            if builder.ever - at_baseline and (toml.stdout.read().strip() or finish(toml)[0]):
                older.add(FILENAME)
            built = builder.rows()
    finally:
        for proc in (tree, meta, log, toml):
            if proc.poll() is None:
                proc.kill()  # not needed (or given up on): no need to wait for its walk either
        for proc in (tree, meta, log, toml):
            finish(proc)
    if older and git(root, "--literal-pathspecs", "rev-list", "-1", "--full-history", base.sha, "--", *sorted(older)):
        raise NeedsFullBuild("a followed file or an eval has history before the baseline")
    if vers.missing:
        raise NeedsFullBuild("blobs are missing")
    rows = {n: tuple(reversed(r)) for n, r in built.items()}
    return Bounded(Result(key=(head, repo.prefix, repo.shallow), rows=rows, notes=()), base.sha)


def base_paths(record: LogRecord) -> set[str]:
    """The paths of the baseline's tree (the stand-in record adds them all)."""
    return {ch.new for ch in record.changes}


def _baseline_record(meta: bytes, tree: bytes) -> LogRecord | None:
    """The baseline as a parentless commit that adds every file of its tree."""
    fields = meta.rstrip(b"\n").split(b"\0")
    if len(fields) != 5 or not fields[0]:
        return None
    changes = []
    watched = False
    for item in tree.split(b"\0"):
        if not item:
            continue
        info, _tab, raw = item.partition(b"\t")
        entry = info.split(b" ")
        if len(entry) != 3:
            return None
        mode, _kind, blob = entry
        if mode == b"160000":
            continue  # a submodule is not a file of any eval (as in the log)
        path = raw.decode("utf-8", "surrogateescape")
        watched = watched or path == FILENAME
        changes.append(Change("A", path, path, None, blob.decode()))
    return LogRecord(
        fields[0].decode(), (), fields[1], fields[2], fields[3].decode(), fields[4], tuple(changes), watched
    )


def _children(records: list[LogRecord], base: str, head: str) -> dict[str, int]:
    """Child counts over the baseline and the commits after it; `NeedsFullBuild` when they reach
    older history another way (a branch forked before the baseline) or HEAD does not descend from it."""
    new = {r.sha for r in records}
    children: dict[str, int] = {}
    for r in records:
        if not r.parents:
            raise NeedsFullBuild("a root commit after the baseline")
        for p in r.parents:
            if p not in new and p != base:
                raise NeedsFullBuild("commits after the baseline join older history")
            children[p] = children.get(p, 0) + 1
    if not records and base != head:
        raise NeedsFullBuild("HEAD is not after the baseline")
    return children
