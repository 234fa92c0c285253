"""`report`: the pull-request report, old and new eval versions × baseline and candidate."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import threading
from pathlib import Path
from typing import Any

from evaltui.cli.common import positive, registry_from
from evaltui.core.runs import runner
from evaltui.core.runs.execution import JobFailed, JobFinished, JobStarted, RunWarning
from evaltui.core.textsafe import one_line


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="the pull-request report: old and new eval versions × baseline and candidate",
        description="For each eval changed between --base and --head (default: the working tree), "
        "run both versions against the baseline and the candidate model (reusing recorded runs) "
        "and write the 2×2 with cases added and removed, per-case flips and a paired test. "
        "Unchanged evals get baseline vs candidate.",
    )
    p.add_argument(
        "--base",
        required=True,
        metavar="REF",
        help="the revision to compare against (e.g. main), or "
        "a version that only one eval ever had (the commit that introduced it)",
    )
    p.add_argument(
        "--head", metavar="REF", help="the new side (default: the working tree); a revision or a version as for --base"
    )
    p.add_argument(
        "-m",
        "--model",
        action="append",
        default=[],
        metavar="MODEL",
        help="baseline then candidate (default: models named baseline and candidate, else the first two)",
    )
    p.add_argument("--format", choices=("markdown", "json"), default="markdown")
    p.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout")
    p.add_argument("-j", "--jobs", type=positive, default=None, metavar="N", help="jobs at once")
    p.add_argument("--seed", type=int, default=0, help="seed of the paired bootstrap (default: 0)")
    p.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    from evaltui.cli.progress import plain_line
    from evaltui.core.fsutil import atomic_write
    from evaltui.core.runs import report as reports

    registry = registry_from(args)
    cancel = threading.Event()

    def progress(event: Any) -> None:
        if isinstance(event, (JobStarted, JobFinished, JobFailed, RunWarning)):
            plain_line(event, sys.stderr)

    from evaltui.core.history.revisions import resolve_revision

    base = resolve_revision(registry, args.base)
    head = resolve_revision(registry, args.head) if args.head else None
    try:
        result = reports.build_report(
            registry,
            base.commit if base.version else args.base,
            (head.commit if head.version else args.head) if head else None,
            args.model,
            options=runner.RunOptions(jobs=args.jobs),
            on_event=progress,
            cancel=cancel,
            now=dt.datetime.now(dt.timezone.utc),
            seed=args.seed,
        )
    except KeyboardInterrupt:
        cancel.set()
        return 130
    text = (
        reports.to_markdown(result)
        if args.format == "markdown"
        else json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n"
    )
    for warning in result.warnings:
        print(f"evaltui: warning: {one_line(warning, 400)}", file=sys.stderr)
    if args.output:
        atomic_write(Path(args.output), text)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 1 if result.failed else 0
