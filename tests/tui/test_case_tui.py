"""The case drill-down: Enter on a case that moved between two runs shows its input, reference, outputs and scores."""

from __future__ import annotations

import datetime as dt
import json
import sys

from textual.widgets import TabbedContent

from evaltui.core.history import rev_parse
from evaltui.core.registry.model import load_registry
from evaltui.core.runs import runner
from evaltui.tui.screens.case import CaseScreen
from evaltui.tui.widgets.flip_list import FlipList
from evaltui.tui.widgets.runs_tab import RunsTab
from tests.tui.helpers import NOW, SIZE, make_app, pinned_app, press, settle, static_text, wait_until

TOML = """\
[models.recorded]
predictions = "recorded.jsonl"

[models.bot]
callable = "app/bot.py:answer"

[evals.echo]
metric = "evals/echo.py:same"
dataset = "data/cases.jsonl"
version = "{version}"
"""

METRIC = """\
import evaltui


@evaltui.scorer
def same(prediction, reference):
    return prediction == reference
"""

BOT = """\
def answer(question):
    return question.upper()
"""


def rows(references: dict[str, str]) -> str:
    inputs = {"c1": "hello", "c2": "[b]not bold[/b]", "c3": "bye"}
    return "".join(
        json.dumps({"id": i, "input": inputs[i], "reference": r, "tags": ["t"]}) + "\n" for i, r in references.items()
    )


def flip_repo(make_repo):
    """echo 1.0 then 1.1 (c2's reference now matches the bot's answer), both models run at each version."""
    recorded = "".join(
        json.dumps({"id": i, "output": o}) + "\n" for i, o in (("c1", "HELLO"), ("c2", "nope"), ("c3", "BYE"))
    )
    root = make_repo(
        {
            "evals.toml": TOML.format(version="1.0"),
            "evals/echo.py": METRIC,
            "app/bot.py": BOT,
            "data/cases.jsonl": rows({"c1": "HELLO", "c2": "no", "c3": "BYE"}),
            "recorded.jsonl": recorded,
            ".gitignore": ".evaltui/\n__pycache__/\n",
        }
    )
    first = rev_parse(root, "HEAD")
    make_repo(
        {
            "evals.toml": TOML.format(version="1.1"),
            "data/cases.jsonl": rows({"c1": "HELLO", "c2": "[B]NOT BOLD[/B]", "c3": "BYE"}),
        }
    )
    registry = load_registry(root)
    options = runner.RunOptions(jobs=1)
    runner.run(registry, runner.plan(registry, ["echo"], rev=first), now=NOW, options=options)
    runner.run(registry, runner.plan(registry, ["echo"]), now=NOW + dt.timedelta(hours=1), options=options)
    return root


async def open_drill_down(app, pilot, model: str = "bot") -> CaseScreen:
    """Mark `model`'s runs at 1.0 and 1.1 on the Runs tab, then Enter on the first case that moved."""
    await settle(app, pilot)
    app.screen.query_one("#detail", TabbedContent).active = "tab-runs"
    await settle(app, pilot)
    tab = app.screen.query_one(RunsTab)
    tab.focus()
    for version in ("1.0", "1.1"):
        row = next(i for i, r in enumerate(tab.records) if r.model == model and r.eval_version == version)
        tab.table.move_cursor(row=row)
        await press(pilot, "space")
    await wait_until(pilot, lambda: tab.comparison is not None, "the comparison")
    flips = tab.query_one(FlipList)
    assert flips.display and flips.option_count >= 1
    await press(pilot, "tab")  # from the runs table to the list under the comparison
    assert app.focused is flips
    flips.highlighted = 0
    await press(pilot, "enter")
    screen = app.screen
    assert isinstance(screen, CaseScreen)
    await wait_until(pilot, lambda: screen.view is not None, "the case")
    return screen


