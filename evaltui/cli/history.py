"""`log` and `diff`: an eval's lineage from git, and what changed between two of its versions."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from evaltui.cli.common import console, print_json, registry_from
from evaltui.core.formatting import score_text

_KIND_STYLE = {
    "created": "bold cyan",
    "bump": "bold green",
    "silent": "bold yellow",
    "meta": "dim",
    "renamed": "magenta",
    "removed": "red",
}
_CASES_SHOWN = 20


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "log",
        help="an eval's lineage: versions, bumps, silent changes, renames",
        description="Every commit that changed one of the eval's files or its table in evals.toml, "
        "newest first, renames followed: author, date, subject, the version in force and the kind "
        "of change (created, bump, silent, meta, renamed, removed).",
    )
    p.add_argument("eval", help="the eval's name in evals.toml")
    p.add_argument("--json", action="store_true", help='print {"eval": NAME, "entries": [...]} instead of a timeline')
    p.add_argument("--since", metavar="DATE", type=_date, help="only entries on or after DATE (2026-01-31)")
    p.add_argument("--limit", metavar="N", type=_count, help="at most N entries (the newest)")
    p.set_defaults(func=cmd_log)

    p = sub.add_parser(
        "diff",
        help="what changed in an eval between two versions or revisions",
        description="Unified diffs of the eval's files between A and B, and for a JSONL dataset "
        "the cases added, removed and changed (by id). A and B are versions of the eval (1.0, or v1.0 "
        "when no tag has that name: the last commit of that version) or git revisions; a version "
        "wins over a tag of the same name. By default A is the previous version and B is HEAD.",
    )
    p.add_argument("eval", help="the eval's name in evals.toml")
    p.add_argument("a", nargs="?", metavar="A", help="version or revision to compare from")
    p.add_argument("b", nargs="?", metavar="B", help="version or revision to compare to (default: HEAD)")
    p.add_argument("--json", action="store_true", help="print the diff as JSON")
    p.set_defaults(func=cmd_diff)


def _date(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date like 2026-01-31, got {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number of entries (0 or more), got {text!r}")
    return value


def _lineage(args: argparse.Namespace):
    from evaltui.core.history import load_lineage

    # History does not need today's evals.toml to be valid: only a broken file that cannot
    # even name the eval stops here.
    registry = registry_from(args, strict=False)
    lineage = load_lineage(registry)
    if args.eval not in registry.evals and not lineage.entries.get(args.eval):
        registry.eval(args.eval)  # raises, with a suggestion
    return registry, lineage


def cmd_log(args: argparse.Namespace) -> int:
    from evaltui.core.history import eval_log, versions_of

    _, lineage = _lineage(args)
    entries = eval_log(lineage, args.eval, since=args.since, limit=args.limit)
    if args.json:
        print_json({"eval": args.eval, "entries": [e.to_json() for e in entries], "notes": list(lineage.notes)})
        return 0
    from rich.text import Text

    out = console()
    shown = {e.commit for e in entries}
    total = len(lineage.entries.get(args.eval, ()))
    title = Text(args.eval, style="bold")
    title.append(
        f"  {len(entries)} of {total} entries, newest first"
        if len(entries) != total
        else f"  {total} entries, newest first",
        style="dim",
    )
    out.print(title)
    if not entries:
        out.print(Text("no commits changed this eval" + (" in that range" if total else " yet"), style="dim"))
    for span in versions_of(lineage, args.eval):
        items = [e for e in span.entries if e.commit in shown]
        if not items:
            continue
        head = Text(f"\n{span.version or 'no version'}", style="bold")
        if span.valid_for:
            head.append("  valid for: ", style="dim").append(span.valid_for)
        if span.why:
            head.append("  why: ", style="dim").append(span.why)
        out.print(head, soft_wrap=True)
        for e in items:
            line = Text("  ")
            line.append(e.date.strftime("%Y-%m-%d"), style="dim").append("  ")
            line.append(e.commit[:7], style="yellow").append("  ")
            line.append(f"{e.kind:<8}", style=_KIND_STYLE.get(e.kind, "")).append("  ")
            line.append(f"{e.member or e.author}", style="blue").append("  ")
            line.append(e.subject)
            if e.kind == "bump" and e.previous_version:
                line.append(f"  ({e.previous_version} → {e.version})", style="green")
            if e.renames:
                line.append("  " + ", ".join(f"{a} → {b}" for a, b in e.renames), style="magenta")
            elif e.paths:
                line.append("  " + ", ".join(e.paths), style="dim")
            if e.note:
                line.append(f"  [{e.note}]", style="dim italic")
            out.print(line, soft_wrap=True)
    for note in lineage.notes:
        out.print(Text(f"note: {note}", style="dim"))
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from evaltui.core.history.diffs import eval_diff
    from evaltui.core.history.revisions import version_spec
    from evaltui.core.runs.deltas import score_deltas

    registry, lineage = _lineage(args)
    a, b = (version_spec(registry, x, args.eval, lineage) if x else x for x in (args.a, args.b))
    diff = eval_diff(registry, lineage, args.eval, a, b)
    deltas = score_deltas(registry.state_dir, diff.eval, diff.a.version, diff.b.version)
    if args.json:
        print_json({**diff.to_json(), "scores": [d.to_json() for d in deltas]})
        return 0
    from rich.syntax import Syntax
    from rich.text import Text

    out = console()
    head = Text(diff.eval, style="bold").append(": ")
    for side, arrow in ((diff.a, " → "), (diff.b, "")):
        head.append(side.version or "no version", style="bold green")
        head.append(f" ({side.label}, {side.commit[:7]})", style="dim").append(arrow)
    out.print(head)
    for note in diff.notes:
        out.print(Text(f"note: {note}", style="dim"))
    if not diff.files:
        out.print(Text("no file of the eval differs", style="dim"))
    for f in diff.files:
        title = Text(f"\n{f.status} ", style="bold")
        title.append(f"{f.old_path} → {f.new_path}" if f.status == "renamed" else f.path)
        out.print(title)
        if f.binary:
            out.print(Text("binary file differs", style="dim"))
        elif not f.patch:
            continue
        elif out.is_terminal:
            out.print(Syntax(f.patch.rstrip("\n"), "diff", theme="ansi_dark", background_color="default"))
        else:
            sys.stdout.write(f.patch if f.patch.endswith("\n") else f.patch + "\n")
    for c in diff.cases:
        out.print(
            Text(f"\ncases in {c.path}: ", style="bold").append(
                f"{len(c.added)} added, {len(c.removed)} removed, {len(c.changed)} changed, {c.unchanged} unchanged"
            )
        )
        for sign, ids, style in (("+", c.added, "green"), ("-", c.removed, "red"), ("~", c.changed, "yellow")):
            if ids:
                more = f" … and {len(ids) - _CASES_SHOWN} more" if len(ids) > _CASES_SHOWN else ""
                out.print(Text(f"  {sign} " + ", ".join(ids[:_CASES_SHOWN]) + more, style=style), overflow="fold")
        if c.note:
            out.print(Text(f"  {c.note}", style="dim"))
    if deltas:
        out.print(Text(f"\nscores, latest run of {diff.a.version} and of {diff.b.version}:", style="bold"))
    for d in deltas:
        line = f"  {d.model}: {_score(d.a)} → {_score(d.b)}"
        cmp = d.comparison
        if cmp is not None and cmp.delta is not None:
            line += f" ({_signed(cmp.delta)}"
            line += (
                f"; {len(cmp.to_fail)} to fail, {len(cmp.to_pass)} to pass on {cmp.common} shared cases)"
                if cmp.per_case
                else ")"
            )
        out.print(Text(line), overflow="fold")
    return 0


def _score(record) -> str:
    return "no run" if record is None else score_text(record.aggregate)


def _signed(delta: float) -> str:
    points = delta * 100 if -1 <= delta <= 1 else delta
    return f"{'+' if points >= 0 else '−'}{abs(points):.1f}" + (" points" if -1 <= delta <= 1 else "")
