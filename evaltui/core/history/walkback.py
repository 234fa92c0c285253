"""After the replay, the walk back: commits to an eval's files from before it was registered, as git lists them."""

from __future__ import annotations

from evaltui.core.history.blobs import BlobReader
from evaltui.core.history.fastversions import VersionReader
from evaltui.core.history.logparse import Change, CopyAnswers, LogRecord, copy_sources
from evaltui.core.history.rows import CONTENT, GONE, META, MOVED, FirstSeen, Hit, Transition
from evaltui.core.history.vkeys import AbsentKey, BlobKey, Spec, VersionKey


class WalkBack:
    """The walk back over the records after the last commit (mixed into `Builder`, whose state it reads)."""

    # The builder's state the walk reads and extends (set by `Builder.__init__`).
    reader: BlobReader
    vers: VersionReader
    records: list[LogRecord]
    trans: dict[str, list[Transition]]
    first_def: dict[str, FirstSeen]
    vpaths: dict[VersionKey | None, str]  # None (no source) is only looked up, never stored
    copies: CopyAnswers
    prekeys: dict[tuple[str, Spec], BlobKey]  # version keys made by the walk back, one per (blob, spec)
    notes: list[str]
    # The paths still followed when the records ran out (at the first record), for a build
    # that starts at a baseline to tell whether git has anything older for them.
    left: set[str]

    def prehistory(self) -> None:
        """Commits to an eval's files from before it was in evals.toml, as `git log --follow` finds them.

        One backward walk over the records (newest first, as git walks) serves every eval. Like
        `--follow`, a file is tracked by one path that moves to the source at a rename (or, for an
        eval of one file, a copy into it); merges are passed over, and an addition without a
        source does not end the walk (a side branch may have added the same file, or it was
        deleted and added again). Additions are asked about copies in one git call per round; a
        new answer can move a path, so the walk is repeated until no new question comes up (once
        or twice). Commits of a branch forked before the registration and merged after it are
        the eval's too (`_late`).
        """
        if not self.first_def:
            return
        # Answers from earlier builds are kept (`copies`): they never change for a commit.
        answers: CopyAnswers = dict(self.copies)
        late = self._late()
        while True:
            hits, asks = self._follow_back(answers, late)
            asks = [a for a in asks if a not in answers]
            if not asks:
                break
            found, failed = copy_sources(self.reader.root, asks)
            answers.update(found)
            lost = set(failed)
            self.copies.update((k, v) for k, v in found.items() if k[0] not in lost)
            for sha in failed:
                self.notes.append(
                    f"copies are not followed at {sha[:10]}: git could not compare file contents "
                    "(objects missing from this clone); older commits may be missing or extra"
                )
        for name, found_hits in hits.items():
            if found_hits:
                self._prepend(name, found_hits[::-1])

    def _late(self) -> dict[str, list[int]]:
        """Commits after an eval's registration that do not descend from it, newest first, per eval:
        a branch forked before the registration and merged after it. The replay does not see them
        as the eval's (their tree does not register it); `git log -- FILE` lists them."""
        records = self.records
        first = min(info.at for info in self.first_def.values())
        if not any(len(records[j].parents) > 1 for j in range(first + 1, len(records))):
            return {}  # without a later merge every later commit descends from the registration
        bits: dict[int, int] = {}  # registration commit -> its bit in the masks
        for info in self.first_def.values():
            bits.setdefault(info.at, 1 << len(bits))
        index = {records[j].sha: j for j in range(first, len(records))}
        starts = {bit: at for at, bit in bits.items()}
        masks = [0] * (len(records) - first)  # the registrations each commit descends from
        before = 0  # the registrations earlier in the log
        by_start: dict[int, list[int]] = {}
        for j in range(first, len(records)):
            mask = bits.get(j, 0)
            for parent in records[j].parents:
                k = index.get(parent)
                if k is not None:
                    mask |= masks[k - first]
            masks[j - first] = mask
            outside = before & ~mask  # mostly none: a commit of the main line descends from them all
            while outside:
                bit = outside & -outside
                by_start.setdefault(starts[bit], []).append(j)
                outside ^= bit
            before |= bits.get(j, 0)
        return {name: by_start[info.at][::-1] for name, info in self.first_def.items() if info.at in by_start}

    def _follow_back(
        self, answers: CopyAnswers, late: dict[str, list[int]]
    ) -> tuple[dict[str, list[Hit]], list[tuple[str, str]]]:
        starts = sorted(self.first_def.items(), key=lambda kv: -kv[1].at)
        hits: dict[str, list[Hit]] = {name: [] for name in self.first_def}
        for name, indices in late.items():
            # Such a branch holds the files where the registration found them; no merge is shown.
            watched: dict[str, list[str]] = {}
            for at_first, origin in self.first_def[name].origins.items():
                watched.setdefault(origin, []).append(at_first)
            for j in indices:
                record = self.records[j]
                if len(record.parents) > 1:
                    continue
                for ch in record.changes:
                    if ch.kind != "D":
                        hits[name].extend(Hit(j, ch, at_first) for at_first in watched.get(ch.new, ()))
                    if ch.kind == "D" or (ch.kind == "R" and ch.old != ch.new):
                        gone = Change("D", ch.old, ch.old, ch.old_blob, None)
                        hits[name].extend(Hit(j, gone, at_first) for at_first in watched.get(ch.old, ()))
        # Copies are followed for single-file evals, as `git log --follow` follows its one file.
        # Several files have no `--follow` to agree with: renames (from the log) are followed for
        # them, copies are not, so the expensive whole-tree copy detection is spared for them.
        single = {name for name, info in self.first_def.items() if len(info.origins) == 1}
        tracked: dict[str, list[tuple[str, str]]] = {}  # followed path -> (eval name, path when registered)
        asks: list[tuple[str, str]] = []
        k = 0
        for j in range(starts[0][1].at - 1, -1, -1):
            while k < len(starts) and starts[k][1].at > j:
                name, info = starts[k]
                for at_first, origin in info.origins.items():
                    tracked.setdefault(origin, []).append((name, at_first))
                k += 1
            if not tracked:
                if k >= len(starts):
                    break
                continue
            record = self.records[j]
            if len(record.parents) > 1:
                continue  # `git log --follow` shows no merge and follows no rename in one
            moves: list[tuple[str, str, list[tuple[str, str]]]] = []  # (path, source, the tokens that move)
            for ch in record.changes:
                kind, old, new = ch.kind, ch.old, ch.new
                if kind != "D":
                    tokens = tracked.get(new)
                    if tokens:
                        if kind == "R":
                            moves.append((new, old, tokens))
                        followers = [t for t in tokens if t[0] in single] if kind == "A" and record.parents else ()
                        copied = None
                        if followers:
                            ask = (record.sha, new)
                            answer = answers.get(ask)
                            if answer is None and ask not in answers:
                                asks.append(ask)
                            elif answer is not None:
                                copied = Change("C", answer.path, new, answer.blob, ch.new_blob)
                                moves.append((new, answer.path, followers))
                        for token in tokens:
                            name, at_first = token
                            hits[name].append(Hit(j, copied if copied and token in followers else ch, at_first))
                if kind == "D" or (kind == "R" and old != new):
                    tokens = tracked.get(old)
                    if tokens:  # the followed path goes away here (deleted, or moved elsewhere)
                        for name, at_first in tokens:
                            hits[name].append(Hit(j, Change("D", old, old, ch.old_blob, None), at_first))
            for new, source, moving in moves:
                tokens = tracked.pop(new, [])
                staying = [t for t in tokens if t not in moving]
                if staying:
                    tracked[new] = staying
                tracked.setdefault(source, []).extend(t for t in tokens if t in moving)
        self.left = set(tracked)
        return hits, asks

    def _prepend(self, name: str, found: list[Hit]) -> None:
        """Add the commits the walk found, oldest first: those from before the registration go before
        it, those of a branch merged after it go among the later ones, in order."""
        at, d, _origins, vpath, flags_at, paths_at, renames_at = self.first_def[name]
        spec = d.vfile.spec if d.vfile is not None else None
        items: list[Transition] = []
        late: list[Transition] = []
        vkey: VersionKey | None = None
        registered: VersionKey | None = None  # the version key just before the registration
        groups: dict[int, list[tuple[Change, str]]] = {}
        for j, ch, at_first in found:
            group = groups.get(j)
            if group is None:
                groups[j] = [(ch, at_first)]
            else:
                group.append((ch, at_first))
        keys = self.prekeys
        for j, group in groups.items():
            flags = 0
            paths: list[str] = []
            renames: list[tuple[str, str]] = []
            before = vkey
            for (kind, old, new, ob, nb), at_first in group:
                if kind == "D":
                    paths.append(old)
                    flags |= GONE
                    if at_first == vpath and spec is not None:
                        vkey = AbsentKey(old, spec)
                    continue
                paths.append(new)
                if kind in ("R", "C"):
                    renames.append((old, new))
                    flags |= MOVED | (CONTENT if ob != nb else 0)
                else:
                    flags |= CONTENT
                if at_first == vpath and spec is not None and nb is not None:  # nb: only a deletion has none
                    # Read alone: the trees of commits before the eval was registered are not kept.
                    # One key per blob, asked for once, however many evals share the file.
                    found_key = keys.get((nb, spec))
                    if found_key is None:
                        found_key = keys[(nb, spec)] = BlobKey(nb, spec)
                        self.vpaths.setdefault(found_key, new)
                        self.vers.want(found_key, new)
                    vkey = found_key
            early = j < at
            (items if early else late).append(
                Transition(
                    j,
                    "created" if early and not items else None,
                    before,
                    vkey,
                    flags,
                    (paths[0],) if len(paths) == 1 else tuple(sorted(set(paths))),
                    tuple(renames),
                    "before it was added to evals.toml" if early else "on a branch merged after it was added",
                )
            )
            if early:
                registered = vkey
        trans = self.trans[name]
        if late:
            trans[1:] = sorted([*trans[1:], *late], key=lambda t: t.at)
        if items:
            created = trans[0]
            trans[0] = Transition(
                created.at,
                None,
                registered,
                created.after,
                flags_at or META,
                paths_at,
                renames_at,
                "added to evals.toml",
            )
            trans[:0] = items
