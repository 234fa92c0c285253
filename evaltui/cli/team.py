"""`owners`, `rotation`, `handoff`, `note` and `notes`: who owns each eval, the handoffs, and notes."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path

from evaltui.cli.common import Col, print_json, print_table, registry_from, table_text
from evaltui.core import history
from evaltui.core.errors import EvaltuiError
from evaltui.core.formatting import time_until
from evaltui.core.registry.model import Registry, Rotation
from evaltui.core.registry.tomlpos import suggest
from evaltui.core.team import handoff, icsexport, lanes, notes, ownership
from evaltui.core.textsafe import clean

_AT_HELP = (
    "a date or date-time like 2026-12-10 or 2026-12-10T09:00, in the rotation's time zone unless it has an offset"
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "owners",
        help="who owns each eval now (or at --at)",
        description="Each eval's owner at an instant: pin, override or rotation, and why.",
    )
    p.add_argument("--at", help=_AT_HELP + "; a bare date means noon")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_owners)

    p = sub.add_parser(
        "rotation",
        help="the coming handoffs, or an iCalendar export",
        description="Who owns what in each coming week and every handoff in the window; "
        "--ics writes an RFC 5545 calendar with one event per owner period and handoff.",
    )
    p.add_argument("--weeks", type=int, default=8, help="how far ahead (default: 8)")
    p.add_argument("--at", help=_AT_HELP + "; default: now")
    p.add_argument("--ics", action="store_true", help="print an iCalendar file instead")
    p.add_argument("--member", help="only this member's periods and handoffs (with --ics)")
    p.add_argument("-o", "--output", help="write to this file instead of stdout")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_rotation)

    p = sub.add_parser(
        "handoff",
        help="the handoff brief for the next incoming owner(s)",
        description="A markdown brief per incoming owner at the next handoff: evals changing "
        "hands, versions, changes since the previous handoff, silent changes, notes, blind "
        "spots and latest scores.",
    )
    p.add_argument("--to", dest="member", help="the brief for this member's next handoff")
    p.add_argument("--at", help=_AT_HELP + "; the first handoff at or after it (default: now)")
    p.set_defaults(func=cmd_handoff)

    p = sub.add_parser(
        "note",
        help="annotate an eval, one of its commits or versions",
        description="Append a note to state_dir/notes.jsonl. Kinds: "
        + "; ".join(f"{k}: {v}" for k, v in notes.KIND_HELP.items())
        + ".",
    )
    p.add_argument("eval")
    p.add_argument("text")
    p.add_argument("--commit", help="the commit it is about (any revision git understands)")
    p.add_argument("--version", help="the eval version it is about")
    p.add_argument("--kind", default="note", choices=notes.KINDS)
    p.add_argument("--author", help="default: the [people] member with your git e-mail, else your git name")
    p.set_defaults(func=cmd_note)

    p = sub.add_parser("notes", help="list notes", description="List the notes, newest first.")
    p.add_argument("eval", nargs="?")
    p.add_argument("--kind", choices=notes.KINDS)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_notes)


# -- ownership ---------------------------------------------------------------------------------


def cmd_owners(args: argparse.Namespace) -> int:
    registry = registry_from(args)
    at = parse_at(args.at, registry, bare_date=dt.time(12)) if args.at else _now()
    authorship = _authorship(registry)
    owners = ownership.owners(registry, at, authorship)
    upcoming = ownership.next_handoff(registry, at, authorship, within=dt.timedelta(days=366))
    if args.json:
        print_json(
            {
                "at": at.isoformat(),
                "owners": [a.to_json() for a in owners.values()],
                "next_handoff": [h.to_json() for h in upcoming],
            }
        )
        return 0
    print(f"Owners at {ownership.zoned_text(registry, at)}")
    cols = [Col("eval", wrap=True), Col("owner"), Col("since", drop=1), Col("until"), Col("why", wrap=True)]
    rows = []
    for a in owners.values():
        why = a.reason + (f": {a.detail}" if a.detail else "")
        rows.append(
            [
                a.eval,
                a.member or "-",
                _short(registry, a.start),
                _short(registry, a.end),
                clean(why, keep_newlines=False),
            ]
        )
    print_table(cols, rows)
    if upcoming:
        moves = ", ".join(f"{h.eval} {h.outgoing or '-'} → {h.incoming or '-'}" for h in upcoming)
        print(
            f"\nNext handoff {ownership.zoned_text(registry, upcoming[0].at)} (in {time_until(at, upcoming[0].at)}): {moves}"
        )
    return 0


def _rotation_of(registry: Registry) -> Rotation:
    if registry.rotation is None:
        raise EvaltuiError(
            f"{registry.path.name} has no [rotation] table; add one with `members`, `cadence`, `start` and `timezone`"
        )
    return registry.rotation


def cmd_rotation(args: argparse.Namespace) -> int:
    registry = registry_from(args)
    rotation = _rotation_of(registry)
    if args.weeks < 1:
        raise EvaltuiError("--weeks must be at least 1")
    at = parse_at(args.at, registry, bare_date=dt.time()) if args.at else _now()
    end = at + dt.timedelta(weeks=args.weeks)
    authorship = _authorship(registry)
    segments = ownership.schedule(registry, at, end, authorship)
    changes = ownership.handoffs(registry, at, end, authorship)
    if args.member and args.member not in _members(registry):
        raise EvaltuiError(_unknown_member(args.member, registry))
    if args.ics:
        text = icsexport.calendar(registry, segments, changes, member=args.member)
        return _emit(text, args.output, newline="")
    if args.json:
        print_json(
            {
                "from": at.isoformat(),
                "until": end.isoformat(),
                "timezone": rotation.timezone,
                "segments": [s.to_json() for s in segments],
                "handoffs": [h.to_json() for h in changes],
            }
        )
        return 0
    return _emit(render_rotation(registry, at, args.weeks, segments, changes), args.output)


def render_rotation(
    registry: Registry,
    at: dt.datetime,
    weeks: int,
    segments: tuple[ownership.Assignment, ...],
    changes: Sequence[ownership.Handoff],
) -> str:
    """A week-by-week grid of owners and the list of handoffs, as plain text."""
    rot = _rotation_of(registry)
    every = f"{rot.cadence_days // 7} week(s)" if rot.cadence_days % 7 == 0 else f"{rot.cadence_days} day(s)"
    lines = [
        f"Rotation: {', '.join(rot.members)}, every {every}, handing over at {rot.start:%H:%M} "
        f"{rot.timezone}; fresh eyes {'on' if rot.fresh_eyes else 'off'}."
    ]
    for a in rot.absences:
        lines.append(f"  away: {a.member} {a.start} – {a.end}")
    for o in rot.overrides:
        lines.append(
            f"  override: {o.member} owns {', '.join(o.evals)} {o.start} – {o.end}"
            + (f" ({o.reason})" if o.reason else "")
        )
    # Columns fall on the handoff weekday and time (the core's ticks, as the Rotation screen's),
    # so each cell is the owner of that week; the first column is the owner now.
    ticks = list(lanes.period_ticks(registry, at, weeks, step_days=7))
    ticks[0] = max(ticks[0], at)
    grid = lanes.eval_grid(registry, tuple(ticks), segments)
    width = max([len(n) for n in registry.evals] + [4])
    # The weeks furthest out give way first on a narrow terminal.
    cols = [Col("")] + [Col(f"{ownership.local_time(registry, t):%d %b}", drop=i) for i, t in enumerate(ticks)]
    rows = [[name, *((c.text if c else "?") for c in cells)] for name, cells in grid.items()]
    lines.append("")
    lines.append(table_text(cols, rows).rstrip("\n"))
    lines.append(" " * width + "  * override, ~ covering for someone away, ! pinned")
    lines += ["", "Handoffs:" if changes else "No handoffs in this window."]
    for h in changes:
        why = "" if h.reason == "rotation" else f"  ({h.reason}{': ' + h.detail if h.detail else ''})"
        lines.append(
            f"  {ownership.zoned_text(registry, h.at)}  {h.eval.ljust(width)}  {h.outgoing or '-'} → {h.incoming or '-'}{clean(why)}"
        )
    return "\n".join(lines) + "\n"


def cmd_handoff(args: argparse.Namespace) -> int:
    registry = registry_from(args)
    if registry.rotation is None:
        raise EvaltuiError(f"{registry.path.name} has no [rotation] table, so there are no handoffs")
    if args.member and args.member not in _members(registry):
        raise EvaltuiError(_unknown_member(args.member, registry))
    at = parse_at(args.at, registry, bare_date=dt.time()) if args.at else _now()
    lineage = _lineage(registry)
    authorship = getattr(lineage, "authorship", None) or {}
    changes = ownership.next_handoff(registry, at, authorship, to=args.member)
    if not changes:
        who = f" to {args.member}" if args.member else ""
        print(f"No eval changes hands{who} in the 12 months after {ownership.zoned_text(registry, at)}.")
        return 0
    note_file, runs, matrix, problems = lanes.brief_inputs(registry, lineage, at)
    briefs = handoff.build_briefs(
        registry,
        changes,
        lineage=lineage,
        notes=note_file,
        coverage=matrix,
        runs=runs,
        acknowledged=notes.acknowledged_commits(note_file),
        problems=problems,
    )
    if args.member:
        briefs = tuple(b for b in briefs if b.member == args.member)
    print("\n---\n\n".join(handoff.render_markdown(b, registry) for b in briefs), end="")
    return 0


# -- notes -------------------------------------------------------------------------------------


def cmd_note(args: argparse.Namespace) -> int:
    registry = registry_from(args)
    registry.eval(args.eval)
    if args.kind == "non-semantic" and not args.commit:
        raise EvaltuiError("a non-semantic note acknowledges a commit: give --commit SHA")
    commit = history.rev_parse(registry.root, args.commit) if args.commit else None
    author = args.author or notes.default_author(
        registry, history.config_email(registry.root), history.config_name(registry.root)
    )
    note = notes.make_note(
        args.eval, args.text, kind=args.kind, author=author, time=_now(), commit=commit, version=args.version
    )
    path = notes.append_note(registry.root, registry.state_dir, note)
    on = f" on {commit[:12]}" if commit else (f" on version {args.version}" if args.version else "")
    print(f"{note.kind} note {note.id} by {author} on {args.eval}{on} → {path.relative_to(registry.root).as_posix()}")
    return 0


def cmd_notes(args: argparse.Namespace) -> int:
    registry = registry_from(args)
    if args.eval:
        registry.eval(args.eval)
    found = notes.read_notes(registry.state_dir, registry.root)
    items = [
        n for n in found.notes if (not args.eval or n.eval == args.eval) and (not args.kind or n.kind == args.kind)
    ]
    items.sort(key=lambda n: n.time, reverse=True)
    for p in found.problems:
        print(clean(p.render()), file=sys.stderr)
    if args.json:
        print_json({"notes": [n.to_json() for n in items], "problems": [p.to_json() for p in found.problems]})
        return 0
    if not items:
        print("No notes." + ("" if found.notes else ' Add one: evaltui note EVAL "text"'))
        return 0
    for n in items:
        on = f" {n.commit[:8]}" if n.commit else (f" v{n.version}" if n.version else "")
        print(
            f"{_short(registry, n.time)}  {n.eval}{on}  {n.kind}  {clean(n.author, keep_newlines=False)}: "
            f"{clean(n.text, keep_newlines=False)}"
        )
    return 0


# -- helpers -----------------------------------------------------------------------------------


def parse_at(text: str, registry: Registry, *, bare_date: dt.time) -> dt.datetime:
    """A command-line instant; naive times are in the rotation's zone, a bare date gets `bare_date`."""
    raw = text.strip()
    try:
        if len(raw) == 10:
            when = dt.datetime.combine(dt.date.fromisoformat(raw), bare_date)
        else:
            when = dt.datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        raise EvaltuiError(f"--at: expected {_AT_HELP}, got {text!r}") from None
    return ownership.Rota(registry).aware(when)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _lineage(registry: Registry):
    lineage, error = history.try_load_lineage(registry)
    if error:
        print(f"evaltui: git history not read ({error}); continuing without it", file=sys.stderr)
    return lineage


def _authorship(registry: Registry) -> dict:
    if registry.rotation is None or not registry.rotation.fresh_eyes:
        return {}  # only fresh eyes needs the history
    lineage = _lineage(registry)
    return dict(getattr(lineage, "authorship", None) or {})


def _members(registry: Registry) -> set[str]:
    return set(registry.people) | set(registry.rotation.members if registry.rotation else ())


def _unknown_member(name: str, registry: Registry) -> str:
    hint = suggest(name, _members(registry))
    return f"unknown member {name!r}" + (
        f"; did you mean {hint!r}?" if hint else f"; members: {', '.join(sorted(_members(registry)))}"
    )


def _short(registry: Registry, when: dt.datetime | None) -> str:
    return f"{ownership.local_time(registry, when):%Y-%m-%d %H:%M}" if when else "-"


def _emit(text: str, output: str | None, newline: str | None = None) -> int:
    if output:
        from evaltui.core.fsutil import atomic_write

        atomic_write(Path(output), text)
        print(f"wrote {output}", file=sys.stderr)
        return 0
    if newline == "":
        sys.stdout.flush()
        sys.stdout.buffer.write(text.encode("utf-8"))
        sys.stdout.buffer.flush()
    else:
        sys.stdout.write(text)
    return 0
