"""The Report screen (the pull-request report for a base ref, previewed and written) and the runs palette commands."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, Markdown, Static
from textual.worker import Worker

from evaltui.core import history
from evaltui.core.errors import EvaltuiError
from evaltui.core.fsutil import write_export
from evaltui.core.registry.model import Registry
from evaltui.core.runs import report, runner
from evaltui.core.runs.execution import JobFinished, JobStarted
from evaltui.core.textsafe import clean, one_line
from evaltui.tui.messages import ReportBase, ReportBuilt, ReportStatus, RunsRecorded, StateChanged
from evaltui.tui.widgets.runs_tab import RunsTab
from evaltui.tui.widgets.runs_text import colors

if TYPE_CHECKING:
    from evaltui.tui.app import EvaltuiApp

PLACEHOLDER = (
    "*Enter in the base box builds the report: each eval that changed between the base and the working "
    "tree runs at both versions against the baseline and the candidate model (recorded runs are "
    "reused); unchanged evals compare the two models.*"
)


class ReportScreen(Screen):
    """Type a base ref, build the report in a worker (it may run evals, in worker processes), preview, write."""

    DEFAULT_CSS = """
    ReportScreen {
        #report-title {
            height: 1;
            padding: 0 1;
            background: $panel;
            color: $foreground;
        }
        .report-label {
            padding: 1 1 0 0;
            color: $foreground-muted;
        }
        #report-form {
            height: 3;
            padding: 0 1;
        }
        #report-base {
            width: 1fr;
        }
        #report-path {
            width: 1fr;
        }
        #report-status {
            height: auto;
            padding: 0 1;
        }
        #report-preview {
            height: 1fr;
            margin: 1 1 0 1;
            border: round $pane-border;
        }
        #report-preview:focus {
            border: round $primary;
        }
    }
    """

    if TYPE_CHECKING:  # the screens and tabs run inside evaltui's app: say so to the type checker
        app: EvaltuiApp

    BINDINGS = [
        Binding("w", "write", "Write file", id="report-write"),
        Binding("y", "copy", "Copy", id="report-copy"),
        Binding("f", "cases", "Flipped cases", id="report-cases"),
        Binding("escape", "back", "Cancel / back", id="report-back"),
    ]
    """Enter in the base box builds; `w` writes the previewed Markdown; escape cancels a build, then leaves."""

    def __init__(self) -> None:
        super().__init__(id="report-screen")
        self.markdown = ""
        self.built_for: str | None = None
        self.built: report.Report | None = None  # the report on screen, for its flipped cases
        self.cancel = threading.Event()
        self.building = False

    @property
    def registry(self) -> Registry | None:
        return self.app.state.registry

    def compose(self) -> ComposeResult:
        yield Static(Text("Report", style="bold"), id="report-title")
        with Horizontal(id="report-form"):
            yield Label("base", classes="report-label")
            yield Input(placeholder="a ref to compare with: a branch, a tag, a sha, HEAD~3…", id="report-base")
            yield Label("write to", classes="report-label")
            yield Input(id="report-path")
        yield Static(id="report-status")
        with VerticalScroll(id="report-preview"):
            yield Markdown(PLACEHOLDER, id="report-md")
        yield Footer()

    def on_mount(self) -> None:
        registry = self.registry
        status = self.query_one("#report-status", Static)
        if registry is None:
            status.update(Text("evals.toml is not loaded yet; press escape and try again.", style="dim"))
            return
        self.query_one("#report-path", Input).value = self._shown_path(registry.state_dir / "report.md")
        status.update(Text("Working out the default base…", style="dim"))
        self.query_one("#report-base", Input).focus()
        self.find_base(registry.root)

    def _shown_path(self, path: Path) -> str:
        registry = self.registry
        try:
            return str(path.relative_to(registry.root)) if registry else str(path)
        except ValueError:
            return str(path)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "write":
            return bool(self.markdown) or None  # shown, dimmed, until there is something to write
        if action == "cases":
            return bool(self.built and any(f or p for row in self.built.evals for f, p in row.flips.values())) or None
        return True

    # -- the default base -------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="report-base")
    def find_base(self, root: Path) -> None:
        try:
            ref, why = history.default_base(root)
        except EvaltuiError as exc:
            self.post_message(ReportStatus(str(exc)))
            return
        self.post_message(ReportBase(ref, why))

    @on(ReportBase)
    def _base_found(self, message: ReportBase) -> None:
        box = self.query_one("#report-base", Input)
        if not box.value:
            box.value = message.ref
        self._status(
            Text.assemble(
                "Default base: ",
                (clean(message.ref), "bold"),
                f" = {clean(message.why)}.",
                (" Enter builds the report against the working tree.", "dim"),
            )
        )

    # -- building ---------------------------------------------------------------------------------

    @on(Input.Submitted, "#report-base")
    def _submitted(self, event: Input.Submitted) -> None:
        base = event.value.strip()
        registry = self.registry
        if not base or registry is None or self.building:
            return
        self.building = True
        self.cancel = threading.Event()
        self._status(Text.assemble("Building the report for ", (clean(base), "bold"), "…"))
        self.build(registry, base, self.cancel)

    @work(thread=True, exclusive=True, exit_on_error=False, group="report")
    def build(self, registry: Registry, base: str, cancel: threading.Event) -> None:
        """Run (or reuse) what the report needs and render it; evals run in worker processes."""
        counts = {"started": 0, "finished": 0}

        def on_event(event: Any) -> None:
            if isinstance(event, JobStarted):
                counts["started"] += 1
                self.post_message(
                    ReportStatus(
                        f"Running {event.job.label} ({event.total} cases)… "
                        f"{counts['finished']} job(s) done. Escape cancels."
                    )
                )
            elif isinstance(event, JobFinished):
                counts["finished"] += 1

        try:
            built = report.build_report(
                registry, base, options=runner.RunOptions(isolate=True), on_event=on_event, cancel=cancel
            )
        except EvaltuiError as exc:
            self.post_message(ReportBuilt(base, error=str(exc)))
            return
        self.post_message(ReportBuilt(base, markdown=report.to_markdown(built), report=built))
        if built.ran:
            self.post_message(RunsRecorded(tuple(e.eval for e in built.evals)))

    @on(ReportStatus)
    def _progress(self, message: ReportStatus) -> None:
        self._status(Text(clean(message.text)))

    @on(RunsRecorded)
    def _recorded(self, message: RunsRecorded) -> None:
        message.stop()
        self.app.post_message(StateChanged("status", message.evals, "the report's runs"))
        for screen in self.app.screen_stack:
            for tab in screen.query(RunsTab):
                tab.post_message(RunsRecorded(message.evals))

    @on(ReportBuilt)
    def _built(self, message: ReportBuilt) -> None:
        self.building = False
        if message.error:
            self._status(
                Text("Could not build the report: " + one_line(message.error, 300), style=colors(self.app)["error"])
            )
            return
        self.markdown, self.built_for, self.built = message.markdown, message.base, message.report
        self.query_one("#report-md", Markdown).update(message.markdown)
        self._status(
            Text.assemble("Report for base ", (clean(message.base), "bold"), " · w writes it to the file named above")
        )
        self.query_one("#report-preview").focus()
        self.refresh_bindings()

    def worker_failed(self, worker: Worker) -> bool:
        """Show the failure of one of this node's workers where it happened (the app calls it)."""
        if worker.group not in ("report", "report-base"):
            return False
        self.building = False
        self._status(
            Text(f"Could not build the report: {one_line(str(worker.error), 300)}", style=colors(self.app)["error"])
        )
        return True

    def _status(self, text: Text) -> None:
        self.query_one("#report-status", Static).update(text)

    # -- writing and leaving --------------------------------------------------------------------

    def action_copy(self) -> None:
        """`y`: the report's Markdown to the clipboard (through the terminal, OSC 52), ready to paste in a PR."""
        if not self.markdown:
            self.notify("Build the report first (enter in the base box).", severity="warning")
            return
        self.app.copy_to_clipboard(self.markdown)
        self.notify(f"Copied the report ({len(self.markdown.splitlines())} lines)", title="Report")

    def action_cases(self) -> None:
        """`f`: choose a flipped case of the report and see it at base and head, per model."""
        from evaltui.core.runs.cases import report_flips, report_sides
        from evaltui.tui.screens.case import CaseScreen
        from evaltui.tui.screens.case_picker import CasePicker

        built = self.built
        flips = report_flips(built) if built is not None else []
        if built is None or not flips:
            self.notify("This report has no flipped cases.", title="Report")
            return

        def chosen(flip) -> None:
            row = next((r for r in built.evals if flip is not None and r.eval == flip.eval), None)
            if flip is not None and row is not None:
                self.app.push_screen(CaseScreen(flip.eval, flip.case_id, report_sides(built, row)))

        self.app.push_screen(CasePicker(flips), chosen)

    def action_write(self) -> None:
        registry = self.registry
        if not self.markdown or registry is None:
            self.notify("Build the report first (enter in the base box).", severity="warning")
            return
        typed = self.query_one("#report-path", Input).value.strip() or str(registry.state_dir / "report.md")
        path = Path(typed).expanduser()
        path = path if path.is_absolute() else registry.root / path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_export(registry.state_dir, path, self.markdown)
        except OSError as exc:
            self.notify(f"Cannot write {path}: {exc.strerror or exc}", title="Report", severity="error", markup=False)
            return
        self.notify(f"Wrote {path}", title="Report", markup=False)

    def action_back(self) -> None:
        if self.building and not self.cancel.is_set():
            self.cancel.set()
            self._status(Text("Cancelling… escape again leaves.", style=colors(self.app)["warning"]))
            return
        self.app.pop_screen()

    def on_unmount(self) -> None:
        self.cancel.set()


# -- the command palette ------------------------------------------------------------------------
