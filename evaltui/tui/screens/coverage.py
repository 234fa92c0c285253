"""The Coverage screen: failure modes × evals, blind spots first; list a cell's cases, add a mode or a case."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from evaltui.core.errors import EvaltuiError
from evaltui.core.registry import edits
from evaltui.core.registry.datasets import Case
from evaltui.core.registry.model import Registry, load_registry
from evaltui.core.team import coverage as cov
from evaltui.core.team.coverage import Cell, Coverage, ModeCoverage
from evaltui.core.textsafe import clean, one_line
from evaltui.tui.messages import CoverageLoaded
from evaltui.tui.screens.form import Field, FormDialog

if TYPE_CHECKING:
    from evaltui.tui.app import EvaltuiApp

INPUT_WIDTH = 60
LEGEND = (
    "n cases (✓ a model fails some, = all pass) · 0! declared, no case · (n) tagged, not declared · ? cases elsewhere"
)


def blind_spot_evals(coverage: Coverage) -> set[str]:
    """Evals that declare a failure mode without a single case for it (the eval list's badge)."""
    return {c.eval for c in coverage.gaps}


def cell_text(cell: Cell, colors: dict[str, str]) -> Text:
    """One cell of the matrix: the case count and what it means, styled with the theme's colours."""
    if cell.count is None:
        return Text("?", style="dim") if cell.declared else Text("")
    if not cell.declared:
        return Text(f"({cell.count})", style="dim") if cell.count else Text("")
    if not cell.count:
        return Text("0!", style=f"bold {colors.get('warning', 'default')}")
    text = Text(str(cell.count), style="bold")
    if cell.discriminates is True:
        text.append(" ✓", style=colors.get("success", "default"))
    elif cell.discriminates is False:
        text.append(" =", style=colors.get("warning", "default"))
    return text


def mode_label(mode: ModeCoverage, colors: dict[str, str]) -> Text:
    """The row label: blind spots in the error colour, modes with a declared-but-empty cell in the warning colour."""
    if mode.blind:
        return Text.assemble(
            ("● ", colors.get("error", "default")), (mode.name, f"bold {colors.get('error', 'default')}")
        )
    if any(c.gap for c in mode.cells):
        return Text.assemble(("◐ ", colors.get("warning", "default")), (mode.name, colors.get("warning", "default")))
    return Text.assemble(("  ", ""), (mode.name, ""))


def value_text(value: Any, width: int = INPUT_WIDTH) -> str:
    """A case's input or reference on one cleaned line (JSON for anything that is not text)."""
    if not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False)
    return one_line(value.replace("\n", " "), width)


def split_tags(text: str) -> list[str]:
    """Tags typed as `a, b c`: split on commas and spaces."""
    return [t for t in re.split(r"[,\s]+", text) if t]


class MatrixTable(DataTable):
    """The failure-mode × eval matrix; Enter (shown in the footer) lists the cases of the cell."""

    BINDINGS = [Binding("enter", "select_cursor", "Cases", id="coverage-cases")]
    """Enter selects the cell, which the screen turns into its list of cases."""


# -- the screen -----------------------------------------------------------------------------------


