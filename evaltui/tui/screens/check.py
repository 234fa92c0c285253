"""The Check screen: every problem `evaltui check` would report; Enter jumps to the eval, `a` annotates it."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, NamedTuple

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import Worker

from evaltui.core.checks import problems as checks
from evaltui.core.errors import EvaltuiError, Problem
from evaltui.core.textsafe import clean, one_line
from evaltui.tui.messages import ChecksDone
from evaltui.tui.widgets.eval_table import EvalTable
from evaltui.tui.widgets.footer import SteadyFooter

if TYPE_CHECKING:
    from evaltui.tui.app import EvaltuiApp

# The silent-change message names the commit it is about; `a` prefills it so acknowledging a
# harmless change is one note away.
_SILENT_COMMIT = re.compile(r"\bsilent change in ([0-9a-f]{7,40})\b")
MIN_MESSAGE_WIDTH = 30


def silent_commit(problem: Problem) -> str | None:
    """The (abbreviated) commit a `silent-change` problem is about, if it names one."""
    if problem.code != "silent-change":
        return None
    m = _SILENT_COMMIT.search(problem.message)
    return m.group(1) if m else None


def summary_text(problems: list[Problem], colors: dict[str, str]) -> Text:
    """`2 errors, 4 warnings` in the theme's colours, or a line that says all is well."""
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    if not problems:
        return Text("✓ No problems: evaltui check would pass.", style=f"bold {colors.get('success', 'default')}")
    text = Text.assemble(("Check  ", "bold"))
    text.append(
        f"{errors} error{'s' * (errors != 1)}", style=f"bold {colors.get('error', 'default')}" if errors else "dim"
    )
    text.append(", ")
    text.append(
        f"{warnings} warning{'s' * (warnings != 1)}",
        style=f"bold {colors.get('warning', 'default')}" if warnings else "dim",
    )
    text.append("   enter: go to the eval · a: annotate (acknowledge a silent change) · R: check again", style="dim")
    return text


COLUMNS = ("severity", "code", "eval", "where", "problem")


class Layout(NamedTuple):
    """Each problem's eval and place, cleaned for the screen, and the width of each column but the message."""

    places: list[tuple[str, str]]
    widths: list[int]


_LAID_OUT: dict[int, tuple[tuple[Problem, ...], Layout]] = {}  # id(problems) -> (problems, layout): the last few


def laid_out(problems: tuple[Problem, ...]) -> Layout:
    """The `Layout` of `problems`, worked out once per result: the main screen's run of the checks
    calls this in its thread, so the Check screen opens without cleaning thousands of strings."""
    known = _LAID_OUT.get(id(problems))
    if known is not None and known[0] is problems:
        return known[1]
    places = [
        (clean(p.eval or "–", keep_newlines=False), clean(p.location(), keep_newlines=False) or "–") for p in problems
    ]
    widths = [
        max([len(COLUMNS[0]), *(len(p.severity) for p in problems)]),
        max([len(COLUMNS[1]), *(len(p.code) for p in problems)]),
        max([len(COLUMNS[2]), *(cell_len(e) for e, _ in places)]),
        max([len(COLUMNS[3]), *(cell_len(w) for _, w in places)]),
    ]
    layout = Layout(places, widths)
    for stale in list(_LAID_OUT)[:-3]:  # keeps the result alive with its key, and only a few
        _LAID_OUT.pop(stale, None)
    _LAID_OUT[id(problems)] = (problems, layout)
    return layout


class ProblemTable(EvalTable):
    """The problems, drawn like the eval list (thousands of rows cost a screenful); Enter (the screen's) jumps to the eval."""


