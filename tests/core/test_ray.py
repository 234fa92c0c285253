"""The Ray executor on Ray's own two-node test cluster: same records as a local run, cache, retries, --rev."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from evaltui.core.history import commit_all, rev_parse
from evaltui.core.runs import runner, store
from evaltui.core.runs.cache import OutputCache, outputs_dir
from evaltui.core.runs.models import canonical, fingerprint
from evaltui.core.runs.shards import RayOptions, ShardsDispatched
from tests.core.run_helpers import ADA, EXACT_PY, NOW, T0, base_toml, calls, cases, make_repo, registry, toml_str, write

ray = pytest.importorskip("ray")
from ray.cluster_utils import Cluster  # noqa: E402

pytestmark = pytest.mark.ray

ROWS = [(f"c{i}", f"q{i}", f"a{i}") for i in range(1, 13)] + [("c13", "boom", "a13"), ("c14", "q14", "crash")]

FRAGILE_PY = """\
import os
import signal
from pathlib import Path


def answer(question, marker):
    # The first worker to see q3 dies on the spot, as a node lost mid-shard would.
    if question == "q3" and not Path(marker).exists():
        Path(marker).write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    return question.replace("q", "a")
"""


@pytest.fixture(scope="module")
def cluster():
    """Two nodes of one CPU each on this machine; shut down after the module."""
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    c.add_node(num_cpus=1)
    c.wait_for_nodes()
    try:
        yield c
    finally:
        c.shutdown()


def repo(root: Path, marker: Path | None = None, rows=ROWS) -> Path:
    extra = ""
    if marker is not None:
        extra = (
            f'\n[models.fragile]\ncallable = "app/fragile.py:answer"\n'
            f"params = {{ marker = {toml_str(str(marker))} }}\nray = {{ num_cpus = 1 }}\n"
        )
    toml = base_toml().replace("[evals.qa]", extra + "\n[evals.qa]")
    return make_repo(root, {"data/qa.jsonl": cases(rows), "app/fragile.py": FRAGILE_PY}, toml=toml)


def run(root: Path, cluster: Cluster | None, models=("echo", "cmd"), rev: str | None = None):
    reg = registry(root)
    events: list = []
    ray_options = RayOptions(address=cluster.address, shard_size=4) if cluster is not None else None
    result = runner.run(
        reg,
        runner.plan(reg, ["qa"], list(models), rev=rev),
        on_event=events.append,
        now=NOW,
        options=runner.RunOptions(jobs=1, ray=ray_options),
    )
    return result, events


def comparable(record: store.RunRecord) -> store.RunRecord:
    """A record without what may differ between executors: timings, the executor and the file it went to."""
    return replace(record, duration=0.0, executor="local", path=None)


def dispatched(events: list) -> int:
    return sum(e.shards for e in events if isinstance(e, ShardsDispatched))


def test_a_ray_run_records_what_a_local_run_records_and_the_driver_fills_the_cache(tmp_path, cluster):
    local_root, ray_root = repo(tmp_path / "local"), repo(tmp_path / "ray")
    local, _ = run(local_root, None)
    distributed, events = run(ray_root, cluster)
    assert [r.executor for r in distributed.records] == ["ray", "ray"]
    assert [comparable(r) for r in distributed.records] == [comparable(r) for r in local.records]
    echo = distributed.records[0]
    assert echo.error_map() == {
        "c13": "model: RuntimeError: model broke on purpose",
        "c14": "scorer: ValueError: scorer cannot handle this reference",
    }
    assert echo.cache_misses == 14 and echo.cache_hits == 0
    # 14 uncached cases in shards of 4, per job; the model ran on the workers, not in the checkout.
    assert dispatched(events) == 8 and calls(ray_root) == []
    kinds = [type(e).__name__ for e in events if getattr(e, "job", None) == runner.Job("qa", "echo")]
    assert kinds[0] == "JobStarted" and kinds[-1] == "JobFinished" and "JobProgress" in kinds
    on_disk = json.loads(Path(echo.path or "").read_text())
    assert on_disk["executor"] == "ray"
    reg = registry(ray_root)
    with OutputCache(outputs_dir(reg.state_dir)) as cache:
        fp = fingerprint(reg.models["echo"], ray_root)
        found = cache.get_many(fp, [(i, canonical(x)) for i, (_, x, _) in enumerate(ROWS)])
    # Every answer is cached by the driver; the failed call ("boom") is not, so it is retried next time.
    assert sorted(found) == [i for i in range(len(ROWS)) if ROWS[i][1] != "boom"]
    assert found[0] == "a1"


def test_a_rerun_sends_no_tasks_and_records_the_same_scores(tmp_path, cluster):
    # Without "boom": a failed model call is not cached, so a rerun would ask for it again (as locally).
    root = repo(tmp_path, rows=[r for r in ROWS if r[1] != "boom"])
    first, _ = run(root, cluster, models=("echo",))
    second, events = run(root, cluster, models=("echo",))
    assert dispatched(events) == 0
    (a,), (b,) = first.records, second.records
    assert (a.cache_hits, a.cache_misses) == (0, 13) and (b.cache_hits, b.cache_misses) == (13, 0)
    assert b.scores == a.scores and b.errors == a.errors and b.aggregate == a.aggregate


def test_a_killed_worker_loses_only_its_shard_which_is_retried(tmp_path, cluster):
    marker = tmp_path / "died"
    root = repo(tmp_path / "repo", marker)
    result, events = run(root, cluster, models=("fragile",))
    assert marker.exists(), "the worker was meant to die once"
    (record,) = result.records
    assert record.ok and record.executor == "ray"
    assert record.score_map()["c3"] == 1.0
    assert record.error_map() == {"c14": "scorer: ValueError: scorer cannot handle this reference"}
    local, _ = run(make_copy(root, tmp_path / "local"), None, models=("fragile",))
    assert comparable(record) == comparable(local.records[0])


def make_copy(root: Path, dest: Path) -> Path:
    import shutil

    shutil.copytree(root, dest, ignore=shutil.ignore_patterns(".evaltui"))
    return dest


def test_rev_runs_the_old_metric_on_the_workers(tmp_path, cluster):
    root = repo(tmp_path)
    first = rev_parse(root, "HEAD")
    quarter = EXACT_PY.replace('"1.0"', '"2.0"').replace(
        "return normalise(prediction) == normalise(reference)", "return 0.25"
    )
    write(root, {"evals/qa.py": quarter})
    commit_all(root, "stricter", ADA, T0.replace(day=3))
    old, sent = run(root, cluster, models=("echo",), rev=first)
    assert dispatched(sent) == 4  # every case scored on the workers, with the tree of `first`
    new, _ = run(root, cluster, models=("echo",))
    (o,), (n,) = old.records, new.records
    assert o.eval_rev == first and n.eval_rev is None
    assert o.score_map()["c1"] == 1.0 and n.score_map()["c1"] == 0.25
    assert (o.eval_version, n.eval_version) == ("1.0", "2.0")
    assert o.eval_files_sha256 != n.eval_files_sha256


def test_the_cli_runs_on_the_cluster_from_runner_executor_in_evals_toml(tmp_path, cluster):
    import os
    import subprocess
    import sys

    root = repo(tmp_path)
    write(
        root,
        {
            "evals.toml": (root / "evals.toml").read_text()
            + f'\n[runner]\nexecutor = "ray"\naddress = {toml_str(cluster.address)}\nshard_size = 5\n'
        },
    )
    proc = subprocess.run(
        [sys.executable, "-m", "evaltui", "run", "qa", "-m", "echo", "--json"],
        cwd=root,
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    (record,) = json.loads(proc.stdout)["runs"]
    assert record["executor"] == "ray" and record["cache_misses"] == 14 and record["n_errors"] == 2
    local = subprocess.run(
        [sys.executable, "-m", "evaltui", "run", "qa", "-m", "echo", "--json", "--executor", "local"],
        cwd=root,
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=300,
    )
    (again,) = json.loads(local.stdout)["runs"]
    assert again["executor"] == "local" and again["cache_hits"] == 13  # the Ray run's answers, from the cache


STUCK_PY = """\
import threading