class CoverageScreen(Screen):
    """The matrix, read in a worker; Enter on a cell lists its cases, `m` adds a mode, `n` adds a case."""

    DEFAULT_CSS = """
    CoverageScreen {
        #coverage-summary { height: auto; padding: 0 1; background: $panel; color: $foreground; }
        #coverage-matrix { height: auto; max-height: 50%; background: $surface; }
        #coverage-mode { height: auto; min-height: 3; padding: 0 1; border-top: solid $pane-border; }
        #coverage-cases-title { height: 1; padding: 0 1; color: $foreground; }
        #coverage-cases { height: 1fr; }
    }
    """

    if TYPE_CHECKING:  # the screens and tabs run inside evaltui's app: say so to the type checker
        app: EvaltuiApp

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="coverage-back"),
        Binding("m", "add_mode", "Add mode", id="coverage-add-mode"),
        Binding("n", "add_case", "Add case", id="coverage-add-case"),
    ]
    """Back, and the two edits; Enter on a cell (the table's own key) lists its cases."""

    def __init__(self, eval_name: str | None = None) -> None:
        super().__init__(id="coverage-screen")
        self.eval_name = eval_name  # the eval selected on the main screen: its column gets the cursor
        self.registry: Registry | None = None
        self.coverage: Coverage | None = None
        self.listed: tuple[str, str | None] | None = None  # (mode, eval or None for every eval)

    def compose(self) -> ComposeResult:
        yield Static(Text("Reading datasets…", style="dim"), id="coverage-summary")
        yield MatrixTable(id="coverage-matrix", cursor_type="cell")
        yield Static(id="coverage-mode")
        yield Static(
            Text("enter on a cell lists its cases; on a failure mode, its cases in every eval", style="dim"),
            id="coverage-cases-title",
        )
        yield DataTable(id="coverage-cases", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        cases = self.query_one("#coverage-cases", DataTable)
        for key, label in (("eval", "eval"), ("id", "id"), ("input", "input"), ("tags", "tags")):
            cases.add_column(label, key=key)
        self.query_one("#coverage-matrix", DataTable).focus()
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="coverage")
    def load(self, reread: bool = False) -> None:
        """Count every eval's cases per failure mode and, from the latest runs, whether they discriminate."""
        registry = None if reread else self.app.state.registry
        try:
            if registry is None:
                registry = load_registry(self.app.root, strict=False)
            runs = cov.read_runs(registry.state_dir)
            matrix = cov.coverage(registry, cov.outcomes_from_runs(runs))
        except EvaltuiError as exc:
            self.post_message(CoverageLoaded(error=str(exc)))
            return
        self.post_message(CoverageLoaded(registry, matrix))

    @on(CoverageLoaded)
    def _loaded(self, message: CoverageLoaded) -> None:
        message.stop()
        colors = self.app.get_css_variables()
        summary = self.query_one("#coverage-summary", Static)
        if message.error:
            summary.update(
                Text(
                    f"Cannot compute coverage: {clean(message.error, keep_newlines=False)}",
                    style=f"bold {colors.get('error', 'default')}",
                )
            )
            return
        here = self.cursor_cell()  # by name, before the rows move
        self.registry, self.coverage = message.registry, message.coverage
        self.app.state.coverage = self.coverage
        self._fill(colors, here)

    def _fill(self, colors: dict[str, str], here: tuple[str | None, str | None]) -> None:
        matrix = self.coverage
        assert matrix is not None
        table = self.query_one("#coverage-matrix", DataTable)
        table.clear(columns=True)
        table.add_column("failure mode", key="mode")
        for name in matrix.evals:
            table.add_column(name, key=name)
        for mode in matrix.modes:
            table.add_row(mode_label(mode, colors), *(cell_text(c, colors) for c in mode.cells), key=mode.name)
        blind = len(matrix.blind_spots)
        summary = Text.assemble(
            ("Coverage  ", "bold"), f"{len(matrix.modes)} failure modes × {len(matrix.evals)} evals  ·  "
        )
        summary.append(
            f"{blind} blind spot{'s' * (blind != 1)}",
            style=f"bold {colors.get('error', 'default')}" if blind else "dim",
        )
        gaps = len(matrix.gaps)
        summary.append(f"  ·  {gaps} declared without cases", style=colors.get("warning", "default") if gaps else "dim")
        summary.append(f"\n{LEGEND}", style="dim")
        self.query_one("#coverage-summary", Static).update(summary)
        if not matrix.modes:
            self.query_one("#coverage-mode", Static).update(
                Text("No failure modes declared yet. Press m to add the first one.", style="dim")
            )
        mode_name, eval_name = here if here != (None, None) else (None, self.eval_name)
        self._move_to(mode_name, eval_name)
        if self.listed:
            self.list_cases(*self.listed)
        self._show_mode()

    def _move_to(self, mode: str | None, eval_name: str | None) -> None:
        matrix = self.coverage
        if matrix is None or not matrix.modes:
            return
        names = [m.name for m in matrix.modes]
        row = names.index(mode) if mode in names else 0
        column = matrix.evals.index(eval_name) + 1 if eval_name in matrix.evals else 0
        self.query_one("#coverage-matrix", DataTable).move_cursor(row=row, column=column)

    def cursor_cell(self) -> tuple[str | None, str | None]:
        """(failure mode, eval) under the cursor; the eval is None on the mode column."""
        matrix = self.coverage
        table = self.query_one("#coverage-matrix", DataTable)
        if matrix is None or not matrix.modes or table.row_count == 0:
            return None, None
        row, column = table.cursor_coordinate
        if not 0 <= row < len(matrix.modes):
            return None, None
        mode = matrix.modes[row].name
        return mode, matrix.evals[column - 1] if 1 <= column <= len(matrix.evals) else None

    @on(DataTable.CellHighlighted, "#coverage-matrix")
    def _highlighted(self) -> None:
        self._show_mode()

    def _show_mode(self) -> None:
        mode_name, eval_name = self.cursor_cell()
        if self.coverage is None or mode_name is None:
            return
        colors = self.app.get_css_variables()
        mode = self.coverage.mode(mode_name)
        text = Text.assemble((mode.name, "bold"), "  ")
        text.append(clean(mode.description, keep_newlines=False))
        if mode.found:
            text.append(f"  (found {clean(mode.found, keep_newlines=False)})", style="dim")
        verdict = colors.get("error" if mode.blind else "success", "default")
        text.append(f"\n{'blind spot: ' if mode.blind else ''}{clean(mode.reason, keep_newlines=False)}", style=verdict)
        text.append(f"   tags: {', '.join(mode.case_tags)}", style="dim")
        if eval_name is not None:
            cell = self.coverage.cell(mode_name, eval_name)
            text.append(f"\n{eval_name}: {self._describe(cell)}", style="dim")
        self.query_one("#coverage-mode", Static).update(text)

    @staticmethod
    def _describe(cell: Cell) -> str:
        declared = "declares it" if cell.declared else "does not declare it"
        if cell.count is None:
            return f"{declared}; no dataset here to count"
        found = f"{cell.count} case{'s' * (cell.count != 1)}"
        bites = {True: f"; failed by {', '.join(cell.failing_models)}", False: "; every model passes them", None: ""}[
            cell.discriminates if cell.count else None
        ]
        return f"{declared}; {found}{bites}  ·  enter: list cases, n: add a case"

    @on(DataTable.CellSelected, "#coverage-matrix")
    def _selected(self, event: DataTable.CellSelected) -> None:
        event.stop()
        mode, eval_name = self.cursor_cell()
        if mode is not None:
            self.list_cases(mode, eval_name)

    def list_cases(self, mode: str, eval_name: str | None) -> None:
        """Show the cases of `eval_name` (or of every eval) whose tags exercise `mode`."""
        matrix = self.coverage
        if matrix is None or mode not in {m.name for m in matrix.modes}:
            return
        self.listed = (mode, eval_name)
        evals = [eval_name] if eval_name else list(matrix.evals)
        rows: list[tuple[str, Case]] = [(e, c) for e in evals for c in matrix.cases_in(mode, e)]
        table = self.query_one("#coverage-cases", DataTable)
        table.clear()
        for e, c in rows:
            table.add_row(
                Text(e),
                Text(clean(c.id, keep_newlines=False)),
                Text(value_text(c.input)),
                Text(clean(", ".join(c.tags), keep_newlines=False)),
                key=f"{e}\0{c.id}",
            )
        where = eval_name or "every eval"
        title = Text.assemble((f"Cases exercising {mode} in {where}", "bold"), f"  ({len(rows)})")
        if not rows:
            tags = ", ".join(matrix.mode(mode).case_tags)
            title.append(f"  none is tagged {tags}" + (": press n to add one" if eval_name else ""), style="dim")
        self.query_one("#coverage-cases-title", Static).update(title)

    # -- edits ---------------------------------------------------------------------------------

    def action_add_mode(self) -> None:
        registry = self.registry
        if registry is None:
            return
        fields = [
            Field("name", "Name", "e.g. prompt-injection"),
            Field("description", "Description", "what goes wrong, in a sentence"),
            Field("found", "Found (optional)", "e.g. 2026-10-02 production incident"),
            Field("evals", "Covered by (optional)", "evals that test it, e.g. " + ", ".join(list(registry.evals)[:2])),
        ]

        def submit(values: dict[str, str]) -> str:
            name = values["name"].strip()
            covered = split_tags(values["evals"])
            edits.add_failure_mode(
                registry, name, values["description"], found=values["found"].strip() or None, covered_by=covered
            )
            return f"added failure mode {name} to {registry.path.name}" + (
                f", covered by {', '.join(covered)}" if covered else ""
            )

        self.app.push_screen(
            FormDialog(
                "Add a failure mode",
                fields,
                submit,
                "Written to evals.toml with its comments and layout kept. Cases tagged with its name exercise it.",
                id="add-mode-dialog",
            ),
            self._edited,
        )

    def action_add_case(self) -> None:
        registry = self.registry
        mode, eval_name = self.cursor_cell()
        if registry is None or self.coverage is None:
            return
        if eval_name is None:
            self.app.notify(
                "Move the cursor to an eval's column first: the case goes into its dataset.", severity="warning"
            )
            return
        ev = registry.evals[eval_name]
        if not ev.dataset:
            self.app.notify(
                f"{eval_name} has no dataset here (its cases live in another harness).",
                severity="warning",
                markup=False,
            )
            return
        tag = self.coverage.mode(mode).case_tags[0] if mode else ""
        fields = [
            Field("input", "Input", "what the user wrote"),
            Field("reference", "Reference", "the answer the eval expects"),
            Field("tags", "Tags", "comma-separated", tag),
        ]

        def submit(values: dict[str, str]) -> str:
            added = edits.add_case(
                registry, eval_name, values["input"], values["reference"], split_tags(values["tags"])
            )
            exercises = f"; exercises {', '.join(added.modes)}" if added.modes else ""
            return f"added case {added.id} to {added.dataset}:{added.line}{exercises}"

        self.listed = (mode, eval_name) if mode else self.listed
        self.app.push_screen(
            FormDialog(
                f"Add a case to {eval_name}",
                fields,
                submit,
                f"Appended to {ev.dataset} with the next free id.",
                id="add-case-dialog",
            ),
            self._edited,
        )

    def _edited(self, summary: str | None) -> None:
        if summary is None:
            return
        self.app.notify(summary, title="Coverage", markup=False)
        self.load(reread=True)
        self.app.action_reload()  # the eval list and Overview catch up
