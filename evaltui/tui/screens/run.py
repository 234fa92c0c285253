"""The Run screen: choose evals and models, then a live row per job with progress, cache hits, errors and cancel.

Endpoint models add requests in flight, retries, tokens and cost to their rows; before any
request is sent the screen shows the estimate and, above `[run] confirm_above_usd` in the
user config, asks for confirmation.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, SelectionList, Static
from textual.widgets.selection_list import Selection
from textual.worker import Worker

from evaltui.core.errors import EvaltuiError
from evaltui.core.registry.model import Registry
from evaltui.core.runs import runner
from evaltui.core.runs.estimate import Estimate, describe, estimate
from evaltui.core.runs.execution import Job, JobCancelled, JobProgress, RunWarning
from evaltui.core.runs.shards import configured
from evaltui.core.textsafe import clean, one_line
from evaltui.tui.messages import RunEnded, RunEvent, RunProgress, RunsRecorded, StateChanged
from evaltui.tui.screens.run_confirm import ConfirmCost
from evaltui.tui.widgets.job_row import Clock, JobRow, header_row, status_text
from evaltui.tui.widgets.runs_tab import RunsTab
from evaltui.tui.widgets.runs_text import colors

if TYPE_CHECKING:
    from evaltui.tui.app import EvaltuiApp

Now = Callable[[], dt.datetime]


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class RunScreen(Screen):
    """Run evals × models in a worker; rows update live and the run can be cancelled.

    `clock` (seconds, for cases/s) and `now` (the records' time) come in as arguments.
    """

    DEFAULT_CSS = """
    RunScreen {
        #run-title { height: 1; padding: 0 1; background: $panel; color: $foreground; }
        #run-setup, #run-progress { height: 1fr; padding: 0 1; }
        #run-choose { height: 1fr; }
        #run-evals, #run-models { width: 1fr; height: 1fr; border: round $pane-border; border-title-color: $foreground-muted; }
        #run-evals:focus, #run-models:focus { border: round $primary; border-title-color: $primary; }
        #run-hint { height: auto; color: $foreground-muted; }
        #run-status { height: auto; margin: 1 0; }
        #run-rows { height: auto; max-height: 1fr; }
        .job-row { height: 1; }
        .job-label { width: 28; }
        .job-row ProgressBar { width: 27; }
        .job-row ProgressBar Bar { width: 20; }
        .job-stats { width: 1fr; }
        .job-progress-title { width: 27; }
        /* below 100 columns the bars go, so each row's result stays on screen */
        &.-narrow .job-row ProgressBar, &.-narrow .job-progress-title { display: none; }
        &.-narrow .job-label { width: 23; }
        .job-header { color: $foreground-muted; text-style: bold; }
        #run-summary { height: auto; margin-top: 1; }
    }
    """

    if TYPE_CHECKING:  # the screens and tabs run inside evaltui's app: say so to the type checker
        app: EvaltuiApp

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    """Below 100 columns the progress bars go, so the result column stays on screen."""

    BINDINGS = [
        Binding("s", "start", "Start", id="run-start"),
        Binding("c", "cancel", "Cancel run", id="run-cancel"),
        Binding("escape", "back", "Cancel / back", id="run-back"),
    ]
    """Start with the chosen evals and models; cancel keeps finished jobs; escape twice leaves."""

    def __init__(self, evals: Sequence[str] = (), *, clock: Clock = time.monotonic, now: Now = _utc_now) -> None:
        super().__init__(id="run-screen")
        self.wanted = tuple(evals)
        self.clock, self.now = clock, now
        self.phase = "setup"  # setup | running | cancelling | done
        self.run_id = 0
        self.cancel = threading.Event()
        self.rows: dict[Job, JobRow] = {}
        self.warnings: list[str] = []
        self.result: runner.RunResult | None = None
        self.error: str | None = None
        self.estimated: Estimate | None = None

    @property
    def registry(self) -> Registry | None:
        return self.app.state.registry

    def compose(self) -> ComposeResult:
        yield Static(Text("Run", style="bold"), id="run-title")
        with Vertical(id="run-setup"):
            with Horizontal(id="run-choose"):
                yield SelectionList[str](id="run-evals")
                yield SelectionList[str](id="run-models")
            yield Static(id="run-hint")
        with Vertical(id="run-progress"):
            yield Static(id="run-status")
            yield Static(id="run-estimate")
            yield VerticalScroll(id="run-rows")
            yield Static(id="run-summary")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#run-evals").border_title = "Evals"
        self.query_one("#run-models").border_title = "Models"
        self.query_one("#run-progress").display = False
        registry = self.registry
        hint = self.query_one("#run-hint", Static)
        if registry is None:
            hint.update(Text("evals.toml is not loaded yet; press escape and try again.", style="dim"))
            return
        can_run = set(runner.runnable(registry))
        preselect = [n for n in self.wanted if n in can_run] if self.wanted else list(can_run)
        evals = self.query_one("#run-evals", SelectionList)
        for name, ev in registry.evals.items():
            prompt = Text(clean(name, keep_newlines=False))
            if name not in can_run:
                prompt.append(f" · no {'metric' if not ev.metric else 'dataset'}: not runnable here", style="dim")
            evals.add_option(Selection(prompt, name, name in preselect, disabled=name not in can_run))
        models = self.query_one("#run-models", SelectionList)
        for name, model in registry.models.items():
            models.add_option(Selection(Text.assemble(clean(name), (f" · {model.kind}", "dim")), name, True))
        notes = [
            f"{n} cannot be run here (it has no metric or dataset in evals.toml)."
            for n in self.wanted
            if n in registry.evals and n not in can_run
        ]
        notes.append("space toggles · s starts · escape goes back. Model outputs come from the cache when known.")
        hint.update(Text("\n".join(clean(n) for n in notes), style="dim"))
        evals.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "start":
            return self.phase == "setup"
        if action == "cancel":
            return self.phase == "running"
        return True

    def _set_phase(self, phase: str) -> None:
        self.phase = phase
        self.refresh_bindings()

    # -- starting -------------------------------------------------------------------------------

    def action_start(self) -> None:
        registry = self.registry
        if self.phase != "setup" or registry is None:
            return
        chosen = set(self.query_one("#run-evals", SelectionList).selected)
        evals = [n for n in registry.evals if n in chosen]  # evals.toml order, not click order
        models = [m for m in registry.models if m in set(self.query_one("#run-models", SelectionList).selected)]
        if not evals or not models:
            self.notify(f"Choose at least one {'eval' if not evals else 'model'} to run.", severity="warning")
            return
        try:
            jobs = runner.plan(registry, evals, models)
        except EvaltuiError as exc:
            self.notify(clean(str(exc)), title="Cannot run", severity="error", markup=False)
            return
        if any(registry.models[j.model].kind == "endpoint" for j in jobs):
            self._set_phase("estimating")
            self.query_one("#run-hint", Static).update(Text("Estimating the requests to send…", style="dim"))
            self.estimate_jobs(registry, jobs)
            return
        self.start(registry, jobs)

    class Estimated(Message):
        """The estimate of a planned run's endpoint requests (or why it could not be made)."""

        def __init__(self, registry: Registry, jobs: list[Job], estimate: Estimate | None, error: str | None):
            super().__init__()
            self.registry, self.jobs, self.estimate, self.error = registry, jobs, estimate, error

    @work(thread=True, exclusive=True, exit_on_error=False, group="estimate")
    def estimate_jobs(self, registry: Registry, jobs: list[Job]) -> None:
        """Requests, tokens and cost of the endpoint jobs, from the cache and prompt lengths: nothing is sent."""
        try:
            with runner.Trees(registry.root) as trees:
                found = estimate(registry, jobs, trees)
        except EvaltuiError as exc:
            self.post_message(self.Estimated(registry, jobs, None, str(exc)))
            return
        self.post_message(self.Estimated(registry, jobs, found, None))

    @on(Estimated)
    def _estimated(self, message: Estimated) -> None:
        if self.phase != "estimating":
            return
        if message.estimate is None:
            self._set_phase("setup")
            self.notify(clean(message.error or ""), title="Cannot estimate", severity="error", markup=False)
            return
        self.estimated = message.estimate
        threshold = self.app.config.confirm_above_usd
        cost = message.estimate.cost
        if cost is not None and cost > threshold:

            def answer(send: bool | None) -> None:
                if send:
                    self.start(message.registry, message.jobs)
                else:
                    self._set_phase("setup")
                    self.query_one("#run-hint", Static).update(Text("Not started: nothing was sent.", style="dim"))

            self.app.push_screen(ConfirmCost(message.estimate, threshold), answer)
            return
        self.start(message.registry, message.jobs)

    def start(self, registry: Registry, jobs: Sequence[Job]) -> None:
        """Show a row per job and run them in a worker (user code runs in worker processes)."""
        self.query_one("#run-setup").display = False
        self.query_one("#run-progress").display = True
        self.rows = {job: JobRow(job, self.clock) for job in jobs}
        rows = self.query_one("#run-rows", VerticalScroll)
        rows.remove_children()
        rows.mount(header_row(), *self.rows.values())
        names = [clean(n, keep_newlines=False) for n in sorted({j.eval for j in jobs}, key=list(registry.evals).index)]
        self.query_one("#run-title", Static).update(
            Text.assemble(("Run", "bold"), f"  ·  {', '.join(names)}  ·  {len(jobs)} job{'s' * (len(jobs) != 1)}")
        )
        self.warnings, self.result, self.error = [], None, None
        self.query_one("#run-estimate", Static).update(
            Text("Estimate before sending: " + describe(self.estimated), style="dim") if self.estimated else ""
        )
        self.query_one("#run-estimate").display = self.estimated is not None
        self.cancel = threading.Event()
        self.run_id += 1
        self._set_phase("running")
        self._show_status()
        rows.focus()
        self.run_jobs(self.run_id, registry, list(jobs), self.cancel, self.now())

    @work(thread=True, exclusive=True, exit_on_error=False, group="run")
    def run_jobs(
        self, run_id: int, registry: Registry, jobs: list[Job], cancel: threading.Event, now: dt.datetime
    ) -> None:
        """Run the jobs; lifecycle events are posted as they come, progress as coalescing snapshots."""
        latest: dict[Job, JobProgress] = {}

        def on_event(event: Any) -> None:
            if isinstance(event, JobProgress):
                latest[event.job] = event
                self.post_message(RunProgress(run_id, tuple(latest.values())))
            else:
                self.post_message(RunEvent(run_id, event))

        try:
            options = runner.RunOptions(isolate=True, ray=configured(registry.runner))  # executor from [runner]
            result = runner.run(registry, jobs, options=options, on_event=on_event, cancel=cancel, now=now)
        except EvaltuiError as exc:
            self.post_message(RunEnded(run_id, error=str(exc)))
            return
        self.post_message(RunEnded(run_id, result=result))

    # -- live updates ---------------------------------------------------------------------------

    @on(RunEvent)
    def _event(self, message: RunEvent) -> None:
        if message.run != self.run_id:
            return
        event = message.event
        if isinstance(event, RunWarning):
            where = f"{event.job.label}: " if event.job else ""
            self.warnings.append(one_line(where + event.message, 160))
            self._show_summary()
            return
        row = self.rows.get(event.job)
        if row is not None:
            row.apply(event)
            self._show_status()

    @on(RunProgress)
    def _progress(self, message: RunProgress) -> None:
        if message.run != self.run_id:
            return
        for event in message.progress:
            row = self.rows.get(event.job)
            if row is not None:
                row.apply(event)

    @on(RunEnded)
    def _ended(self, message: RunEnded) -> None:
        if message.run != self.run_id:
            return
        self._finish(message.result, message.error)

    def worker_failed(self, worker: Worker) -> bool:
        """Show the failure of one of this node's workers where it happened (the app calls it)."""
        if worker.group != "run" or self.phase not in ("running", "cancelling"):
            return False
        self._finish(None, f"the run stopped: {worker.error}")
        return True

    def _finish(self, result: runner.RunResult | None, error: str | None) -> None:
        self.result = result
        for row in self.rows.values():
            if not row.terminal:
                row.apply(JobCancelled(row.job))
        self.error = error
        self._set_phase("done")
        self._show_status()
        self._show_summary()
        recorded = tuple(sorted({r.eval for r in result.records})) if result else ()
        if recorded:
            self.app.post_message(StateChanged("status", recorded, "a run"))  # scores in the list
            for screen in self.app.screen_stack:
                for tab in screen.query(RunsTab):
                    tab.post_message(RunsRecorded(recorded))

    def _show_status(self) -> None:
        text = status_text(list(self.rows.values()), self.phase, self.cancel.is_set(), colors(self.app))
        self.query_one("#run-status", Static).update(text)

    def _show_summary(self) -> None:
        c = colors(self.app)
        lines = [Text("Could not run: " + one_line(self.error, 300), style=c["error"])] if self.error else []
        lines += [
            Text(f"{row.job.label}: {one_line(row.error or '', 200)}", style=c["error"])
            for row in self.rows.values()
            if row.state == "failed"
        ]
        lines += [Text(w, style=c["warning"]) for w in self.warnings[-5:]]
        registry = self.registry
        if self.phase == "done" and self.result is not None and self.result.records and registry is not None:
            where = registry.state_dir / "runs"
            try:
                where = where.relative_to(registry.root)
            except ValueError:
                pass
            n = len(self.result.records)
            lines.append(Text(f"{n} record{'s' * (n != 1)} written to {clean(str(where))}", style="dim"))
        self.query_one("#run-summary", Static).update(Text("\n").join(lines))

    # -- leaving --------------------------------------------------------------------------------

    def action_cancel(self) -> None:
        if self.phase == "running":
            self.cancel.set()
            self._set_phase("cancelling")
            self._show_status()

    def action_back(self) -> None:
        if self.phase == "running":
            self.action_cancel()
        else:
            self.app.pop_screen()

    def on_unmount(self) -> None:
        # Leaving (or quitting) while jobs run stops them; finished jobs keep their records.
        self.cancel.set()


def open_run(name: str | None) -> RunScreen:
    """The Run screen for the eval under the cursor (every runnable eval when there is none)."""
    return RunScreen((name,) if name else ())