def answer(question):
    if question == "q9":
        threading.Event().wait()  # never answers: its shard is still out when the run is cancelled
    return question.replace("q", "a")
"""


def test_a_cancel_stops_outstanding_shards_and_keeps_finished_ones_in_the_cache(tmp_path, cluster):
    toml = base_toml().replace("[evals.qa]", '[models.stuck]\ncallable = "app/stuck.py:answer"\n\n[evals.qa]')
    root = make_repo(tmp_path, {"data/qa.jsonl": cases(ROWS[:12]), "app/stuck.py": STUCK_PY}, toml=toml)
    reg = registry(root)
    cancel = threading.Event()
    events: list = []

    def on_event(event: object) -> None:
        events.append(event)
        if isinstance(event, runner.JobProgress) and event.done >= 4:  # two shards of two are in
            cancel.set()

    result = runner.run(
        reg,
        runner.plan(reg, ["qa"], ["stuck"]),
        on_event=on_event,
        now=NOW,
        cancel=cancel,
        options=runner.RunOptions(ray=RayOptions(address=cluster.address, shard_size=2)),
    )
    assert result.cancelled == (runner.Job("qa", "stuck"),) and result.records == ()
    assert not (root / ".evaltui" / "runs").exists()
    with OutputCache(outputs_dir(reg.state_dir)) as cache:
        fp = fingerprint(reg.models["stuck"], root)
        found = cache.get_many(fp, [(i, canonical(x)) for i, (_, x, _) in enumerate(ROWS[:12])])
    assert len(found) >= 4 and 8 not in found  # finished shards kept; q9's shard never came back
    assert all(found[i] == ROWS[i][1].replace("q", "a") for i in found)


def test_stream_runs_ray_from_a_background_thread_as_the_run_screen_does(tmp_path, cluster):
    root = repo(tmp_path)
    reg = registry(root)
    items = list(
        runner.stream(
            reg,
            runner.plan(reg, ["qa"], ["echo"]),
            now=NOW,
            options=runner.RunOptions(isolate=True, ray=RayOptions(address=cluster.address, shard_size=3)),
        )
    )
    kinds = [type(e).__name__ for e in items]
    assert kinds[0] == "JobStarted" and kinds[-2:] == ["JobFinished", "RunDone"]
    progress = [e for e in items if isinstance(e, runner.JobProgress)]
    assert progress[-1].done == progress[-1].total == 14
    (record,) = items[-1].result.records
    assert record.executor == "ray" and record.n_cases == 14
