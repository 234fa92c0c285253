"""Adopt benchmark: an lm-eval-shaped tree of 2,000 tasks over 5,000 commits; `adopt` + first `check`
measured against one raw `git log --raw -M` pass.

Run `python bench/adopt.py`. The repository is generated deterministically with `git fast-import`
(task families with suffix-less templates, include chains two deep, `!function` helpers, list-form
metadata in early commits, version bumps, renames) and kept under `bench/.data/`. Each run takes a
fresh copy (an empty cache), runs `evaltui adopt` and, once the adoption is committed, `evaltui check`,
each in a new process; the time is the command's own, imports done first (the whole-process time is
printed beside it). Times are the best of several runs with the median beside; the floor runs are
interleaved with them. Memory is the largest peak RSS of any of those processes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import FastImportStream, fast_import_repo, floor_seconds, git_env, ms, ready_repo  # beside this file

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
BUILDER_VERSION = 2  # bump when the generated history changes
SEED = 20260108
N_TASKS = 2000
N_COMMITS = 5000
PER_FAMILY = 20
TARGET = 4.0
MEMORY_TARGET_MB = 400
PEOPLE = (
    ("Alice Moreau", "alice@example.com"),
    ("Bob Tanaka", "bob@example.com"),
    ("Carol Nwosu", "carol@example.com"),
    ("Dan Ivanov", "dan@example.com"),
)


class Tree(FastImportStream):
    """The files of the generated repository and the fast-import stream that builds it."""

    def __init__(self, rng: random.Random, n_tasks: int):
        super().__init__()
        self.rng = rng
        self.when = dt.datetime(2022, 1, 3, 9, 0, tzinfo=dt.timezone.utc)
        self.families = [f"fam{i:03d}" for i in range((n_tasks + PER_FAMILY - 1) // PER_FAMILY)]
        self.versions = {fam: 0 for fam in self.families}
        self.tasks: list[tuple[str, str]] = []  # (family, task path)
        self.n_tasks = n_tasks

    def rename(self, old: str, new: str) -> None:
        # A file changed and moved in one commit is written only under its new name.
        self.pending.pop(old, None)
        super().rename(old, new)

    def common(self, fam: str) -> bytes:
        version = self.versions[fam]
        meta = f"metadata:\n  - version: {version}.0\n" if version == 0 else f"metadata:\n  version: {version}.0\n"
        return f"output_type: multiple_choice\n{meta}".encode()

    def template(self, fam: str, k: int = 0) -> bytes:
        return (
            f"include: _common_yaml\ndataset_path: bench/{fam}\ntest_split: test\n"
            f'process_docs: !function utils.process_docs\ndoc_to_text: "{{{{question}}}} {k}"\n'
            f"doc_to_target: answer\n"
        ).encode()

    def task(self, fam: str, i: int, k: int = 0, moved: bool = False) -> bytes:
        extra = "doc_to_choice: !function utils.choices\n" if i % 3 == 0 else ""
        return (
            f"include: {'../' if moved else ''}_default_template_yaml\ntask: {fam}_t{i:02d}\ndataset_name: sub{i}\n"
            f"num_fewshot: {k % 5}\n{extra}"
        ).encode()

    def utils(self, fam: str, k: int = 0) -> bytes:
        return (
            f"def process_docs(ds):\n    return ds.filter(lambda d: len(d) > {k})\n\n\n"
            f"def choices(doc):\n    return ['A', 'B', 'C', 'D']\n"
        ).encode()

    def commit(self, message: str) -> None:
        name, email = PEOPLE[self.mark % len(PEOPLE)]
        self.when += dt.timedelta(minutes=self.rng.randint(20, 400))
        stamp = f"{int(self.when.timestamp())} +0000"
        self.write_commit("refs/heads/main", name, email, stamp, message, (self.mark,) if self.mark else ())

    def add_family(self, fam: str) -> None:
        base = f"lm_eval/tasks/{fam}"
        self.put(f"{base}/_common_yaml", self.common(fam))
        self.put(f"{base}/_default_template_yaml", self.template(fam))
        self.put(f"{base}/utils.py", self.utils(fam))
        names = []
        for i in range(PER_FAMILY):
            if len(self.tasks) >= self.n_tasks:
                break
            path = f"{base}/{fam}_t{i:02d}.yaml"
            self.put(path, self.task(fam, i))
            self.tasks.append((fam, path))
            names.append(f"  - {fam}_t{i:02d}")
        self.put(f"{base}/_{fam}.yaml", f"group: {fam}\ntask:\n{chr(10).join(names)}\n".encode())
        self.commit(f"Add the {fam} tasks")

    def step(self, k: int) -> None:
        rng = self.rng
        roll = rng.random()
        fam = rng.choice(
            self.families[: max(1, len([f for f in self.families if f"lm_eval/tasks/{f}/utils.py" in self.files]))]
        )
        base = f"lm_eval/tasks/{fam}"
        if roll < 0.35:
            self.put(f"lm_eval/models/m{k % 40}.py", f"VALUE = {k}\n".encode())
            self.commit(f"Model code change {k}")
        elif roll < 0.60:
            own = [p for f, p in self.tasks if f == fam and p in self.files]
            path = rng.choice(own)
            i = int(path.rsplit("_t", 1)[1][:2])
            self.put(path, self.task(fam, i, k, moved="/v2/" in path))
            self.commit(f"Tune few-shot for {path.rsplit('/', 1)[1]}")
        elif roll < 0.72:
            self.put(f"{base}/utils.py", self.utils(fam, k))
            self.commit(f"Filter {fam} docs")
        elif roll < 0.80:
            self.put(f"{base}/_default_template_yaml", self.template(fam, k))
            self.commit(f"Reword the {fam} prompt")
        elif roll < 0.88:
            self.versions[fam] += 1
            self.put(f"{base}/_common_yaml", self.common(fam))
            self.commit(f"Bump {fam} to {self.versions[fam]}.0")
        elif roll < 0.90:
            own = [p for f, p in self.tasks if f == fam and p in self.files and "/v2/" not in p]
            if own:
                old = rng.choice(own)
                new = old.replace(f"{base}/", f"{base}/v2/")
                self.rename(old, new)
                i = int(new.rsplit("_t", 1)[1][:2])
                self.put(new, self.task(fam, i, k, moved=True))
                self.tasks = [(f, new if p == old else p) for f, p in self.tasks]
                self.commit(f"Move {old.rsplit('/', 1)[1]}")
        else:
            self.put(f"docs/notes{k % 25}.md", f"note {k}\n".encode())
            self.commit(f"Docs {k}")


def generate(n_tasks: int, n_commits: int, seed: int) -> bytes:
    """The fast-import stream of the whole benchmark history."""
    tree = Tree(random.Random(seed), n_tasks)
    tree.put("README.md", b"# a harness\n")
    tree.commit("Start")
    # Families arrive over the first fifth of the history, changes go on throughout.
    spread = max(1, (n_commits // 5) // len(tree.families))
    k = 0
    for fam in tree.families:
        tree.add_family(fam)
        for _ in range(spread - 1):
            k += 1
            tree.step(k)
    while tree.mark < n_commits:
        k += 1
        tree.step(k)
    return b"".join(tree.out)


def built_repo(n_tasks: int = N_TASKS, n_commits: int = N_COMMITS, seed: int = SEED) -> Path:
    """The benchmark repository, generated once and kept under `bench/.data/`."""
    repo = DATA / f"adopt-v{BUILDER_VERSION}-{n_tasks}x{n_commits}-{seed}"
    return fast_import_repo(repo, lambda: generate(n_tasks, n_commits, seed), DATA)


def _git_env() -> dict[str, str]:
    return git_env(DATA)


def timed(args: list[str], cwd: Path) -> dict:
    """One `evaltui` command in a new process: its time with imports done first (as bench/lineage.py
    times `load_lineage`), the whole process's wall time, its peak RSS and its output."""
    out_file = cwd / ".bench-out"
    code = (
        "import contextlib, io, json, resource, sys, time\n"
        "from evaltui import cli\n"
        "import evaltui.cli.adopt, evaltui.cli.basic, evaltui.core.checks.problems, evaltui.core.history\n"
        "import evaltui.core.registry.adopt.lmeval, evaltui.core.registry.adopt.inspect\n"
        "import evaltui.core.registry.adopt.openai_evals, evaltui.core.history.pending, evaltui.core.team.notes\n"
        "import encodings.utf_8_sig  # the modules the two commands import when they first need them\n"
        "import diskcache, git, tomlkit, yaml  # imported lazily by the commands (git: GitPython); imports are not what is timed\n"
        "buf = io.StringIO()\n"
        "start = time.perf_counter()\n"
        f"with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(io.StringIO()):\n"
        f"    code = cli.main({args!r})\n"
        "seconds = time.perf_counter() - start\n"
        "rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        f"open({str(out_file)!r}, 'w').write(json.dumps({{'seconds': seconds, 'rss_mb': rss, 'code': code,"
        " 'stdout': buf.getvalue()}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(HERE.parent), "XDG_CACHE_HOME": str(cwd / ".xdg-cache")}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0 or not out_file.exists():
        raise SystemExit(f"evaltui {' '.join(args)} failed:\n{proc.stderr.decode()}")
    result = json.loads(out_file.read_text())
    out_file.unlink()
    if result["code"] not in (0, 1):
        raise SystemExit(f"evaltui {' '.join(args)} exited {result['code']}")
    return {**result, "wall": wall}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=N_TASKS)
    parser.add_argument("--commits", type=int, default=N_COMMITS)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (default 3)")
    args = parser.parse_args(argv)

    base = ready_repo(lambda: built_repo(args.tasks, args.commits), HERE.parent)
    floors: list[float] = []
    adopts: list[dict] = []
    checks: list[dict] = []
    problems: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="evaltui-bench-adopt-") as tmp:
        for i in range(args.repeat):  # interleaved, so that a busy moment hits floor and commands alike
            repo = Path(tmp) / f"repo-{i}"
            shutil.copytree(base, repo, symlinks=True)
            floors.append(floor_seconds(repo))
            adopts.append(timed(["adopt"], repo))
            subprocess.run(["git", "add", "evals.toml"], cwd=repo, check=True, env=_git_env())
            subprocess.run(["git", "commit", "-q", "-m", "Adopt evals"], cwd=repo, check=True, env=_git_env())
            checks.append(timed(["check", "--format", "json"], repo))
            data = json.loads(checks[-1]["stdout"])
            if data["errors"]:
                raise SystemExit(f"check reports {data['errors']} errors on the adopted tree")
            problems = {}
            for p in data["problems"]:
                problems[p["code"]] = problems.get(p["code"], 0) + 1
    floor = min(floors)
    totals = [a["seconds"] + c["seconds"] for a, c in zip(adopts, checks)]
    walls = [a["wall"] + c["wall"] for a, c in zip(adopts, checks)]
    peak = max(r["rss_mb"] for r in adopts + checks)

    print(
        f"history: {args.commits} commits, {args.tasks} tasks; check on the adopted tree: 0 errors, "
        f"problems by code {problems}"
    )
    print(
        f"times: each command in a fresh process, imports done first (not timed); best and median of "
        f"{args.repeat}, floor runs interleaved"
    )
    print(f"floor (git log --raw -M > /dev/null)   {ms(floors)}")
    print(f"adopt                                  {ms([a['seconds'] for a in adopts])}")
    print(f"first check (empty cache)              {ms([c['seconds'] for c in checks])}")
    print(f"adopt + first check                    {ms(totals)}")
    print(f"  the same, whole processes            {ms(walls)}  (Python start-up and imports included)")
    print(f"peak memory (max RSS of any process)   {peak:8.1f} MB")
    ratio = min(totals) / floor
    silent = problems.get("silent-change", 0) + problems.get("bump-without-why", 0)
    ok = ratio <= TARGET and peak <= MEMORY_TARGET_MB and silent == 0
    print(f"adopt+check/floor {ratio:.2f}x (target <= {TARGET:g})")
    print(f"peak memory {peak:.0f} MB (target <= {MEMORY_TARGET_MB})")
    print(f"silent changes and bumps without why from before the baseline: {silent} (target 0)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
