"""What the app keeps between key presses is what it would build again: the Check screen, the footer's
keys, a tab's drawing, the history read off the UI thread."""

from __future__ import annotations

import gc

from textual.widgets import Static, TabbedContent

from evaltui.core import history
from evaltui.tui.loaders import FULL_COLLECTION_EVERY
from evaltui.tui.screens.check import CheckScreen
from evaltui.tui.screens.main import MainScreen
from evaltui.tui.widgets.footer import SteadyFooter
from evaltui.tui.widgets.lineage_tab import LineageList, LineageTab
from tests.tui.helpers import SIZE, pinned_app, press, settle, wait_until


def main_of(app) -> MainScreen:
    return next(s for s in app.screen_stack if isinstance(s, MainScreen))


def footer_keys(screen) -> list:
    return list(screen.query_one(SteadyFooter).query("FooterKey"))


async def test_the_check_screen_is_built_once_and_shown_again_with_the_latest_checks(demo_copy):
    app = pinned_app(demo_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await press(pilot, "k")
        first = app.screen
        assert isinstance(first, CheckScreen) and first.problems
        keys = footer_keys(first)
        assert [k.description for k in keys][:4] == ["Go to eval", "Back", "Annotate", "Check again"]
        await press(pilot, "escape")
        await press(pilot, "k")
        assert app.screen is first  # the same screen, its footer not rebuilt
        assert footer_keys(first) == keys and all(k.is_attached for k in keys)
        before = app.state.current_checks()
        await press(pilot, "escape", "R")  # a reload: a new registry, a new history pass, new checks
        await settle(app, pilot)
        after = app.state.current_checks()
        assert after is not None and after is not before
        await press(pilot, "k")
        assert app.screen is first
        await wait_until(pilot, lambda: first.problems == list(after.problems), "the new checks on screen")


async def test_a_tab_switched_back_to_keeps_its_drawing_and_a_new_eval_is_drawn_as_the_tab_shows(demo_repo):
    app = pinned_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        main = main_of(app)
        detail = main.query_one("#detail", TabbedContent)
        await press(pilot, "left_square_bracket")  # wraps to Notes
        assert detail.active == "tab-notes"
        body = main.query_one("#notes-body", Static)
        drawn = body.visual
        await press(pilot, "right_square_bracket", "left_square_bracket")  # Overview and back: the same eval
        assert detail.active == "tab-notes" and body.visual is drawn
        await press(pilot, "right_square_bracket", "down")  # Overview, then another eval
        name = main.query_one("EvalList").current
        await pilot.press("right_square_bracket")  # Lineage: drawn for `name` before it shows
        tab = main.query_one(LineageTab)
        assert detail.active == "tab-lineage" and tab.eval_name == name
        timeline = tab.query_one(LineageList)
        shown = [timeline.get_option_at_index(i).id for i in range(timeline.option_count)]
        commits = [entry.commit for entry in history.eval_log(app.state.lineage, name)]
        assert [c for c in shown if c is not None] == commits


async def test_the_history_read_is_set_aside_from_full_collections(demo_repo):
    app = pinned_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        lineage = app.state.lineage
        assert lineage is not None and gc.is_tracked(lineage)
        # Frozen objects are in no generation the collector walks.
        assert all(obj is not lineage for obj in gc.get_objects())
        assert gc.get_threshold()[2] >= FULL_COLLECTION_EVERY  # and full collections come rarely


def test_what_is_set_aside_never_includes_garbage():
    """Frozen objects are never collected: garbage cycles are collected before a read is set aside."""
    import weakref

    from evaltui.tui.loaders import set_aside

    class Node:
        pass

    was = gc.isenabled()
    gc.enable()
    try:
        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle: only the collector frees it
        gone = weakref.ref(a)
        del a, b
        set_aside()
        assert gone() is None
    finally:
        gc.unfreeze()
        if not was:
            gc.disable()
