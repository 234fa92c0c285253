"""Lineage benchmark: 200 evals over 5,000 commits, measured against one raw `git log` pass.

Run `python bench/lineage.py`. The repository is generated deterministically with
`git fast-import` and kept under `bench/.data/` between runs. Each lineage measurement runs
in a fresh Python process: the time reported is `load_lineage` alone (modules already
imported, registry already loaded), the memory is that process's peak RSS. Times are the
best of several runs, as `timeit` reports them (other load on the machine only ever adds),
with the median beside; the floor is measured between the runs, the same way.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from common import floor_seconds, ms, ready_repo  # beside this file
from lineage_repo import N_COMMITS, N_EVALS, built_repo, extra_commits, repo_git_env

HERE = Path(__file__).resolve().parent
N_NEW = 10
TARGETS = {"cold": 3.0, "warm": 0.2, "incremental": 0.3}
MEMORY_TARGET_MB = 300


# -- measuring ----------------------------------------------------------------------------------


def measure_child(repo: Path, cache: Path) -> dict:
    """In a fresh process: load the registry, then time `load_lineage` alone (wall and CPU)."""
    code = (
        "import hashlib, json, resource, sys, time\n"
        "from pathlib import Path\n"
        "from evaltui.core.history import load_lineage\n"
        "from evaltui.core.registry.model import load_registry\n"
        "import diskcache, git, wcmatch.glob, yaml  # imported lazily by the engine; imports are not what is timed\n"
        f"registry = load_registry(Path({str(repo)!r}), strict=False, check_files=False)\n"
        "kids = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "cpu, start = time.process_time(), time.perf_counter()\n"
        f"lineage = load_lineage(registry, cache_dir=Path({str(cache)!r}))\n"
        "seconds, cpu = time.perf_counter() - start, time.process_time() - cpu\n"
        "after = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "git_cpu = after.ru_utime + after.ru_stime - kids.ru_utime - kids.ru_stime\n"
        "entries = sum(len(v) for v in lineage.entries.values())\n"
        "digest = hashlib.sha256(json.dumps({n: [e.to_json() for e in v] for n, v in lineage.entries.items()},"
        " sort_keys=True).encode()).hexdigest()\n"
        "rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(json.dumps({'seconds': seconds, 'cpu': cpu, 'git_cpu': git_cpu, 'entries': entries,"
        " 'evals': len(lineage.entries), 'rss_mb': rss, 'digest': digest, 'source': lineage.source,"
        " 'notes': list(lineage.notes)}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"measurement failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evals", type=int, default=N_EVALS)
    parser.add_argument("--commits", type=int, default=N_COMMITS)
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (default 5)")
    args = parser.parse_args(argv)

    base = ready_repo(lambda: built_repo(args.evals, args.commits), HERE.parent)
    floors, cold_runs, warm_runs, incr_runs, rebuild_runs = [], [], [], [], []
    with tempfile.TemporaryDirectory(prefix="evaltui-bench-") as tmp:
        repo = Path(tmp) / "repo"
        shutil.copytree(base, repo, symlinks=True)
        for i in range(args.repeat):  # interleaved, so that a busy moment hits floor and build alike
            floors.append(floor_seconds(repo))
            cache = Path(tmp) / f"cache-{i}"
            cold_runs.append(measure_child(repo, cache))
            warm_runs.append(measure_child(repo, cache))
            if (cold_runs[-1]["source"], warm_runs[-1]["source"]) != ("full", "cache"):
                raise SystemExit(f"unexpected sources {cold_runs[-1]['source']}, {warm_runs[-1]['source']}")
        # Incremental: a fresh copy gets 10 more commits on top of a cache built at the old HEAD;
        # its lineage must be the one a cold build finds.
        for i in range(args.repeat):
            work = Path(tmp) / f"incr-{i}"
            shutil.copytree(base, work, symlinks=True)
            cache = Path(tmp) / f"incr-cache-{i}"
            measure_child(work, cache)
            extra_commits(work, N_NEW, seed=i)
            incr_runs.append(measure_child(work, cache))
            if incr_runs[-1]["source"] != "incremental":
                raise SystemExit(f"expected an incremental refresh, got {incr_runs[-1]['source']}")
            if i == 0:
                check = measure_child(work, Path(tmp) / "incr-check")
                if check["digest"] != incr_runs[-1]["digest"]:
                    raise SystemExit("the incremental lineage differs from a cold build")
            # Not a target: history rewritten under the cache (the last commit amended).
            subprocess.run(
                ["git", "commit", "-q", "--amend", "-m", f"extra change, reworded {i}"],
                cwd=work,
                check=True,
                env=repo_git_env(),
            )
            rebuild_runs.append(measure_child(work, cache))
            if rebuild_runs[-1]["source"] != "rebuild":
                raise SystemExit(f"expected a rebuild from cached commits, got {rebuild_runs[-1]['source']}")

    def best(runs: list[dict], key: str = "seconds") -> float:
        return min(r[key] for r in runs)

    def median(runs: list[dict], key: str = "seconds") -> float:
        return statistics.median(r[key] for r in runs)

    floor = min(floors)
    cold, warm, incr = best(cold_runs), best(warm_runs), best(incr_runs)
    peak = max(r["rss_mb"] for r in cold_runs + warm_runs + incr_runs + rebuild_runs)
    first = cold_runs[0]
    print(f"history: {args.commits} commits, {first['evals']} evals, {first['entries']} lineage entries")
    for note in first["notes"]:
        print(f"note: {note}")
    print(
        f"times: load_lineage() in a fresh process each (imports and registry loaded first, not timed); "
        f"best and median of {args.repeat}, floor runs interleaved"
    )
    print(f"floor (git log --raw -M > /dev/null)   {ms(floors)}")
    print(
        f"cold (empty cache)                     {cold * 1000:8.1f} ms  (median {median(cold_runs) * 1000:.1f}; "
        f"CPU: python {best(cold_runs, 'cpu') * 1000:.0f} ms + git {best(cold_runs, 'git_cpu') * 1000:.0f} ms)"
    )
    print(f"warm (same HEAD)                       {ms([r['seconds'] for r in warm_runs])}")
    print(f"incremental ({N_NEW} new commits)           {ms([r['seconds'] for r in incr_runs])}")
    print(
        f"rebuild (last commit amended)          {best(rebuild_runs) * 1000:8.1f} ms  "
        f"(median {median(rebuild_runs) * 1000:.1f}; no target)"
    )
    print(f"peak memory (max RSS of any run)       {peak:8.1f} MB")
    ok = True
    for label, value in (("cold", cold), ("warm", warm), ("incremental", incr)):
        ratio = value / floor
        ok &= ratio <= TARGETS[label]
        print(f"{label}/floor {ratio:.2f}x (target <= {TARGETS[label]:g})")
    ok &= peak <= MEMORY_TARGET_MB
    print(f"peak memory {peak:.0f} MB (target <= {MEMORY_TARGET_MB})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
