"""A job's live line on the Run screen, the column titles over those lines and the status line above them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, ProgressBar, Static

from evaltui.core.formatting import score_text
from evaltui.core.runs.execution import Job, JobCancelled, JobFailed, JobFinished, JobProgress, JobStarted
from evaltui.core.runs.store import RunRecord
from evaltui.core.textsafe import clean
from evaltui.tui.widgets.runs_text import colors

Clock = Callable[[], float]


class JobRow(Horizontal):
    """One job's line: label, progress bar, cases done, cases/s, cache hits/misses, errors and status."""

    def __init__(self, job: Job, clock: Clock) -> None:
        super().__init__(classes="job-row")
        self.job = job
        self.clock = clock
        self.state = "waiting"  # waiting | running | finished | failed | cancelled
        self.total: int | None = None
        self.done = self.hits = self.misses = self.errors = 0
        self.started: float | None = None
        self.elapsed = 0.0
        self.record: RunRecord | None = None
        self.error: str | None = None
        self.predictions = False
        self.api: JobProgress | None = None  # an endpoint job's latest counters

    def compose(self) -> ComposeResult:
        yield Label(Text(clean(self.job.label, keep_newlines=False)), classes="job-label")
        # A determinate bar from the start: an idle job shows 0%, not an animation.
        yield ProgressBar(total=1, show_eta=False, classes="job-bar")
        yield Static(classes="job-stats")

    def on_mount(self) -> None:
        self.redraw()

    @property
    def terminal(self) -> bool:
        return self.state in ("finished", "failed", "cancelled")

    def apply(self, event: Any) -> None:
        """Take a lifecycle event of this job (started, progress, finished, failed, cancelled)."""
        if isinstance(event, JobStarted):
            self.state, self.total, self.started = "running", event.total, self.clock()
        elif isinstance(event, JobProgress):
            if self.terminal:
                return  # a snapshot that lagged behind the job's end
            self.total, self.done = event.total, event.done
            self.hits, self.misses, self.errors = event.cache_hits, event.cache_misses, event.errors
            if event.calls.requests or event.calls.in_flight:
                self.api = event
            self._tick()
        elif isinstance(event, JobFinished):
            self._end("finished", event.record)
        elif isinstance(event, JobFailed):
            self.error = event.error
            self._end("failed", event.record)
        elif isinstance(event, JobCancelled):
            self._end("cancelled", None)
        self.redraw()

    def _tick(self) -> None:
        if self.started is not None:
            self.elapsed = max(self.clock() - self.started, 0.0)

    def _end(self, state: str, record: RunRecord | None) -> None:
        if not self.terminal:
            self._tick()
        self.state, self.record = state, record
        if record is not None:
            self.total, self.done = record.n_cases, record.n_cases if state == "finished" else self.done
            self.hits, self.misses, self.errors = record.cache_hits, record.cache_misses, record.n_errors
            self.predictions = record.model_kind == "predictions"

    def redraw(self) -> None:
        bar = self.query_one(ProgressBar)
        total = max(self.total or 0, 1)
        bar.update(total=total, progress=total if self.state == "finished" else min(self.done, total))
        self.query_one(".job-stats", Static).update(self.stats())

    def stats(self) -> Text:
        c = colors(self.app)
        total = "?" if self.total is None else str(self.total)
        rate = f"{self.done / self.elapsed:,.0f}/s" if self.elapsed > 0 and self.done else ""
        cache = "recorded" if self.predictions else f"{self.hits} hit {self.misses} miss"
        text = Text.assemble(
            f"{self.done}/{total}".rjust(10) + " ",
            rate.rjust(8) + " ",
            cache.ljust(14),
            (f"{self.errors}".ljust(7), c["error"] if self.errors else ""),
        )
        text.append_text(self.status(c))
        text.append_text(self.api_text(c))
        return text

    def api_text(self, c: dict[str, str]) -> Text:
        """Requests in flight, retries, tokens and cost of an endpoint job (its record's totals once done)."""
        r, p = self.record, self.api
        if r is not None and r.model_kind == "endpoint":
            in_flight, requests, retries, tokens, cost = (
                0,
                r.requests,
                r.retries,
                r.input_tokens + r.output_tokens,
                r.cost,
            )
        elif p is not None and not self.terminal:
            calls = p.calls
            in_flight, requests, retries, tokens, cost = (
                calls.in_flight,
                calls.requests,
                calls.retries,
                calls.input_tokens + calls.output_tokens,
                calls.cost,
            )
        else:
            return Text()
        text = Text(f"  {in_flight} in flight · {requests} req · ", style="dim")
        text.append(f"{retries} retr{'y' if retries == 1 else 'ies'}", style=c["warning"] if retries else "dim")
        text.append(f" · {tokens:,} tok" + ("" if cost is None else f" · ${cost:,.4f}"), style="dim")
        return text

    def status(self, c: dict[str, str]) -> Text:
        """Waiting, running, cancelled, failed, or the score with its threshold pass/fail."""
        if self.state == "finished" and self.record is not None:
            r = self.record
            text = Text(score_text(r.aggregate), style="bold")
            if r.threshold is not None:
                text.append(
                    f" ✗ < {r.threshold:g}" if r.below_threshold else f" ✓ ≥ {r.threshold:g}",
                    style=c["error"] if r.below_threshold else c["success"],
                )
            return text
        if self.state == "failed":
            return Text("failed", style=f"bold {c['error']}")
        if self.state == "cancelled":
            return Text("cancelled", style=c["warning"])
        return Text(self.state, style="dim")


def header_row() -> Horizontal:
    """Column titles over the job rows, in the widths `JobRow.stats` uses."""
    stats = "cases".rjust(10) + " " + "cases/s".rjust(8) + " " + "cache".ljust(14) + "errors ".ljust(7) + "result"
    return Horizontal(
        Label("job", classes="job-label"),
        Label("progress", classes="job-progress-title"),
        Label(stats, classes="job-stats"),
        classes="job-row job-header",
    )


def status_text(rows: Sequence[JobRow], phase: str, cancelled: bool, c: dict[str, str]) -> Text:
    """The line over the job rows: what runs, what ended, and at the end what failed or fell below its threshold."""
    counts = {s: sum(r.state == s for r in rows) for s in ("finished", "failed", "cancelled")}
    ended = sum(counts.values())
    if phase == "running":
        text = Text(f"Running {len(rows)} job{'s' * (len(rows) != 1)} · {ended} ended · escape or c cancels")
    elif phase == "cancelling":
        text = Text(
            f"Cancelling… {ended} of {len(rows)} ended; finished jobs are kept. Escape leaves.", style=c["warning"]
        )
    elif cancelled or counts["cancelled"]:
        text = Text(
            f"Cancelled: {counts['finished']} finished job(s) kept, {counts['cancelled']} cancelled "
            "(nothing recorded for those)",
            style=f"bold {c['warning']}",
        )
    else:
        below = sum(1 for r in rows if r.record is not None and r.record.below_threshold)
        text = Text(f"Done: {counts['finished']} of {len(rows)} job(s) finished", style="bold")
        if counts["failed"]:
            text.append(f" · {counts['failed']} failed", style=f"bold {c['error']}")
        if below:
            text.append(f" · {below} below threshold", style=c["error"])
    if phase == "done":
        text.append("  ·  escape goes back", style="dim")
    return text
