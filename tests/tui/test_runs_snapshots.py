"""What the Runs tab and the Run screen look like at 120×36. Update only after reading the report (--snapshot-update).

Records are written with a fixed clock and shown in UTC; the Run screen gets a frozen clock,
so nothing time-dependent (dates, durations, cases/s) can differ between two runs.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from textual.widgets import TabbedContent

from evaltui.core.registry.model import load_registry
from evaltui.core.runs import runner
from evaltui.tui.screens.run import RunScreen
from tests.tui.helpers import SIZE, pinned_app, press, settle, wait_until

T_OLD = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.timezone.utc)
T_NEW = dt.datetime(2026, 11, 20, 14, 5, tzinfo=dt.timezone.utc)
# In the demo's history, the commit before "Refund policy 1.1: sale items have a 14-day window".
REFUND_1_0 = "HEAD~20"


@pytest.fixture
def utc(monkeypatch):
    """Local time is UTC for the test (the Runs tab shows local times)."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


async def _loaded(pilot) -> None:
    await settle(pilot.app, pilot)


def test_runs_tab_with_two_versions_and_flips(demo_copy, utc, snap_compare):
    """refund_policy's four runs (1.0 and 1.1 × baseline and candidate), newest first; a sparkline per
    model over the two versions; baseline 1.0 (A) and baseline 1.1 (B) marked, with the flips between
    them below the table: the score delta, cases to fail and to pass, and the cases 1.1 added; under that
    the list "cases that moved (5) · tab, enter: details" starting with "to fail  ref-004". The footer
    lists the tab's keys, `i Import` among them. The header counts refund_policy (baseline 0.64 < 0.8) as
    "✗ 1 below threshold"."""
    registry = load_registry(demo_copy)
    options = runner.RunOptions(jobs=1)
    old = runner.run(registry, runner.plan(registry, ["refund_policy"], rev=REFUND_1_0), now=T_OLD, options=options)
    new = runner.run(registry, runner.plan(registry, ["refund_policy"]), now=T_NEW, options=options)
    assert [r.eval_version for r in old.records + new.records] == ["1.0", "1.0", "1.1", "1.1"]

    async def run_before(pilot) -> None:
        await _loaded(pilot)
        await pilot.press("down")  # refund_policy
        pilot.app.screen.query_one("#detail", TabbedContent).active = "tab-runs"
        await _loaded(pilot)
        await press(pilot, "2")
        await press(pilot, "down", "space", "down", "down", "space")  # baseline 1.1, then baseline 1.0
        tab = pilot.app.screen.query_one("RunsTab")
        await wait_until(pilot, lambda: tab.comparison is not None)

    assert snap_compare(pinned_app(demo_copy), terminal_size=SIZE, run_before=run_before)


def test_run_screen_at_completion(demo_copy, snap_compare):
    """The Run screen after refund_policy ran against both models: full bars, 14/14 cases, the recorded
    model's outputs marked "recorded", the candidate's 14 cache misses, each score with its threshold
    (baseline ✗ < 0.8, candidate ✓ ≥ 0.8), and where the records went. The clock is frozen, so no cases/s."""

    async def run_before(pilot) -> None:
        await _loaded(pilot)
        screen = RunScreen(("refund_policy",), clock=lambda: 0.0, now=lambda: T_NEW)
        await pilot.app.push_screen(screen)
        await settle(pilot.app, pilot)
        await pilot.press("s")
        await wait_until(pilot, lambda: screen.phase == "done")

    assert snap_compare(pinned_app(demo_copy), terminal_size=SIZE, run_before=run_before)
