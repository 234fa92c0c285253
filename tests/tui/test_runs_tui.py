"""The Run screen, the Runs tab and the Report screen through Pilot, on real repositories and real runs."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from textual.widgets import Markdown, ProgressBar, TabbedContent

from evaltui.core.history import default_base, git
from evaltui.core.registry.model import load_registry
from evaltui.core.runs import runner, store
from evaltui.core.runs.execution import Job, JobProgress, JobStarted
from evaltui.tui.messages import RunEvent, RunProgress
from evaltui.tui.screens.report import ReportScreen
from evaltui.tui.screens.run import JobRow, RunScreen
from evaltui.tui.widgets.runs_tab import RunsTab, trend
from tests.conftest import SLOW_MODEL_PATH, SLOW_MODEL_SOURCE, SLOW_MODEL_TOML
from tests.tui.helpers import SIZE, make_app, palette_run, press, settle, static_text, wait_until

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.timezone.utc)


def record_files(root: Path) -> list[str]:
    folder = root / ".evaltui" / "runs"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def runs_tab(app) -> RunsTab:
    return app.screen.query_one(RunsTab)


async def show_runs_tab(app, pilot) -> None:
    app.screen.query_one("#detail", TabbedContent).active = "tab-runs"
    await settle(app, pilot)


# -- the Run screen -------------------------------------------------------------------------


async def test_run_screen_reaches_100_percent_and_writes_records(demo_copy):
    app = make_app(demo_copy)
    progress_seen = []
    async with app.run_test(size=SIZE, message_hook=progress_seen.append) as pilot:
        await settle(app, pilot)
        await press(pilot, "r")
        screen = app.screen
        assert isinstance(screen, RunScreen)
        assert screen.query_one("#run-evals").selected == ["qa_accuracy"]  # the eval under the cursor
        assert screen.query_one("#run-models").selected == ["baseline", "candidate"]  # every model
        await pilot.press("s")
        await wait_until(pilot, lambda: screen.phase == "done")
        rows = list(screen.query(JobRow))
        assert [r.job for r in rows] == [Job("qa_accuracy", "baseline"), Job("qa_accuracy", "candidate")]
        for row in rows:
            assert row.state == "finished" and row.query_one(ProgressBar).percentage == 1.0
            assert "21/21" in static_text(row.query_one(".job-stats"))
        status = static_text(screen.query_one("#run-status"))
        assert "Done: 2 of 2 job(s) finished" in status and "1 below threshold" in status
        names = record_files(demo_copy)
        assert len(names) == 2 and all(n.endswith(".json") for n in names)
        by_model = {r.model: r for r in store.list_records(demo_copy / ".evaltui", "qa_accuracy").records}
        candidate = next(r for r in rows if r.job.model == "candidate")
        assert by_model["candidate"].cache_misses == 21
        assert "0 hit 21 miss" in static_text(candidate.query_one(".job-stats"))
        assert by_model["candidate"].below_threshold and "✗ < 0.6" in static_text(candidate.query_one(".job-stats"))
        assert any(isinstance(m, RunProgress) for m in progress_seen)
        await press(pilot, "escape")
        assert not isinstance(app.screen, RunScreen)


SLOW_TOML = (
    """\
[models.recorded]
predictions = "recorded.jsonl"

"""
    + SLOW_MODEL_TOML
    + """
[evals.echo]
metric = "evals/echo.py:same"
dataset = "data/cases.jsonl"
version = "1.0"
"""
)

ECHO_METRIC = """\
import evaltui


@evaltui.scorer
def same(prediction, reference):
    return prediction == reference
