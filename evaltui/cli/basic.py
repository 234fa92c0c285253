"""`list`, `check`, `demo` and opening the TUI."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TypedDict

from evaltui.cli.common import print_json, registry_from
from evaltui.core.checks import problems as checks
from evaltui.core.errors import Problem
from evaltui.core.registry.model import find_root, load_registry
from evaltui.core.registry.overview import summarize
from evaltui.core.textsafe import clean


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "list",
        help="list the evals with their versions",
        description="List every eval in evals.toml: version, what it is valid for, owner pin, "
        "files and the failure modes it covers.",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser(
        "check",
        help="the CI gate: schema, files, versions",
        description="Check evals.toml and everything it points at. Exit 0 when clean, 1 on "
        "errors (or warnings with --strict), 2 when the check cannot run.",
    )
    p.add_argument(
        "--format",
        choices=("text", "json", "github"),
        default="text",
        help="text for people, json for tools, github for GitHub Actions annotations",
    )
    p.add_argument("--strict", action="store_true", help="fail on warnings too")
    p.add_argument(
        "--staged",
        action="store_true",
        help="check what is staged in the git index, not the working "
        "tree (the pre-commit hook evaltui-check), including staged changes without a version bump",
    )
    p.set_defaults(func=cmd_check)

    p = sub.add_parser(
        "demo",
        help="build the demo repository and open the app on it",
        description="Build a deterministic demo repository (several authors over months, "
        "version bumps, a silent change, a rename, a blind spot, two models, a rotation) and "
        "open the app on it. Without DIR it is built in your cache directory.",
    )
    p.add_argument("dir", nargs="?", help="where to build it (must be empty or absent)")
    p.add_argument("--no-tui", action="store_true", help="build it and print its path, do not open the app")
    p.set_defaults(func=cmd_demo)


class ListRow(TypedDict):
    """One eval as `evaltui list` shows it (and prints it with --json)."""

    name: str
    version: str | None
    valid_for: str | None
    why: str | None
    version_source: str
    version_error: str | None
    description: str
    owner: str | None
    files: list[str]
    covers: list[str]


def cmd_list(args: argparse.Namespace) -> int:
    registry = registry_from(args)
    rows: list[ListRow] = [
        {
            "name": s.name,
            "version": s.version.version,
            "valid_for": s.version.valid_for,
            "why": s.version.why,
            "version_source": s.version.source,
            "version_error": s.version_error,
            "description": s.eval.description,
            "owner": s.eval.owner,
            "files": list(s.files),
            "covers": list(s.eval.covers),
        }
        for s in summarize(registry, datasets=False)
    ]
    if args.json:
        print_json({"evals": rows})
        return 0
    from evaltui.cli.common import Col, print_table

    cols = [
        Col("eval", wrap=True),
        Col("version"),
        Col("valid for", wrap=True),
        Col("owner", drop=1),
        Col("covers", wrap=True, drop=2),
    ]
    print_table(
        cols,
        [
            [
                r["name"],
                r["version"] or ("?" if r["version_error"] else "-"),
                clean(r["valid_for"] or ""),
                r["owner"] or "",
                ", ".join(r["covers"]),
            ]
            for r in rows
        ],
    )
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from evaltui.core.gcpause import paused_gc

    with paused_gc():
        return _check(args)


def _check(args: argparse.Namespace) -> int:
    if getattr(args, "staged", False):
        from evaltui.core.checks.staged import check_staged

        problems = check_staged(find_root(Path(args.repo)))
        render_problems(problems, args.format)
        return checks.exit_code(problems, args.strict)
    registry = load_registry(find_root(Path(args.repo)), strict=False)
    if checks.unreadable(registry):
        # Nothing else can be checked in a file that does not parse: exit 2, as for a missing file.
        render_problems(list(registry.errors), args.format)
        return 2
    problems = checks.check_repository(registry)
    render_problems(problems, args.format)
    return checks.exit_code(problems, args.strict)


def render_problems(problems: list[Problem], fmt: str) -> None:
    """Print problems as text, JSON or GitHub Actions annotations."""
    if fmt == "json":
        print_json(
            {
                "problems": [p.to_json() for p in problems],
                "errors": sum(p.severity == "error" for p in problems),
                "warnings": sum(p.severity == "warning" for p in problems),
                "infos": sum(p.severity == "info" for p in problems),
            }
        )
        return
    if fmt == "github":
        for p in problems:
            level = {"error": "error", "info": "notice"}.get(p.severity, "warning")
            where = ",".join(f"{k}={v}" for k, v in (("file", p.file), ("line", p.line), ("col", p.column)) if v)
            text = p.message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
            print(f"::{level} {where}::{p.code}: {text}" if where else f"::{level}::{p.code}: {text}")
        return
    for p in problems:
        print(clean(p.render()))
    errors = sum(p.severity == "error" for p in problems)
    warnings = sum(p.severity == "warning" for p in problems)
    infos = len(problems) - errors - warnings
    pending = f", {infos} pending" if infos else ""
    print(
        f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}{pending}"
        if problems
        else "no problems"
    )


def cmd_demo(args: argparse.Namespace) -> int:
    from evaltui.core.demo import builder as demo

    target = demo.build_demo(Path(args.dir)) if args.dir else demo.cached_demo()
    if args.no_tui:
        print(target)
        return 0
    return open_tui(target)


def open_tui(path: Path) -> int:
    """Open the app on the repository at (or above) `path`."""
    if not path.exists():
        from evaltui.core.errors import EvaltuiError

        raise EvaltuiError(f"{path}: no such directory")
    if not sys.stdout.isatty():
        from evaltui.core.errors import EvaltuiError

        raise EvaltuiError("the app needs a terminal; use a command such as `evaltui list` when piping")
    from evaltui.tui.app import EvaltuiApp

    EvaltuiApp(find_root(path)).run()
    return 0
