"""`case`: one dataset case on two sides of an eval, with every model's output and score from the runs."""

from __future__ import annotations

import argparse
import json
from typing import Any

from evaltui.cli.common import console, print_json, registry_from


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "case",
        help="one case's input, reference, and each model's output and score on two sides",
        description="The case CASE_ID of EVAL at BASE and at HEAD: its input and reference on each "
        "side, and per model the output (from the predictions file or the output cache) and score of "
        "the newest run of that side. BASE and HEAD are versions of the eval or git revisions; by "
        "default BASE is the previous version and HEAD the working tree. A model without a run says "
        '"not run"; an output the cache no longer holds says "not cached".',
    )
    p.add_argument("eval", help="the eval's name in evals.toml")
    p.add_argument("case", metavar="CASE_ID", help="the case's id in the eval's dataset")
    p.add_argument("--base", metavar="REV", help="version or revision of side A (default: the previous version)")
    p.add_argument("--head", metavar="REV", help="version or revision of side B (default: the working tree)")
    p.add_argument("-m", "--model", action="append", default=[], metavar="MODEL", help="only these models")
    p.add_argument("--json", action="store_true", help="print the case and outcomes as JSON")
    p.set_defaults(func=cmd_case)


def cmd_case(args: argparse.Namespace) -> int:
    from evaltui.core.history import load_lineage, versions_of
    from evaltui.core.history.revisions import resolve_revision
    from evaltui.core.runs.cases import read_case, side_at

    registry = registry_from(args)
    registry.eval(args.eval)  # an unknown eval stops here, with a suggestion
    lineage = load_lineage(registry)
    sides = []
    if args.base:
        rev = resolve_revision(registry, args.base, [args.eval], lineage)
        sides.append(side_at(registry, args.eval, f"A {args.base}", rev.commit))
    else:
        spans = versions_of(lineage, args.eval)
        older = [s for s in spans if spans and s.version != spans[0].version]
        if older:
            sides.append(side_at(registry, args.eval, "A previous version", older[0].entries[0].commit))
    if args.head:
        rev = resolve_revision(registry, args.head, [args.eval], lineage)
        sides.append(side_at(registry, args.eval, f"B {args.head}", rev.commit))
    else:
        sides.append(side_at(registry, args.eval, "B working tree", None))
    view = read_case(registry, args.eval, args.case, sides, args.model)
    if args.json:
        print_json(view.to_json())
    else:
        _print(view)
    return 0 if any(s.case is not None for s in view.sides) else 1


def _value(value: Any) -> str:
    from evaltui.core.textsafe import clean

    return clean(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True))


def _print(view: Any) -> None:
    from rich.table import Table
    from rich.text import Text

    from evaltui.core.runs.cases import SHOWN
    from evaltui.core.textsafe import clean

    out = console()
    title = Text.assemble((clean(view.eval), "bold"), "  case ", (clean(view.case_id), "bold"))
    if view.dataset:
        title.append(f"  {clean(view.dataset)}" + (f":{view.line}" if view.line else " (not in today's file)"), "dim")
    out.print(title, soft_wrap=True)
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True, style="bold")
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for side in view.sides:
        where = f"v{side.version or '?'} · {side.rev[:7] if side.rev else 'working tree'}"
        grid.add_row(Text(clean(side.label)), Text(where, style="dim"), "")
        if side.case is None:
            grid.add_row("", "", Text(clean(side.problem or "the case is not on this side"), style="yellow"))
        else:
            grid.add_row("", "input", Text(_value(side.case.input)))
            grid.add_row("", "reference", Text(_value(side.case.reference)))
        for o in side.outcomes:
            head = Text(clean(o.model))
            if o.score is not None:
                head.append(f"  {'✓' if o.passed else '✗'} {o.score:g}", style="green" if o.passed else "red")
            cell = Text(_value(o.output)) if o.state == SHOWN else Text(o.state, style="yellow")
            if o.error:
                cell.append("\n" + clean(o.error), style="red")
            if o.note:
                cell.append("\n" + clean(o.note), style="dim")
            grid.add_row("", head, cell)
    out.print(grid)