"""


def slow_repo(make_repo, n: int = 400) -> Path:
    cases = "".join(json.dumps({"id": f"c{i}", "input": f"q{i}", "reference": f"q{i}"}) + "\n" for i in range(n))
    recorded = "".join(json.dumps({"id": f"c{i}", "output": f"q{i}"}) + "\n" for i in range(n))
    return make_repo(
        {
            "evals.toml": SLOW_TOML,
            SLOW_MODEL_PATH: SLOW_MODEL_SOURCE,
            "evals/echo.py": ECHO_METRIC,
            "data/cases.jsonl": cases,
            "recorded.jsonl": recorded,
            ".gitignore": ".evaltui/\n",
        }
    )


async def test_cancel_keeps_finished_jobs_and_writes_no_partial_record(make_repo):
    root = slow_repo(make_repo)
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await press(pilot, "r")
        screen = app.screen
        assert isinstance(screen, RunScreen)
        await pilot.press("s")
        await wait_until(pilot, lambda: len(screen.query(JobRow)) == 2, "the job rows", quiet=False)
        rows = {row.job.model: row for row in screen.query(JobRow)}
        # The recorded model finishes at once; the slow one, which never answers, is cancelled while it runs.
        await wait_until(
            pilot, lambda: rows["recorded"].state == "finished" and rows["slow"].state == "running", quiet=False
        )
        await pilot.press("escape")  # first escape cancels
        await wait_until(pilot, screen.cancel.is_set, "the cancel", quiet=False)
        assert app.screen is screen
        await wait_until(pilot, lambda: screen.phase == "done")
        assert rows["slow"].state == "cancelled" and rows["slow"].done == 0
        assert "cancelled" in static_text(rows["slow"].query_one(".job-stats"))
        status = static_text(screen.query_one("#run-status"))
        assert "Cancelled: 1 finished job(s) kept, 1 cancelled" in status
        names = record_files(root)
        assert len(names) == 1 and "-echo-recorded-" in names[0] and names[0].endswith(".json")
        await press(pilot, "escape")  # the second leaves
        assert app.screen is not screen


async def test_progress_snapshots_coalesce_without_losing_the_latest(make_repo):
    root = slow_repo(make_repo, n=3)
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = RunScreen(("echo",))
        await app.push_screen(screen)
        job = Job("echo", "slow")
        row = JobRow(job, clock=lambda: 0.0)
        await screen.query_one("#run-rows").mount(row)
        screen.rows, screen.run_id = {job: row}, 7
        handled = []
        screen.message_signal.subscribe(
            screen, lambda m: handled.append(m) if isinstance(m, RunProgress) else None, immediate=True
        )
        row.apply(JobStarted(job, 100_000, "1.0", "f"))
        for done in range(0, 100_001, 10):  # a 100k-case run reporting every 10 cases
            screen.post_message(RunProgress(7, (JobProgress(job, done, 100_000, done, 0, 0, 1.0),)))
        screen.post_message(RunProgress(6, (JobProgress(job, 5, 100_000, 0, 0, 0, 1.0),)))  # a stale run
        await wait_until(pilot, lambda: row.done == 100_000, "the last snapshot")
        await settle(app, pilot)  # the stale run's snapshot is handled too, and changes nothing
        assert row.done == 100_000 and row.hits == 100_000
        assert 0 < len(handled) < 100  # 10,001 posted


async def test_palette_opens_the_run_screen_for_every_eval(demo_copy):
    app = make_app(demo_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await palette_run(pilot, "Run: all evals")
        assert isinstance(app.screen, RunScreen)
        assert app.screen.query_one("#run-evals").selected == runner.runnable(load_registry(demo_copy))
        assert "gsm8k" not in runner.runnable(load_registry(demo_copy))  # listed, but cannot be chosen


def test_progress_messages_replace_only_their_own_run():
    job = Job("e", "m")
    snapshot = (JobProgress(job, 1, 2, 0, 0, 0, 0.1),)
    assert RunProgress(1, snapshot).can_replace(RunProgress(1, snapshot))
    assert not RunProgress(1, snapshot).can_replace(RunProgress(2, snapshot))
    assert not RunProgress(1, snapshot).can_replace(RunEvent(1, snapshot[0]))


# -- the Runs tab ---------------------------------------------------------------------------


async def test_runs_tab_lists_a_run_made_from_the_run_screen_and_shows_flips(demo_copy):
    app = make_app(demo_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("down")  # refund_policy: a per-case scorer
        await show_runs_tab(app, pilot)
        tab = runs_tab(app)
        assert tab.eval_name == "refund_policy" and tab.records == ()
        assert "no recorded runs yet" in static_text(tab.query_one("#runs-head"))
        await press(pilot, "r")
        screen = app.screen
        assert isinstance(screen, RunScreen)
        await pilot.press("s")
        await wait_until(pilot, lambda: screen.phase == "done")
        await pilot.press("escape")
        await wait_until(pilot, lambda: len(runs_tab(app).records) == 2)  # re-read after the run
        tab = runs_tab(app)
        assert {r.model for r in tab.records} == {"baseline", "candidate"}
        assert tab.table.row_count == 2
        await press(pilot, "2")
        assert app.focused is tab.table
        await pilot.press("space", "down", "enter")  # space and enter both mark
        await wait_until(pilot, lambda: tab.comparison is not None)
        a, b = (store.load_record(Path(r.path)) for r in sorted(tab.records, key=lambda r: r.id != tab.marked[0]))
        expected = store.compare(a, b)
        assert tab.comparison == expected and expected.to_pass  # the candidate fixes cases
        text = static_text(tab.query_one("#runs-compare"), width=200)
        assert f"to pass ({len(expected.to_pass)}): " + ", ".join(expected.to_pass) in text
        assert f"to fail ({len(expected.to_fail)})" in text
        first = [str(c) for c in tab.table.get_row_at(0)]
        assert first[0] in ("A", "B")
        await press(pilot, "x")
        assert tab.marked == [] and "Marked 0 of 2" in static_text(tab.query_one("#runs-compare"))


FLIP_TOML = """\
[models.old]
predictions = "old.jsonl"

[models.new]
predictions = "new.jsonl"

