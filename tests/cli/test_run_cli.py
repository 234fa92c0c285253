"""`evaltui run`, `runs`, `cache` and `report` as a user runs them, each in its own process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import SLOW_MODEL_PATH, SLOW_MODEL_SOURCE, SLOW_MODEL_TOML
from tests.core.run_helpers import QA_CASES, base_toml, cases, make_repo, write


def evaltui(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "evaltui", *args],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "160"},
        timeout=120,
    )


def test_run_prints_plain_lines_when_piped_and_records_every_job(tmp_path):
    root = make_repo(tmp_path)
    proc = evaltui(root, "run", "qa", "-m", "echo", "-m", "recorded", "-j", "1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "qa × echo: started, 6 cases, version 1.0"
    assert any(
        line.startswith("qa × echo: 100.0% (6 cases, 0 errors, cache 0 hit / 6 miss, model ")
        and line.endswith(", threshold 0.5 met)")
        for line in lines
    ), lines
    assert any(line.startswith("qa × recorded: 100.0% (6 cases, 1 error, recorded predictions ") for line in lines)
    assert "\x1b[" not in proc.stdout  # no progress bars or colours in a pipe
    assert len(list((root / ".evaltui" / "runs").glob("*.json"))) == 2
    again = evaltui(root, "run", "qa", "-m", "echo")
    assert "cache 6 hit / 0 miss" in again.stdout


def test_run_json_and_the_threshold_gate(tmp_path):
    rows = QA_CASES[:2] + [(f"x{i}", f"q{i}", "never") for i in range(3)]
    root = make_repo(tmp_path, {"data/qa.jsonl": cases(rows)})
    proc = evaltui(root, "run", "--json", "-m", "echo")
    assert proc.returncode == 1, proc.stderr  # 2/5 = 40% is below the threshold of 0.5
    data = json.loads(proc.stdout)
    (run,) = data["runs"]
    assert run["aggregate"] == 0.4 and run["threshold"] == 0.5 and data["below_threshold"] == [run["id"]]
    assert run["cache_misses"] == 5 and "results" not in run
    write(root, {"evals.toml": base_toml().replace("threshold = 0.5", "threshold = 0.4")})
    assert evaltui(root, "run", "--json", "-m", "echo").returncode == 0


def test_run_rev_and_runs_listing(tmp_path):
    root = make_repo(tmp_path)
    write(root, {"evals/helpers.py": "def normalise(text):\n    return 'always equal'\n"})
    proc = evaltui(root, "run", "--rev", "HEAD", "-m", "shout", "--json")
    (old,) = json.loads(proc.stdout)["runs"]
    assert old["aggregate"] == 0.0 and old["eval_rev"] and len(old["eval_rev"]) == 40  # the committed helper
    proc = evaltui(root, "run", "-m", "shout", "--json")
    (new,) = json.loads(proc.stdout)["runs"]
    assert new["aggregate"] == 1.0 and new["eval_rev"] is None and new["dirty"] is True
    listing = evaltui(root, "runs", "--json")
    assert [r["id"] for r in json.loads(listing.stdout)["runs"]] == [new["id"], old["id"]]
    (root / ".evaltui" / "runs" / "20990101T000000-qa-x-00000000.json").write_text("{broken")
    table = evaltui(root, "runs", "qa")
    assert table.returncode == 0
    assert "skipped unreadable run record 20990101T000000-qa-x-00000000.json" in table.stderr
    assert "shout" in table.stdout and "working tree (dirty)" in table.stdout
    unknown = evaltui(root, "runs", "qaa")
    assert unknown.returncode == 2 and "did you mean 'qa'" in unknown.stderr


def test_cache_stats_and_clear(tmp_path):
    root = make_repo(tmp_path)
    evaltui(root, "run", "-m", "echo", "-m", "shout")
    stats = json.loads(evaltui(root, "cache", "stats", "--json").stdout)
    assert stats["entries"] == 14 and stats["batches"] == 2
    assert sorted(stats["models"].values()) == ["echo", "shout"]
    assert (stats["run_hits"], stats["run_misses"]) == (0, 12)
    text = evaltui(root, "cache", "stats").stdout
    assert "(echo): 6 outputs" in text
    cleared = evaltui(root, "cache", "clear")
    assert cleared.returncode == 0 and "cleared 14 cache entries" in cleared.stdout
    assert json.loads(evaltui(root, "cache", "stats", "--json").stdout)["entries"] == 0


def test_ctrl_c_keeps_the_finished_jobs_and_leaves_no_partial_file(tmp_path):
    root = make_repo(
        tmp_path,
        {SLOW_MODEL_PATH: SLOW_MODEL_SOURCE, "data/qa.jsonl": cases([(f"c{i}", f"q{i}", "x") for i in range(100)])},
        toml=base_toml(SLOW_MODEL_TOML),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "evaltui", "run", "-m", "shout", "-m", "slow", "-j", "1", "--concurrency", "2"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = []
    deadline = time.monotonic() + 60
    for line in proc.stdout:
        seen.append(line)
        if line.startswith("qa × slow: started"):  # it never answers: Ctrl-C finds it running
            proc.send_signal(signal.SIGINT)
            break
        assert time.monotonic() < deadline
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "qa × slow: cancelled" in out and "interrupted: 1 job(s) recorded, 1 cancelled" in out
    records = list((root / ".evaltui" / "runs").iterdir())
    assert [json.loads(p.read_text())["model"] for p in records] == ["shout"]
    assert "Traceback" not in err


def test_report_markdown_and_json(tmp_path):
    root = make_repo(tmp_path)
    base = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True).stdout.strip()
    write(
        root,
        {
            "evals/qa.py": (root / "evals/qa.py").read_text().replace('"1.0"', '"1.1"'),
            "data/qa.jsonl": cases(QA_CASES + [("c7", "q7", "hard")]),
        },
    )
    proc = evaltui(root, "report", "--base", base, "-m", "echo", "-m", "shout")
    assert proc.returncode == 0, proc.stderr
    assert "**Eval change: qa 1.0 → 1.1** (first version)\n- Baseline: 100% → 86% (1 new hard case)" in proc.stdout
    assert "- Exact: echo 100.0% → 85.7% (−14.3)" in proc.stdout
    out = tmp_path / "report.json"
    proc = evaltui(root, "report", "--base", base, "-m", "echo", "-m", "shout", "--format", "json", "-o", str(out))
    assert proc.returncode == 0 and proc.stdout == ""
    data = json.loads(out.read_text())
    (qa,) = data["evals"]
    assert qa["scores"]["echo"] == {"base": 1.0, "head": 6 / 7} and qa["cases_added"] == ["c7"]
    assert qa["p_value"] == 1 / 2**5 and data["ran"] == 0 and data["reused"] == 4
    bad = evaltui(root, "report", "--base", "no-such-ref")
    assert bad.returncode == 2 and "unknown revision 'no-such-ref'" in bad.stderr
