"""The Run screen against the local fake API through Pilot: estimate, confirmation, live counters, result."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaltui.core.runs import store
from evaltui.tui.config import UserConfig
from evaltui.tui.messages import RunProgress
from evaltui.tui.screens.run import JobRow, RunScreen
from evaltui.tui.screens.run_confirm import ConfirmCost
from tests.core.endpoint_helpers import KEY_ENV, make_endpoint_repo
from tests.fakeapi import FakeAPI
from tests.tui.helpers import make_app, settle, static_text, wait_for

INPUTS = ["first [429x1]", "second [slow]", "third [500x1]", "fourth"]


@pytest.fixture
def api():
    with FakeAPI(slow=0.5) as server:
        yield server


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "k")


async def open_run_screen(app, pilot) -> RunScreen:
    await settle(app, pilot)
    await app.push_screen(RunScreen(("qa",)))
    await wait_for(pilot, lambda: isinstance(app.screen, RunScreen))
    return app.screen


async def test_run_screen_shows_the_estimate_progress_counters_and_result(tmp_path: Path, api: FakeAPI) -> None:
    root = make_endpoint_repo(tmp_path / "repo", api, INPUTS, retries=3)
    config = UserConfig(tmp_path / "config.toml", confirm_above_usd=100.0)
    app = make_app(root, config=config)
    seen: list = []
    async with app.run_test(size=(160, 36), message_hook=seen.append) as pilot:
        screen = await open_run_screen(app, pilot)
        await pilot.press("s")
        await wait_for(pilot, lambda: screen.phase == "done")
        # While the slow case was out, the rows were told about a request in flight.
        live = [p for m in seen if isinstance(m, RunProgress) for p in m.progress]
        assert any(p.calls.in_flight >= 1 and p.done < p.total and p.calls.requests >= 1 for p in live)
        estimate = static_text(screen.query_one("#run-estimate"), 160)
        assert estimate.startswith("Estimate before sending: 8 requests, ~") and "≤ $" in estimate
        rows = {row.job.model: row for row in screen.query(JobRow)}
        assert set(rows) == {"gpt", "claude"}
        records = {r.model: r for r in store.list_records(root / ".evaltui").records}
        # The two jobs run at once: whichever asks first meets the two injected faults.
        assert sum(r.retries for r in records.values()) == 2 and api.requests == 10
        for model, row in rows.items():
            text = static_text(row.query_one(".job-stats"), 160)
            r = records[model]
            assert "4/4" in text and "100.0%" in text
            # 11 words in, 11 out, as the fake server counts tokens
            assert (
                f"0 in flight · {r.requests} req · {r.retries} retr{'y' if r.retries == 1 else 'ies'} "
                f"· 22 tok · ${r.cost:,.4f}"
            ) in text, text
        assert "Done: 2 of 2 job(s) finished" in static_text(screen.query_one("#run-status"), 160)


async def test_a_costly_run_waits_for_confirmation_and_sends_nothing_when_refused(tmp_path: Path, api: FakeAPI) -> None:
    root = make_endpoint_repo(tmp_path / "repo", api, ["one", "two"])
    app = make_app(root, config=UserConfig(tmp_path / "config.toml", confirm_above_usd=0.0))
    async with app.run_test(size=(160, 36)) as pilot:
        screen = await open_run_screen(app, pilot)
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmCost))
        text = static_text(app.screen.query_one("#run-confirm-estimate"), 160)
        assert text.startswith("4 requests, ~") and "output tokens" in text
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen is screen and screen.phase == "setup")
        assert api.requests == 0 and "nothing was sent" in static_text(screen.query_one("#run-hint"), 160)
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmCost))
        await pilot.press("y")
        await wait_for(pilot, lambda: screen.phase == "done")
        assert api.requests == 4


def test_the_confirmation_threshold_comes_from_the_user_config(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('theme = "nord"\n[run]\nconfirm_above_usd = 2.5\n')
    assert UserConfig.load(path).confirm_above_usd == 2.5
    path.write_text('[run]\nconfirm_above_usd = "lots"\n')
    bad = UserConfig.load(path)
    assert bad.confirm_above_usd == 1.0 and "confirm_above_usd must be an amount" in bad.problems[0]
