"""The case drill-down: one case's input and reference, and per side each model's output and score."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static
from textual.worker import Worker

from evaltui.core.runs.cases import SHOWN, CaseSide, CaseView, Outcome, SideSpec
from evaltui.core.textsafe import clean
from evaltui.tui.messages import CaseRead

if TYPE_CHECKING:
    from evaltui.tui.app import EvaltuiApp

MAX_CHARS = 4000  # of one input, reference or output; the rest is counted, not drawn


def shown_value(value: Any) -> str:
    """A dataset value or model output as readable text: strings as written, anything else as indented JSON."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)
        except (TypeError, ValueError):
            text = repr(value)
    text = clean(text)
    if len(text) > MAX_CHARS:
        text = f"{text[:MAX_CHARS]}… ({len(text) - MAX_CHARS} more characters)"
    return text


def side_title(side: CaseSide) -> Text:
    """`A · v1.0 · 4e7e0d4` (or `working tree`)."""
    where = side.rev[:7] if side.rev else "working tree"
    return Text.assemble(
        (clean(side.label, keep_newlines=False), "bold"),
        f" · v{clean(side.version or '?', keep_newlines=False)} · ",
        (where, "dim"),
    )


def outcome_cell(o: Outcome, colors: dict[str, str]) -> Text:
    """A model's score (pass/fail), the case's error, its output, and why anything is missing."""
    text = Text()
    if o.score is not None:
        mark, colour = ("✓", colors["success"]) if o.passed else ("✗", colors["error"])
        text.append(f"{mark} {o.score:g}", style=f"bold {colour}")
    elif o.run is not None:
        text.append("– no score", style="dim")
    if o.state != SHOWN:
        text.append(("  " if text else "") + o.state, style=f"bold {colors['warning']}")
    if o.error:
        text.append("\n" + clean(o.error), style=colors["error"])
    if o.state == SHOWN:
        text.append("\n")
        text.append(shown_value(o.output))
    if o.note:
        text.append("\n" + clean(o.note), style="dim italic")
    if o.run:
        text.append(f"\nrun {o.run}", style="dim")
    return text


def render_case(view: CaseView, colors: dict[str, str]) -> RenderableType:
    """The whole drill-down as plain Rich objects (nothing is parsed as markup)."""
    parts: list[RenderableType] = []
    where = Text.assemble(("dataset ", "dim"), clean(view.dataset or "–"))
    if view.line is not None:
        where.append(f":{view.line}", style="bold")
    else:
        where.append("  (not in today's file)", style="dim")
    tags = next((s.case.tags for s in view.sides if s.case is not None and s.case.tags), ())
    if tags:
        where.append("  tags ", style="dim")
        where.append(clean(", ".join(tags), keep_newlines=False))
    parts.append(where)
    present = [s for s in view.sides if s.case is not None]
    if present and view.same_case:
        case = present[0].case
        assert case is not None  # filtered above
        for label, value in (("input", case.input), ("reference", case.reference)):
            parts += [Text(""), Text(label, style="bold"), Text(shown_value(value))]
    table = Table(expand=True, show_lines=True, padding=(0, 1))
    table.add_column("", no_wrap=True, style="bold", ratio=None)
    for side in view.sides:
        table.add_column(side_title(side), ratio=1, overflow="fold")
    if not (present and view.same_case):
        for label, field in (("input", "input"), ("reference", "reference")):
            table.add_row(label, *[_case_value(s, field, colors) for s in view.sides])
    for i, model in enumerate(view.models):
        table.add_row(clean(model, keep_newlines=False), *[outcome_cell(s.outcomes[i], colors) for s in view.sides])
    parts += [Text(""), table]
    return Group(*parts)


def _case_value(side: CaseSide, field: str, colors: dict[str, str]) -> Text:
    if side.case is None:
        return Text(clean(side.problem or "not on this side"), style=f"italic {colors['warning']}")
    return Text(shown_value(getattr(side.case, field)))


class CaseScreen(ModalScreen[None]):
    """One case side by side: input and reference, then per model its output and score on each side."""

    DEFAULT_CSS = """
    CaseScreen { align: center middle; }
    #case-box {
        width: 96%;
        height: 92%;
        padding: 0 1;
        border: round $primary;
        border-title-color: $primary;
        border-subtitle-color: $foreground-muted;
        background: $surface;
    }
    #case-scroll { height: 1fr; }
    #case-body { width: 1fr; }
    """

    if TYPE_CHECKING:  # the screens run inside evaltui's app: say so to the type checker
        app: EvaltuiApp

    BINDINGS = [
        Binding("escape,q", "dismiss", "Close", id="case-close"),
        Binding("e", "edit", "Edit case", id="case-edit"),
    ]
    """Escape closes; e opens the dataset in `$EDITOR` at the case's line."""

    def __init__(self, eval_name: str, case_id: str, sides: Sequence[SideSpec]) -> None:
        super().__init__(id="case-screen")
        self.eval_name, self.case_id, self.sides = eval_name, case_id, tuple(sides)
        self.view: CaseView | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="case-box") as box:
            box.border_title = (
                f"{clean(self.eval_name, keep_newlines=False)} · case {clean(self.case_id, keep_newlines=False)}"
            )
            box.border_subtitle = "esc close · e edit the case · ↑↓ scroll"
            with VerticalScroll(id="case-scroll"):
                yield Static(Text("Reading the case and its outputs…", style="dim"), id="case-body")

    def on_mount(self) -> None:
        self.query_one("#case-scroll").focus()
        self.read()

    @work(thread=True, exclusive=True, exit_on_error=False, group="case")
    def read(self) -> None:
        """Read the case on each side and the outputs from the cache, off the UI thread."""
        from evaltui.core.runs.cases import read_case

        registry = self.app.state.registry
        if registry is None:
            return
        self.post_message(CaseRead(read_case(registry, self.eval_name, self.case_id, self.sides)))

    @on(CaseRead)
    def _read(self, message: CaseRead) -> None:
        self.view = message.view
        variables = self.app.get_css_variables()
        colors = {k: variables.get(k, "default") for k in ("error", "success", "warning")}
        self.query_one("#case-body", Static).update(render_case(message.view, colors))

    def worker_failed(self, worker: Worker) -> bool:
        if worker.group != "case":
            return False
        error = self.app.get_css_variables().get("error", "default")
        self.query_one("#case-body", Static).update(
            Text(f"The case could not be read: {clean(str(worker.error))}", style=f"bold {error}")
        )
        return True

    def action_edit(self) -> None:
        view = self.view
        if view is None or view.dataset is None:
            return
        self.app.open_file(view.dataset, view.line)
