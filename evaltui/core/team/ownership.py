"""Who owns each eval when: a pin, then an override, then a staggered rotation that favours fresh eyes.

Periods are counted in the rotation's time zone: a boundary is `start + k × cadence` as a
local wall-clock time, converted to an instant afterwards, so a handoff stays at 09:00
local across daylight-saving changes. Evals are staggered two ways: each starts its turn
order at a different member, and, when the cadence is more than one week (or not whole
weeks), evals hand over on different weeks (days) so a handoff never moves everything.
The stagger follows the order of the evals in `evals.toml`, so appending a new eval leaves
the existing assignments alone. An absence covers whole local days, both dates included, and
counts for a period when it covers at least half of the period's working days; then cover is
given for the whole period (first to whoever holds the eval as it starts, never back to
someone who had it within the last cadence), and a shorter absence leaves the owner be. An
override runs from its start date to its end date at the handoff time of day, so
`start = 2026-12-07, end = 2026-12-21` on a two-week cadence is exactly one period.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from evaltui.core.registry.model import Registry, glob_pattern

UTC = dt.timezone.utc
_TICK = dt.timedelta(microseconds=1)
_HORIZON = dt.timedelta(days=3 * 366)  # how far a segment's start or end is looked for


@dataclass(frozen=True)
class Assignment:
    """One owner of one eval over a stretch of time (open-ended when the bound is None)."""

    eval: str
    member: str | None
    reason: str  # "pin" | "override" | "rotation" | "cover" | "unassigned"
    detail: str = ""
    start: dt.datetime | None = None
    end: dt.datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "eval": self.eval,
            "owner": self.member,
            "reason": self.reason,
            "detail": self.detail,
            "since": self.start.isoformat() if self.start else None,
            "until": self.end.isoformat() if self.end else None,
        }


@dataclass(frozen=True)
class Handoff:
    """An eval changing hands at an instant."""

    at: dt.datetime
    eval: str
    outgoing: str | None
    incoming: str | None
    reason: str
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "eval": self.eval,
            "from": self.outgoing,
            "to": self.incoming,
            "reason": self.reason,
            "detail": self.detail,
        }


class Rota:
    """The schedule for one registry and one set of authorship figures; every answer is deterministic."""

    def __init__(self, registry: Registry, authorship: Mapping[str, object] | None = None):
        self.registry = registry
        self.rotation = registry.rotation
        self.authorship = authorship or {}
        self.order = {name: i for i, name in enumerate(registry.evals)}
        rot = self.rotation
        self.tz = ZoneInfo(rot.timezone if rot else "UTC")
        self.cadence = dt.timedelta(days=rot.cadence_days if rot else 7)
        days = rot.cadence_days if rot else 7
        self.step = 7 if days % 7 == 0 else 1
        self.slots = max(days // self.step, 1)
        self.absences: dict[str, list[tuple[dt.datetime, dt.datetime]]] = {}
        for a in rot.absences if rot else ():
            self.absences.setdefault(a.member, []).append(self.day_span(a.start, a.end))
        # Looking back for who held an eval stops here: the schedule has no memory before it.
        self.horizon = self.local(rot.start if rot else dt.datetime(2026, 1, 5, 9))
        self._memo: dict[tuple[str, dt.datetime], Assignment] = {}
        self.overrides = []
        for o in rot.overrides if rot else ():
            patterns = [glob_pattern(p) for p in o.evals]
            self.overrides.append((o, *self.handoff_span(o.start, o.end), patterns))

    # -- time ---------------------------------------------------------------------------------

    def local(self, naive: dt.datetime) -> dt.datetime:
        """A wall-clock time in the rotation's zone as an aware UTC instant."""
        return naive.replace(tzinfo=self.tz).astimezone(UTC)

    def day_span(self, first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """From local midnight of `first` to local midnight after `last`."""
        return (
            self.local(dt.datetime.combine(first, dt.time())),
            self.local(dt.datetime.combine(last + dt.timedelta(days=1), dt.time())),
        )

    def handoff_span(self, first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """From `first` to `last` at the rotation's handoff time (one day at least), so an override
        written with two handoff dates covers exactly the periods between them."""
        at = (self.rotation.start if self.rotation else dt.datetime(2026, 1, 5, 9)).time()
        last = max(last, first + dt.timedelta(days=1))
        return self.local(dt.datetime.combine(first, at)), self.local(dt.datetime.combine(last, at))

    def aware(self, when: dt.datetime) -> dt.datetime:
        """`when` as UTC; a naive time is read in the rotation's zone."""
        return self.local(when) if when.tzinfo is None else when.astimezone(UTC)

    def anchor(self, eval: str) -> dt.datetime:
        start = self.rotation.start if self.rotation else dt.datetime(2026, 1, 5, 9)
        return start + dt.timedelta(days=(self.order.get(eval, 0) % self.slots) * self.step)

    def boundary(self, eval: str, k: int) -> dt.datetime:
        return self.local(self.anchor(eval) + k * self.cadence)

    def period_index(self, eval: str, at: dt.datetime) -> int:
        wall = at.astimezone(self.tz).replace(tzinfo=None)
        k = math.floor((wall - self.anchor(eval)) / self.cadence)
        while self.boundary(eval, k) > at:
            k -= 1
        while self.boundary(eval, k + 1) <= at:
            k += 1
        return k

    def away(self, member: str, start: dt.datetime, end: dt.datetime | None = None) -> bool:
        """Whether `member` is absent at `start` (or at any time in [start, end) when `end` is given)."""
        return any(
            (a <= start < b) if end is None else (a < end and start < b) for a, b in self.absences.get(member, ())
        )

    # -- who -----------------------------------------------------------------------------------

    def attached(self, eval: str) -> list[str]:
        """Rotation members most attached to the eval: its creator and main author."""
        info = self.authorship.get(eval)
        names = [getattr(info, "creator", None), getattr(info, "main_author", None)]
        members = self.rotation.members if self.rotation else ()
        return [m for m in members if m in names]

    def owner_at(self, eval: str, at: dt.datetime) -> Assignment:
        """The owner of `eval` at the instant `at`, without the bounds of the stretch (see `assignment`)."""
        at = self.aware(at)
        key = (eval, at)
        if key not in self._memo:
            self._memo[key] = self._owner_at(eval, at)
        return self._memo[key]

    def _owner_at(self, eval: str, at: dt.datetime) -> Assignment:
        ev = self.registry.evals[eval]
        if ev.owner:
            return Assignment(eval, ev.owner, "pin", "pinned with `owner` in evals.toml")
        for o, start, end, patterns in reversed(self.overrides):  # the last matching override wins
            if start <= at < end and any(p.match(eval) for p in patterns):
                return Assignment(eval, o.member, "override", o.reason or "override")
        rot = self.rotation
        if rot is None or not rot.members:
            return Assignment(eval, None, "unassigned", "no `owner` pin and no [rotation]")
        k = self.period_index(eval, at)
        period = (self.boundary(eval, k), self.boundary(eval, k + 1))
        attached = self.attached(eval) if rot.fresh_eyes else []
        fresh = [m for m in rot.members if m not in attached]
        turn = k + self.order[eval]
        first = _rotate(fresh or list(rot.members), turn)
        second = _rotate([m for m in rot.members if m in attached], turn) if fresh else []
        notes = [_attachment(eval, attached, self.authorship)] if attached and fresh else []
        if not self.away_for_period(first[0], *period):
            return Assignment(eval, first[0], "rotation", "; ".join(notes))
        # Cover. Whoever holds the eval as the period starts keeps it when they can, and someone
        # who held it within the last cadence comes last: an eval never bounces back
        # (dana → bruno → dana) within one cadence.
        previous = self.owner_at(eval, period[0] - _TICK).member if k > self.period_index(eval, self.horizon) else None
        recent = self.recent_holders(eval, period[0], previous)
        for group in (first, second):
            ordered = sorted(group, key=lambda m: (m != previous, m in recent))
            for member in ordered:
                if not self.away_for_period(member, *period):
                    why = f"covering for {first[0]}, who is away"
                    if group is second:
                        why += "; everyone else is away too"
                    return Assignment(eval, member, "cover", "; ".join([why, *notes]))
        return Assignment(eval, first[0], "rotation", "everyone in the rotation is away")

    def away_for_period(self, member: str, start: dt.datetime, end: dt.datetime) -> bool:
        """Whether an absence of `member` counts for the period [start, end): it covers at least half
        of the period's working days (Monday to Friday, local dates), or, for a period without
        working days, any of its days."""
        spans = self.absences.get(member, ())
        if not spans:
            return False
        # A period's days are the local dates from its first day up to, not including, the day it
        # ends on: Monday 09:00 to Monday 09:00 is Monday to Sunday.
        first = start.astimezone(self.tz).date()
        last = max(end.astimezone(self.tz).date(), first + dt.timedelta(days=1))
        days = [first + dt.timedelta(days=i) for i in range((last - first).days)]
        working = [d for d in days if d.weekday() < 5] or days
        absent = sum(1 for d in working if self.absent_on(member, d))
        return absent > 0 and 2 * absent >= len(working)

    def absent_on(self, member: str, day: dt.date) -> bool:
        """Whether an absence of `member` includes the local date `day`."""
        noon = self.local(dt.datetime.combine(day, dt.time(12)))
        return self.away(member, noon)

    def recent_holders(self, eval: str, start: dt.datetime, previous: str | None) -> set[str]:
        """Members other than `previous` who held `eval` at a period boundary in the cadence before `start`."""
        out = set()
        k = self.period_index(eval, start)
        for j in range(1, self.slots + 1):
            at = self.boundary(eval, k) - j * dt.timedelta(days=self.step)
            if at < self.horizon:
                break
            member = self.owner_at(eval, at).member
            if member is not None and member != previous:
                out.add(member)
        return out

    def breakpoints(self, eval: str, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
        """Every instant in (start, end) at which the owner of `eval` may change."""
        if self.registry.evals[eval].owner:
            return []
        points = set()
        if self.rotation:
            k = self.period_index(eval, start) + 1
            while (b := self.boundary(eval, k)) < end:
                points.add(b)
                k += 1
            for spans in self.absences.values():
                points.update(p for a, b in spans for p in (a, b))
        for _, a, b, patterns in self.overrides:
            if any(p.match(eval) for p in patterns):
                points.update((a, b))
        return sorted(p for p in points if start < p < end)

    def segments(self, eval: str, start: dt.datetime, end: dt.datetime) -> list[Assignment]:
        """The stretches of constant ownership of `eval` that overlap [start, end), with their true bounds."""
        start, end = self.aware(start), self.aware(end)
        current = self.owner_at(eval, start)
        if current.reason == "pin":
            return [current]
        pieces: list[tuple[dt.datetime, Assignment]] = [(start, current)]
        for p in self.breakpoints(eval, start, end):
            owner = self.owner_at(eval, p)
            if _key(owner) != _key(pieces[-1][1]):
                pieces.append((p, owner))
        out = []
        for j, (at, owner) in enumerate(pieces):
            seg_end = pieces[j + 1][0] if j + 1 < len(pieces) else self._forward(eval, end, owner)
            seg_start = at if j else self._back(eval, start, owner)
            out.append(Assignment(eval, owner.member, owner.reason, owner.detail, seg_start, seg_end))
        return out

    def hold(self, eval: str, at: dt.datetime) -> Assignment:
        """The stretch containing `at`, widened over neighbours held by the same member (whatever the reason)."""
        seg = self.segments(eval, at, at + _TICK)[0]
        start, end = seg.start, seg.end
        for _ in range(64):  # a hold is a handful of stretches; the bound only guards odd configurations
            if start is None:
                break
            before = self.segments(eval, start - _TICK, start)[0]
            if before.member != seg.member:
                break
            start = before.start
        for _ in range(64):
            if end is None:
                break
            after = self.segments(eval, end, end + _TICK)[0]
            if after.member != seg.member:
                break
            end = after.end
        return Assignment(eval, seg.member, seg.reason, seg.detail, start, end)

    def _back(self, eval: str, at: dt.datetime, owner: Assignment) -> dt.datetime | None:
        chunk = self.cadence * 4
        hi = at
        while at - hi < _HORIZON:
            lo = hi - chunk
            for p in reversed(self.breakpoints(eval, lo, hi + _TICK)):
                if p <= at and _key(self.owner_at(eval, p - _TICK)) != _key(owner):
                    return p
            hi = lo
        return None

    def _forward(self, eval: str, at: dt.datetime, owner: Assignment) -> dt.datetime | None:
        chunk = self.cadence * 4
        lo = at - _TICK
        while lo - at < _HORIZON:
            hi = lo + chunk
            for p in self.breakpoints(eval, lo, hi):
                if p >= at and _key(self.owner_at(eval, p)) != _key(owner):
                    return p
            lo = hi - _TICK
        return None


def owners(
    registry: Registry, at: dt.datetime, authorship: Mapping[str, object] | None = None
) -> dict[str, Assignment]:
    """Every eval's owner at `at`, with the stretch it belongs to."""
    rota = Rota(registry, authorship)
    at = rota.aware(at)
    return {name: rota.segments(name, at, at + _TICK)[0] for name in registry.evals}


def schedule(
    registry: Registry, start: dt.datetime, end: dt.datetime, authorship: Mapping[str, object] | None = None
) -> tuple[Assignment, ...]:
    """Every stretch of ownership overlapping [start, end), per eval in registry order, then by time."""
    rota = Rota(registry, authorship)
    return tuple(seg for name in registry.evals for seg in rota.segments(name, start, end))


def handoffs(
    registry: Registry, start: dt.datetime, end: dt.datetime, authorship: Mapping[str, object] | None = None
) -> tuple[Handoff, ...]:
    """Every change of hands in [start, end), in time order."""
    rota = Rota(registry, authorship)
    start, end = rota.aware(start), rota.aware(end)
    out = []
    for name in registry.evals:
        segs = rota.segments(name, start, end)
        for j, seg in enumerate(segs):
            if seg.start is None or not (start <= seg.start < end):
                continue
            before = segs[j - 1] if j else rota.owner_at(name, seg.start - _TICK)
            if before.member != seg.member:
                out.append(Handoff(seg.start, name, before.member, seg.member, seg.reason, seg.detail))
    return tuple(sorted(out, key=lambda h: (h.at, rota.order[h.eval])))


def next_handoff(
    registry: Registry,
    at: dt.datetime,
    authorship: Mapping[str, object] | None = None,
    to: str | None = None,
    within: dt.timedelta = dt.timedelta(days=366),
) -> tuple[Handoff, ...]:
    """The handoffs at the first instant at or after `at` when some eval (given to `to`, if named) changes hands."""
    rota = Rota(registry, authorship)
    at = rota.aware(at)
    found = [h for h in handoffs(registry, at, at + within, authorship) if to is None or h.incoming == to]
    if not found:
        return ()
    first = found[0].at
    return tuple(h for h in found if h.at == first)


def local_time(registry: Registry, when: dt.datetime) -> dt.datetime:
    """`when` in the rotation's time zone (UTC without a rotation)."""
    return when.astimezone(ZoneInfo(registry.rotation.timezone if registry.rotation else "UTC"))


def zoned_text(registry: Registry, when: dt.datetime) -> str:
    """`when` as people read it, in the rotation's zone and naming it: "Mon 07 Dec 2026 09:00 Europe/Berlin"."""
    zone = registry.rotation.timezone if registry.rotation else "UTC"
    return f"{local_time(registry, when):%a %d %b %Y %H:%M} {zone}"


def _rotate(items: list[str], by: int) -> list[str]:
    if not items:
        return []
    by %= len(items)
    return items[by:] + items[:by]


def _key(a: Assignment) -> tuple[str | None, str, str]:
    return (a.member, a.reason, a.detail)


def _attachment(eval: str, attached: list[str], authorship: Mapping[str, object]) -> str:
    info = authorship.get(eval)
    roles = []
    for m in attached:
        parts = [
            r
            for r, who in (
                ("creator", getattr(info, "creator", None)),
                ("main author", getattr(info, "main_author", None)),
            )
            if who == m
        ]
        roles.append(f"{m} ({' and '.join(parts)})")
    return "fresh eyes: not " + ", ".join(roles)
