"""Raw git identities resolved through `.mailmap` and `[people]`, and rows materialised as a Lineage."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from evaltui.core.history.model import Authorship, Entry, Lineage
from evaltui.core.history.rows import Row

if TYPE_CHECKING:
    import git as gitpython


_MAILMAP_LINE = re.compile(r"^\s*([^<#]*?)\s*<([^>]*)>\s*(?:([^<#]*?)\s*<([^>]*)>)?\s*(?:#.*)?$")


class MemberLookup(Protocol):
    """What identities need from the registry: the `[people]` member an email belongs to."""

    def member_for_email(self, email: str) -> str | None: ...


class Identities:
    """Raw git identities → (name, email, member), through `.mailmap` and `[people]` emails."""

    def __init__(self, registry: MemberLookup, text: str) -> None:
        # (commit name or None, commit email) -> (proper name, proper email), either may be None
        self._map: dict[tuple[str | None, str], tuple[str | None, str | None]] = {}
        for line in text.splitlines():
            m = _MAILMAP_LINE.match(line)
            if not m:
                continue
            proper, first, commit_name, second = m.groups()
            if second is None:
                self._map[(None, first.lower())] = (proper or None, None)
            else:
                self._map[(commit_name.lower() if commit_name else None, second.lower())] = (proper or None, first)
        self._registry = registry
        self._seen: dict[tuple[str, str], tuple[str, str, str | None]] = {}

    def __call__(self, name: str, email: str) -> tuple[str, str, str | None]:
        key = (name, email)
        found = self._seen.get(key)
        if found is None:
            lower = email.lower()
            proper = self._map.get((name.lower(), lower)) or self._map.get((None, lower)) or (None, None)
            canon_name, canon_email = proper[0] or name, proper[1] or email
            member = self._registry.member_for_email(canon_email) or self._registry.member_for_email(email)
            found = self._seen[key] = (canon_name, canon_email, member)
        return found


def mailmap_text(repo: gitpython.Repo, top: Path) -> str:
    """Every mailmap git reads, in git's order (later lines win): `.mailmap` in the work tree,
    then `mailmap.blob` (HEAD:.mailmap by default in a bare repository), then `mailmap.file`."""
    import git as gitpython

    texts = []
    try:
        texts.append((top / ".mailmap").read_text(encoding="utf-8", errors="replace"))
    except OSError:
        pass
    config = repo.config_reader()
    blob = config.get_value("mailmap", "blob", "HEAD:.mailmap" if repo.bare else "")
    path = config.get_value("mailmap", "file", "")
    if blob:
        try:
            texts.append(repo.rev_parse(str(blob)).data_stream.read().decode("utf-8", "replace"))
        except (ValueError, AttributeError, gitpython.BadName, gitpython.GitError):
            pass  # git itself ignores a mailmap blob that does not exist
    if path:
        try:
            texts.append((top / Path(str(path)).expanduser()).read_text(encoding="utf-8", errors="replace"))
        except OSError:
            pass
    return "\n".join(texts)


_NOBODY = Authorship(None, None, 0.0, 0.0, ())


def materialize(
    rows: Mapping[str, tuple[Row, ...]],
    identities: Identities | None,
    names: Iterable[str],
    notes: tuple[str, ...],
    head: str | None,
    source: str = "",
) -> Lineage:
    """Entries (identities resolved) and authorship from identity-neutral rows."""
    resolve = identities if identities is not None else _unresolved
    new = object.__new__
    entries: dict[str, tuple[Entry, ...]] = {}
    authorship: dict[str, Authorship] = {}
    made: dict[int, tuple[Entry, str]] = {}  # evals that share files share rows: one (frozen) entry per row
    for name, items in rows.items():
        out = []
        counts: dict[str, int] = {}
        creator = None
        for r in items:
            shared = made.get(id(r))
            if shared is not None:
                entry, who = shared
                out.append(entry)
                counts[who] = counts.get(who, 0) + 1
                if r[7] == "created":
                    creator = who
                continue
            author, email, member = resolve(r[1], r[2])
            who = member or author
            counts[who] = counts.get(who, 0) + 1
            if r[7] == "created":
                creator = who
            entry = new(Entry)
            made[id(r)] = (entry, who)
            d = entry.__dict__  # frozen: fill the instance dict directly, as unpickling would
            (
                d["commit"],
                d["date"],
                d["subject"],
                d["version"],
                d["previous_version"],
                d["kind"],
                d["paths"],
                d["valid_for"],
                d["why"],
                d["note"],
                d["renames"],
            ) = (r[0], *r[3:])
            d["author"], d["email"], d["member"] = author, email, member
            out.append(entry)
        entries[name] = tuple(out)
        authorship[name] = _authorship(counts, creator)
    for name in names:
        if name not in entries:
            entries[name] = ()
            authorship[name] = _NOBODY
    return Lineage(head=head, entries=entries, authorship=authorship, notes=notes, source=source)


def _unresolved(name: str, email: str) -> tuple[str, str, str | None]:
    """An identity as git recorded it (no registry to map it through)."""
    return name, email, None


def _authorship(counts: dict[str, int], creator: str | None) -> Authorship:
    total = sum(counts.values())
    if not total:
        return _NOBODY
    ranked = tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return Authorship(
        creator=creator,
        main_author=ranked[0][0],
        main_share=ranked[0][1] / total,
        fragmentation=1.0 - sum((c / total) ** 2 for _, c in ranked),
        authors=ranked,
    )
