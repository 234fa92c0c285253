"""The Overview tab: what an eval is, which version, what it is valid for, and its files."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.segment import Segment
from rich.table import Table
from rich.text import Text
from textual.css.styles import RulesMap
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, RichVisual
from textual.widget import Widget
from textual.widgets import Static

from evaltui.core.registry.model import Registry
from evaltui.core.registry.overview import EvalSummary
from evaltui.core.textsafe import clean
from evaltui.tui.widgets.base import DetailTab

if TYPE_CHECKING:  # the triage module pulls in git, notes and runs: not needed to draw
    from evaltui.core.team.triage import EvalStatus


def _row(table: Table, label: str, value: Text | str, style: str = "") -> None:
    table.add_row(Text(label, style="dim"), value if isinstance(value, Text) else Text(clean(value), style=style))


def render_overview(
    summary: EvalSummary, registry: Registry, colors: dict[str, str], status: EvalStatus | None = None
) -> Group:
    """A Rich renderable of one eval's overview (plain text objects: nothing is parsed as markup).

    `colors` are the theme's CSS variables (`App.get_css_variables()`), so Rich styles follow the theme.
    """
    error, warning, accent = (colors.get(k, "default") for k in ("error", "warning", "accent"))
    ev = summary.eval
    info = summary.version
    title = Text(ev.name, style="bold")
    if info.version:
        title.append(f"  v{clean(info.version)}", style=f"bold {accent}")
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column()
    if ev.description:
        _row(grid, "description", ev.description)
    if summary.version_error:
        _row(grid, "version", Text(clean(summary.version_error), style=error))
    else:
        source = {
            "decorator": f"@version on {ev.version_from}",
            "key": f"key {ev.version_from}",
            "inline": "evals.toml",
            "none": "not versioned",
        }[info.source]
        _row(grid, "version", Text.assemble((clean(info.version or "–"), "bold"), ("  from " + source, "dim")))
    _row(grid, "valid for", info.valid_for or "–")
    _row(grid, "why", info.why or "–")
    _row(grid, "metric", ev.metric or "– (tracked only: not runnable here)")
    if summary.dataset:
        ds = summary.dataset
        text = Text(clean(ds.path))
        text.append(f"  {ds.cases} case{'s' * (ds.cases != 1)}", style="bold")
        if ds.bad_lines:
            text.append(
                f"  ({len(ds.bad_lines)} unreadable line(s): {', '.join(map(str, ds.bad_lines[:5]))})", style=warning
            )
        _row(grid, "dataset", text)
        if ds.tags:
            _row(grid, "case tags", ", ".join(f"{t} ({n})" for t, n in ds.tags[:12]))
    elif ev.dataset:
        _row(grid, "dataset", Text.assemble(clean(ev.dataset), ("  counting cases…", "dim")))
    else:
        _row(grid, "dataset", "–")
    covers = Text()
    for i, mode in enumerate(ev.covers):
        if i:
            covers.append(", ")
        covers.append(mode)
        fm = registry.failure_modes.get(mode)
        if fm and fm.description:
            covers.append(f" ({clean(fm.description, keep_newlines=False)})", style="dim")
    _row(grid, "covers", covers if ev.covers else Text("– (declares no failure mode)", style="dim"))
    if status is not None and status.owner:
        reason = {
            "pin": "pinned in evals.toml",
            "override": "override",
            "rotation": "rotation",
            "cover": "covering an absence",
        }.get(status.owner_reason, status.owner_reason)
        _row(grid, "owner", Text.assemble((clean(status.owner), "bold"), (f"  ({reason})", "dim")))
    else:
        _row(grid, "owner", ev.owner or "– (the rotation decides)")
    if status is not None and status.silent:
        _row(
            grid,
            "silent",
            Text(
                f"{status.silent} unacknowledged silent change(s) since the last bump: see "
                "Lineage, acknowledge with a non-semantic note (a)",
                style=warning,
            ),
        )
    if status is not None and status.blind_spots:
        _row(
            grid,
            "blind spots",
            Text(f"declares {', '.join(status.blind_spots)} but no case is tagged for it", style=error),
        )
    if status is not None and status.scores:
        _row(grid, "latest", ", ".join(f"{model} {score:.2f}" for model, score in status.scores.items()))
    if ev.threshold is not None:
        _row(grid, "threshold", f"{ev.threshold:g}")
    if ev.params:
        _row(grid, "params", ", ".join(f"{k} = {v!r}" for k, v in ev.params.items()))
    files = Text("\n".join(clean(f) for f in summary.files) or "–")
    _row(grid, "files", files)
    problems = [p for p in registry.problems if p.eval == ev.name]
    parts: list = [title, Text(""), grid]
    if problems:
        parts.append(Text(""))
        for p in problems:
            parts.append(Text(clean(p.render()), style=error if p.severity == "error" else warning))
    return Group(*parts)


class Drawn(RichVisual):
    """A Rich renderable drawn once per width. Textual asks a visual for its height and then for
    its lines, on every layout; an Overview's table costs the same each time it is drawn."""

    def __init__(self, widget: Widget, renderable: RenderableType) -> None:
        super().__init__(widget, renderable)
        self.widget, self.renderable = widget, renderable
        self.lines: dict[int, list[list[Segment]]] = {}

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.renderable  # printed as itself (search in the pane, tests)

    def at(self, width: int) -> list[list[Segment]]:
        lines = self.lines.get(width)
        if lines is None:
            app = self.widget.app
            options = app.console_options.update(highlight=False, width=width)
            lines = self.lines[width] = app.console.render_lines(self.renderable, options, pad=False)
        return lines

    def get_height(self, rules: RulesMap, width: int) -> int:
        return len(self.at(width))

    def render_strips(self, width: int, height: int | None, style: Style, options: RenderOptions) -> list[Strip]:
        base = style.rich_style
        lines = self.at(width)
        return [Strip(list(Segment.apply_style(line, base))) for line in lines[:height]]


