"""Pieces every command uses: finding the repository, printing JSON and tables."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from evaltui.core.registry.model import Registry, find_root, load_registry


def add_repo_option(parser: argparse.ArgumentParser) -> None:
    """`-C/--repo PATH`, accepted after a command too (`evaltui check -C repo`)."""
    parser.add_argument(
        "-C",
        "--repo",
        dest="repo",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="the repository holding evals.toml (default: .)",
    )


def registry_from(args: Any, *, strict: bool = True) -> Registry:
    """Load the registry of the repository named by `-C/--repo` (default: the current directory)."""
    return load_registry(find_root(Path(getattr(args, "repo", ".") or ".")), strict=strict)


def positive(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value


def print_json(data: Any) -> None:
    """JSON on stdout, dates as ISO text: indented on a terminal, one line when piped (as `gh` does;
    the compact form is written by json's C encoder, several times faster on a large check)."""
    if sys.stdout.isatty():
        json.dump(data, sys.stdout, indent=2, ensure_ascii=False, default=str)
    else:
        sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str))
    sys.stdout.write("\n")


def console():
    """A Rich console for stdout; plain (no colour, no markup surprises) when piped."""
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


class Col:
    """A column of a table that must fit the terminal: `drop` orders what goes first when it does not
    (0 never goes; higher goes sooner), `wrap` lets a long text column fold instead."""

    def __init__(self, header: str, *, drop: int = 0, wrap: bool = False, right: bool = False):
        self.header, self.drop, self.wrap, self.right = header, drop, wrap, right


def fit_table(cols: list[Col], rows: list[list[Any]], width: int | None = None) -> Any:
    """A borderless Rich table of `rows` no wider than `width` (the console's): the columns with the
    highest `drop` go first, then wrapping columns fold. Cells may be str or rich Text."""
    from rich.cells import cell_len
    from rich.table import Table

    width = width or console().width
    keep = list(range(len(cols)))

    def natural(i: int) -> int:
        widest = max([cell_len(cols[i].header)] + [cell_len(str(r[i])) for r in rows])
        # A column that may wrap needs only a readable width; it folds into what is left.
        return min(widest, max(cell_len(cols[i].header), 16)) if cols[i].wrap else widest

    def total(idx: list[int]) -> int:
        return sum(natural(i) for i in idx) + 2 * (len(idx) - 1)

    while total(keep) > width:
        droppable = [i for i in keep if cols[i].drop > 0]
        if not droppable:
            break
        keep.remove(max(droppable, key=lambda i: (cols[i].drop, i)))
    table = Table(box=None, header_style="bold", pad_edge=False, padding=(0, 2, 0, 0), collapse_padding=True)
    for i in keep:
        c = cols[i]
        table.add_column(
            c.header,
            justify="right" if c.right else "left",
            no_wrap=not c.wrap,
            overflow="fold" if c.wrap else "ellipsis",
        )
    for r in rows:
        table.add_row(*(r[i] for i in keep))
    return table


def table_text(cols: list[Col], rows: list[list[Any]]) -> str:
    """`fit_table` rendered at the console's width, trailing blanks trimmed, ending with a newline."""
    out = console()
    with out.capture() as captured:
        out.print(fit_table(cols, rows, out.width))
    return "\n".join(line.rstrip() for line in captured.get().splitlines()) + "\n"


def print_table(cols: list[Col], rows: list[list[Any]]) -> None:
    """Print a table that fits the terminal (see `fit_table`)."""
    sys.stdout.write(table_text(cols, rows))
