"""`import lm-eval` and `import inspect`: other harnesses' result logs as evaltui run records."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from evaltui.cli.common import add_repo_option, print_json, registry_from
from evaltui.core.formatting import score_text
from evaltui.core.textsafe import one_line


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import",
        help="import lm-evaluation-harness or Inspect AI results as run records",
        description="Turn another harness's result logs into run records (one per task and "
        "model) that runs, the Runs tab, diff and report read like any other run. Importing the "
        "same file again adds nothing.",
    )
    harnesses = p.add_subparsers(dest="harness", metavar="HARNESS", required=True)
    lm = harnesses.add_parser(
        "lm-eval",
        help="lm-evaluation-harness 0.4.x output (run with --log_samples)",
        description="PATH is an --output_path folder, or results_*.json / samples_*.jsonl "
        "files. The eval is the one named after the task (as `evaltui adopt` names it) or "
        "--eval; the version is the one lm-eval recorded, checked against evals.toml at "
        "the recorded git_hash.",
    )
    lm.add_argument("paths", nargs="+", metavar="PATH", type=Path)
    lm.add_argument("--metric", metavar="NAME", help="metric[,filter] per case (default: the task's first)")
    ins = harnesses.add_parser(
        "inspect",
        help="Inspect AI logs (.eval, or .json)",
        description="LOG is an Inspect AI .eval log, or a .json log from --log-format json. "
        "Read with inspect_ai when it is installed (evaltui[inspect]), else directly. "
        "Scores C/I/P/N count as 1/0/0.5/0.",
    )
    ins.add_argument("paths", nargs="+", metavar="LOG", type=Path)
    ins.add_argument(
        "--scorer", dest="metric", metavar="NAME", help="the scorer whose scores to import (default: the first)"
    )
    for q in (lm, ins):
        q.add_argument("--eval", metavar="NAME", help="the eval in evals.toml the results belong to")
        q.add_argument("--model", metavar="NAME", help="the model's name in evaltui (default: from the log)")
        q.add_argument("--json", action="store_true", help="print the records written as JSON")
        add_repo_option(q)
        q.set_defaults(func=cmd_import)


def cmd_import(args: argparse.Namespace) -> int:
    from evaltui.core.runs.importers import import_files

    registry = registry_from(args)
    result = import_files(registry, args.harness, args.paths, eval=args.eval, model=args.model, metric=args.metric)
    for warning in result.warnings:
        print(f"evaltui: warning: {one_line(warning, 400)}", file=sys.stderr)
    if args.json:
        print_json(
            {
                "imported": [r.summary() for r in result.written],
                "skipped": list(result.skipped),
                "warnings": list(result.warnings),
            }
        )
        return 0
    for r in result.written:
        score = score_text(r.aggregate)
        print(
            f"imported {r.eval} {r.eval_version or '?'} × {one_line(r.model, 80)}: {score} "
            f"({r.n_cases} cases) from {r.source.file if r.source else '?'}"
        )
    for skipped in result.skipped:
        print(f"already imported: {one_line(skipped, 300)}")
    if not result.written and not result.skipped:
        print("nothing to import")
    return 0
