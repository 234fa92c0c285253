"""Unified and side-by-side renderings of file diffs, and the case-level dataset summary, as Rich objects.

Everything here turns already-cleaned text into `Text` objects (never markup), so a patch line
that looks like Rich markup or carries escape codes is shown literally.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol
from weakref import WeakKeyDictionary

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.color import Color, ColorParseError

from evaltui.core.textsafe import clean

if TYPE_CHECKING:
    from evaltui.core.history import Lineage

MAX_LINES = 1500  # patch lines drawn per diff; the CLI (`evaltui diff`) prints the rest
IDS_SHOWN = 12  # case ids listed per kind of change


class PatchLike(Protocol):
    """What both `history.FilePatch` and `diffs.FileDiff` offer (read-only: both are frozen dataclasses)."""

    @property
    def status(self) -> str: ...
    @property
    def old_path(self) -> str | None: ...
    @property
    def new_path(self) -> str | None: ...
    @property
    def patch(self) -> str: ...
    @property
    def binary(self) -> bool: ...


_THEME_COLORS: WeakKeyDictionary[Any, tuple[object, dict[str, str]]] = WeakKeyDictionary()


def theme_colors(app) -> dict[str, str]:
    """Rich colours for diff lines and badges from the theme's variables, so Text styles follow the theme.

    Translucent variables (`foreground-muted` is the foreground at 60%) are blended over the
    background first: Rich has no alpha and would drop the style. Worked out once per app and
    theme: the tabs ask on every draw, and the theme's variables take a millisecond to generate.
    """
    theme = app.current_theme
    known = _THEME_COLORS.get(app)
    if known is not None and known[0] is theme:
        return dict(known[1])
    variables = app.get_css_variables()
    keys = ("success", "error", "warning", "primary", "accent", "foreground-muted", "secondary")
    try:
        background = Color.parse(variables.get("background", "black"))
    except ColorParseError:
        background = Color(0, 0, 0)
    out = {}
    for key in keys:
        try:
            color = Color.parse(variables.get(key, ""))
        except ColorParseError:
            out[key] = "default"
            continue
        out[key] = (background + color if color.a < 1 else color).hex6
    _THEME_COLORS[app] = (theme, out)
    return dict(out)


def diff_cache(state) -> dict[Any, Any]:
    """The diffs computed so far, shared by the tabs (see `AppState.diff_cache`)."""
    return state.diff_cache()


def short(rev: str) -> str:
    """A full sha shortened to seven characters; anything else (a version, HEAD~2) as given."""
    rev = clean(rev, keep_newlines=False)
    is_sha = len(rev) >= 40 and all(c in "0123456789abcdef" for c in rev.lower())
    return rev[:7] if is_sha else rev


def file_title(f: PatchLike, colors: dict[str, str]) -> Text:
    """`modified  evals/refunds.py`, or `renamed  old → new`, with the status coloured."""
    style = {"added": colors["success"], "removed": colors["error"], "renamed": colors["accent"]}.get(
        f.status, colors["primary"]
    )
    text = Text(f"{f.status:<9}", style=f"bold {style}")
    if f.status == "renamed" and f.old_path and f.new_path:
        text.append(clean(f.old_path, keep_newlines=False))
        text.append(" → ", style="dim")
        text.append(clean(f.new_path, keep_newlines=False), style="bold")
    else:
        text.append(clean(f.new_path or f.old_path or "?", keep_newlines=False), style="bold")
    return text


def hunk_lines(patch: str) -> list[str]:
    """The lines of a patch from its first hunk on (the `---`/`+++` header is said by the title)."""
    lines = clean(patch).splitlines()
    for i, line in enumerate(lines):
        if line.startswith("@@"):
            return lines[i:]
    return []


def unified(lines: Sequence[str], colors: dict[str, str]) -> Text:
    """Patch lines with + in the success colour, - in the error colour and hunk headers in the accent."""
    text = Text(overflow="fold", no_wrap=False)
    for i, line in enumerate(lines):
        if i:
            text.append("\n")
        text.append(line or " ", style=_line_style(line, colors))
    return text


def side_by_side(lines: Sequence[str], colors: dict[str, str]) -> Table:
    """The same hunks in two columns: the old text on the left, the new on the right, changes paired."""
    table = Table.grid(expand=True, padding=(0, 0))
    table.add_column(ratio=1, overflow="fold")
    table.add_column(width=1, style="dim")
    table.add_column(ratio=1, overflow="fold")
    removed: list[str] = []
    added: list[str] = []

    def flush() -> None:
        for j in range(max(len(removed), len(added))):
            left = Text(removed[j], style=colors["error"]) if j < len(removed) else Text("")
            right = Text(added[j], style=colors["success"]) if j < len(added) else Text("")
            table.add_row(left, "│", right)
        removed.clear()
        added.clear()

    for line in lines:
        mark, body = line[:1], line[1:]
        if mark == "-":
            removed.append(body)
        elif mark == "+":
            added.append(body)
        else:
            flush()
            if line.startswith("@@"):
                old, _, new = line[3:].partition(" @@")[0].partition(" ")
                table.add_row(Text(old, style=colors["accent"]), "│", Text(new, style=colors["accent"]))
            elif mark == "\\":
                table.add_row(Text(line, style="dim"), "│", Text(line, style="dim"))
            else:
                table.add_row(Text(body), "│", Text(body))
    flush()
    return table


def _line_style(line: str, colors: dict[str, str]) -> str:
    if line.startswith("@@"):
        return colors["accent"]
    if line.startswith("+"):
        return colors["success"]
    if line.startswith("-"):
        return colors["error"]
    if line.startswith("\\"):
        return "dim"
    return ""


def render_files(
    files: Sequence[PatchLike],
    colors: dict[str, str],
    *,
    split: bool = False,
    max_lines: int = MAX_LINES,
    more_hint: str = "",
) -> list[RenderableType]:
    """Each file's title and its hunks (unified, or side by side when `split`), at most `max_lines` in all."""
    parts: list[RenderableType] = []
    budget = max_lines
    for index, f in enumerate(files):
        if index:
            parts.append(Text(""))
        parts.append(file_title(f, colors))
        if f.binary:
            parts.append(Text("binary file differs", style="dim"))
            continue
        lines = hunk_lines(f.patch)
        if not lines:
            parts.append(Text("moved without changes" if f.status == "renamed" else "no textual change", style="dim"))
            continue
        shown = lines[: max(budget, 0)]
        budget -= len(shown)
        if shown:
            parts.append(side_by_side(shown, colors) if split else unified(shown, colors))
        if len(shown) < len(lines):
            hidden = len(lines) - len(shown) + sum(len(hunk_lines(g.patch)) for g in files[index + 1 :])
            parts.append(Text(f"… {hidden} more diff line(s) not drawn{more_hint}", style=colors["warning"]))
            break
    return parts