[evals.echo]
metric = "evals/echo.py:same"
dataset = "data/cases.jsonl"
version = "1.0"
"""


async def test_flips_and_case_ids_are_shown_literally(make_repo):
    ids = ["[b]bold[/b]", "plain", "\x1b[31mred"]
    cases = "".join(json.dumps({"id": i, "input": i, "reference": "yes"}) + "\n" for i in ids)
    old = "".join(json.dumps({"id": i, "output": "yes" if i == "plain" else "no"}) + "\n" for i in ids)
    new = "".join(json.dumps({"id": i, "output": "no" if i == "plain" else "yes"}) + "\n" for i in ids)
    root = make_repo(
        {
            "evals.toml": FLIP_TOML,
            "evals/echo.py": ECHO_METRIC,
            "data/cases.jsonl": cases,
            "old.jsonl": old,
            "new.jsonl": new,
        }
    )
    registry = load_registry(root)
    runner.run(registry, runner.plan(registry, ["echo"], ["old"]), now=NOW, options=runner.RunOptions(jobs=1))
    runner.run(
        registry,
        runner.plan(registry, ["echo"], ["new"]),
        now=NOW + dt.timedelta(hours=1),
        options=runner.RunOptions(jobs=1),
    )
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await show_runs_tab(app, pilot)
        tab = runs_tab(app)
        assert [r.model for r in tab.records] == ["new", "old"]  # newest first
        tab.focus()
        await pilot.press("space", "down", "space")
        await wait_until(pilot, lambda: tab.comparison is not None)
        assert tab.comparison.a == tab.records[1].id  # A is the older run
        text = static_text(tab.query_one("#runs-compare"), width=200)
        assert "to fail (1): plain" in text
        assert "to pass (2): [b]bold[/b], red" in text and "\x1b" not in text
        assert "+33.3 points" in text


def test_trend_keeps_the_latest_score_per_version_in_version_order():
    def rec(version, model, score, hour):
        return store.RunRecord(
            id=f"{hour}",
            time=NOW + dt.timedelta(hours=hour),
            run="r",
            commit=None,
            dirty=False,
            eval="e",
            eval_version=version,
            eval_rev=None,
            eval_files_sha256="",
            metric=None,
            metric_kind="scorer",
            dataset=None,
            dataset_sha256=None,
            model=model,
            model_kind="callable",
            fingerprint="f",
            status="ok",
            error=None,
            aggregate=score,
            threshold=None,
            n_cases=1,
            n_errors=0,
            cache_hits=0,
            cache_misses=0,
            duration=0.0,
        )

    newest_first = [rec("1.10", "m", 0.9, 5), rec("1.2", "m", 0.5, 4), rec("1.2", "m", 0.1, 3), rec("1.9", "m", 0.7, 2)]
    assert trend(newest_first) == {"m": [("1.2", 0.5), ("1.9", 0.7), ("1.10", 0.9)]}


# -- the Report screen ----------------------------------------------------------------------


async def test_report_screen_previews_and_writes_the_markdown(demo_copy):
    app = make_app(demo_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("P")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ReportScreen)
        base = screen.query_one("#report-base")
        assert base.value == "HEAD~1"  # the demo is on main
        assert "the commit before HEAD (you are on main)" in static_text(screen.query_one("#report-status"))
        base.value = "HEAD~12"
        base.focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(screen.markdown))
        md = screen.markdown
        assert md.startswith("### Eval report: ") and "(HEAD~12)" in md
        assert "**Eval change: refund_policy 1.1** (files changed without a version bump)" in md
        assert screen.query_one("#report-md", Markdown).source == md
        assert app.focused is screen.query_one("#report-preview")
        await press(pilot, "y")
        assert app.clipboard == md  # `y`: ready to paste into the pull request
        written = demo_copy / ".evaltui" / "report.md"
        await pilot.press("w")
        await wait_until(pilot, written.is_file, "report.md")
        assert written.read_text(encoding="utf-8") == md
        assert "report.md" in (demo_copy / ".evaltui" / ".gitignore").read_text().splitlines()  # never committed
        assert any(str(written) in n.message for n in app._notifications)
        # The report's runs were recorded: the Runs tab sees them when it is shown next.
        assert store.list_records(demo_copy / ".evaltui", "refund_policy").records


async def test_report_screen_shows_an_unknown_ref_as_a_message(demo_copy):
    app = make_app(demo_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("P")
        await settle(app, pilot)
        screen = app.screen
        screen.query_one("#report-base").value = "no-such-branch"
        await pilot.press("enter")
        await wait_until(pilot, lambda: not screen.building)
        status = static_text(screen.query_one("#report-status"))
        assert "Could not build the report" in status and "no-such-branch" in status
        await press(pilot, "w")
        assert not (demo_copy / ".evaltui" / "report.md").exists()


def test_default_base_is_the_merge_base_with_main_on_a_branch(make_repo):
    root = make_repo({"a.txt": "1"})
    make_repo({"a.txt": "2"}, root)
    fork = git(root, "rev-parse", "HEAD").decode().strip()
    git(root, "checkout", "-q", "-b", "feature")
    make_repo({"a.txt": "3"}, root)
    git(root, "checkout", "-q", "main")
    make_repo({"a.txt": "4"}, root)
    assert default_base(root) == ("HEAD~1", "the commit before HEAD (you are on main)")
    git(root, "checkout", "-q", "feature")
    ref, why = default_base(root)
    assert ref == fork[:12]
    assert why == "the merge-base of HEAD and main (you are on feature)"
