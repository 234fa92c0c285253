"""Endpoint models against the local fake API: every case accounted for, retries, cost, cache keys, resume."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from evaltui.core.checks.problems import run_checks
from evaltui.core.registry.model import load_registry
from evaltui.core.runs import endpoint, runner, store
from evaltui.core.runs.cache import OutputCache, outputs_dir
from evaltui.core.runs.estimate import estimate
from evaltui.core.runs.providers.base import retry_after_seconds
from evaltui.core.runs.providers.limits import Budget, backoff
from tests.core.endpoint_helpers import KEY_ENV, make_endpoint_repo, qa_rows
from tests.core.run_helpers import NOW
from tests.fakeapi import FakeAPI

FAULTS = [
    "plain one",
    "rate limited [429x2]",
    "server error [500x1]",
    "dropped [dropx1]",
    "broken [malformed]",
    "always down [500x99]",
    "fine two",
    "fine three",
]


@pytest.fixture
def api():
    with FakeAPI() as server:
        yield server


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "first-key")


def run_model(root: Path, model: str, **options: object) -> runner.RunResult:
    registry = load_registry(root)
    return runner.run(
        registry, runner.plan(registry, ["qa"], [model]), options=runner.RunOptions(jobs=1, **options), now=NOW
    )  # type: ignore[arg-type]


@pytest.mark.parametrize("model", ["gpt", "claude"])
def test_every_case_ends_in_a_score_or_an_error_with_retries_counted(tmp_path: Path, api: FakeAPI, model: str) -> None:
    root = make_endpoint_repo(tmp_path / "repo", api, FAULTS, retries=3)
    record = run_model(root, model).records[0]
    assert record.status == "ok"
    assert record.ids == tuple(f"c{n}" for n in range(len(FAULTS)))  # none lost, none doubled
    outcome = dict(zip(record.ids, zip(record.scores, record.errors)))
    for case_id, (score, error) in outcome.items():
        assert (score is None) != (error is None), case_id
    assert outcome["c4"][1].startswith("model: malformed")
    assert record.raw[4] == '{"choices": [{"message": {"content": "half an ans'  # the raw text is kept
    assert "gave up after 4 attempts" in outcome["c5"][1]
    assert [outcome[f"c{n}"][0] for n in (0, 1, 2, 3, 6, 7)] == [1.0] * 6
    # 429 twice, 500 once, a dropped connection once, and three retries of the hopeless case
    assert record.attempts == (1, 3, 2, 2, 1, 4, 1, 1)
    assert record.retries == 2 + 1 + 1 + 3 == sum(a - 1 for a in record.attempts)
    assert record.requests == api.requests == sum(record.attempts)
    assert api.statuses[429] == 2 and api.statuses[0] == 1


def test_cost_matches_the_prices_and_the_tokens_the_server_counted(tmp_path: Path, api: FakeAPI) -> None:
    root = make_endpoint_repo(tmp_path / "repo", api, ["one two three", "four five"])
    record = run_model(root, "gpt").records[0]
    # The fake server counts words: "Question: one two three" is 4 in, its upper case 4 out.
    assert record.case_input_tokens == (4, 3) and record.case_output_tokens == (4, 3)
    assert (record.input_tokens, record.output_tokens) == (7, 7)
    assert record.cost == pytest.approx((7 * 0.4 + 7 * 1.6) / 1e6)
    claude = run_model(root, "claude").records[0]
    assert claude.cost == pytest.approx((7 * 3.0 + 7 * 15.0) / 1e6)
    assert all(latency is not None and latency >= 0 for latency in record.latency)


def test_the_request_carries_the_prompt_params_system_and_key(tmp_path: Path, api: FakeAPI) -> None:
    root = make_endpoint_repo(tmp_path / "repo", api, ["hello"])
    (root / "prompts" / "system.txt").write_text("Be brief.", encoding="utf-8")
    text = (
        (root / "evals.toml")
        .read_text()
        .replace('prompt = "prompts/qa.txt"', 'prompt = "prompts/qa.txt"\nsystem = "prompts/system.txt"')
    )
    (root / "evals.toml").write_text(text)
    run_model(root, "gpt")
    run_model(root, "claude")
    gpt, claude = api.bodies
    assert gpt["model"] == "fake-gpt" and gpt["temperature"] == 0.0 and gpt["max_tokens"] == 16
    assert gpt["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Question: hello"},
    ]
    assert claude["system"] == "Be brief." and claude["messages"] == [{"role": "user", "content": "Question: hello"}]
    assert api.headers[0]["authorization"] == "Bearer first-key"
    assert "first-key" in (api.headers[1].get("x-api-key"), api.headers[1].get("authorization", "")[7:])


def test_a_second_run_sends_zero_requests(tmp_path: Path, api: FakeAPI) -> None:
    root = make_endpoint_repo(tmp_path / "repo", api, [f"case {n}" for n in range(20)])
    first = run_model(root, "gpt").records[0]
    assert (first.cache_misses, api.requests) == (20, 20)
    second = run_model(root, "gpt").records[0]
    assert (second.cache_hits, second.requests, api.requests) == (20, 0, 20)
    assert second.aggregate == first.aggregate == 1.0
    assert second.cost == 0.0


def test_temperature_and_prompt_changes_miss_the_cache_and_a_key_change_does_not(
    tmp_path: Path, api: FakeAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_endpoint_repo(tmp_path / "repo", api, ["a", "b", "c"])
    run_model(root, "gpt")
    assert api.requests == 3
    monkeypatch.setenv(KEY_ENV, "another-key")
    assert run_model(root, "gpt").records[0].requests == 0
    assert api.requests == 3
    toml = root / "evals.toml"
    toml.write_text(toml.read_text().replace("temperature = 0.0", "temperature = 0.7"))
    assert run_model(root, "gpt").records[0].cache_misses == 3
    assert api.requests == 6
    (root / "prompts" / "qa.txt").write_text("Q: {input}", encoding="utf-8")
    (root / "data" / "qa.jsonl").write_text(qa_rows(["a", "b", "c"], "Q: {input}"))
    record = run_model(root, "gpt").records[0]
    assert (record.cache_misses, api.requests, record.aggregate) == (3, 9, 1.0)
    assert api.bodies[-1]["messages"][0]["content"].startswith("Q: ")


def test_messages_as_input_and_case_fields_in_the_template(tmp_path: Path, api: FakeAPI) -> None:
    root = make_endpoint_repo(tmp_path / "repo", api, ["x"])
    rows = [
        {"id": "m1", "input": [{"role": "user", "content": "hi there"}], "reference": "HI THERE"},
        {"id": "m2", "input": [{"role": "robot", "content": "?"}], "reference": ""},
    ]
    (root / "data" / "qa.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    toml = root / "evals.toml"
    toml.write_text(toml.read_text().replace('prompt = "prompts/qa.txt"\n', ""))
    record = run_model(root, "gpt").records[0]
    assert record.scores[0] == 1.0 and "roles: system, user, assistant" in (record.errors[1] or "")
    assert api.requests == 1
    (root / "prompts" / "qa.txt").write_text('{topic}: {input} {"json": "stays"}', encoding="utf-8")
    toml.write_text(toml.read_text().replace("version_from =", 'prompt = "prompts/qa.txt"\nversion_from ='))
    (root / "data" / "qa.jsonl").write_text(
        json.dumps({"id": "t", "input": "q", "topic": "Maths", "reference": 'MATHS: Q {"JSON": "STAYS"}'}) + "\n"
    )
    assert run_model(root, "gpt").records[0].aggregate == 1.0


def test_a_missing_key_fails_the_job_and_check_names_file_line_key(
    tmp_path: Path, api: FakeAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_endpoint_repo(tmp_path / "repo", api, ["a"])
    monkeypatch.delenv(KEY_ENV)
    result = run_model(root, "gpt")
    assert KEY_ENV in result.failed[0].error and api.requests == 0
    problems = [p for p in run_checks(load_registry(root)) if p.code == "missing-key"]
    assert [(p.file, p.key) for p in problems] == [
        ("evals.toml", "models.gpt.api_key_env"),
        ("evals.toml", "models.claude.api_key_env"),
    ]
    lines = [
        n for n, text in enumerate((root / "evals.toml").read_text().splitlines(), 1) if text.startswith("api_key_env")
    ]
    assert [p.line for p in problems] == lines and len(lines) == 2


def test_the_estimate_counts_uncached_requests_and_prices_max_tokens(tmp_path: Path, api: FakeAPI) -> None:
    root = make_endpoint_repo(tmp_path / "repo", api, ["abcd " * 10, "x"])
    registry = load_registry(root)
    jobs = runner.plan(registry, ["qa"], ["gpt"])
    est = estimate(registry, jobs)
    assert (est.requests, est.output_tokens) == (2, 32)  # max_tokens = 16 per request
    assert est.input_tokens == (len("Question: " + "abcd " * 10) + 3) // 4 + 4 + (len("Question: x") + 3) // 4 + 4
    assert est.cost == pytest.approx((est.input_tokens * 0.4 + 32 * 1.6) / 1e6)
    assert api.requests == 0
    run_model(root, "gpt")
    assert estimate(registry, jobs).requests == 0


def test_backoff_honours_retry_after_and_grows_with_jitter() -> None:
    rng = random.Random(1)
    assert 3.0 <= backoff(1, 3.0, rng) <= 3.2
    waits = [backoff(n, None, rng) for n in (1, 2, 3, 4)]
    assert 0.25 <= waits[0] <= 0.5 and 2.0 <= waits[3] <= 4.0
    assert retry_after_seconds("2") == 2.0 and retry_after_seconds("soon") is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past: now


def test_the_request_bucket_makes_the_request_over_budget_wait() -> None:
    budget = Budget(rpm=60, tpm=None)
    waits = [budget.reserve(1, 0) for _ in range(61)]
    assert waits[:60] == [0.0] * 60
    assert 0.9 <= waits[60] <= 1.0  # one request a second refills
    tokens = Budget(rpm=None, tpm=600)
    assert tokens.reserve(1, 600) == 0.0 and tokens.reserve(1, 20) == pytest.approx(2.0, abs=0.05)


def _cached(root: Path) -> int:
    with OutputCache(outputs_dir(root / ".evaltui")) as cache:
        return sum(count for _, count in cache.stats().fingerprints)


def test_a_run_killed_halfway_resumes_with_exactly_the_missing_requests(tmp_path: Path) -> None:
    n = 60
    with FakeAPI(latency=0.02, hold_after=n // 2) as api:  # half the answers, then the server holds
        root = make_endpoint_repo(tmp_path / "repo", api, [f"case {i}" for i in range(n)], concurrency=2)
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), KEY_ENV: "k"}
        proc = subprocess.Popen(
            [sys.executable, "-m", "evaltui", "-C", str(root), "run", "qa", "-m", "gpt"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert api.held.wait(120), "the run never reached half its answers"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        api.release()
        assert api.answered == n // 2
        cached = _cached(root)
        assert 0 < cached <= api.answered
        listing = store.list_records(root / ".evaltui").records
        assert [r.state for r in listing] == ["interrupted"]
        before = api.requests
        record = run_model(root, "gpt").records[0]
        assert api.requests - before == n - cached == record.requests
        assert (record.cache_hits, record.aggregate) == (cached, 1.0)
        assert _cached(root) == n


def test_the_report_reuses_endpoint_runs_recorded_with_the_same_prompt(tmp_path: Path, api: FakeAPI) -> None:
    from evaltui.core.runs import report

    root = make_endpoint_repo(tmp_path / "repo", api, ["a", "b"])
    registry = load_registry(root)
    first = report.build_report(registry, "HEAD", models=["gpt", "claude"], now=NOW)
    assert api.requests == 4 and not first.failed
    report.build_report(registry, "HEAD", models=["gpt", "claude"], now=NOW)
    assert api.requests == 4
    assert len(store.list_records(root / ".evaltui").records) == 2  # reused, not run again


def test_a_cancelled_run_is_recorded_as_interrupted_and_keeps_its_answers(tmp_path: Path) -> None:
    import threading

    from evaltui.core.runs.jobs import JobProgress

    with FakeAPI(latency=0.02) as api:
        n = 40
        root = make_endpoint_repo(tmp_path / "repo", api, [f"case {i}" for i in range(n)], concurrency=2)
        registry = load_registry(root)
        cancel = threading.Event()

        def on_event(event: object) -> None:
            if isinstance(event, JobProgress) and event.done >= 6:
                cancel.set()

        result = runner.run(
            registry,
            runner.plan(registry, ["qa"], ["gpt"]),
            options=runner.RunOptions(jobs=1),
            on_event=on_event,
            cancel=cancel,
            now=NOW,
        )
        assert result.cancelled and not result.records
        (record,) = store.list_records(root / ".evaltui").records
        assert record.state == "interrupted" and 6 <= (record.done or 0) < n and record.requests >= record.done
        cached = _cached(root)
        assert cached >= record.done  # every case done before the cancel had its answer cached
        before = api.requests
        again = run_model(root, "gpt").records[0]
        assert again.cache_hits == cached and api.requests - before == n - cached
        assert again.aggregate == 1.0


def test_check_names_an_unknown_provider_and_a_bad_field(tmp_path: Path, api: FakeAPI) -> None:
    root = make_endpoint_repo(tmp_path / "repo", api, ["a"], extra_model='rpm = "lots"\n')
    text = (root / "evals.toml").read_text().replace('provider = "anthropic"', 'provider = "antropic"')
    (root / "evals.toml").write_text(text)
    problems = {p.key: p for p in load_registry(root, strict=False).errors}
    assert "did you mean 'anthropic'" in problems["models.claude.provider"].message
    assert problems["models.gpt.rpm"].message.startswith("expected requests per minute")
    lines = text.splitlines()
    assert lines[problems["models.gpt.rpm"].line - 1].startswith("rpm")
    assert lines[problems["models.claude.provider"].line - 1].startswith("provider")


def test_a_prompt_edit_without_a_bump_is_a_silent_change_in_the_lineage(tmp_path: Path, api: FakeAPI) -> None:
    import datetime as dt

    from evaltui.core.history import commit_all, load_lineage
    from tests.core.run_helpers import ADA, T0

    root = make_endpoint_repo(tmp_path / "repo", api, ["a"])
    registry = load_registry(root)
    assert "prompts/qa.txt" in registry.eval_files("qa")  # the registry counts it as the eval's file
    (root / "prompts" / "qa.txt").write_text("Answer: {input}", encoding="utf-8")
    commit_all(root, "reword the prompt", ADA, T0 + dt.timedelta(hours=1))
    lineage = load_lineage(load_registry(root), cache_dir=tmp_path / "cache")
    assert [e.kind for e in lineage.entries["qa"]] == ["silent", "created"]


def test_answers_are_read_from_the_body_bytes_as_utf8_and_undecodable_ones_keep_their_raw_text() -> None:
    from evaltui.core.runs.providers import MalformedAnswer
    from evaltui.core.runs.providers.anthropic import parse_message
    from evaltui.core.runs.providers.openai import parse_chat_completion

    chat = json.dumps(
        {"choices": [{"message": {"content": "café ✓"}}], "usage": {"prompt_tokens": 3, "completion_tokens": 2}},
        ensure_ascii=False,
    ).encode()
    assert parse_chat_completion(chat) == parse_chat_completion(chat.decode())
    assert parse_chat_completion(chat).text == "café ✓"
    message = json.dumps(
        {"content": [{"type": "text", "text": "naïve"}], "usage": {"input_tokens": 1}}, ensure_ascii=False
    ).encode()
    assert parse_message(message).text == "naïve"
    for parse in (parse_chat_completion, parse_message):
        with pytest.raises(MalformedAnswer) as caught:
            parse(b'{"choices": "\xff\xfe broken')
        assert caught.value.raw == '{"choices": "\ufffd\ufffd broken'


def test_the_jobs_of_one_endpoint_model_run_in_this_process_and_others_in_workers(tmp_path: Path, api: FakeAPI) -> None:
    second_eval = (
        '[evals.qa2]\nmetric = "evals/qa.py:exact"\ndataset = "data/qa.jsonl"\n'
        'version_from = "evals/qa.py:exact"\nprompt = "prompts/qa.txt"\n'
    )
    root = make_endpoint_repo(tmp_path / "repo", api, ["a", "b", "c"], extra_model=second_eval)
    registry = load_registry(root)
    gpt, claude = registry.models["gpt"], registry.models["claude"]
    default = runner.RunOptions()
    assert runner.in_process([gpt, gpt], 2, default)
    assert not runner.in_process([gpt, claude], 2, default)  # two models: side by side in workers
    assert not runner.in_process([gpt, gpt], 2, runner.RunOptions(isolate=True))
    assert runner.in_process([gpt, claude], 1, default)
    jobs = runner.plan(registry, ["qa", "qa2"], ["gpt"])
    assert len(jobs) == 2
    result = runner.run(registry, jobs, options=default, now=NOW)
    assert [r.aggregate for r in result.records] == [1.0, 1.0]
    assert api.requests == 3  # the second job's requests are the first one's: answered from the cache


def test_the_jobs_of_one_model_in_a_process_share_one_client_and_its_connections(tmp_path: Path, api: FakeAPI) -> None:
    other_eval = (
        '[evals.other]\nmetric = "evals/qa.py:exact"\ndataset = "data/other.jsonl"\n'
        'version_from = "evals/qa.py:exact"\nprompt = "prompts/other.txt"\n'
    )
    root = make_endpoint_repo(tmp_path / "repo", api, [f"q{n}" for n in range(12)], extra_model=other_eval)
    (root / "prompts" / "other.txt").write_text("Other: {input}", encoding="utf-8")
    (root / "data" / "other.jsonl").write_text(qa_rows([f"o{n}" for n in range(12)], "Other: {input}"))
    registry = load_registry(root)
    gpt = registry.models["gpt"]
    assert endpoint.provider_for(gpt) is endpoint.provider_for(gpt)
    endpoint.close_providers()

    result = runner.run(registry, runner.plan(registry, ["qa", "other"], ["gpt"]), now=NOW)
    assert [(r.aggregate, r.requests) for r in result.records] == [(1.0, 12), (1.0, 12)]
    # Four requests in flight at most: the second job sends on the first one's connections.
    assert api.requests == 24 and api.connections <= gpt.concurrency == 4