class Overview(DetailTab):
    """Scrollable Overview of the selected eval."""

    DEFAULT_CSS = """
    Overview {
        padding: 0 1;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._drawn: tuple[object, ...] = ()  # what the body was last drawn from

    def compose(self):
        yield Static(Text("Loading evals…", style="dim"), id="overview-body")

    def on_mount(self) -> None:
        self.refresh_data()  # whatever arrived while it was being composed

    def refresh_data(self) -> None:
        found = self.query("#overview-body")
        if not found:
            return  # not composed yet: `on_mount` draws it
        body = found.first(Static)
        registry = self.state.registry
        name = self.eval_name
        summary = self.state.summaries.get(name) if name else None
        if not name or summary is None or registry is None:
            self._drawn = ()
            body.update(Text("No eval selected. Clear the filter (esc) or add an eval to evals.toml.", style="dim"))
            return
        triage = self.state.triage
        status = triage.statuses.get(name) if triage is not None else None
        # Drawing lays the pane out again: skip it when the same eval comes back unchanged (a
        # tab switched back to, a filter that keeps the selection). The records are frozen, so
        # the same objects are the same content (compared by identity: equality would walk them).
        key = (summary, status, registry, self.app.theme)
        if len(key) == len(self._drawn) and all(a is b for a, b in zip(key, self._drawn, strict=True)):
            return
        self._drawn = key
        drawn = Drawn(body, render_overview(summary, registry, self.app.get_css_variables(), status))
        # As tall as what it replaces (evals alike in shape): only the body is repainted, and the
        # screen is not laid out again.
        before, width = body.visual, body.content_size.width
        same_height = isinstance(before, Drawn) and width > 0 and len(before.at(width)) == len(drawn.at(width))
        body.update(drawn, layout=not same_height)
