"""Work the app does ahead of being asked gives the answers it would give when asked."""

from __future__ import annotations

from evaltui.core.checks import problems as checks
from evaltui.core.registry.model import load_registry
from evaltui.core.registry.overview import read_dataset
from evaltui.tui.screens.check import CheckScreen
from evaltui.tui.screens.main import MainScreen
from tests.tui.helpers import SIZE, pinned_app, press, settle, wait_until


async def test_the_check_screen_opens_on_the_checks_run_after_the_history_pass(demo_repo):
    app = pinned_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        ahead = app.state.current_checks()
        assert ahead is not None and ahead.problems
        expected = checks.check_repository(load_registry(demo_repo, strict=False), now=app.now())
        assert [p.render() for p in ahead.problems] == [p.render() for p in expected]
        await press(pilot, "k")
        await wait_until(pilot, lambda: isinstance(app.screen, CheckScreen) and bool(app.screen.problems), "Check")
        screen = app.screen
        assert screen.problems == list(ahead.problems)
        assert not [w for w in app.workers if w.group == "check"]  # nothing was run again


async def test_once_the_check_screen_was_used_a_reload_runs_the_checks_again(demo_copy):
    app = pinned_app(demo_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        first = app.state.current_checks()
        await press(pilot, "k")
        await press(pilot, "escape")
        await press(pilot, "R")  # reads evals.toml again: a new registry, a new history pass
        await settle(app, pilot)
        again = app.state.current_checks()
        assert again is not None and again is not first and app.state.checks_of[0] is app.state.registry


async def test_the_datasets_next_to_the_selected_eval_are_counted_ahead(demo_repo):
    app = pinned_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        main = next(s for s in app.screen_stack if isinstance(s, MainScreen))
        shown = main.query_one("EvalList").shown
        second = app.state.summaries[shown[1]]
        assert second.eval.dataset and second.dataset == read_dataset(demo_repo, second.eval.dataset)


async def test_until_the_check_screen_is_used_only_the_first_history_pass_runs_the_checks(demo_copy):
    app = pinned_app(demo_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        first = app.state.current_checks()
        assert first is not None
        await press(pilot, "R")
        await settle(app, pilot)
        assert app.state.current_checks() is None and app.state.checks is first  # not run for the new pass
        await press(pilot, "k")
        await wait_until(pilot, lambda: isinstance(app.screen, CheckScreen) and bool(app.screen.problems), "Check")
