"""The lineage contract the CLI, the TUI, ownership and checks build on, and its pure queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

KINDS = ("created", "bump", "silent", "meta", "renamed", "removed")


@dataclass(frozen=True)
class Entry:
    """One commit in an eval's lineage."""

    commit: str  # full sha
    author: str  # display name, cleaned
    email: str
    member: str | None  # the [people] member (or .mailmap identity) this author is
    date: dt.datetime  # aware
    subject: str  # cleaned, one line
    version: str | None  # version in force after this commit ("unknown" when a blob is missing)
    previous_version: str | None
    kind: str  # one of KINDS
    paths: tuple[str, ...]  # the eval's files this commit touched (new names for renames)
    valid_for: str | None = None
    why: str | None = None
    note: str | None = None  # degradation note for this entry (e.g. a missing blob)
    renames: tuple[tuple[str, str], ...] = ()  # (old path, new path) of the eval's files this commit moved

    def to_json(self) -> dict[str, Any]:
        return {
            "commit": self.commit,
            "author": self.author,
            "email": self.email,
            "member": self.member,
            "date": self.date.isoformat(),
            "subject": self.subject,
            "version": self.version,
            "previous_version": self.previous_version,
            "kind": self.kind,
            "paths": list(self.paths),
            "valid_for": self.valid_for,
            "why": self.why,
            "note": self.note,
            "renames": [list(pair) for pair in self.renames],
        }


@dataclass(frozen=True)
class Authorship:
    """Who is attached to an eval, from git: creator, main author, spread of commits."""

    creator: str | None  # member (or author name when unmapped)
    main_author: str | None
    main_share: float  # share of the eval's commits by the main author, 0..1
    fragmentation: float  # 1 - sum(share^2)
    authors: tuple[tuple[str, int], ...]  # (member or name, commits), most first


@dataclass(frozen=True)
class Lineage:
    """Every eval's lineage and authorship at one HEAD."""

    head: str | None
    entries: dict[str, tuple[Entry, ...]]  # eval name -> its entries, newest first
    authorship: dict[str, Authorship]  # eval name -> who is attached to it
    notes: tuple[str, ...] = ()  # repository-level degradation notes (shallow, no commits, ...)
    source: str = ""  # how it was built: "cache", "incremental", "rebuild" (cached log), "full", "bounded", "" (none)
    since: str | None = None  # a "bounded" lineage: the baseline commit it starts at (its entries are there or after)


@dataclass(frozen=True)
class VersionSpan:
    """One version of an eval as it was in force: where it started and the commits under it."""

    version: str | None
    started: Entry  # the entry that brought this version into force
    entries: tuple[Entry, ...]  # every entry while it was in force, newest first

    @property
    def valid_for(self) -> str | None:
        return self.started.valid_for

    @property
    def why(self) -> str | None:
        return self.started.why


def eval_log(
    lineage: Lineage, name: str, since: dt.date | dt.datetime | None = None, limit: int | None = None
) -> tuple[Entry, ...]:
    """An eval's entries, newest first, optionally only those at or after `since`, at most `limit`."""
    entries = lineage.entries.get(name, ())
    if since is not None:
        if not isinstance(since, dt.datetime):
            since = dt.datetime.combine(since, dt.time())
        if since.tzinfo is None:
            since = since.replace(tzinfo=dt.timezone.utc)
        entries = tuple(e for e in entries if e.date >= since)
    return entries[:limit] if limit is not None and limit >= 0 else entries


def versions_of(lineage: Lineage, name: str) -> tuple[VersionSpan, ...]:
    """The versions an eval went through, newest first, each with the entry it started at.

    A version that comes back later (a revert) is a new span.
    """
    spans: list[tuple[str | None, Entry, list[Entry]]] = []  # (version, its first entry, its entries)
    for entry in reversed(lineage.entries.get(name, ())):
        if entry.kind == "removed" and entry.version is None:
            continue
        if not spans or entry.kind in ("created", "bump") or entry.version != spans[-1][0]:
            spans.append((entry.version, entry, [entry]))
        else:
            spans[-1][2].append(entry)
    return tuple(VersionSpan(v, start, tuple(reversed(items))) for v, start, items in reversed(spans))


def since_last_bump(
    lineage: Lineage, name: str, acknowledged: Iterable[str] = ()
) -> tuple[Entry | None, tuple[Entry, ...]]:
    """The entry that started the current version (a bump, or the creation) and the silent
    changes after it that no commit in `acknowledged` (full or abbreviated shas) covers.

    Silent entries whose version is unknown (a missing blob) are left out: nobody can tell.
    """
    acks = tuple(a.strip().lower() for a in acknowledged if len(a.strip()) >= 7)
    silent: list[Entry] = []
    for entry in lineage.entries.get(name, ()):
        if entry.kind in ("bump", "created"):
            return entry, tuple(silent)
        if entry.kind == "silent" and entry.version != "unknown" and not entry.commit.startswith(acks):
            silent.append(entry)
    return None, tuple(silent)
