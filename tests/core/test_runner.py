"""The runner on real repositories: both metric forms, failures kept per case or per job, cancel, --rev."""

from __future__ import annotations

import json
import threading
import time

import pytest

from evaltui.core.errors import EvaltuiError, UnknownEvalError
from evaltui.core.history import commit_all, git
from evaltui.core.runs import runner, store
from tests.conftest import SLOW_MODEL_PATH, SLOW_MODEL_SOURCE, SLOW_MODEL_TOML
from tests.core.run_helpers import (
    ADA,
    NOW,
    QA_CASES,
    T0,
    base_toml,
    calls,
    cases,
    leftovers,
    make_repo,
    registry,
    write,
)


def run(root, evals=("qa",), models=("echo",), rev=None, **options):
    reg = registry(root)
    events = []
    result = runner.run(
        reg,
        runner.plan(reg, evals, models, rev=rev),
        on_event=events.append,
        now=NOW,
        options=runner.RunOptions(**options),
    )
    return result, events


def test_a_per_case_scorer_scores_every_case_and_writes_one_record(tmp_path):
    root = make_repo(tmp_path, {"data/qa.jsonl": cases(QA_CASES[:5] + [("c6", "q6", "nope")])})
    result, events = run(root)
    (record,) = result.records
    assert record.ok and record.metric_kind == "scorer"
    assert record.ids == ("c1", "c2", "c3", "c4", "c5", "c6")
    assert record.scores == (1.0, 1.0, 1.0, 1.0, 1.0, 0.0)
    assert record.aggregate == pytest.approx(5 / 6)
    assert record.eval_version == "1.0" and record.eval_rev is None
    assert record.commit == git(root, "rev-parse", "HEAD").decode().strip() and record.dirty is False
    assert record.dataset_sha256 and len(record.fingerprint) == 64
    kinds = [type(e).__name__ for e in events]
    assert kinds[0] == "JobStarted" and kinds[-1] == "JobFinished"
    progress = [e for e in events if isinstance(e, runner.JobProgress)]
    assert progress[-1].done == progress[-1].total == 6
    on_disk = store.load_record(root / ".evaltui" / "runs" / f"{record.id}.json")
    assert on_disk == record
    assert result.exit_code == 0


def test_a_failing_case_is_recorded_and_the_job_goes_on(tmp_path):
    rows = QA_CASES[:3] + [("c4", "boom", "a4"), ("c5", "q5", "crash"), ("c6", "q6", "a6")]
    root = make_repo(tmp_path, {"data/qa.jsonl": cases(rows)})
    result, _ = run(root)
    (record,) = result.records
    assert record.ok
    errors = record.error_map()
    assert errors == {
        "c4": "model: RuntimeError: model broke on purpose",
        "c5": "scorer: ValueError: scorer cannot handle this reference",
    }
    assert record.scores == (1.0, 1.0, 1.0, None, None, 1.0)
    assert record.n_errors == 2 and record.aggregate == 1.0


def test_a_command_that_times_out_or_writes_garbage_only_fails_its_case(tmp_path):
    rows = [
        ("ok", "q1", "a1"),
        ("slow", "slow", "x"),
        ("junk", "garbage", "x"),
        ("exit", "exit", "x"),
        ("json", "structured", "a-structured"),
    ]
    root = make_repo(tmp_path, {"data/qa.jsonl": cases(rows)})
    result, _ = run(root, models=("cmd",))
    (record,) = result.records
    assert record.ok and record.model_kind == "command"
    errors = record.error_map()
    assert errors["slow"] == "model: timed out after 1.5s"
    assert errors["junk"] == "model: output is not UTF-8 text"
    assert errors["exit"] == "model: exit 3: refusing this input"
    assert record.score_map()["ok"] == 1.0 and record.score_map()["json"] == 1.0
    assert record.aggregate == 1.0 and record.n_errors == 3


def test_a_metric_that_raises_fails_only_its_job(tmp_path):
    broken = "def accuracy(predictions, references):\n    raise KeyError('no such column')\n"
    extra = '[evals.broken]\nmetric = "evals/broken.py:accuracy"\ndataset = "data/qa.jsonl"\nversion = "2.0"\n'
    root = make_repo(tmp_path, {"evals/broken.py": broken}, toml=base_toml(extra))
    result, events = run(root, evals=("qa", "broken"), jobs=1)
    assert [r.eval for r in result.records] == ["qa", "broken"]
    qa, bad = result.records
    assert qa.ok and qa.aggregate == 1.0
    assert bad.status == "failed" and bad.aggregate is None
    assert bad.error == "metric evals/broken.py:accuracy raised KeyError: 'no such column'"
    assert [f.job.eval for f in result.failed] == ["broken"]
    assert result.exit_code == 1
    # The failed job is recorded too, and listed.
    listed = store.list_records(root / ".evaltui")
    assert sorted(r.status for r in listed.records) == ["failed", "ok"]


