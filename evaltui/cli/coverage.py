"""`coverage`, `add-mode` and `add-case`: failure modes × evals, and growing them from the command line."""

from __future__ import annotations

import argparse
import sys
import textwrap

from evaltui.cli.common import Col, console, print_json, print_table, registry_from
from evaltui.core.registry import edits
from evaltui.core.team import coverage as cov
from evaltui.core.textsafe import clean


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "coverage",
        help="failure modes × evals: case counts and blind spots",
        description="Show which evals declare each failure mode and how many dataset cases "
        "exercise it, blind spots first; with run records, whether each eval discriminates.",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_coverage)

    p = sub.add_parser(
        "add-mode",
        help="declare a failure mode in evals.toml",
        description="Add [failure_modes.NAME] to evals.toml, keeping its comments and layout.",
    )
    p.add_argument("name", help="the failure mode's name, e.g. prompt-injection")
    p.add_argument("--description", "-d", required=True, help="what goes wrong, in a sentence")
    p.add_argument("--found", help='where it was found, e.g. "2026-10-02 production incident"')
    p.add_argument(
        "--tag",
        action="append",
        default=[],
        dest="tags",
        help="a dataset tag that exercises it (repeatable; default: the mode's name)",
    )
    p.add_argument(
        "--eval", action="append", default=[], dest="evals", help="add the mode to this eval's `covers` (repeatable)"
    )
    p.set_defaults(func=cmd_add_mode)

    p = sub.add_parser(
        "add-case",
        help="append a case to an eval's dataset",
        description="Append {id, input, reference, tags} to the eval's JSONL dataset. "
        "The id must be new; without --id the next one in the dataset's style is used.",
    )
    p.add_argument("eval")
    p.add_argument("--input", required=True)
    p.add_argument("--reference", required=True)
    p.add_argument("--tag", action="append", default=[], dest="tags", help="a tag (repeatable)")
    p.add_argument("--id", dest="case_id", help="the case id (default: the next free one)")
    p.add_argument("--json-values", action="store_true", help="read --input and --reference as JSON values")
    p.set_defaults(func=cmd_add_case)


def cmd_coverage(args: argparse.Namespace) -> int:
    registry = registry_from(args)
    runs = cov.read_runs(registry.state_dir)
    matrix = cov.coverage(registry, cov.outcomes_from_runs(runs))
    if args.json:
        print_json(matrix.to_json())
        return 0
    if not matrix.modes:
        print('No failure modes declared. Add one: evaltui add-mode NAME --description "..."')
        return 0
    if matrix.blind_spots:
        print(f"Blind spots ({len(matrix.blind_spots)}):")
        for m in matrix.blind_spots:
            print(
                textwrap.fill(
                    f"{m.name}: {clean(m.reason, keep_newlines=False)}",
                    width=max(console().width, 40),
                    initial_indent="  ",
                    subsequent_indent="    ",
                )
            )
        print()
    # Eval columns are the matrix itself: none is dropped; long names fold under a narrow terminal.
    cols = [Col("failure mode", wrap=True)] + [Col(name, right=True, wrap=True) for name in matrix.evals]
    rows = [[m.name + (" (blind)" if m.blind else ""), *(_cell_text(c) for c in m.cells)] for m in matrix.modes]
    print_table(cols, rows)
    legend = (
        "n* cases in an eval that declares the mode; 0* declares it without a case; (n) cases in an eval "
        "that does not declare it; ✓ some model fails these cases; = every model passes them."
    )
    print("\n" + textwrap.fill(legend, width=max(console().width, 40)))
    for p in matrix.problems:
        print(clean(p.render()), file=sys.stderr)
    return 0


def _cell_text(c: cov.Cell) -> str:
    if c.count is None:
        return "?*" if c.declared else ""
    if not c.declared:
        return f"({c.count})" if c.count else ""
    mark = {True: " ✓", False: " =", None: ""}[c.discriminates]
    return "0*" if not c.count else f"{c.count}*{mark}"


def cmd_add_mode(args: argparse.Namespace) -> int:
    registry = registry_from(args)
    edits.add_failure_mode(
        registry, args.name, args.description, found=args.found, case_tags=args.tags, covered_by=args.evals
    )
    tags = ", ".join(args.tags or [args.name])
    print(f"added failure mode {args.name} to {registry.path.name} (cases tagged {tags} exercise it)")
    if args.evals:
        print(f"covered by: {', '.join(args.evals)}")
    first = args.evals[0] if args.evals else "EVAL"
    print(f"next: evaltui add-case {first} --input ... --reference ... --tag {(args.tags or [args.name])[0]}")
    return 0


def cmd_add_case(args: argparse.Namespace) -> int:
    registry = registry_from(args)
    added = edits.add_case(
        registry,
        args.eval,
        edits.parse_input(args.input, args.json_values),
        edits.parse_input(args.reference, args.json_values),
        args.tags,
        args.case_id,
    )
    print(f"added case {added.id} to {added.dataset}:{added.line}")
    if added.modes:
        print(f"exercises: {', '.join(added.modes)}")
    elif args.tags:
        print(f"note: no failure mode has the tags {', '.join(args.tags)} in its case_tags")
    return 0