class CheckScreen(Screen):
    """Runs the repository checks in a worker and lists the problems, errors first."""

    DEFAULT_CSS = """
    CheckScreen {
        #check-summary {
            height: auto;
            padding: 0 1;
            background: $panel;
            color: $foreground;
        }
        #check-problems {
            height: 1fr;
        }
        #check-detail {
            height: auto;
            min-height: 3;
            padding: 0 1;
            border-top: solid $pane-border;
        }
    }
    """

    if TYPE_CHECKING:  # the screens and tabs run inside evaltui's app: say so to the type checker
        app: EvaltuiApp

    BINDINGS = [
        # On the screen rather than the table: the footer's keys do not wait for the focus.
        Binding("enter", "jump", "Go to eval", id="check-jump"),
        Binding("escape", "app.pop_screen", "Back", id="check-back"),
        Binding("a", "annotate", "Annotate", id="check-annotate"),
        Binding("R", "rerun", "Check again", id="check-rerun"),
        Binding("e", "edit", "Edit", id="check-edit", show=False),
    ]
    """Jump to the eval of the problem under the cursor, back, annotate the problem's eval, run the checks
    again, open the problem's file:line in `$EDITOR`."""

    def __init__(self, eval_name: str | None = None, *, now: dt.datetime | None = None) -> None:
        super().__init__(id="check-screen")
        self.eval_name = eval_name
        self.now = now
        self.problems: list[Problem] = []
        self._awaiting = False  # the main screen's run of the checks is under way: it hands them over
        self._shown: ChecksDone | None = None  # the checks on screen

    def compose(self) -> ComposeResult:
        yield Static(Text("Running checks…", style="dim"), id="check-summary")
        yield ProblemTable([(label, None) for label in COLUMNS], id="check-problems")
        yield Static(id="check-detail")
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.query_one(ProblemTable).focus()
        self._take_checks()

    def reopen(self, eval_name: str | None) -> None:
        """Shown again (the app keeps this screen once built): the latest checks, the cursor where it was."""
        self.eval_name = eval_name
        self._take_checks()

    def _take_checks(self) -> None:
        if self.now is not None:  # checked at another moment than the app's: run them for it
            self.action_rerun()
            return
        state = self.app.state
        state.checks_wanted = True  # from now on they run again after every history pass
        cached = state.current_checks()
        if cached is not None:
            if cached is not self._shown:
                self._done(cached)
            return
        # What is on screen is for an older history pass: the next answer replaces it.
        self._shown, self.problems = None, []
        self.query_one(ProblemTable).clear()
        self.query_one("#check-detail", Static).update("")
        if state.checks_under_way():
            self._awaiting = True
            self.query_one("#check-summary", Static).update(Text("Running checks…", style="dim"))
        else:
            self.action_rerun()

    def awaiting_checks(self) -> bool:
        """Whether this screen waits for the checks the main screen is running."""
        return self._awaiting

    @work(thread=True, exclusive=True, exit_on_error=False, group="check")
    def run_checks(self) -> None:
        """Schema, versions, silent changes, coverage, owners and notes, as `evaltui check` sees them."""
        registry = self.app.state.registry
        if registry is None:
            self.post_message(ChecksDone(error="evals.toml is not loaded yet"))
            return
        try:
            problems = checks.check_repository(registry, now=self.now or self.app.now())
        except EvaltuiError as exc:
            self.post_message(ChecksDone(error=str(exc)))
            return
        self.post_message(ChecksDone(tuple(problems)))

    @on(ChecksDone)
    def _done(self, message: ChecksDone) -> None:
        message.stop()
        self._awaiting, self._shown = False, message
        colors = self.app.get_css_variables()
        summary = self.query_one("#check-summary", Static)
        if message.error:
            summary.update(
                Text(
                    f"Cannot check: {clean(message.error, keep_newlines=False)}",
                    style=f"bold {colors.get('error', 'default')}",
                )
            )
            return
        table = self.query_one(ProblemTable)
        keep = table.cursor_row
        self.problems = problems = list(message.problems)
        # Thousands of problems: the columns are measured on their cleaned text, and a row's
        # cells are made when it is first drawn. The message takes the width the others leave,
        # so the table never scrolls sideways.
        places, widths = laid_out(message.problems)
        width = max(MIN_MESSAGE_WIDTH, self.size.width - sum(w + 2 for w in widths) - 4)
        styles = {
            "error": f"bold {colors.get('error', 'default')}",
            "warning": f"bold {colors.get('warning', 'default')}",
        }

        def row(i: int) -> list[Text]:
            p, (eval_name, where) = problems[i], places[i]
            return [
                Text(p.severity, style=styles.get(p.severity, styles["warning"])),
                Text(p.code),
                Text(eval_name),
                Text(where, style="dim"),
                Text(one_line(p.message, width)),
            ]

        table.clear()
        table.set_rows(len(problems), row, [*widths, width])
        if problems:
            table.move_cursor(row=min(keep, len(problems) - 1))
        summary.update(summary_text(self.problems, colors))
        self._show_detail()

    @property
    def current(self) -> Problem | None:
        row = self.query_one(ProblemTable).cursor_row
        return self.problems[row] if 0 <= row < len(self.problems) else None

    @on(EvalTable.CursorMoved, "#check-problems")
    def _highlighted(self, event: EvalTable.CursorMoved) -> None:
        event.stop()
        self._show_detail()

    def _show_detail(self) -> None:
        p = self.current
        detail = self.query_one("#check-detail", Static)
        if p is None:
            detail.update("")
            return
        text = Text(clean(p.render()))
        commit = silent_commit(p)
        if commit:
            text.append(
                f"\nPress a to acknowledge {commit} with a non-semantic note if it does not change "
                "what the eval measures; otherwise bump the version with a `why`.",
                style="dim",
            )
        detail.update(text)

    def action_jump(self) -> None:
        p = self.current
        registry = self.app.state.registry
        if p is None:
            return
        if not p.eval or registry is None or p.eval not in registry.evals:
            self.app.notify("This problem is not about one eval of evals.toml.", severity="warning")
            return
        self.app.select_eval(p.eval)

    def action_edit(self) -> None:
        """The problem's file at its line; a problem without a file: its eval's table in evals.toml."""
        from evaltui.core.registry.model import FILENAME

        p = self.current
        registry = self.app.state.registry
        if p is None or registry is None:
            return
        if p.file:
            self.app.open_file(p.file, p.line)
        elif p.eval is not None and p.eval in registry.evals:
            self.app.open_file(FILENAME, registry.evals[p.eval].line)
        else:
            self.app.notify("This problem names no file.", title="Edit", severity="warning")

    def action_annotate(self) -> None:
        from evaltui.tui.screens.annotate import AnnotateDialog

        p = self.current
        registry = self.app.state.registry
        if p is None or not p.eval or registry is None or p.eval not in registry.evals:
            self.app.notify("Choose a problem about an eval to annotate it.", severity="warning")
            return
        commit = silent_commit(p)
        dialog = AnnotateDialog(p.eval, commit, kind="non-semantic" if commit else "note")
        self.app.push_screen(dialog, callback=self._annotated)

    def _annotated(self, note) -> None:
        if note is not None:
            self.action_rerun()

    def action_rerun(self) -> None:
        self._awaiting = False
        self.query_one("#check-summary", Static).update(Text("Running checks…", style="dim"))
        self.run_checks()

    def worker_failed(self, worker: Worker) -> bool:
        """Show the failure of one of this node's workers where it happened (the app calls it)."""
        self.query_one("#check-summary", Static).update(Text(f"check failed: {worker.error}"))
        return False  # the app's notification says it too
