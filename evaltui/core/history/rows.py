"""After the replay: what each commit did to each eval (transitions), turned into identity-neutral rows."""

from __future__ import annotations

import datetime as dt
import sys
from typing import NamedTuple, TypeAlias

from evaltui.core.history.defs import EvalDef
from evaltui.core.history.fastversions import VersionReader
from evaltui.core.history.logparse import Change, LogRecord
from evaltui.core.history.vkeys import VersionKey
from evaltui.core.textsafe import clean

CONTENT, GONE, MOVED, META = 1, 2, 4, 8  # what a commit did to an eval, before versions are known


class Transition(NamedTuple):
    """What one commit did to one eval, before versions are resolved (they come in `rows`)."""

    at: int  # index of the commit in the builder's records
    hint: str | None  # "created" or "removed" when the replay knows; otherwise decided from versions
    before: VersionKey | None  # version key before the commit (None: no version source)
    after: VersionKey | None  # version key after it
    flags: int  # CONTENT | GONE | MOVED | META
    paths: tuple[str, ...]
    renames: tuple[tuple[str, str], ...]
    note: str | None


class FirstSeen(NamedTuple):
    """Where an eval first appeared in evals.toml, and where its files were then: the walk back starts here."""

    at: int  # index of the commit in the builder's records
    definition: EvalDef  # the eval's definition at that commit
    origins: dict[str, str]  # its file path then -> the path in the commit's parent
    vpath: str | None  # the file that holds its version
    flags: int
    paths: tuple[str, ...]
    renames: tuple[tuple[str, str], ...]


class Hit(NamedTuple):
    """A commit found by the walk back that touched a followed file."""

    at: int  # index of the commit in the builder's records
    change: Change
    at_first: str  # the file's path when the eval was registered


Renames: TypeAlias = tuple[tuple[str, str], ...]  # (old path, new path)
# A commit as rows show it: sha, author name, author email, date, subject (raw identity, cleaned).
CommitMeta: TypeAlias = tuple[str, str, str, dt.datetime, str]
# One entry of an eval's lineage before identities are resolved: `CommitMeta`, then version,
# previous version, kind, paths, valid_for, why, note, renames (the fields of `model.Entry`).
# Plain tuples: the cache holds hundreds of thousands and pickles tuples fastest.
Row: TypeAlias = tuple[
    str,
    str,
    str,
    dt.datetime,
    str,
    str | None,
    str | None,
    str,
    tuple[str, ...],
    str | None,
    str | None,
    str | None,
    Renames,
]


class AfterReplay:
    """The builder's last pass, transitions to rows (mixed into `Builder`, whose state it reads)."""

    # The builder's state this pass reads and extends (set by `Builder.__init__`).
    vers: VersionReader
    records: list[LogRecord]
    trans: dict[str, list[Transition]]
    vpaths: dict[VersionKey | None, str]  # None (no source) is only looked up, never stored
    last_known: dict[str, object]  # eval name -> its last known version (str or None); absent when none yet

    def rows(self) -> dict[str, list[Row]]:
        """Each eval's entries as identity-neutral rows, oldest first."""
        self.vers.fetch()
        meta: dict[int, CommitMeta] = {}
        out: dict[str, list[Row]] = {}
        get = self.vers.get
        hint_of = self.vpaths.get
        # Evals that share files share most of their rows (a task family's template, say): one
        # row object each, which also pickles once and becomes one entry.
        made: dict[tuple[Transition, object], tuple[Row, object]] = {}
        for name, items in self.trans.items():
            last = self.last_known.get(name, _UNSET)
            rows: list[Row] = []
            out[name] = rows
            for t in items:
                again = made.get((t, last))
                if again is not None:
                    rows.append(again[0])
                    last = again[1]
                    continue
                seen = last
                i, hint, pkey, vkey, flags, paths, renames, note = t
                version, valid_for, why, vnote, known = get(vkey, hint_of(vkey, "the version file"))
                if hint == "created":
                    kind, previous = "created", None
                elif hint == "removed":
                    kind, previous, version, valid_for, why, vnote = "removed", get(pkey)[0], None, None, None, None
                else:
                    before = get(pkey, hint_of(pkey, "the version file"))
                    previous = before[0]
                    if not known:
                        bumped = False
                    elif before.determinate:
                        bumped = version != previous
                    elif previous == "unknown":
                        # The blob before is missing from the clone: compare with the last version seen.
                        bumped = last is not _UNSET and version != last
                    else:
                        bumped = version is not None  # from unreadable or absent to readable
                    kind = (
                        "bump"
                        if bumped
                        else "silent"
                        if flags & CONTENT
                        else "removed"
                        if flags & GONE
                        else "renamed"
                        if flags & MOVED
                        else "meta"
                    )
                if known and hint != "removed":
                    last = version
                info = meta.get(i)
                if info is None:
                    info = meta[i] = _commit_meta(self.records[i])
                shown = kind in ("bump", "created")
                row: Row = (
                    *info,
                    version,
                    previous,
                    kind,
                    tuple(map(_shown, paths)),
                    valid_for if shown else None,
                    why if shown else None,
                    "; ".join(x for x in (note, vnote) if x) or None,
                    tuple((_shown(a), _shown(b)) for a, b in renames) if renames else (),
                )
                rows.append(row)
                made[(t, seen)] = (row, last)
            if last is not _UNSET:  # only versions are kept: the sentinel would not survive the cache's pickling
                self.last_known[name] = last
        return out


_UNSET = object()


def _shown(path: str) -> str:
    if path.isprintable():
        return path
    return clean(path.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))


def _commit_meta(record: LogRecord) -> CommitMeta:
    sha, _parents, name, email, date, subject = record[:6]
    try:
        when = dt.datetime.fromisoformat(date)
    except ValueError:
        when = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    # Interned: one object per person, so the cached rows pickle each name once.
    return (sha, sys.intern(_git_text(name)), sys.intern(_git_text(email)), when, _git_text(subject))


def _git_text(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    return text.strip() if text.isprintable() else clean(text, keep_newlines=False).strip()
