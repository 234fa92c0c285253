"""The output cache: what hits and what misses, counts that agree with the records, corruption discarded."""

from __future__ import annotations

import datetime as dt

from evaltui.core.runs import runner
from evaltui.core.runs.cache import OutputCache, outputs_dir
from tests.core.run_helpers import NOW, QA_CASES, base_toml, calls, cases, make_repo, registry, write


def run_echo(root, models=("echo",), when=NOW):
    reg = registry(root)
    result = runner.run(reg, runner.plan(reg, ["qa"], list(models)), now=when, options=runner.RunOptions(jobs=1))
    assert not result.failed, result.failed
    return result.records


def hits_misses(records):
    return [(r.model, r.cache_hits, r.cache_misses) for r in records]


def test_unchanged_all_hits_and_the_model_is_not_called_again(tmp_path):
    root = make_repo(tmp_path)
    (first,) = run_echo(root)
    assert (first.cache_hits, first.cache_misses) == (0, 6)
    assert len(calls(root)) == 6
    (second,) = run_echo(root, when=NOW + dt.timedelta(seconds=1))
    assert (second.cache_hits, second.cache_misses) == (6, 0)
    assert len(calls(root)) == 6  # no new calls: every output came from the cache
    assert second.scores == first.scores and second.fingerprint == first.fingerprint


def test_a_changed_param_misses_everything(tmp_path):
    root = make_repo(tmp_path)
    run_echo(root)
    write(
        root,
        {
            "evals.toml": base_toml().replace(
                'callable = "app/model.py:answer"', 'callable = "app/model.py:answer"\nparams = { suffix = "!" }'
            )
        },
    )
    (record,) = run_echo(root, when=NOW + dt.timedelta(seconds=1))
    assert (record.cache_hits, record.cache_misses) == (0, 6)
    assert len(calls(root)) == 12
    assert record.scores == (0.0,) * 6  # "a1!" is not "a1": the outputs really are new


def test_a_changed_model_file_misses_everything(tmp_path):
    root = make_repo(tmp_path)
    (before,) = run_echo(root)
    model = (root / "app" / "model.py").read_text()
    write(root, {"app/model.py": model + "\n# a comment still changes the source hash\n"})
    (after,) = run_echo(root, when=NOW + dt.timedelta(seconds=1))
    assert after.fingerprint != before.fingerprint
    assert (after.cache_hits, after.cache_misses) == (0, 6)
    assert len(calls(root)) == 12


def test_another_model_never_hits_an_others_entries(tmp_path):
    root = make_repo(tmp_path)
    run_echo(root)
    records = run_echo(root, models=("shout", "cmd", "echo"), when=NOW + dt.timedelta(seconds=1))
    assert hits_misses(records) == [("shout", 0, 6), ("cmd", 0, 6), ("echo", 6, 0)]
    shout = records[0]
    assert shout.scores == (0.0,) * 6  # "Q1" is not "a1": shout's own outputs, not echo's


def test_an_added_case_is_the_only_miss_and_failed_calls_are_retried(tmp_path):
    root = make_repo(tmp_path, {"data/qa.jsonl": cases(QA_CASES + [("c7", "boom", "x")])})
    (first,) = run_echo(root)
    assert (first.cache_hits, first.cache_misses, first.n_errors) == (0, 7, 1)
    write(root, {"data/qa.jsonl": cases(QA_CASES + [("c7", "boom", "x"), ("c8", "q8", "a8")])})
    (second,) = run_echo(root, when=NOW + dt.timedelta(seconds=1))
    # c1..c6 hit; the failed c7 is called again (errors are never cached); c8 is new.
    assert (second.cache_hits, second.cache_misses) == (6, 2)
    assert sorted(calls(root)[7:]) == ["boom", "q8"]  # calls run concurrently: any order
    (third,) = run_echo(root, when=NOW + dt.timedelta(seconds=2))
    assert (third.cache_hits, third.cache_misses) == (7, 1)


def test_the_same_inputs_under_other_ids_hit_by_input(tmp_path):
    root = make_repo(tmp_path)
    run_echo(root)
    write(root, {"data/qa.jsonl": cases([(f"renamed-{i}", x, r) for i, x, r in QA_CASES])})
    (record,) = run_echo(root, when=NOW + dt.timedelta(seconds=1))
    assert (record.cache_hits, record.cache_misses) == (6, 0)