def test_a_metric_that_cannot_be_imported_fails_its_job_with_the_reason(tmp_path):
    extra = '[evals.syntax]\nmetric = "evals/syntax.py:score"\ndataset = "data/qa.jsonl"\n'
    root = make_repo(tmp_path, {"evals/syntax.py": "def score(:\n"}, toml=base_toml(extra))
    result, _ = run(root, evals=("syntax",))
    (failure,) = result.failed
    assert "importing evals/syntax.py failed: SyntaxError" in failure.error
    assert result.records[0].status == "failed"


def test_the_aggregate_form_and_a_custom_aggregate(tmp_path):
    aggregate = (
        "def accuracy_at_1(predictions, references, bonus=0):\n"
        "    return sum(p == r for p, r in zip(predictions, references)) / len(references) + bonus\n"
    )
    worst = (
        "import evaltui\n\n@evaltui.scorer(aggregate=min)\n"
        "def length_ratio(prediction, reference):\n    return len(prediction) / (len(reference) + 1)\n"
    )
    extra = (
        '[evals.agg]\nmetric = "evals/agg.py:accuracy_at_1"\ndataset = "data/qa.jsonl"\n'
        "params = { bonus = 0.25 }\n"
        '[evals.worst]\nmetric = "evals/worst.py:length_ratio"\ndataset = "data/qa.jsonl"\n'
    )
    rows = QA_CASES[:3] + [("c4", "q4", "a4-long")]
    root = make_repo(
        tmp_path,
        {"evals/agg.py": aggregate, "evals/worst.py": worst, "data/qa.jsonl": cases(rows)},
        toml=base_toml(extra),
    )
    result, _ = run(root, evals=("agg", "worst"), jobs=1)
    agg, worst_record = result.records
    assert agg.metric_kind == "aggregate" and agg.aggregate == pytest.approx(0.75 + 0.25)
    assert agg.scores == (None,) * 4 and agg.ids == ("c1", "c2", "c3", "c4")
    assert worst_record.metric_kind == "scorer"
    assert worst_record.aggregate == pytest.approx(2 / 8)  # min over cases: "a4" vs "a4-long"


def test_predictions_models_match_by_id_and_report_missing_ones(tmp_path):
    root = make_repo(tmp_path)
    result, _ = run(root, models=("recorded",))
    (record,) = result.records
    assert record.error_map() == {"c6": "model: no prediction with this id in recorded.jsonl"}
    assert record.aggregate == 1.0 and record.cache_hits == record.cache_misses == 0


def test_parallel_jobs_in_worker_processes_give_the_same_records(tmp_path):
    root = make_repo(tmp_path)
    inline, _ = run(root, models=("echo", "shout", "recorded"), jobs=1)
    pooled, events = run(root, models=("echo", "shout", "recorded"), jobs=2)
    assert [(r.model, r.scores, r.errors) for r in pooled.records] == [
        (r.model, r.scores, r.errors) for r in inline.records
    ]
    finished = [e.job.model for e in events if isinstance(e, runner.JobFinished)]
    assert sorted(finished) == ["echo", "recorded", "shout"]
    assert len(store.list_records(root / ".evaltui").records) == 6


def test_cancel_after_the_first_job_keeps_it_and_writes_nothing_else(tmp_path):
    rows = [(f"c{i}", f"q{i}", f"a{i}") for i in range(200)]
    root = make_repo(
        tmp_path,
        {SLOW_MODEL_PATH: SLOW_MODEL_SOURCE, "data/qa.jsonl": cases(rows)},
        toml=base_toml(SLOW_MODEL_TOML),
    )
    reg = registry(root)
    cancel = threading.Event()
    seen = []

    def on_event(event):
        seen.append(event)
        if isinstance(event, runner.JobFinished):  # the slow model never answers: it is still running or waiting
            cancel.set()

    jobs = runner.plan(reg, ["qa"], ["recorded", "slow", "shout"])
    for workers in (1, 2):
        cancel.clear()
        before = set((root / ".evaltui" / "runs").glob("*.json")) if (root / ".evaltui" / "runs").exists() else set()
        result = runner.run(
            reg, jobs, options=runner.RunOptions(jobs=workers, concurrency=2), on_event=on_event, cancel=cancel, now=NOW
        )
        written = set((root / ".evaltui" / "runs").glob("*.json")) - before
        kept = [r.model for r in result.records]
        assert "slow" not in kept and "slow" in [j.model for j in result.cancelled]
        assert {p.name for p in written} == {f"{r.id}.json" for r in result.records}
        assert kept and len(result.records) + len(result.cancelled) == 3
        assert leftovers(root) == []
        assert result.exit_code == 0 and not result.interrupted


