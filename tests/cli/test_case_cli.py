"""`evaltui case`: a case on two versions of its eval, with outputs and scores, as text and as JSON."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

from evaltui.core.history import commit_all, rev_parse
from evaltui.core.runs import runner
from tests.core.run_helpers import ADA, EXACT_PY, NOW, QA_CASES, T0, cases, make_repo, registry, write


def evaltui(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "evaltui", *args],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "160"},
        timeout=120,
    )


def two_versions(tmp_path: Path) -> Path:
    """qa 1.0 and 1.1 (c2's reference changed), echo run at both."""
    root = make_repo(tmp_path)
    first = rev_parse(root, "HEAD")
    options = runner.RunOptions(jobs=1)
    reg = registry(root)
    runner.run(reg, runner.plan(reg, ["qa"], ["echo"], rev=first), now=NOW, options=options)
    write(
        root,
        {
            "evals/qa.py": EXACT_PY.replace('"1.0"', '"1.1"'),
            "data/qa.jsonl": cases([("c2", "q2", "[b]other[/b]") if c[0] == "c2" else c for c in QA_CASES]),
        },
    )
    commit_all(root, "qa 1.1", ADA, T0 + dt.timedelta(hours=1))
    reg = registry(root)
    runner.run(reg, runner.plan(reg, ["qa"], ["echo"]), now=NOW + dt.timedelta(hours=1), options=options)
    return root


def test_case_json_between_the_previous_version_and_the_working_tree(tmp_path):
    root = two_versions(tmp_path)
    proc = evaltui(root, "case", "qa", "c2", "-m", "echo", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    a, b = data["sides"]
    assert (a["version"], b["version"]) == ("1.0", "1.1")
    assert (a["reference"], b["reference"]) == ("a2", "[b]other[/b]")
    assert [o["output"] for o in (a["outcomes"][0], b["outcomes"][0])] == ["a2", "a2"]
    assert [o["passed"] for o in (a["outcomes"][0], b["outcomes"][0])] == [True, False]
    assert data["line"] == 2


def test_case_text_with_versions_named_and_an_unknown_case(tmp_path):
    root = two_versions(tmp_path)
    proc = evaltui(root, "case", "qa", "c2", "--base", "1.0", "--head", "1.1", "-m", "echo", "-m", "recorded")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "A 1.0" in out and "B 1.1" in out and "[b]other[/b]" in out  # literal, never markup
    assert "✓ 1" in out and "✗ 0" in out
    assert "recorded" in out and "not run" in out  # a model asked for, without a run of qa
    assert "recorded" not in evaltui(root, "case", "qa", "c2").stdout  # by default: the models that ran
    missing = evaltui(root, "case", "qa", "nope")
    assert missing.returncode == 1 and "no case 'nope'" in missing.stdout
    unknown = evaltui(root, "case", "qa", "c2", "--base", "9.9")
    assert unknown.returncode == 2 and "unknown revision '9.9'" in unknown.stderr