def render_cases(cases: Sequence, colors: dict[str, str]) -> list[RenderableType]:
    """The dataset's cases added, removed and changed (by id), per JSONL file of the eval."""
    parts: list[RenderableType] = []
    for c in cases:
        head = Text.assemble(("cases  ", "bold"), (clean(c.path, keep_newlines=False), "bold"), "  ")
        for sign, label, ids, color in (
            ("+", "added", c.added, "success"),
            ("−", "removed", c.removed, "error"),
            ("~", "changed", c.changed, "warning"),
        ):
            head.append(f"{sign}{len(ids)} {label}  ", style=colors[color] if ids else "dim")
        head.append(f"{c.unchanged} unchanged", style="dim")
        parts.append(head)
        for label, ids, color in (
            ("added", c.added, "success"),
            ("removed", c.removed, "error"),
            ("changed", c.changed, "warning"),
        ):
            if ids:
                parts.append(_id_line(label, ids, colors[color]))
        if c.note:
            parts.append(Text(clean(c.note, keep_newlines=False), style="dim"))
    return parts


def _id_line(label: str, ids: Sequence[str], color: str) -> Text:
    text = Text(f"  {label:<8}", style="dim")
    text.append(", ".join(clean(i, keep_newlines=False) for i in ids[:IDS_SHOWN]), style=color)
    if len(ids) > IDS_SHOWN:
        text.append(f" and {len(ids) - IDS_SHOWN} more", style="dim")
    return text


def stack(parts: Sequence[RenderableType]) -> Group:
    """The parts one under the other."""
    return Group(*parts)


def history_gate(state, name: str | None, colors: dict[str, str], nothing: str) -> tuple[Text, bool] | None:
    """Why a tab built on git history cannot show `name` yet, as (message, still loading), or None.

    `nothing` names what is missing when the repository has no commits ("No git history to show").
    """
    if state.registry is None:
        return Text("Loading evals…", style="dim"), True
    if name is None:
        return Text("No eval selected.", style="dim"), False
    lineage = state.lineage
    if lineage is None:
        if state.lineage_error:
            return Text.assemble(
                (f"{name}\n", "bold"),
                ("History could not be read: ", "bold"),
                (clean(state.lineage_error), colors["error"]),
            ), False
        return Text.assemble((name, "bold"), ("  reading history from git…", "dim")), True
    if lineage.head is None:
        reason = "; ".join(clean(n) for n in lineage.notes) or "no commits yet"
        return Text.assemble((f"{name}\n", "bold"), (f"{nothing}: ", "bold"), (reason, colors["warning"])), False
    return None


class HistoryReady(NamedTuple):
    """What a tab built on git history draws: the eval and the repository's lineage."""

    name: str
    lineage: Lineage


def history_ready(
    state: Any, name: str | None, colors: dict[str, str], nothing: str, show: Callable[[Text, bool], None]
) -> HistoryReady | None:
    """The eval and lineage to draw, or None once `show` has been given the reason there are none."""
    gate = history_gate(state, name, colors, nothing)
    if gate is not None:
        show(*gate)
        return None
    if name is None or state.lineage is None:  # ruled out by the gate; narrowed for the type checker
        return None
    return HistoryReady(name, state.lineage)