def test_rev_runs_the_old_metric_while_the_working_tree_has_the_new_one(tmp_path):
    root = make_repo(tmp_path, {"data/qa.jsonl": cases([("c1", "q1", "A1 "), ("c2", "q2", "a2")])})
    old = git(root, "rev-parse", "HEAD").decode().strip()
    new_metric = (
        "import evaltui\n\nfrom evals.helpers import normalise\n\n\n"
        '@evaltui.version("2.0", why="case-insensitive")\n@evaltui.scorer\n'
        "def exact(prediction, reference):\n    return normalise(prediction) == normalise(reference)\n"
    )
    write(
        root, {"evals/qa.py": new_metric, "evals/helpers.py": "def normalise(text):\n    return text.strip().lower()\n"}
    )
    commit_all(root, "case-insensitive", ADA, T0.replace(day=3))
    write(root, {"evals/helpers.py": "def normalise(text):\n    return text.strip().lower()  # uncommitted\n"})
    tree_before = {p: (root / p).read_bytes() for p in ("evals/qa.py", "evals/helpers.py")}
    status_before = git(root, "status", "--porcelain")

    now_result, _ = run(root)
    old_result, _ = run(root, rev=old)
    (new_record,), (old_record,) = now_result.records, old_result.records
    assert new_record.eval_version == "2.0" and new_record.scores == (1.0, 1.0) and new_record.dirty
    assert old_record.eval_version == "1.0" and old_record.eval_rev == old
    assert old_record.scores == (0.0, 1.0)  # the old helper did not lower-case "A1"
    assert old_record.eval_files_sha256 != new_record.eval_files_sha256
    assert {p: (root / p).read_bytes() for p in tree_before} == tree_before
    assert git(root, "status", "--porcelain") == status_before
    # In one process, one after the other: each job imports its own revision's modules.
    both, _ = run(root, rev=None)
    assert both.records[0].scores == (1.0, 1.0)


def test_stream_yields_the_events_and_ends_with_the_result(tmp_path):
    root = make_repo(tmp_path)
    reg = registry(root)
    items = list(runner.stream(reg, runner.plan(reg, ["qa"], ["echo"]), now=NOW))
    assert isinstance(items[0], runner.JobStarted)
    assert isinstance(items[-1], runner.RunDone)
    assert items[-1].result.records[0].aggregate == 1.0
    assert sorted(calls(root)) == [x for _, x, _ in QA_CASES]


def test_plan_names_what_is_wrong(tmp_path):
    root = make_repo(tmp_path)
    reg = registry(root)
    with pytest.raises(UnknownEvalError, match="did you mean 'qa'"):
        runner.plan(reg, ["qaa"])
    with pytest.raises(EvaltuiError, match="no model named 'ecko'.*did you mean 'echo'"):
        runner.plan(reg, ["qa"], ["ecko"])
    with pytest.raises(EvaltuiError, match="unknown revision"):
        runner.plan(reg, ["qa"], rev="no-such-branch")
    assert [j.model for j in runner.plan(reg)] == ["echo", "shout", "cmd", "recorded"]


def test_a_dataset_with_a_bad_line_fails_the_job_naming_the_line(tmp_path):
    root = make_repo(tmp_path, {"data/qa.jsonl": cases(QA_CASES[:2]) + "{not json}\n"})
    result, _ = run(root)
    assert result.failed[0].error.startswith("data/qa.jsonl:3: invalid JSON")
    duplicate = cases(QA_CASES[:2] + [("c1", "q9", "a9")])
    write(root, {"data/qa.jsonl": duplicate})
    result, _ = run(root)
    assert result.failed[0].error == "data/qa.jsonl:3: duplicate id 'c1'"
    assert json.loads((root / ".evaltui" / "runs" / f"{result.records[0].id}.json").read_text())["status"] == "failed"


def test_cancel_kills_slow_command_calls_in_flight(tmp_path):
    toml = base_toml().replace("timeout = 1.5", "timeout = 60")
    root = make_repo(tmp_path, {"data/qa.jsonl": cases([(f"s{i}", "slow", "x") for i in range(4)])}, toml=toml)
    reg = registry(root)
    cancel = threading.Event()

    def on_event(event):
        if isinstance(event, runner.JobStarted):
            threading.Timer(0.5, cancel.set).start()

    started = time.monotonic()
    result = runner.run(reg, runner.plan(reg, ["qa"], ["cmd"]), on_event=on_event, cancel=cancel, now=NOW)
    assert time.monotonic() - started < 10  # not the 30 s each call would sleep
    assert [j.model for j in result.cancelled] == ["cmd"] and result.records == ()
    assert leftovers(root) == [] and not list((root / ".evaltui" / "runs").glob("*.json"))
