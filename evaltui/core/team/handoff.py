"""The handoff brief: what an incoming owner needs to know on their first day with an eval (its Markdown: `handoff_markdown`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import TYPE_CHECKING

from evaltui.core.errors import Problem, VersionSourceError
from evaltui.core.registry import versions
from evaltui.core.registry.model import Registry
from evaltui.core.team.coverage import Cell, Coverage, RunSummary, latest_runs
from evaltui.core.team.handoff_markdown import render_markdown
from evaltui.core.team.notes import Note, NotesFile, is_acknowledged
from evaltui.core.team.ownership import Assignment, Handoff, Rota, local_time

if TYPE_CHECKING:
    from evaltui.core.history import Authorship, Entry, Lineage

__all__ = [
    "MAX_STANDING",
    "STANDING_KINDS",
    "Brief",
    "EvalBrief",
    "PinnedAway",
    "build_briefs",
    "open_problems",
    "pinned_away",
    "render_markdown",
]

_TICK = dt.timedelta(microseconds=1)
# Kinds that stay relevant until someone acts on them, however old they are.
STANDING_KINDS = ("regression", "blind-spot", "handoff")
MAX_STANDING = 5


@dataclass(frozen=True)
class EvalBrief:
    """One eval changing hands, with everything the incoming owner should read first."""

    eval: str
    description: str
    version: str | None
    valid_for: str | None
    covers: tuple[str, ...]
    outgoing: str | None
    since: dt.datetime | None  # when the outgoing owner took it (the previous handoff)
    until: dt.datetime | None  # when the incoming owner hands it on
    reason: str
    detail: str
    changes: tuple[Entry, ...] = ()  # lineage entries since `since`, newest first
    silent: tuple[Entry, ...] = ()  # unacknowledged silent changes, any age
    notes: tuple[Note, ...] = ()
    gaps: tuple[str, ...] = ()  # failure modes declared with no case
    coverage: tuple[Cell, ...] = ()  # coverage cells of the modes it declares
    scores: tuple[RunSummary, ...] = ()
    authorship: Authorship | None = None
    version_error: str | None = None
    all_entries: tuple[Entry, ...] = ()  # the whole lineage, newest first
    runnable: bool = True  # has a metric here (not only tracked from another harness)
    problems: tuple[Problem, ...] = ()  # what `check` says about it, beyond silent changes and blind spots


@dataclass(frozen=True)
class PinnedAway:
    """An eval pinned to someone who is away during the coming period: nobody looks after it then."""

    eval: str
    member: str
    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class Brief:
    """The brief for one incoming owner at one handoff."""

    member: str
    at: dt.datetime
    evals: tuple[EvalBrief, ...]
    keeps: tuple[Assignment, ...] = ()
    caveats: tuple[str, ...] = ()  # what could not be read (no git history, ...)
    keep_problems: tuple[Problem, ...] = ()  # check problems of the evals they keep
    pinned_away: tuple[PinnedAway, ...] = ()  # pinned evals whose owner is away in the coming period


# Check problems a brief lists on their own (silent changes and blind spots have their own
# sections; a pending change is local to one working tree).
_LISTED_ELSEWHERE = ("silent-change", "blind-spot", "mode-without-cases", "pending")


def open_problems(problems: Sequence[Problem], eval: str) -> tuple[Problem, ...]:
    """The check problems of `eval` a brief shows: errors first, then warnings (bumps without `why`,
    thresholds missed, functions that do not exist, ...)."""
    mine = [p for p in problems if p.eval == eval and p.code not in _LISTED_ELSEWHERE and p.severity != "info"]
    return tuple(sorted(mine, key=lambda p: p.severity != "error"))


def pinned_away(registry: Registry, start: dt.datetime, end: dt.datetime) -> tuple[PinnedAway, ...]:
    """Evals pinned (`owner = ...`) to a member with an absence overlapping [start, end)."""
    if registry.rotation is None:
        return ()
    first, last = local_time(registry, start).date(), local_time(registry, end).date()
    out = []
    for ev in registry.evals.values():
        for a in registry.rotation.absences:
            if ev.owner and a.member == ev.owner and a.start <= last and a.end >= first:
                out.append(PinnedAway(ev.name, a.member, a.start, a.end))
    return tuple(out)


def build_briefs(
    registry: Registry,
    changes: Sequence[Handoff],
    *,
    lineage: Lineage | None = None,
    notes: NotesFile = NotesFile(),
    coverage: Coverage | None = None,
    runs: Sequence[RunSummary] = (),
    acknowledged: AbstractSet[str] = frozenset(),
    problems: Sequence[Problem] = (),
) -> tuple[Brief, ...]:
    """One brief per incoming owner in `changes` (handoffs at one instant, as `next_handoff` gives).

    `problems` are what `check` reports (`checks.run_checks`); each eval's own are listed in its
    section and the to-do list, for the evals that change hands and those the member keeps.
    """
    authorship: Mapping[str, Authorship] = lineage.authorship if lineage is not None else {}
    entries: Mapping[str, tuple[Entry, ...]] = lineage.entries if lineage is not None else {}
    rota = Rota(registry, authorship)
    latest = latest_runs(runs)
    read = versions.working_tree_reader(registry.root)
    caveats = (
        lineage.notes
        if lineage is not None
        else ("git history could not be read: changes, silent changes and authorship are missing",)
    )
    by_member: dict[str, list[EvalBrief]] = {}
    for h in changes:
        if h.incoming is None:
            continue
        before = rota.hold(h.eval, h.at - _TICK)
        after = rota.hold(h.eval, h.at)
        ev = registry.evals[h.eval]
        try:
            info, error = versions.resolve(ev, read), None
        except VersionSourceError as exc:
            info, error = versions.VersionInfo(None, source="error"), str(exc)
        lineage_entries = tuple(entries.get(h.eval, ()))
        since = before.start
        by_member.setdefault(h.incoming, []).append(
            EvalBrief(
                eval=h.eval,
                description=ev.description,
                version=info.version,
                valid_for=info.valid_for,
                covers=ev.covers,
                outgoing=h.outgoing,
                since=since,
                until=after.end,
                reason=after.reason,
                detail=after.detail,
                changes=tuple(e for e in lineage_entries if since is None or e.date >= since),
                silent=tuple(
                    e
                    for e in lineage_entries
                    if e.kind == "silent" and not is_acknowledged(e.commit, set(acknowledged))
                ),
                notes=_open_notes(notes.for_eval(h.eval), since),
                gaps=tuple(c.mode for c in coverage.gaps_for(h.eval)) if coverage else (),
                coverage=tuple(c for m in coverage.modes for c in m.cells if c.eval == h.eval and c.declared)
                if coverage
                else (),
                scores=tuple(r for (e, _), r in sorted(latest.items()) if e == h.eval),
                authorship=authorship.get(h.eval),
                version_error=error,
                all_entries=lineage_entries,
                runnable=ev.metric is not None,
                problems=open_problems(problems, h.eval),
            )
        )
    briefs = []
    for member, evals in by_member.items():
        at = min(h.at for h in changes if h.incoming == member)
        taken = {b.eval for b in evals}
        keeps = tuple(
            a
            for name in registry.evals
            if name not in taken
            for a in rota.segments(name, at, at + _TICK)[:1]
            if a.member == member
        )
        kept = tuple(p for a in keeps for p in open_problems(problems, a.eval))
        ends = [b.until for b in evals if b.until] or [at + rota.cadence]
        briefs.append(Brief(member, at, tuple(evals), keeps, caveats, kept, pinned_away(registry, at, max(ends))))
    return tuple(briefs)


def _open_notes(notes: Sequence[Note], since: dt.datetime | None) -> tuple[Note, ...]:
    recent = [n for n in notes if since is None or n.time >= since]
    standing = [n for n in notes if n not in recent and n.kind in STANDING_KINDS][-MAX_STANDING:]
    return tuple(sorted(standing + recent, key=lambda n: n.time, reverse=True))
