"""The case drill-down reader on real repositories and real runs: input, reference, outputs and scores per side."""

from __future__ import annotations

import datetime as dt

from evaltui.core.history import commit_all, rev_parse
from evaltui.core.runs import cases as drill
from evaltui.core.runs import runner
from evaltui.core.runs.cache import OutputCache, outputs_dir
from tests.core.run_helpers import ADA, EXACT_PY, NOW, QA_CASES, T0, cases, make_repo, registry, write


def run(root, models=("echo", "recorded"), rev=None, now=NOW):
    reg = registry(root)
    return runner.run(reg, runner.plan(reg, ["qa"], models, rev=rev), now=now, options=runner.RunOptions(jobs=1))


def second_version(root, rows):
    """Version 1.1 of qa with the dataset `rows`, committed an hour after the first."""
    write(root, {"evals/qa.py": EXACT_PY.replace('"1.0"', '"1.1"'), "data/qa.jsonl": cases(rows)})
    commit_all(root, "qa 1.1", ADA, T0 + dt.timedelta(hours=1))


def outcome(side, model):
    return next(o for o in side.outcomes if o.model == model)


def test_a_changed_case_shows_both_sides_inputs_references_outputs_and_scores(tmp_path):
    root = make_repo(tmp_path)
    first = rev_parse(root, "HEAD")
    run(root, rev=first)
    # 1.1: c2's reference changes (echo now fails it), c7 is new.
    rows = [("c2", "q2", "other")] + [c for c in QA_CASES if c[0] != "c2"] + [("c7", "q7", "a7")]
    second_version(root, rows)
    run(root, now=NOW + dt.timedelta(hours=1))
    reg = registry(root)
    view = drill.read_case(
        reg, "qa", "c2", [drill.side_at(reg, "qa", "1.0", first), drill.side_at(reg, "qa", "1.1", None)]
    )
    old, new = view.sides
    assert (old.version, new.version) == ("1.0", "1.1")
    assert old.case.input == new.case.input == "q2"
    assert (old.case.reference, new.case.reference) == ("a2", "other")
    assert not view.same_case
    assert view.dataset == "data/qa.jsonl" and view.line == 1  # c2 moved to the top of today's file
    echo_old, echo_new = outcome(old, "echo"), outcome(new, "echo")
    assert (echo_old.state, echo_old.output, echo_old.score, echo_old.passed) == (drill.SHOWN, "a2", 1.0, True)
    assert (echo_new.state, echo_new.output, echo_new.score, echo_new.passed) == (drill.SHOWN, "a2", 0.0, False)
    rec = outcome(new, "recorded")
    assert (rec.state, rec.output, rec.score) == (drill.SHOWN, "a2", 0.0)
    assert view.models == ("echo", "recorded")
    assert view.to_json()["sides"][1]["outcomes"][0]["output"] == "a2"


def test_a_new_case_is_absent_on_the_old_side_and_an_unrun_model_is_not_run(tmp_path):
    root = make_repo(tmp_path)
    first = rev_parse(root, "HEAD")
    run(root, models=("echo",), rev=first)
    second_version(root, [*QA_CASES, ("c7", "q7", "a7")])
    run(root, models=("echo",), now=NOW + dt.timedelta(hours=1))
    reg = registry(root)
    view = drill.read_case(
        reg,
        "qa",
        "c7",
        [drill.side_at(reg, "qa", "1.0", first), drill.side_at(reg, "qa", "1.1", None)],
        ["echo", "shout"],
    )
    old, new = view.sides
    assert old.case is None and "no case 'c7'" in (old.problem or "")
    assert outcome(old, "echo").state == drill.NOT_IN_RUN
    assert new.case.reference == "a7" and new.case.line == 7
    assert (outcome(new, "echo").state, outcome(new, "echo").output) == (drill.SHOWN, "a7")
    shout = outcome(new, "shout")
    assert shout.state == drill.NOT_RUN and shout.run is None and shout.output is None


def test_a_cleared_cache_leaves_the_score_and_says_not_cached(tmp_path):
    root = make_repo(tmp_path)
    (record,) = run(root, models=("echo",)).records
    OutputCache(outputs_dir(registry(root).state_dir)).clear()
    reg = registry(root)
    view = drill.read_case(reg, "qa", "c3", [drill.side_at(reg, "qa", "now", None)])
    echo = outcome(view.sides[0], "echo")
    assert echo.state == drill.NOT_CACHED and echo.output is None
    assert echo.score == 1.0 and echo.run == record.id and "cache" in echo.note


