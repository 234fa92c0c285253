"""How a run shows in the terminal: a line per event, or live bars on a terminal, then a summary."""

from __future__ import annotations

import sys
from typing import Any

from evaltui.core.formatting import duration, score_text
from evaltui.core.runs import runner, store
from evaltui.core.runs.execution import Event, JobCancelled, JobFailed, JobFinished, JobProgress, JobStarted, RunWarning
from evaltui.core.textsafe import clean, one_line


def describe(record: store.RunRecord) -> str:
    """A finished run in one line: score, cases, errors, cache (or requests and cost), time and threshold."""
    score = score_text(record.aggregate)
    gate = ""
    if record.threshold is not None:
        gate = (
            f", below threshold {record.threshold:g}"
            if record.below_threshold
            else f", threshold {record.threshold:g} met"
        )
    cache = f"cache {record.cache_hits} hit / {record.cache_misses} miss, model {record.fingerprint[:12]}"
    if record.model_kind == "predictions":
        cache = f"recorded predictions {record.fingerprint[:12]}"
    if record.model_kind == "endpoint":
        cost = "" if record.cost is None else f", ${record.cost:,.4f}"
        cache += (
            f", {record.requests} requests, {record.retries} retries, "
            f"{record.input_tokens + record.output_tokens:,} tokens{cost}"
        )
    return (
        f"{score} ({record.n_cases} cases, {record.n_errors} error{'s' * (record.n_errors != 1)}, {cache}, "
        f"{duration(record.duration)}{gate})"
    )


def plain_line(event: Any, out: Any = None) -> None:
    """A line per job event, for output that is not a terminal (warnings go to stderr)."""
    out = out or sys.stdout
    if isinstance(event, JobStarted):
        print(f"{event.job.label}: started, {event.total} cases, version {event.version or '?'}", file=out, flush=True)
    elif isinstance(event, JobFinished):
        print(f"{event.job.label}: {describe(event.record)}", file=out, flush=True)
    elif isinstance(event, JobFailed):
        print(f"{event.job.label}: FAILED: {one_line(event.error, 300)}", file=out, flush=True)
    elif isinstance(event, JobCancelled):
        print(f"{event.job.label}: cancelled", file=out, flush=True)
    elif isinstance(event, RunWarning):
        where = f"{event.job.label}: " if event.job else ""
        print(f"evaltui: warning: {where}{one_line(event.message, 400)}", file=sys.stderr, flush=True)


def run_with_bars(registry, jobs, options, now) -> runner.RunResult:
    """Run the jobs with a live progress bar per job (rate, cache hits, errors, endpoint traffic)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(highlight=False)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:>9}"),
        TextColumn("hits {task.fields[hits]}"),
        TextColumn("{task.fields[errors]}"),
        TextColumn("{task.fields[api]}"),
        TimeElapsedColumn(),
    )
    tasks: dict[runner.Job, Any] = {}
    with Progress(*columns, console=console, transient=False) as progress:
        for job in jobs:
            tasks[job] = progress.add_task(clean(job.label), total=None, rate="", hits=0, errors="", api="")

        def on_event(event: Event) -> None:
            task = tasks.get(event.job) if event.job is not None else None
            if isinstance(event, JobStarted) and task is not None:
                progress.update(task, total=event.total)
            elif isinstance(event, JobProgress) and task is not None:
                rate = f"{event.done / event.elapsed:,.0f}/s" if event.elapsed > 0 else ""
                progress.update(
                    task,
                    completed=event.done,
                    rate=rate,
                    hits=event.cache_hits,
                    errors=f"errors {event.errors}" if event.errors else "",
                    api=_api_text(event),
                )
            elif isinstance(event, JobFinished) and task is not None:
                progress.update(
                    task,
                    completed=event.record.n_cases,
                    total=event.record.n_cases or 1,
                    description=f"[green]✓[/] {clean(event.job.label)}  {_describe_short(event.record)}",
                )
            elif isinstance(event, JobFailed) and task is not None:
                progress.update(task, description=f"[red]✗[/] {clean(event.job.label)}  failed")
            elif isinstance(event, JobCancelled) and task is not None:
                progress.update(task, description=f"[yellow]■[/] {clean(event.job.label)}  cancelled")
            elif isinstance(event, RunWarning):
                progress.console.print(
                    f"[yellow]warning[/]: {clean(event.message, keep_newlines=False)}", markup=True, highlight=False
                )

        return runner.run(registry, jobs, options=options, now=now, on_event=on_event)


def _api_text(event: JobProgress) -> str:
    """Requests in flight, retries, tokens and cost of an endpoint job; empty for other models."""
    calls = event.calls
    if not calls.requests and not calls.in_flight:
        return ""
    cost = "" if calls.cost is None else f"  ${calls.cost:,.4f}"
    return (
        f"in flight {calls.in_flight}  retries {calls.retries}  "
        f"tokens {calls.input_tokens + calls.output_tokens:,}{cost}"
    )


def _describe_short(record: store.RunRecord) -> str:
    return score_text(record.aggregate)


def print_summary(result: runner.RunResult) -> None:
    """What failed, fell below its threshold or was cancelled, after the run."""
    for failure in result.failed:
        print(f"failed: {failure.job.label}: {one_line(failure.error, 400)}")
    for record in result.below_threshold:
        print(f"below threshold: {record.eval} × {record.model}: {_describe_short(record)} < {record.threshold:g}")
    if result.interrupted:
        print(f"interrupted: {len(result.records)} job(s) recorded, {len(result.cancelled)} cancelled")
    elif sys.stdout.isatty():
        print(f"{len(result.records)} run record(s) written")