async def test_enter_on_a_flipped_case_shows_input_reference_outputs_and_scores(make_repo, tmp_path, monkeypatch):
    root = flip_repo(make_repo)
    seen = tmp_path / "editor-args"
    script = tmp_path / "editor.py"
    script.write_text(f"import sys\nopen({str(seen)!r}, 'w').write(' '.join(sys.argv[1:]))\n")
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
    monkeypatch.delenv("VISUAL", raising=False)
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_drill_down(app, pilot)
        assert screen.case_id == "c2"  # the one case that flipped (to pass)
        text = static_text(screen.query_one("#case-body"), width=110)
        assert "[b]not bold[/b]" in text  # the input, literally (no markup applied)
        assert '"no"' not in text and "no" in text and "[B]NOT BOLD[/B]" in text  # both references, per side
        assert "A · v1.0" in text and "B · v1.1" in text
        assert text.count("✗ 0") == 3 and text.count("✓ 1") == 1  # bot fails at 1.0, passes at 1.1; recorded fails both
        assert text.count("[B]NOT BOLD[/B]") >= 2  # the new reference and the bot's output
        assert "nope" in text  # the recorded model's prediction
        await press(pilot, "e")
        await wait_until(pilot, seen.is_file, "the editor")
        assert seen.read_text() == f"+2 {root / 'data' / 'cases.jsonl'}"
        await press(pilot, "escape")
        assert not isinstance(app.screen, CaseScreen)


async def test_a_case_the_cache_lost_says_not_cached_and_keeps_its_score(make_repo):
    from evaltui.core.runs.cache import OutputCache, outputs_dir

    root = flip_repo(make_repo)
    OutputCache(outputs_dir(load_registry(root).state_dir)).clear()
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_drill_down(app, pilot)
        text = static_text(screen.query_one("#case-body"), width=110)
        assert text.count("not cached") == 2 and "✓ 1" in text  # the bot's two outputs are gone, not its scores
        assert "nope" in text  # predictions come from their file, not the cache


def test_case_drill_down_snapshot(make_repo, snap_compare):
    """The drill-down of case c2 of echo between bot's runs at 1.0 (A) and 1.1 (B): the dataset line
    (data/cases.jsonl:2, tags t); input and reference rows per side, since 1.1 changed the reference
    ("no" → "[B]NOT BOLD[/B]", shown literally); then one row per model: bot ✗ 0 with output
    "[B]NOT BOLD[/B]" on A and ✓ 1 on B, recorded ✗ 0 with "nope" on both; each cell ends with its run id.
    The box's subtitle reads "esc close · e edit the case · ↑↓ scroll"."""
    root = flip_repo(make_repo)

    async def run_before(pilot) -> None:
        await open_drill_down(pilot.app, pilot)

    assert snap_compare(pinned_app(root), terminal_size=SIZE, run_before=run_before)


async def test_f_on_the_report_opens_a_flipped_case_at_base_and_head(make_repo):
    from evaltui.tui.screens.case_picker import CasePicker
    from evaltui.tui.screens.report import ReportScreen

    root = flip_repo(make_repo)
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await press(pilot, "P")
        screen = app.screen
        assert isinstance(screen, ReportScreen)
        base = screen.query_one("#report-base")
        base.value = "HEAD~1"
        base.focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(screen.markdown), "the report")
        assert screen.built is not None and screen.built.ran == 0  # every cell came from the recorded runs
        await press(pilot, "f")
        picker = app.screen
        assert isinstance(picker, CasePicker)
        assert [(f.eval, f.model, f.kind, f.case_id) for f in picker.flips] == [("echo", "bot", "to pass", "c2")]
        await press(pilot, "enter")
        case = app.screen
        assert isinstance(case, CaseScreen)
        await wait_until(pilot, lambda: case.view is not None, "the case")
        text = static_text(case.query_one("#case-body"), width=110)
        assert "base · v1.0" in text and "head · v1.1 · working tree" in text
        assert "✓ 1" in text and "[B]NOT BOLD[/B]" in text
        bot = [s.outcomes[case.view.models.index("bot")] for s in case.view.sides]
        assert [o.run for o in bot] == list(screen.built.evals[0].runs["bot"])  # the runs the report used
