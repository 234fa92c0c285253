"""The main screen stays true and fits: refreshed after the app's own actions and outside commits,
stacked below 100 columns, and lazygit's habits (zoom, sort, mine, edit)."""

from __future__ import annotations

import datetime as dt
import sys
from zoneinfo import ZoneInfo

from textual.content import Content
from textual.widgets import DataTable, Static, TextArea

from evaltui.core import history
from evaltui.core.demo import builder as demo
from evaltui.tui.screens.annotate import AnnotateDialog
from evaltui.tui.screens.check import CheckScreen, ProblemTable
from evaltui.tui.screens.main import MainScreen
from evaltui.tui.screens.run import RunScreen
from evaltui.tui.widgets.eval_list import PENDING_BADGE, SILENT_BADGE, SORTS, EvalTable
from tests.tui.helpers import NARROW, SIZE, make_app, press, settle, static_text, table_names, wait_until

NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))


def main_screen(app) -> MainScreen:
    return next(s for s in app.screen_stack if isinstance(s, MainScreen))


def topbar(app) -> str:
    return static_text(main_screen(app).query_one("#topbar", Static), width=300)


def row_of(app, name: str) -> str:
    """The list's row for eval `name` as plain text (badges, name, version, owner, changed, score, …)."""
    evals = main_screen(app).query_one("EvalList")
    status = evals.statuses.get(name)
    summary = next(s for s in evals.summaries if s.name == name)
    return " ".join(cell.plain for cell in evals.cells(summary, status, evals.now, {}))


def header_line(app) -> str:
    table = main_screen(app).query_one(EvalTable)
    return table.render_line(0).text


# -- one source of truth -------------------------------------------------------------------------


