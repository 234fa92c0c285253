"""The command line: argument parsing → core calls → output.

`evaltui [PATH]` with no command opens the TUI. Each command group lives in its own module
with a `register(subparsers)` function; a command's handler takes the parsed arguments and
returns the exit code. User errors (`EvaltuiError`) print one message and exit 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from evaltui import __version__
from evaltui.core.errors import EvaltuiError, RegistryError

EPILOG = """\
Run `evaltui COMMAND --help` for a command's options.

Exit codes: 0 success, 1 a check or a threshold failed, 2 a usage or input error.
Docs: the README, and `evals.toml` in evaltui's own repository for a working example."""

DESCRIPTION = """\
evaltui keeps LLM evals honest as the systems they measure evolve.

It reads `evals.toml` (and each eval's code and data) and the repository's git history,
shows every eval's versions and silent changes, its coverage of known failure modes and
who owns it this period, runs evals against models with cached outputs, and writes the
pull-request delta that separates "the metric moved" from "the model got worse".

With no command, `evaltui [PATH]` opens the terminal app on the repository at PATH."""

COMMAND_MODULES = (
    "evaltui.cli.basic",
    "evaltui.cli.coverage",
    "evaltui.cli.team",
    "evaltui.cli.runs",
    "evaltui.cli.report",
    "evaltui.cli.history",
    "evaltui.cli.adopt",
    "evaltui.cli.imports",
    "evaltui.cli.cases",
)

# The module that registers each command. Running a command imports only its module, so
# `evaltui run` in a loop does not pay for the calendar, handoff and adopt code; `--help`
# imports them all. A test keeps this map in step with what the modules register.
COMMANDS = {
    "list": "basic",
    "check": "basic",
    "demo": "basic",
    "owners": "team",
    "handoff": "team",
    "rotation": "team",
    "coverage": "coverage",
    "add-mode": "coverage",
    "add-case": "coverage",
    "note": "team",
    "notes": "team",
    "run": "runs",
    "runs": "runs",
    "cache": "runs",
    "report": "report",
    "log": "history",
    "diff": "history",
    "adopt": "adopt",
    "import": "imports",
    "case": "cases",
}


def build_parser() -> argparse.ArgumentParser:
    """The full parser with every command group registered."""
    return _build()[0]


def _build(command: str | None = None) -> tuple[argparse.ArgumentParser, list[str]]:
    """The parser (with only `command`'s module registered, when given) and its commands' names."""
    import importlib

    from evaltui.cli.common import add_repo_option

    parser = argparse.ArgumentParser(
        prog="evaltui",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"evaltui {__version__}")
    parser.add_argument(
        "-C",
        "--repo",
        dest="repo",
        metavar="PATH",
        default=".",
        help="the repository (or any directory inside it) holding evals.toml; default: .",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name in COMMAND_MODULES if command is None else (f"evaltui.cli.{COMMANDS[command]}",):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(sub)
    for subparser in sub.choices.values():
        # `-C PATH` is accepted after the command too (`evaltui check -C repo`).
        add_repo_option(subparser)
    return parser, list(sub.choices)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `evaltui` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    positionals, repo = _positionals(argv)
    is_command = bool(positionals) and positionals[0] in COMMANDS
    parser, _ = _build(positionals[0] if is_command else None)
    commands = set(COMMANDS)
    if not is_command and not any(a in ("-h", "--help", "--version") for a in argv):
        # `evaltui [PATH]`: open the app.
        from evaltui.cli.basic import open_tui

        target = positionals[0] if positionals else repo
        if positionals and not Path(target).exists():
            import difflib

            close = difflib.get_close_matches(target, sorted(commands), n=1, cutoff=0.75)
            hint = f"did you mean `evaltui {close[0]}`?" if close else "see `evaltui --help`"
            print(f"evaltui: {target!r} is neither a command nor a directory; {hint}", file=sys.stderr)
            return 2
        return _guard(lambda: open_tui(Path(target)))
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return _guard(lambda: args.func(args))


def _guard(call) -> int:
    try:
        return int(call() or 0)
    except RegistryError as exc:
        print(f"evaltui: evals.toml has problems:\n{exc}", file=sys.stderr)
        return 2
    except EvaltuiError as exc:
        print(f"evaltui: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("evaltui: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def _positionals(argv: list[str]) -> tuple[list[str], str]:
    """The words that are not options, and the `-C/--repo` value: enough to tell a command from a PATH.

    Unknown options are left for the full parser; a value of one of them may count as a word,
    but only the first word matters and a command's options come after its name.
    """
    pre = argparse.ArgumentParser(prog="evaltui", add_help=False)
    pre.add_argument("-C", "--repo", default=".")
    pre.add_argument("words", nargs="*")
    known, _ = pre.parse_known_args(argv)
    return list(known.words), known.repo
