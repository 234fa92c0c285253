"""After the replay: history from before an eval was registered, and transitions turned into rows."""

from __future__ import annotations

import datetime as dt
import sys

from evaltui.core.textsafe import clean

_CONTENT, _GONE, _MOVED, _META = 1, 2, 4, 8  # what a commit did to an eval, before versions are known


class _AfterReplay:
    """The builder's passes after the last commit (mixed into `_Builder`, whose state they read)."""

    # -- after the last commit -------------------------------------------------------------

    def prehistory(self) -> None:
        """Commits to an eval's files from before it was in evals.toml, renames followed backwards.

        One backward walk over the records serves every eval: a file is tracked by its path,
        which moves to the old name at a rename and stops at the commit that added it.
        """
        if not self.first_def:
            return
        starts = sorted(self.first_def.items(), key=lambda kv: -kv[1][0])
        hits: dict[str, list] = {name: [] for name in self.first_def}
        tracked: dict[str, list] = {}
        k = 0
        for j in range(starts[0][1][0] - 1, -1, -1):
            while k < len(starts) and starts[k][1][0] > j:
                name, info = starts[k]
                for at_first, origin in info[2].items():
                    tracked.setdefault(origin, []).append((name, at_first))
                k += 1
            if not tracked:
                if k >= len(starts):
                    break
                continue
            record = self.records[j]
            if len(record[1]) > 1:
                continue  # a merge repeats what its other parent's commits did
            for ch in record[6]:
                tokens = tracked.get(ch[2])
                if tokens is None or ch[0] == "D":
                    continue
                for name, at_first in tokens:
                    hits[name].append((j, ch, at_first))
                if ch[0] == "A":
                    del tracked[ch[2]]
                elif ch[0] == "R":
                    del tracked[ch[2]]
                    tracked.setdefault(ch[1], []).extend(tokens)
        for name, found in hits.items():
            if found:
                self._prepend(name, found[::-1])

    def _prepend(self, name: str, found: list) -> None:
        first, d, _origins, vpath, flags_at, paths_at, renames_at = self.first_def[name]
        spec = d.vspec[2] if d.vspec and d.vspec[0] == "file" else None
        items, vkey = [], None
        groups: dict[int, list] = {}
        for j, ch, at_first in found:
            groups.setdefault(j, []).append((ch, at_first))
        for j, group in groups.items():
            flags, paths, renames = 0, [], []
            before = vkey
            for (kind, old, new, ob, nb), at_first in group:
                paths.append(new)
                if kind == "R":
                    renames.append((old, new))
                    flags |= _MOVED | (_CONTENT if ob != nb else 0)
                else:
                    flags |= _CONTENT
                if at_first == vpath and spec is not None:
                    vkey = ("b", nb, spec)
                    self.vpaths.setdefault(vkey, new)
                    self.vers.want(vkey, new)
            items.append((j, None if items else "created", before, vkey, flags, tuple(sorted(paths)),
                          tuple(renames), "before it was added to evals.toml"))
        created = self.trans[name][0]
        self.trans[name][0] = (created[0], None, vkey, created[3], flags_at or _META, paths_at, renames_at,
                               "added to evals.toml")
        self.trans[name][:0] = items

    def rows(self) -> dict[str, list]:
        """Each eval's entries as identity-neutral rows, oldest first."""
        self.vers.fetch()
        meta: dict[int, tuple] = {}
        out: dict[str, list] = {}
        get = self.vers.get
        hint_of = self.vpaths.get
        for name, items in self.trans.items():
            last = self.last_known.get(name, _UNSET)
            rows = out[name] = []
            for i, hint, pkey, vkey, flags, paths, renames, note in items:
                version, valid_for, why, vnote, known = get(vkey, hint_of(vkey, "the version file"))
                if hint == "created":
                    kind, previous = "created", None
                elif hint == "removed":
                    kind, previous, version, valid_for, why, vnote = "removed", get(pkey)[0], None, None, None, None
                else:
                    before = get(pkey, hint_of(pkey, "the version file"))
                    previous = before[0]
                    if known and before[4]:
                        bumped = version != previous
                    else:
                        bumped = known and last is not _UNSET and version != last
                    kind = ("bump" if bumped else "silent" if flags & _CONTENT else "removed" if flags & _GONE
                            else "renamed" if flags & _MOVED else "meta")
                if known and hint != "removed":
                    last = version
                info = meta.get(i)
                if info is None:
                    info = meta[i] = _commit_meta(self.records[i])
                shown = kind in ("bump", "created")
                rows.append((*info, version, previous, kind, tuple(map(_shown, paths)),
                             valid_for if shown else None, why if shown else None,
                             "; ".join(x for x in (note, vnote) if x) or None,
                             tuple((_shown(a), _shown(b)) for a, b in renames) if renames else ()))
            self.last_known[name] = last
        return out


_UNSET = object()


def _shown(path: str) -> str:
    if path.isprintable():
        return path
    return clean(path.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))


def _commit_meta(record: tuple) -> tuple:
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
