"""Coverage, Rotation and Check screens, the Notes tab and the annotate dialog, through Pilot on the demo."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
from textual.widgets import DataTable, Input, OptionList, TextArea

from evaltui.core import history
from evaltui.core.demo import builder as demo
from evaltui.core.registry.model import load_registry
from evaltui.core.team import coverage as cov
from evaltui.core.team import notes
from evaltui.tui.screens import rotation as rotation_module
from evaltui.tui.screens.annotate import AnnotateDialog
from evaltui.tui.screens.check import CheckScreen, ProblemTable
from evaltui.tui.screens.coverage import CoverageScreen, FormDialog, blind_spot_evals
from evaltui.tui.screens.main import MainScreen
from evaltui.tui.screens.rotation import RotationScreen
from tests.tui.helpers import SIZE, make_app, palette_run, press, settle, static_text

BERLIN = ZoneInfo("Europe/Berlin")
NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=BERLIN)  # a Tuesday, six days before a handoff


def commit_of(root: Path, subject: str) -> str:
    """The full sha of the demo commit with this subject."""
    for line in history.git(root, "log", "--format=%H %s").decode().splitlines():
        sha, _, text = line.partition(" ")
        if text == subject:
            return sha
    raise AssertionError(f"no commit {subject!r}")


def row_labels(table: DataTable) -> list[str]:
    return [table.get_row_at(i)[0].plain for i in range(table.row_count)]


def cell_plain(table: DataTable, row: int, column: int) -> str:
    return table.get_cell_at((row, column)).plain  # type: ignore[union-attr]


async def open_screen(app, pilot, key: str, kind: type):
    await settle(app, pilot)
    await press(pilot, key)
    assert isinstance(app.screen, kind), app.screen
    return app.screen


# -- coverage --------------------------------------------------------------------------------------


def test_blind_spot_evals_are_the_evals_that_declare_a_mode_without_cases(demo_repo):
    registry = load_registry(demo_repo)
    assert blind_spot_evals(cov.coverage(registry)) == {demo.SILENT_CHANGE.eval}  # refund_policy: partial-refund


async def test_coverage_lists_blind_spots_first_and_enter_lists_a_cells_cases(demo_repo):
    app = make_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot, "c", CoverageScreen)
        matrix = screen.query_one("#coverage-matrix", DataTable)
        labels = row_labels(matrix)
        first_two = {label.strip("●◐ ") for label in labels[:2]}
        assert first_two == {demo.BLIND_SPOT, demo.UNTESTED_MODE}
        # Every other mode follows, once each: the covered ones after the two that need attention.
        rest = [label.strip("●◐ ") for label in labels[2:]]
        assert sorted(rest) == sorted(m.name for m in screen.coverage.modes if m.name not in first_two)
        assert "hallucination" in rest
        modes = [m.name for m in screen.coverage.modes]
        evals = list(screen.coverage.evals)
        # The eval that declares the untested mode shows "declared, no case".
        assert cell_plain(matrix, modes.index(demo.UNTESTED_MODE), evals.index("refund_policy") + 1) == "0!"
        row, column = modes.index("hallucination"), evals.index("qa_accuracy") + 1
        assert cell_plain(matrix, row, column) == str(screen.coverage.cell("hallucination", "qa_accuracy").count)

        matrix.move_cursor(row=row, column=column)
        await press(pilot, "enter")
        cases = screen.query_one("#coverage-cases", DataTable)
        expected = [c.id for c in cov.coverage(load_registry(demo_repo)).cases_in("hallucination", "qa_accuracy")]
        assert expected and [cases.get_row_at(i)[1].plain for i in range(cases.row_count)] == expected
        assert all("hallucination" in cases.get_row_at(i)[3].plain for i in range(cases.row_count))
        assert "Cases exercising hallucination in qa_accuracy" in static_text(screen.query_one("#coverage-cases-title"))


async def test_adding_a_mode_and_a_case_writes_the_files_and_shows_them(demo_copy):
    toml_before = (demo_copy / "evals.toml").read_text()
    dataset = demo_copy / "data" / "refunds.jsonl"
    lines_before = dataset.read_text().splitlines()
    app = make_app(demo_copy)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot, "c", CoverageScreen)
        await press(pilot, "m")
        form = app.screen
        assert isinstance(form, FormDialog)
        form.query_one("#field-name", Input).value = "tool-misuse"
        form.query_one("#field-description", Input).value = "Calls the refund tool for an order it was not asked about"
        form.query_one("#field-found", Input).value = "2026-11-20 audit"
        await press(pilot, "ctrl+s")
        assert app.screen is screen

        text = (demo_copy / "evals.toml").read_text()
        assert "[failure_modes.tool-misuse]" in text and 'found = "2026-11-20 audit"' in text
        for comment in (line for line in toml_before.splitlines() if line.startswith("#")):
            assert comment in text  # comments kept
        assert load_registry(demo_copy).failure_modes["tool-misuse"].description.startswith("Calls the refund tool")
        labels = [label.strip("●◐ ") for label in row_labels(screen.query_one("#coverage-matrix", DataTable))]
        assert "tool-misuse" in labels[:3]  # a new blind spot, listed with the others first

        # A case for the untested mode, typed with markup and an escape sequence that must stay text.
        modes = [m.name for m in screen.coverage.modes]
        matrix = screen.query_one("#coverage-matrix", DataTable)
        matrix.move_cursor(
            row=modes.index(demo.UNTESTED_MODE), column=list(screen.coverage.evals).index("refund_policy") + 1
        )
        await press(pilot, "n")
        form = app.screen
        assert isinstance(form, FormDialog)
        assert form.query_one("#field-tags", Input).value == demo.UNTESTED_MODE  # prefilled from the row
        form.query_one("#field-input", Input).value = "[bold]Refund[/bold] one chair of a set of four?\x1b[31m"
        form.query_one("#field-reference", Input).value = "a quarter of the set price"
        await press(pilot, "ctrl+s")

        lines = dataset.read_text().splitlines()
        assert lines[: len(lines_before)] == lines_before and len(lines) == len(lines_before) + 1
        added = json.loads(lines[-1])
        assert added["tags"] == [demo.UNTESTED_MODE] and added["reference"] == "a quarter of the set price"
        modes = [m.name for m in screen.coverage.modes]
        assert not screen.coverage.mode(demo.UNTESTED_MODE).blind
        row = modes.index(demo.UNTESTED_MODE)
        assert cell_plain(matrix, row, list(screen.coverage.evals).index("refund_policy") + 1) == "1"
        cases = screen.query_one("#coverage-cases", DataTable)
        assert cases.row_count == 1 and cases.get_row_at(0)[1].plain == added["id"]
        shown = cases.get_row_at(0)[2].plain
        assert shown.startswith("[bold]Refund[/bold] one chair") and "\x1b" not in shown


async def test_a_refused_edit_keeps_the_form_open_and_the_file_unchanged(demo_copy):
    before = (demo_copy / "evals.toml").read_text()
    app = make_app(demo_copy)
    async with app.run_test(size=SIZE) as pilot:
        await open_screen(app, pilot, "c", CoverageScreen)
        await press(pilot, "m")
        form = app.screen
        form.query_one("#field-name", Input).value = "hallucination"
        form.query_one("#field-description", Input).value = "again"
        await press(pilot, "ctrl+s")
        assert app.screen is form
        assert "already exists" in static_text(form.query_one(".form-error"))
        await press(pilot, "escape")
        assert isinstance(app.screen, CoverageScreen)
    assert (demo_copy / "evals.toml").read_text() == before


# -- rotation --------------------------------------------------------------------------------------


async def test_rotation_lanes_honour_the_absence_and_the_override(demo_copy):
    app = make_app(demo_copy, clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot, "o", RotationScreen)
        lanes = screen.view.lanes
        starts = [t.astimezone(BERLIN).date() for t in lanes.ticks[:-1]]
        assert starts[0] == dt.date(2026, 11, 30) and len(starts) == rotation_module.PERIODS
        away, chen = demo.ABSENT, lanes.cells[demo.ABSENT.member]
        for i, start in enumerate(starts):
            in_absence = start <= away.end and start + dt.timedelta(days=7) > away.start
            assert chen[i].away == in_absence
            if in_absence:  # only the eval pinned to them stays theirs
                assert chen[i].evals == (("gsm8k", "pin"),)
        override, dana = demo.OVERRIDE, lanes.cells[demo.OVERRIDE.member]
        for i, start in enumerate(starts):
            if override.start <= start < override.end:
                assert ("qa_accuracy", "override") in dana[i].evals
        # ... and the table shows it: "away" in chen's lane, the override mark in dana's.
        table = screen.query_one("#rotation-lanes", DataTable)
        members = list(lanes.members)
        chen_row = table.get_row_at(members.index("chen"))
        assert "away" in chen_row[1 + starts.index(dt.date(2026, 12, 21))].plain
        dana_row = table.get_row_at(members.index("dana"))
        assert dana_row[1 + starts.index(dt.date(2026, 12, 7))].plain.split("\n")[0].endswith("*")

        summary = static_text(screen.query_one("#rotation-summary"), width=200)
        assert "next handoff in 5 days 23 h" in summary
        assert "away: chen 21 Dec – 03 Jan" in summary and "override: dana owns qa_*" in summary

        # The brief follows the member under the cursor.
        first = members[0]
        assert screen.briefs[first].startswith(f"# Handoff brief for {first}")
        await press(pilot, "down")
        assert screen.briefs[members[1]].startswith(f"# Handoff brief for {members[1]}")

        await press(pilot, "x")
    ics = demo_copy / ".evaltui" / "rotation.ics"
    calendar = icalendar.Calendar.from_ical(ics.read_bytes())
    events = [c for c in calendar.walk("VEVENT")]
    assert events and any("dana owns" in str(e["SUMMARY"]) and "qa_accuracy" in str(e["SUMMARY"]) for e in events)


# -- notes and the annotate dialog -----------------------------------------------------------------


async def test_annotate_writes_a_note_that_appears_in_the_notes_tab(demo_copy):
    history.git(demo_copy, "config", "user.email", "dana@example.com")  # the author is the [people] member
    app = make_app(demo_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.select_eval("tone")
        app.screen.query_one("#detail").active = "tab-notes"
        await settle(app, pilot)
        body = app.screen.query_one("#notes-body")
        assert "tone" in static_text(body)

        await press(pilot, "a")
        dialog = app.screen
        assert isinstance(dialog, AnnotateDialog) and dialog.eval_name == "tone"
        dialog.query_one("#annotate-kind", OptionList).highlighted = notes.KINDS.index("regression")
        dialog.query_one("#annotate-text", TextArea).insert("Sarcasm cases pass [b]too easily[/b] now")
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, MainScreen)
        shown = static_text(app.screen.query_one("#notes-body"), width=200)
        assert "Sarcasm cases pass [b]too easily[/b] now" in shown
        heading = next(line for line in shown.splitlines() if "regression" in line)
        assert "dana" in heading and shown.index("Sarcasm") < shown.index("Reformatting only")  # newest first

        await press(pilot, "a")
        app.screen.query_one("#annotate-text", TextArea).insert("never saved")
        await press(pilot, "escape")
        assert isinstance(app.screen, MainScreen)
    saved = [n for n in notes.read_notes(demo_copy / ".evaltui").notes if n.eval == "tone" and n.kind == "regression"]
    assert [(n.author, n.text) for n in saved] == [("dana", "Sarcasm cases pass [b]too easily[/b] now")]
    assert "never saved" not in (demo_copy / ".evaltui" / "notes.jsonl").read_text()


async def test_a_non_semantic_note_needs_a_commit(demo_copy):
    app = make_app(demo_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await press(pilot, "a")
        dialog = app.screen
        dialog.query_one("#annotate-kind", OptionList).highlighted = notes.KINDS.index("non-semantic")
        dialog.query_one("#annotate-text", TextArea).insert("harmless")
        await press(pilot, "ctrl+s")
        assert app.screen is dialog and "give the commit" in static_text(dialog.query_one("#annotate-error"))
        dialog.query_one("#annotate-commit", Input).value = "not-a-commit"
        await press(pilot, "ctrl+s")
        assert app.screen is dialog and "unknown revision" in static_text(dialog.query_one("#annotate-error"))


# -- check -----------------------------------------------------------------------------------------


async def test_acknowledging_the_silent_change_removes_it_from_check(demo_copy):
    sha = commit_of(demo_copy, demo.SILENT_CHANGE.subject)
    app = make_app(demo_copy, clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot, "k", CheckScreen)
        codes = [(p.code, p.eval) for p in screen.problems]
        assert ("silent-change", demo.SILENT_CHANGE.eval) in codes
        row = codes.index(("silent-change", demo.SILENT_CHANGE.eval))
        screen.query_one("#check-problems", ProblemTable).move_cursor(row=row)
        await press(pilot, "a")
        dialog = app.screen
        assert isinstance(dialog, AnnotateDialog)
        assert sha.startswith(dialog.query_one("#annotate-commit", Input).value)
        assert dialog.chosen_kind == "non-semantic"
        dialog.query_one("#annotate-text", TextArea).insert("Typo fix and two cases: same measurement")
        await press(pilot, "ctrl+s")
        assert app.screen is screen
        assert ("silent-change", demo.SILENT_CHANGE.eval) not in [(p.code, p.eval) for p in screen.problems]
        assert screen.problems  # the other warnings stay
    assert sha in notes.acknowledged_commits(notes.read_notes(demo_copy / ".evaltui"))  # the full sha


async def test_enter_on_a_problem_selects_its_eval(demo_repo):
    app = make_app(demo_repo, clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot, "k", CheckScreen)
        target = next(
            p for p in screen.problems if p.eval and p.eval != app.screen_stack[0].query_one("EvalList").current
        )
        screen.query_one("#check-problems", ProblemTable).move_cursor(row=screen.problems.index(target))
        await press(pilot, "enter")
        assert isinstance(app.screen, MainScreen)
        assert app.screen.query_one("EvalList").current == target.eval


async def test_every_screen_is_in_the_command_palette(demo_repo):
    app = make_app(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert {"Coverage", "Rotation", "Check", "Annotate"} <= set(titles)
        await palette_run(pilot, "Rotation")
        assert isinstance(app.screen, RotationScreen)
