"""`check` as a gate: missing metric functions, thresholds, pending changes, an unparseable evals.toml."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from evaltui.core.checks import problems as checks
from evaltui.core.checks.functions import defined_names, function_problems
from evaltui.core.fsutil import write_export
from evaltui.core.history import git
from evaltui.core.history.pending import parse_porcelain, pending_by_eval
from evaltui.core.registry.model import load_registry
from evaltui.core.runs import runner
from evaltui.core.team import notes

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.timezone.utc)


def test_a_metric_that_does_not_exist_is_an_error_with_a_suggestion(demo_copy: Path):
    toml = demo_copy / "evals.toml"
    toml.write_text(
        toml.read_text().replace('metric = "evals/qa.py:accuracy_at_1"', 'metric = "evals/qa.py:accuracy_at_2"')
    )
    registry = load_registry(demo_copy, strict=False)
    found = [p for p in checks.run_checks(registry) if p.code == "missing-function"]
    assert len(found) == 1
    p = found[0]
    assert (p.severity, p.eval, p.key) == ("error", "qa_accuracy", "evals.qa_accuracy.metric")
    assert "accuracy_at_2" in p.message and "did you mean 'accuracy_at_1'" in p.message
    assert p.line == toml.read_text().splitlines().index('metric = "evals/qa.py:accuracy_at_2"') + 1
    assert checks.exit_code(checks.run_checks(registry)) == 1


def test_every_metric_and_callable_of_the_demo_exists(demo_repo: Path):
    assert function_problems(load_registry(demo_repo)) == []


def test_names_are_read_without_importing(tmp_path: Path):
    source = (
        "import os\nraise SystemExit('imported!')\nif os.name == 'nt':\n    def f(): pass\nelse:\n"
        "    def f(): pass\ntry:\n    from fast import g as h\nexcept ImportError:\n    h = None\n"
        "class K: pass\nx, (y, z) = 1, (2, 3)\n"
    )
    assert {"f", "h", "K", "x", "y", "z", "os"} <= defined_names(source)


def test_a_metric_file_that_does_not_parse_is_reported(make_repo):
    root = make_repo({"evals.toml": '[evals.qa]\nmetric = "m.py:score"\n', "m.py": "def score(:\n"})
    found = function_problems(load_registry(root, strict=False))
    assert [p.code for p in found] == ["unreadable-function"] and "line 1" in found[0].message


def test_below_threshold_uses_the_latest_run_of_the_current_version(demo_copy: Path):
    registry = load_registry(demo_copy)
    runner.run(registry, runner.plan(registry, ["qa_accuracy", "tone"]), now=NOW)
    problems = [p for p in checks.run_checks(registry) if p.code == "below-threshold"]
    # qa_accuracy's candidate is at 57.1% against 0.6; its baseline (66.7%) passes; tone has no threshold.
    assert [(p.eval, p.severity) for p in problems] == [("qa_accuracy", "error")]
    assert "candidate scores 57.1%" in problems[0].message and "0.6" in problems[0].message
    results = checks.current_thresholds(registry)
    assert {(r.model, r.passed) for r in results} == {("baseline", True), ("candidate", False)}

    # A run of another version says nothing about the current one.
    toml = demo_copy / "evals.toml"
    toml.write_text(toml.read_text().replace("threshold = 0.6", "threshold = 0.5"))
    assert not [p for p in checks.run_checks(load_registry(demo_copy)) if p.code == "below-threshold"]
    qa = demo_copy / "evals/qa.py"
    text = qa.read_text()
    assert '@evaltui.version(\n    "2.0",' in text
    qa.write_text(text.replace('@evaltui.version(\n    "2.0",', '@evaltui.version(\n    "2.1",'))
    toml.write_text(toml.read_text().replace("threshold = 0.5", "threshold = 0.6"))
    assert checks.current_thresholds(load_registry(demo_copy)) == ()


def test_uncommitted_changes_to_an_eval_are_pending(demo_copy: Path):
    registry = load_registry(demo_copy)
    assert pending_by_eval(registry) == {}
    with (demo_copy / "data/qa.jsonl").open("a") as fh:
        fh.write('{"id": "new-1", "input": "q", "reference": "a"}\n')
    (demo_copy / "prompts/qa/extra.txt").write_text("new prompt part\n")
    (demo_copy / "unrelated.txt").write_text("not an eval file\n")
    pending = pending_by_eval(registry)
    assert set(pending) == {"qa_accuracy"}
    assert {(f.path, f.change) for f in pending["qa_accuracy"]} == {
        ("data/qa.jsonl", "modified"),
        ("prompts/qa/extra.txt", "untracked"),
    }
    found = [p for p in checks.check_repository(registry, now=NOW) if p.code == "pending"]
    assert [(p.eval, p.severity) for p in found] == [("qa_accuracy", "info")]
    assert "data/qa.jsonl modified" in found[0].message
    # A pending change is shown, never a reason to fail, even with --strict.
    assert checks.exit_code(found, strict=True) == 0

    git(demo_copy, "add", "data/qa.jsonl")
    staged = pending_by_eval(registry)["qa_accuracy"]
    assert [f.staged for f in staged if f.path == "data/qa.jsonl"] == [True]


def test_porcelain_renames_and_odd_names():
    raw = b"R  new name.py\0old name.py\0 M a.txt\0?? dir/b.txt\0UU c.txt\0"
    files = parse_porcelain(raw)
    assert [(f.path, f.change, f.staged, f.old_path) for f in files] == [
        ("new name.py", "renamed", True, "old name.py"),
        ("a.txt", "modified", False, None),
        ("dir/b.txt", "untracked", False, None),
        ("c.txt", "conflict", True, None),
    ]


def test_a_toml_syntax_error_is_the_only_problem(demo_copy: Path):
    # The demo has notes on several evals: none of them may be reported as "on an undefined eval".
    assert notes.read_notes(demo_copy / ".evaltui", demo_copy).notes
    toml = demo_copy / "evals.toml"
    toml.write_text(toml.read_text().replace("[evals.tone]", "[evals.tone"))
    registry = load_registry(demo_copy, strict=False)
    problems = checks.check_repository(registry, now=NOW)
    assert [p.code for p in problems] == ["toml-syntax"]
    assert checks.exit_code(problems) == 2


def test_generated_files_in_the_state_dir_are_ignored_by_git(demo_copy: Path):
    state = demo_copy / ".evaltui"
    write_export(state, state / "report.md", "# report\n")
    write_export(state, state / "rotation.ics", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    write_export(state, state / "report.md", "# again\n")  # listed once
    assert (state / ".gitignore").read_text().splitlines().count("report.md") == 1
    status = git(demo_copy, "status", "--porcelain", "--untracked-files=all").decode()
    assert "report.md" not in status and "rotation.ics" not in status
    assert ".evaltui/.gitignore" in status  # the ignore file itself is meant to be committed
    assert "notes.jsonl" not in git(demo_copy, "check-ignore", "-v", ".evaltui/notes.jsonl", check=False).decode()


def test_the_saved_toast_names_the_kind_once():
    note = notes.make_note("qa", "text", kind="note", author="dana", time=NOW)
    assert notes.saved_message(note) == "Note saved on qa"
    other = notes.make_note("qa", "text", kind="regression", author="dana", time=NOW, commit="a" * 40)
    assert notes.saved_message(other) == "Regression note saved on qa on aaaaaaaa"


def test_evals_sharing_a_version_source_each_get_its_problem(tmp_path: Path):
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "_common.yaml").write_text("metadata:\n  other: 1\n")
    (tmp_path / "tasks" / "good.yaml").write_text("metadata:\n  version: 2.0\n")
    lines = ['[project]\nname = "x"\n']
    for name, source in [("a", "_common.yaml"), ("b", "_common.yaml"), ("c", "good.yaml"), ("d", "good.yaml")]:
        lines.append(f'[evals.{name}]\nversion_from = "tasks/{source}#metadata.version"\nowner = "x"\n')
    (tmp_path / "evals.toml").write_text("\n".join(lines))
    found = checks.version_problems(load_registry(tmp_path, strict=False))
    assert sorted((p.eval, p.code) for p in found) == [("a", "version-unresolvable"), ("b", "version-unresolvable")]
    assert all("metadata.version" in p.message and p.line for p in found)


def test_pending_changes_of_a_registry_below_the_top_of_the_repository(make_repo):
    top = make_repo(
        {
            "README.md": "top\n",
            "evals/evals.toml": '[evals.qa]\ndataset = "data/qa.jsonl"\nversion = "1"\n',
            "evals/data/qa.jsonl": '{"id": "1", "input": "x", "reference": "y"}\n',
        }
    )
    (top / "evals" / "data" / "qa.jsonl").write_text('{"id": "1", "input": "x", "reference": "z"}\n')
    (top / "README.md").write_text("changed outside the registry\n")
    registry = load_registry(top / "evals")
    changes = pending_by_eval(registry)
    assert {name: [(f.path, f.change) for f in files] for name, files in changes.items()} == {
        "qa": [("data/qa.jsonl", "modified")]
    }
