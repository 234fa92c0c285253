"""`e` opens the file under the cursor at its line: the command each editor understands, and each context."""

from __future__ import annotations

import sys

import pytest
from textual.widgets import OptionList, TabbedContent

from evaltui.core.registry.locate import FileLine, eval_files, key_line
from evaltui.core.registry.model import Eval, load_registry
from evaltui.tui.editor import editor_command
from evaltui.tui.screens.check import CheckScreen, ProblemTable
from evaltui.tui.screens.main import MainScreen
from evaltui.tui.screens.open_file import OpenFile
from evaltui.tui.widgets.lineage_tab import LineageTab
from evaltui.tui.widgets.overview import Overview
from tests.tui.helpers import SIZE, make_app, press, settle, wait_until

# -- the command line -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("editor", "expected"),
    [
        ("vim", ["vim", "+12", "f.py"]),
        ("nvim -p", ["nvim", "-p", "+12", "f.py"]),
        ("/usr/bin/nano", ["/usr/bin/nano", "+12", "f.py"]),
        ("emacsclient -t", ["emacsclient", "-t", "+12", "f.py"]),
        ("hx", ["hx", "f.py:12"]),
        ("subl -w", ["subl", "-w", "f.py:12"]),
        ("code --wait", ["code", "--wait", "--goto", "f.py:12"]),
        ("code -g", ["code", "-g", "f.py:12"]),
        ('"/opt/My Editor/cursor"', ["/opt/My Editor/cursor", "--goto", "f.py:12"]),
    ],
)
def test_each_editor_gets_the_line_in_its_own_form(editor, expected):
    assert editor_command(editor, "f.py", 12) == expected


def test_without_a_line_the_file_alone_and_an_empty_editor_is_refused():
    assert editor_command("code", "f.py", None) == ["code", "f.py"]
    with pytest.raises(ValueError):
        editor_command("  ", "f.py", 3)


# -- where lines come from --------------------------------------------------------------------------

TOML = """\
[models.recorded]
predictions = "recorded.jsonl"

[evals.qa]
metric = "evals/qa.py:exact"
dataset = "data/qa.jsonl"
version_from = "evals/qa.py:exact"

[evals.task]
dataset = "data/task.jsonl"
version_from = "tasks/task.yaml#metadata.version"
"""

QA_PY = """\
import evaltui


def helper():
    return 1


@evaltui.scorer
@evaltui.version("1.0", why="first")
def exact(prediction, reference):
    return prediction == reference
"""

TASK_YAML = """\
task: demo
version: not this one
metadata:
  owner: x
  version: {version}
"""


def editor_repo(make_repo):
    make_repo(
        {
            "evals.toml": TOML,
            "evals/qa.py": QA_PY,
            "data/qa.jsonl": '{"id": "a", "input": "x", "reference": "x"}\n',
            "tasks/task.yaml": TASK_YAML.format(version="1.0"),
            "data/task.jsonl": '{"id": "a", "input": "x"}\nnot json\n',
            "recorded.jsonl": '{"id": "a", "output": "x"}\n',
        }
    )
    return make_repo({"tasks/task.yaml": TASK_YAML.format(version="1.1")}, message="task 1.1")


def test_lines_of_the_version_decorator_the_metric_and_a_nested_yaml_key(make_repo):
    root = editor_repo(make_repo)
    registry = load_registry(root)
    qa = eval_files(root, registry.evals["qa"])
    assert qa[:3] == (
        FileLine("evals.toml", "evals.toml", 4),
        FileLine("version", "evals/qa.py", 9),
        FileLine("metric", "evals/qa.py", 8),
    )
    assert FileLine("dataset", "data/qa.jsonl") in qa
    task = eval_files(root, registry.evals["task"])
    assert FileLine("version", "tasks/task.yaml", 5) in task  # metadata.version, not the top-level version
    assert key_line('{\n  "metadata": {\n    "version": "1.0"\n  }\n}\n', "metadata.version", "json") == 3
    inline = Eval("inline", dataset="data/qa.jsonl", version="2.0", line=12)
    assert eval_files(root, inline) == (FileLine("evals.toml", "evals.toml", 12), FileLine("dataset", "data/qa.jsonl"))


# -- each context -----------------------------------------------------------------------------------


@pytest.fixture
def recorded_editor(tmp_path, monkeypatch):
    """EDITOR is a script that writes its arguments to a file; returns a function reading them."""
    seen = tmp_path / "editor-args"
    script = tmp_path / "editor.py"
    script.write_text(f"import sys\nopen({str(seen)!r}, 'w').write('\\n'.join(sys.argv[1:]))\n")
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
    monkeypatch.delenv("VISUAL", raising=False)
    return seen


async def test_e_on_a_check_problem_opens_its_file_at_its_line(make_repo, recorded_editor):
    root = editor_repo(make_repo)
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await press(pilot, "k")
        screen = app.screen
        assert isinstance(screen, CheckScreen)
        await wait_until(pilot, lambda: bool(screen.problems), "the checks")
        row = next(i for i, p in enumerate(screen.problems) if p.file == "data/task.jsonl")
        screen.query_one(ProblemTable).move_cursor(row=row)
        await press(pilot, "e")
        await wait_until(pilot, recorded_editor.is_file, "the editor")
        assert recorded_editor.read_text().splitlines() == ["+2", str(root / "data" / "task.jsonl")]


async def test_e_on_the_overview_offers_the_eval_files_and_opens_the_version_at_its_line(make_repo, recorded_editor):
    root = editor_repo(make_repo)
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.select_eval("qa")
        await settle(app, pilot)
        app.screen.query_one(Overview).focus()
        await press(pilot, "e")
        chooser = app.screen
        assert isinstance(chooser, OpenFile)
        assert [f.label for f in chooser.files][:4] == ["evals.toml", "version", "metric", "dataset"]
        chooser.query_one(OptionList).highlighted = 1
        await press(pilot, "enter")
        await wait_until(pilot, recorded_editor.is_file, "the editor")
        assert recorded_editor.read_text().splitlines() == ["+9", str(root / "evals" / "qa.py")]
        assert isinstance(app.screen, MainScreen)


async def test_e_on_a_lineage_commit_opens_the_file_it_changed(make_repo, recorded_editor):
    root = editor_repo(make_repo)
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.select_eval("task")
        app.screen.query_one("#detail", TabbedContent).active = "tab-lineage"
        await settle(app, pilot)
        tab = app.screen.query_one(LineageTab)
        tab.focus()
        await settle(app, pilot)
        assert tab.entries[tab.selected_commit].subject == "task 1.1"  # the newest commit is under the cursor
        await press(pilot, "e")
        await wait_until(pilot, recorded_editor.is_file, "the editor")
        assert recorded_editor.read_text().splitlines() == ["+5", str(root / "tasks" / "task.yaml")]


async def test_a_path_outside_the_repository_is_never_opened(make_repo, recorded_editor):
    root = editor_repo(make_repo)
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.open_file("../outside.txt", 1)
        await settle(app, pilot)
        assert not recorded_editor.exists()
        assert any("outside the repository" in str(n.message) for n in app._notifications)
