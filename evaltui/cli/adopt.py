"""`adopt`: write `[evals.*]` tables for an existing lm-eval, Inspect or OpenAI evals tree."""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from pathlib import Path

from evaltui.core.registry.adopt import HARNESSES, AdoptError, scan
from evaltui.core.registry.adopt.writer import merge, names_in, read_document, write
from evaltui.core.registry.model import FILENAME, find_root
from evaltui.core.textsafe import clean


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "adopt",
        help="write evals.toml for an existing lm-eval, Inspect or OpenAI evals tree",
        description="Scan DIR (default: the repository) for lm-evaluation-harness task YAML, Inspect @task "
        "functions and OpenAI evals registry entries, and add one [evals.NAME] table per task to evals.toml "
        "(created if absent; existing tables and comments are kept). Sets [project] baseline to HEAD so that "
        "history from before the adoption is shown but never warned about. Nothing is imported or run.",
    )
    p.add_argument("dirs", nargs="*", metavar="DIR", help="folders (or files) to scan, inside the repository")
    p.add_argument(
        "--harness",
        choices=("auto", *HARNESSES),
        default="auto",
        help="which harness's layout to look for (default: all of them)",
    )
    p.add_argument("--dry-run", action="store_true", help="print the tables that would be added; write nothing")
    p.add_argument("--only", metavar="GLOB", help="adopt only tasks whose name or file matches GLOB")
    p.set_defaults(func=cmd_adopt)


def cmd_adopt(args: argparse.Namespace) -> int:
    from evaltui.core.gcpause import paused_gc

    with paused_gc():
        return _adopt(args)


def _adopt(args: argparse.Namespace) -> int:
    start = Path(getattr(args, "repo", ".") or ".")
    root = find_root(start)
    dirs = []
    for d in args.dirs or ["."]:
        target = (start / d).resolve()  # like `git -C`: folders are relative to the -C directory
        rel = os.path.relpath(target, root)
        if rel == ".." or rel.startswith(".." + os.sep) or os.path.isabs(rel):
            raise AdoptError(f"{d!r} is outside the repository at {root}; adopt folders inside it")
        if not target.exists():
            raise AdoptError(f"{d!r} does not exist")
        dirs.append(Path(rel).as_posix())
    path = root / FILENAME
    doc = read_document(path)  # read once: it names the evals to leave alone, then takes the new ones
    found = scan(root, dirs, args.harness, args.only, names_in(doc))
    baseline, note = _head(root)
    merged = merge(path, found.adopted, baseline, doc)
    out = sys.stdout
    if found.adopted or baseline:
        out.write(merged.added)
    for line in found.skipped[:20]:
        print(f"# skipped {clean(line, keep_newlines=False)}", file=sys.stderr)
    if len(found.skipped) > 20:
        print(f"# ... and {len(found.skipped) - 20} more skipped", file=sys.stderr)
    counts = Counter(a.harness for a in found.adopted)
    summary = ", ".join(f"{h} {counts[h]}" for h in HARNESSES if counts[h]) or "none found"
    verb = "would add" if args.dry_run else "added"
    print(
        f"# {verb} {len(found.adopted)} evals ({summary}) to {FILENAME}"
        + (f"; baseline = {baseline[:12]}" if baseline else f"; no baseline ({note})"),
        file=sys.stderr,
    )
    if merged.baseline_before and baseline and merged.baseline_before != baseline:
        print(f"# the baseline moves from {merged.baseline_before} to {baseline[:12]}", file=sys.stderr)
    if not args.dry_run and (found.adopted or baseline):
        write(path, merged)
    return 0


def _head(root: Path) -> tuple[str | None, str]:
    """HEAD's sha for the baseline, or why there is none."""
    from evaltui.core import history
    from evaltui.core.errors import GitError

    if not history.is_repo(root):
        return None, "not a git repository"
    try:
        return history.rev_parse(root, "HEAD"), ""
    except GitError:
        return None, "the repository has no commits yet"