async def test_a_run_shows_its_scores_and_the_failing_threshold_at_once(demo_copy):
    app = make_app(demo_copy, clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert "below threshold" not in topbar(app)
        scores_before = main_screen(app).query_one("EvalList").statuses["qa_accuracy"].scores
        assert not scores_before
        await press(pilot, "r")
        screen = app.screen
        assert isinstance(screen, RunScreen)
        await pilot.press("s")
        await wait_until(pilot, lambda: screen.phase == "done", "the run")
        await press(pilot, "escape")
        # No `R`: the run said what it changed, and the list and header read it again.
        statuses = main_screen(app).query_one("EvalList").statuses
        assert set(statuses["qa_accuracy"].scores) == {"baseline", "candidate"}
        assert "0.57" in row_of(app, "qa_accuracy")  # the candidate at 57.1%, under its 0.6 threshold
        assert "✗ 1 below threshold" in topbar(app)


async def test_acknowledging_from_check_clears_the_badge_and_the_count(demo_copy):
    name = demo.SILENT_CHANGE.eval
    app = make_app(demo_copy, clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert row_of(app, name).startswith(SILENT_BADGE) and f"{SILENT_BADGE} 1 silent" in topbar(app)
        await press(pilot, "k")
        screen = app.screen
        assert isinstance(screen, CheckScreen)
        codes = [(p.code, p.eval) for p in screen.problems]
        screen.query_one("#check-problems", ProblemTable).move_cursor(row=codes.index(("silent-change", name)))
        await press(pilot, "a")
        dialog = app.screen
        assert isinstance(dialog, AnnotateDialog)
        dialog.query_one("#annotate-text", TextArea).insert("Typo fix: same measurement")
        await press(pilot, "ctrl+s")
        assert app.screen is screen
        assert not row_of(app, name).startswith(SILENT_BADGE)
        assert f"{SILENT_BADGE} 1 silent" not in topbar(app)
        assert any(n.message.startswith("Non-semantic note saved on") for n in app._notifications)


async def test_a_commit_made_outside_shows_without_a_key(demo_copy):
    app = make_app(demo_copy, clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        head = app.state.lineage.head
        toml = demo_copy / "evals.toml"
        toml.write_text(toml.read_text() + '\n[evals.outside]\ndataset = "data/refunds.jsonl"\nversion = "1.0"\n')
        history.commit_all(
            demo_copy,
            "Add an eval from another terminal",
            history.Identity("Ann", "ann@example.com"),
            dt.datetime(2026, 11, 30, 9, 0),
        )
        await wait_until(pilot, lambda: "outside" in table_names(app), "the outside commit to show")
        await wait_until(
            pilot, lambda: app.state.lineage is not None and app.state.lineage.head != head, "the new HEAD"
        )
        assert f"HEAD {app.state.lineage.head[:7]}" in topbar(app)


async def test_uncommitted_changes_show_a_pending_badge_when_the_core_reports_them(demo_copy):
    """The `~` badge follows the core's `pending` status; without it, no eval is marked."""
    app = make_app(demo_copy, clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        statuses = main_screen(app).query_one("EvalList").statuses
        assert not any(row_of(app, n).startswith(PENDING_BADGE) for n in statuses)
        (demo_copy / "data" / "refunds.jsonl").write_text(
            (demo_copy / "data" / "refunds.jsonl").read_text() + '{"id": "new", "input": "x", "reference": "y"}\n'
        )
        await wait_until(
            pilot,
            lambda: (
                "refund_policy" in table_names(app)
                and (
                    not hasattr(main_screen(app).query_one("EvalList").statuses["refund_policy"], "pending")
                    or row_of(app, "refund_policy").startswith(PENDING_BADGE)
                )
            ),
            "the pending badge",
        )


# -- narrow terminals --------------------------------------------------------------------------------


async def test_below_100_columns_the_panes_stack_and_keep_the_score_column(demo_repo):
    app = make_app(demo_repo, clock=lambda: NOW)
    async with app.run_test(size=NARROW) as pilot:
        await settle(app, pilot)
        screen = main_screen(app)
        assert screen.has_class("-narrow")
        evals, detail = screen.query_one("#eval-list").region, screen.query_one("#detail").region
        assert evals.bottom <= detail.y and evals.width == detail.width == 80
        assert "score" in header_line(app)
        await press(pilot, "question_mark")  # the keys panel takes its room from both panes
        assert screen.query_one("#detail").region.width >= 40
    wide = make_app(demo_repo, clock=lambda: NOW)
    async with wide.run_test(size=SIZE) as pilot:
        await settle(wide, pilot)
        screen = main_screen(wide)
        evals, detail = screen.query_one("#eval-list").region, screen.query_one("#detail").region
        assert screen.has_class("-wide") and evals.y == detail.y and evals.right <= detail.x
        await press(pilot, "question_mark")
        assert screen.query_one("#detail").region.width >= 30


# -- habits ------------------------------------------------------------------------------------------


async def test_plus_zooms_the_focused_pane_and_back(demo_repo):
    app = make_app(demo_repo, clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = main_screen(app)
        await press(pilot, "plus")
        assert not screen.query_one("#detail").display or screen.query_one("#detail").region.width == 0
        assert screen.query_one("#eval-list").region.width == 120
        await press(pilot, "plus")
        assert screen.query_one("#detail").region.width > 0
        await press(pilot, "2", "plus")
        assert screen.query_one("#detail").region.width == 120
        assert screen.query_one("#eval-list").region.width == 0


async def test_s_cycles_the_sort_and_m_shows_only_mine(demo_copy):
    history.git(demo_copy, "config", "user.email", "dana@example.com")
    app = make_app(demo_copy, clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        everything = table_names(app)
        evals = main_screen(app).query_one("EvalList")
        while evals.order != "name":
            await press(pilot, "s")
        assert table_names(app) == sorted(everything) and "by name" in evals.border_title
        while evals.order != SORTS[0]:
            await press(pilot, "s")
        assert table_names(app) == everything
        await press(pilot, "m")
        mine = table_names(app)
        assert mine and len(mine) < len(everything)
        assert all(evals.statuses[n].owner == "dana" for n in mine) and "mine (dana)" in evals.border_title
        await press(pilot, "m")
        assert table_names(app) == everything


async def test_e_opens_the_eval_in_the_editor_at_its_line(demo_repo, tmp_path, monkeypatch):
    seen = tmp_path / "editor-args"
    script = tmp_path / "editor.py"
    script.write_text(f"import sys\nopen({str(seen)!r}, 'w').write(' '.join(sys.argv[1:]))\n")
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
    monkeypatch.delenv("VISUAL", raising=False)
    app = make_app(demo_repo, clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await press(pilot, "down")
        name = main_screen(app).query_one("EvalList").current
        await press(pilot, "e")
        await wait_until(pilot, seen.is_file, "the editor")
        line = app.state.registry.evals[name].line
        assert line and seen.read_text() == f"+{line} {demo_repo / 'evals.toml'}"
        assert f"[evals.{name}]" in (demo_repo / "evals.toml").read_text().splitlines()[line - 1]


async def test_slash_in_the_detail_pane_searches_what_it_shows(demo_repo):
    app = make_app(demo_repo, clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.select_eval(demo.SILENT_CHANGE.eval)
        main_screen(app).query_one("#detail").active = "tab-diff"
        await settle(app, pilot)
        tab = main_screen(app).active_tab()
        assert tab.scroll_offset.y == 0 and tab.max_scroll_y > 0
        await press(pilot, "2", "slash")
        assert app.focused is main_screen(app).query_one("#detail-search")
        await press(pilot, *"ref-014", "enter")
        assert tab.scroll_offset.y > 0  # the case list is below the fold
        assert table_names(app) == list(app.state.registry.evals)  # the list was not filtered
        await press(pilot, *"zzqq", "enter")
        assert any(n.message == "not found: ref-014zzqq" for n in app._notifications)
        await press(pilot, "escape")
        assert not main_screen(app).query_one("#detail-search").display


async def test_at_80_columns_the_runs_tab_shows_its_whole_gate_column(demo_copy):
    from evaltui.core.registry.model import load_registry
    from evaltui.core.runs import runner

    registry = load_registry(demo_copy)
    runner.run(registry, runner.plan(registry, ["refund_policy"]), now=NOW, options=runner.RunOptions(jobs=1))
    app = make_app(demo_copy, clock=lambda: NOW)
    async with app.run_test(size=NARROW) as pilot:
        await settle(app, pilot)
        app.select_eval("refund_policy")
        main_screen(app).query_one("#detail").active = "tab-runs"
        await settle(app, pilot)
        table = main_screen(app).query_one("#runs-table", DataTable)
        assert table.row_count == 2
        gates = [table.get_row_at(i)[4].plain for i in range(table.row_count)]
        assert sorted(gates) == ["< 0.8", "≥ 0.8"]
        # Every column up to the gate is drawn inside the table: nothing cuts "< 0.8" to "< 0".
        columns = list(table.columns.values())
        right = sum(c.get_render_width(table) for c in columns[:5])
        assert right <= table.scrollable_content_region.width
        assert all(c.get_render_width(table) >= len(g) for c in columns[4:5] for g in gates)


async def test_the_run_screen_keeps_its_result_column_at_80_columns(demo_copy):
    """Below 100 columns the progress bars go, so every row's score and threshold mark fit on screen."""
    from textual.widgets import ProgressBar

    from evaltui.tui.screens.run import JobRow

    app = make_app(demo_copy, clock=lambda: NOW)
    async with app.run_test(size=NARROW) as pilot:
        await settle(app, pilot)
        await press(pilot, "r")
        screen = app.screen
        assert isinstance(screen, RunScreen) and screen.has_class("-narrow")
        await pilot.press("s")
        await wait_until(pilot, lambda: screen.phase == "done")
        rows = list(screen.query(JobRow))
        assert len(rows) == 2
        for row in rows:
            assert not row.query_one(ProgressBar).display
            stats = row.query_one(".job-stats", Static)
            shown = stats.render()
            assert isinstance(shown, Content)
            assert shown.cell_length <= stats.region.width and stats.region.right <= NARROW[0]
            assert ("✓ ≥ 0.6" in shown.plain) or ("✗ < 0.6" in shown.plain)