def test_without_a_batch_entry_the_output_comes_from_the_cases_own_entry(tmp_path):
    root = make_repo(tmp_path)
    first = rev_parse(root, "HEAD")
    run(root, models=("echo",))
    # 1.1 drops c1: every other case is a cache hit, so no batch is written for the new dataset.
    second_version(root, QA_CASES[1:])
    (record,) = run(root, models=("echo",), now=NOW + dt.timedelta(hours=1)).records
    assert record.cache_misses == 0
    with OutputCache(outputs_dir(registry(root).state_dir)) as cache:
        assert cache.get_batch(record.fingerprint, record.dataset_sha256, len(record.ids)) is None
    reg = registry(root)
    view = drill.read_case(reg, "qa", "c4", [drill.side_at(reg, "qa", "A", first), drill.side_of_run("B", record)])
    assert [outcome(s, "echo").output for s in view.sides] == ["a4", "a4"]
    assert view.sides[1].label == "B" and view.sides[1].version == "1.1"


def test_recorded_predictions_missing_a_case_and_a_changed_predictions_file(tmp_path):
    root = make_repo(tmp_path)
    run(root, models=("recorded",))
    reg = registry(root)
    sides = [drill.side_at(reg, "qa", "now", None)]
    missing = outcome(drill.read_case(reg, "qa", "c6", sides).sides[0], "recorded")
    assert missing.state == drill.NOT_CACHED and "no prediction" in missing.note
    assert missing.error and missing.score is None
    write(root, {"recorded.jsonl": '{"id": "c1", "output": "changed"}\n'})
    stale = outcome(drill.read_case(reg, "qa", "c1", sides).sides[0], "recorded")
    assert stale.state == drill.NOT_CACHED and "changed since this run" in stale.note and stale.score == 1.0


def test_an_unknown_case_and_a_side_without_the_eval_are_states_not_errors(tmp_path):
    root = make_repo(tmp_path)
    reg = registry(root)
    view = drill.read_case(reg, "qa", "nope", [drill.side_at(reg, "qa", "now", None)], ["echo"])
    (side,) = view.sides
    assert side.case is None and view.line is None
    assert outcome(side, "echo").state == drill.NOT_RUN


def test_an_endpoint_output_without_a_batch_comes_from_its_rendered_request(tmp_path, monkeypatch):
    from evaltui.core.registry.model import load_registry
    from tests.core.endpoint_helpers import KEY_ENV, make_endpoint_repo, qa_rows
    from tests.fakeapi import FakeAPI

    monkeypatch.setenv(KEY_ENV, "first-key")
    with FakeAPI() as api:
        root = make_endpoint_repo(tmp_path / "repo", api, ["one", "two", "three"])
        first = rev_parse(root, "HEAD")

        def run_gpt(when):
            reg = load_registry(root)
            return runner.run(reg, runner.plan(reg, ["qa"], ["gpt"]), now=when, options=runner.RunOptions(jobs=1))

        run_gpt(NOW)
        # c0 goes: the other cases are answered from their own cache entries, and no batch is written.
        write(root, {"data/qa.jsonl": qa_rows(["one", "two", "three"]).split("\n", 1)[1]})
        commit_all(root, "fewer cases", ADA, T0 + dt.timedelta(hours=1))
        (record,) = run_gpt(NOW + dt.timedelta(hours=1)).records
    assert record.cache_misses == 0 and record.ids == ("c1", "c2")
    with OutputCache(outputs_dir(load_registry(root).state_dir)) as cache:
        assert cache.get_batch(record.fingerprint, record.dataset_sha256, len(record.ids)) is None
    reg = load_registry(root)
    view = drill.read_case(reg, "qa", "c2", [drill.side_at(reg, "qa", "A", first), drill.side_of_run("B", record)])
    assert [s.case.input for s in view.sides] == ["three", "three"]
    assert [outcome(s, "gpt").output for s in view.sides] == ["QUESTION: THREE"] * 2  # batch, then rendered request
    assert outcome(view.sides[1], "gpt").score == 1.0