def test_a_corrupt_cache_is_discarded_with_a_warning_never_trusted(tmp_path):
    root = make_repo(tmp_path)
    run_echo(root)
    db = root / ".evaltui" / "cache" / "outputs" / "cache.db"
    db.write_bytes(b"this is not a sqlite database" * 100)
    reg = registry(root)
    result = runner.run(reg, runner.plan(reg, ["qa"], ["echo"]), now=NOW + dt.timedelta(seconds=1))
    (record,) = result.records
    assert (record.cache_hits, record.cache_misses) == (0, 6)
    assert record.aggregate == 1.0
    assert any("output cache" in w and "discarded" in w for w in result.warnings), result.warnings
    (again,) = run_echo(root, when=NOW + dt.timedelta(seconds=2))
    assert (again.cache_hits, again.cache_misses) == (6, 0)


def test_a_truncated_batch_value_is_dropped_and_cases_are_read_one_by_one(tmp_path):
    directory = tmp_path / "cache"
    warnings = []
    big = [f"output {i} " + "x" * 100 for i in range(1000)]  # large enough to live in its own file
    with OutputCache(directory, warn=warnings.append) as cache:
        cache.put_many("fp", [(f'"q{i}"', f"out{i}") for i in range(3)])
        cache.put_batch("fp", "sha", big, [])
        assert cache.get_batch("fp", "sha", 1000) == (big, [])
    value_files = list(directory.rglob("*.val"))
    assert value_files
    for value_file in value_files:
        value_file.write_bytes(value_file.read_bytes()[:50])
    with OutputCache(directory, warn=warnings.append) as cache:
        assert cache.get_batch("fp", "sha", 1000) is None
        assert cache.get_many("fp", [(0, '"q0"'), (1, '"q1"'), (2, '"nope"')]) == {0: "out0", 1: "out1"}
    assert any("unreadable" in w for w in warnings)


def test_a_batch_that_does_not_match_its_key_is_not_trusted(tmp_path):
    warnings = []
    with OutputCache(tmp_path / "cache", warn=warnings.append) as cache:
        cache.put_batch("fp", "sha", ["a", "b"], [])
        assert cache.get_batch("fp", "sha", 3) is None  # a different number of cases
        assert cache.get_batch("other", "sha", 2) is None
        assert cache.get_batch("fp", "sha", 2) is None  # dropped on the mismatch above
    assert warnings == ["a cached batch for model fp did not match its key; discarded"]


def test_stats_and_clear(tmp_path):
    root = make_repo(tmp_path)
    records = run_echo(root, models=("echo", "shout"))
    (root / ".evaltui" / "cache" / "lineage").mkdir(parents=True, exist_ok=True)  # another cache beside it
    with OutputCache(outputs_dir(root / ".evaltui")) as cache:
        stats = cache.stats()
        assert stats.entries == 12 + 2 and stats.batches == 2
        assert dict(stats.fingerprints) == {r.fingerprint: 6 for r in records}
        assert stats.size_bytes > 0
        assert cache.clear() == 14
    assert not outputs_dir(root / ".evaltui").exists()
    assert (root / ".evaltui" / "cache" / "lineage").is_dir()  # clearing outputs leaves the rest alone
    (again,) = run_echo(root, when=NOW + dt.timedelta(seconds=1))
    assert (again.cache_hits, again.cache_misses) == (0, 6)


def test_without_reading_the_cache_every_model_is_called_and_its_outputs_stored(tmp_path):
    root = make_repo(tmp_path)
    run_echo(root)
    reg = registry(root)
    fresh = runner.run(
        reg,
        runner.plan(reg, ["qa"], ["echo"]),
        now=NOW + dt.timedelta(seconds=1),
        options=runner.RunOptions(use_cache=False),
    )
    assert (fresh.records[0].cache_hits, fresh.records[0].cache_misses) == (0, 6)
    assert len(calls(root)) == 12
    (again,) = run_echo(root, when=NOW + dt.timedelta(seconds=2))
    assert (again.cache_hits, again.cache_misses) == (6, 0)


def test_a_planted_value_runs_no_code_as_it_is_read(tmp_path):
    """A clone may carry a state folder of its own: the output cache reads plain data only."""
    import os

    import diskcache

    directory = tmp_path / "cache"
    with OutputCache(directory) as cache:
        cache.put_batch("fp", "sha", ["a", "b"], [])
    marker = tmp_path / "ran"

    class Planted:
        def __reduce__(self):
            return (os.mkdir, (str(marker),))

    with diskcache.Cache(str(directory)) as raw:
        for key in list(raw.iterkeys()):
            raw.set(key, Planted())
    warnings = []
    with OutputCache(directory, warn=warnings.append) as cache:
        assert cache.get_batch("fp", "sha", 2) is None
    assert not marker.exists()
