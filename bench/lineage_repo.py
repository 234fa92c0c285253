"""The lineage benchmark's repository: evals, datasets, metrics and prompts over thousands of commits.

Generated deterministically with `git fast-import` (`built_repo`) and kept under `bench/.data/`;
`bench/lineage.py` measures on it and `bench/tui.py` draws it.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import subprocess
from pathlib import Path

from common import FastImportStream, fast_import_repo, git_env  # beside this file

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
BUILDER_VERSION = 4  # bump when the generated history changes
SEED = 20260101
N_EVALS = 200
N_COMMITS = 5000
GROUPS = ("qa", "safety", "code", "math", "summarise", "retrieval", "dialogue", "tools", "style", "misc")
PEOPLE = (
    ("alice", "Alice Moreau", ("alice@example.com", "alice.moreau@users.example.org")),
    ("bob", "Bob Tanaka", ("bob@example.com", "btanaka@home.example.net")),
    ("carol", "Carol Nwosu", ("carol@example.com",)),
    ("dan", "Dan Ivanov", ("dan@example.com", "dan.ivanov@old.example.com")),
    ("erin", "Erin Walsh", ("erin@example.com",)),
    ("farid", "Farid Haddad", ("farid@example.com",)),
    ("grace", "Grace Li", ("grace@example.com", "gli@laptop.example.net")),
    ("hugo", "Hugo Santos", ("hugo@example.com",)),
)
MODES = (
    "hallucination",
    "multi-hop",
    "refusal",
    "jailbreak",
    "arithmetic",
    "long-context",
    "tool-misuse",
    "format",
    "tone",
    "leakage",
)


class Model(FastImportStream):
    """The files of the generated repository and the fast-import stream that builds it."""

    def __init__(self, rng: random.Random):
        super().__init__()
        self.rng = rng
        self.evals: dict[str, dict] = {}  # name -> spec, in creation order
        self.counter = 0
        self.when = dt.datetime(2024, 1, 8, 9, 0, tzinfo=dt.timezone.utc)
        self.next_eval = 0

    # content ------------------------------------------------------------------------------

    def metric_source(self, spec: dict) -> bytes:
        deco = ""
        if spec["kind"] == "decorator":
            deco = (
                f'@evaltui.version("{spec["version"]}", valid_for="{spec["valid_for"]}",\n'
                f'                 why="{spec["why"]}")\n'
            )
        helpers = "".join(
            f'\n\ndef _rule_{i}(text: str) -> str:\n    return text.replace("{i}", "")\n'
            for i in range(spec["helpers"])
        )
        return (
            f'"""{spec["name"]}: {spec["description"]}."""\n\nfrom __future__ import annotations\n\n'
            f'import re\n\nimport evaltui\n\nPATTERN = re.compile(r"\\s+")\nTHRESHOLD = {spec["rev"]}\n'
            f'{helpers}\n\ndef _normalise(text: str) -> str:\n    return PATTERN.sub(" ", text.strip().lower())\n'
            f"\n\n{deco}def score(prediction: str, reference: str) -> float:\n"
            f'    """Exact match after normalisation (revision {spec["rev"]})."""\n'
            f"    return float(_normalise(prediction) == _normalise(reference))\n"
        ).encode()

    def task_yaml(self, spec: dict) -> bytes:
        return (
            f"task: {spec['name']}\ndataset_path: {spec['dataset']}\noutput_type: generate_until\n"
            f'metadata:\n  version: "{spec["version"]}"\n  valid_for: "{spec["valid_for"]}"\n'
            f'  why: "{spec["why"]}"\ngeneration_kwargs:\n  temperature: 0.0\n'
            f"  max_gen_toks: {256 + spec['rev']}\nmetric_list:\n  - metric: exact_match\n"
            "    aggregation: mean\n"
        ).encode()

    def case(self, spec: dict, k: int) -> bytes:
        tags = self.rng.sample(MODES, 2)
        return (
            json.dumps(
                {
                    "id": f"{spec['name']}-{k:04d}",
                    "input": f"Question {k} for {spec['name']}: "
                    + " ".join(
                        self.rng.choice(
                            ("what", "why", "how", "when", "which", "the", "a", "model", "source", "answer")
                        )
                        for _ in range(12)
                    ),
                    "reference": f"answer {k}",
                    "tags": tags,
                }
            )
            + "\n"
        ).encode()

    def evals_toml(self) -> bytes:
        lines = ['[project]\nname = "bench"\n']
        for member, name, emails in PEOPLE:
            lines.append(f'[people.{member}]\nname = "{name}"\nemails = {json.dumps(list(emails))}\n')
        for mode in MODES:
            lines.append(f'[failure_modes.{mode}]\ndescription = "Known failure: {mode}"\n')
        for spec in self.evals.values():
            t = [
                f"[evals.{spec['name']}]",
                f'description = "{spec["description"]}"',
                f'metric = "{spec["metric"]}:score"',
                f'dataset = "{spec["dataset"]}"',
            ]
            if spec["kind"] == "decorator":
                t.append(f'version_from = "{spec["metric"]}:score"')
            elif spec["kind"] == "yaml":
                t.append(f'version_from = "{spec["task"]}#metadata.version"')
            else:
                t += [
                    f'version = "{spec["version"]}"',
                    f'valid_for = "{spec["valid_for"]}"',
                    f'why = "{spec["why"]}"',
                    f'paths = ["prompts/{spec["name"]}/*.txt"]',
                ]
            t += [f"covers = {json.dumps(spec['covers'])}", f'owner = "{spec["owner"]}"']
            lines.append("\n".join(t) + "\n")
        return "\n".join(lines).encode()

    # changes ------------------------------------------------------------------------------

    def new_eval(self) -> dict:
        i = self.next_eval
        self.next_eval += 1
        group = GROUPS[i % len(GROUPS)]
        name = f"{group}_{i:03d}"
        kind = ("decorator", "decorator", "yaml", "inline", "decorator", "inline", "decorator", "yaml")[i % 8]
        spec = {
            "name": name,
            "kind": kind,
            "group": group,
            "description": f"Eval {i} on {group}",
            "metric": f"evals/{group}/{name}.py",
            "dataset": f"data/{group}/{name}.jsonl",
            "task": f"tasks/{group}/{name}.yaml",
            "version": "1.0",
            "valid_for": f"{group} prompts, English",
            "why": "first version",
            "rev": 0,
            "helpers": i % 4,
            "cases": 20,
            "covers": sorted(self.rng.sample(MODES, 2)),
            "owner": PEOPLE[i % len(PEOPLE)][0],
            "prompts": 0,
        }
        self.evals[name] = spec
        self.put(spec["metric"], self.metric_source(spec))
        self.put(spec["dataset"], b"".join(self.case(spec, k) for k in range(spec["cases"])))
        if kind == "yaml":
            self.put(spec["task"], self.task_yaml(spec))
        if kind == "inline":
            for _ in range(3):
                self.add_prompt(spec)
        return spec

    def add_prompt(self, spec: dict) -> None:
        spec["prompts"] += 1
        self.put(
            f"prompts/{spec['name']}/p{spec['prompts']}.txt",
            f"You are a careful assistant for {spec['name']}. Variant {spec['prompts']}.\n".encode(),
        )

    def bump(self, spec: dict, why: str) -> None:
        major, minor = spec["version"].split(".")
        spec["version"] = f"{major}.{int(minor) + 1}" if self.rng.random() < 0.8 else f"{int(major) + 1}.0"
        spec["why"] = why

    def commit(self, branch: str, message: str, who: int, parents: tuple[int, ...] = ()) -> int:
        member, name, emails = PEOPLE[who]
        email = emails[self.counter % len(emails)] if self.counter % 5 == 0 else emails[0]
        self.when += dt.timedelta(minutes=self.rng.randint(20, 300))
        stamp = f"{int(self.when.timestamp())} +0000"
        mark = self.write_commit(f"refs/heads/{branch}", name, email, stamp, message, parents)
        self.counter += 1
        return mark

    # one step of history ------------------------------------------------------------------

    # What one commit does, with its share of the history. An action that needs a kind of
    # eval (prompts belong to glob evals, renames to file-versioned ones) picks such an eval.
    ACTIONS = (
        ("app", 0.30),
        ("cases", 0.22),
        ("metric", 0.13),
        ("bump", 0.07),
        ("prompts", 0.06),
        ("meta", 0.06),
        ("rename", 0.02),
        ("docs", 0.14),
    )

    def step(self, pool: list[str]) -> str:
        """Make one change to a random eval from `pool` (or to other files); return the message."""
        rng = self.rng
        action = rng.choices([a for a, _ in self.ACTIONS], weights=[w for _, w in self.ACTIONS])[0]
        wanted = {"prompts": ("inline",), "rename": ("decorator", "yaml")}.get(action)
        names = [n for n in pool if wanted is None or self.evals[n]["kind"] in wanted]
        spec = self.evals[rng.choice(names)] if names else None
        if spec is None and action not in ("app", "docs"):
            action = "app"
        if action == "app":
            k = rng.randrange(150)
            path = f"app/module_{k:03d}.py"
            self.put(path, self.files.get(path, b"") + f"def handler_{self.counter}():\n    return {k}\n".encode())
            return f"app: handler {self.counter} in module {k}"
        if action == "docs":
            k = rng.randrange(30)
            path = f"docs/page_{k:02d}.md"
            self.put(path, self.files.get(path, b"# Notes\n") + f"- entry {self.counter}\n".encode())
            return f"docs: entry {self.counter}"
        if action == "cases":
            new = [self.case(spec, spec["cases"] + j) for j in range(rng.randint(1, 3))]
            spec["cases"] += len(new)
            self.put(spec["dataset"], self.files[spec["dataset"]] + b"".join(new))
            return f"{spec['name']}: add {len(new)} cases"
        if action == "metric":
            spec["rev"] += 1
            self.edit_version_file(spec)
            return f"{spec['name']}: tweak normalisation"
        if action == "bump":
            spec["rev"] += 1
            if spec["kind"] == "inline":
                self.bump(spec, f"prompt set revised ({self.counter})")
                self.put("evals.toml", self.evals_toml())
            else:
                self.bump(spec, f"cases and scoring revised ({self.counter})")
                self.edit_version_file(spec)
            return f"{spec['name']}: bump to {spec['version']}"
        if action == "prompts":
            if rng.random() < 0.5:
                self.add_prompt(spec)
            else:
                p = f"prompts/{spec['name']}/p{rng.randint(1, spec['prompts'])}.txt"
                if p in self.files:
                    self.put(p, self.files[p] + b"Be brief.\n")
            return f"{spec['name']}: prompt variants"
        if action == "meta":
            spec["description"] = f"Eval {spec['name']} revised wording {self.counter}"
            spec["owner"] = PEOPLE[rng.randrange(len(PEOPLE))][0]
            self.put("evals.toml", self.evals_toml())
            return f"{spec['name']}: metadata"
        old = spec["metric"]
        group = rng.choice(GROUPS)
        spec["metric"] = f"evals/{group}/{spec['name']}_v{self.counter}.py"
        self.rename(old, spec["metric"])
        if rng.random() < 0.4:
            spec["rev"] += 1
            self.put(spec["metric"], self.metric_source(spec))
        self.put("evals.toml", self.evals_toml())
        return f"{spec['name']}: move metric to {group}"

    def edit_version_file(self, spec: dict) -> None:
        if spec["kind"] == "yaml" and self.rng.random() < 0.7:
            self.put(spec["task"], self.task_yaml(spec))
        else:
            if self.rng.random() < 0.2:
                spec["helpers"] = min(spec["helpers"] + 1, 8)
            self.put(spec["metric"], self.metric_source(spec))


def generate(n_evals: int, n_commits: int, seed: int) -> bytes:
    """The fast-import stream of the whole benchmark history."""
    model = Model(random.Random(seed))
    for k in range(150):
        model.put(f"app/module_{k:03d}.py", f'"""Module {k}."""\n'.encode())
    initial = int(n_evals * 0.6)
    for _ in range(initial):
        model.new_eval()
    model.put("evals.toml", model.evals_toml())
    tip = model.commit("main", "Initial import of the eval suite", 0)
    made = 1
    removed: list[str] = []
    while made < n_commits:
        rng = model.rng
        if made % 97 == 0 and made + 4 < n_commits:
            # A short side branch merged back: the two lines change different evals.
            names = list(model.evals)
            rng.shuffle(names)
            side_pool, main_pool = names[: len(names) // 2], names[len(names) // 2 :]
            side = tip
            before = dict(model.files)
            for _ in range(2):
                msg = model.step(side_pool)
                side = model.commit("side", msg, rng.randrange(len(PEOPLE)), (side,))
                made += 1
            side_paths = {p for p in set(before) | set(model.files) if before.get(p) != model.files.get(p)}
            msg = model.step(main_pool)
            tip = model.commit("main", msg, rng.randrange(len(PEOPLE)), (tip,))
            made += 1
            # The merge's tree is the union of both lines: the side's paths at their latest content.
            for path in sorted(side_paths):
                model.pending[path] = model.files.get(path)
            tip = model.commit("main", "Merge branch 'side'", rng.randrange(len(PEOPLE)), (tip, side))
            made += 1
            continue
        if model.next_eval < n_evals and rng.random() < (n_evals - initial) / (n_commits * 0.9):
            spec = model.new_eval()
            model.put("evals.toml", model.evals_toml())
            msg = f"{spec['name']}: new eval"
        elif rng.random() < 0.002 and len(model.evals) > 10:
            name = rng.choice(list(model.evals))
            removed.append(name)
            model.evals.pop(name)
            model.put("evals.toml", model.evals_toml())
            msg = f"{name}: retire"
        elif removed and rng.random() < 0.01:
            spec = model.new_eval()
            model.put("evals.toml", model.evals_toml())
            msg = f"{spec['name']}: new eval (replaces {removed.pop()})"
        else:
            msg = model.step(list(model.evals))
        tip = model.commit("main", msg, rng.randrange(len(PEOPLE)), (tip,))
        made += 1
    return b"".join(model.out)


def extra_commits(repo: Path, n: int, seed: int) -> None:
    """`n` more commits on top of HEAD, each touching one eval's dataset or the app."""
    rng = random.Random(seed)
    env = repo_git_env()
    for i in range(n):
        if i % 2 == 0:
            data = sorted((repo / "data").rglob("*.jsonl"))
            target = data[rng.randrange(len(data))]
        else:
            target = repo / "app" / f"module_{rng.randrange(150):03d}.py"
        with target.open("ab") as fh:
            fh.write(f'{{"id": "extra-{seed}-{i}", "input": "x", "reference": "y"}}\n'.encode())
        subprocess.run(["git", "add", "-A"], cwd=repo, check=True, env=env)
        subprocess.run(["git", "commit", "-q", "-m", f"extra change {i}"], cwd=repo, check=True, env=env)


def built_repo(n_evals: int = N_EVALS, n_commits: int = N_COMMITS, seed: int = SEED) -> Path:
    """The benchmark repository, generated once and kept under `bench/.data/`."""
    repo = DATA / f"lineage-v{BUILDER_VERSION}-{n_evals}x{n_commits}-{seed}"
    return fast_import_repo(repo, lambda: generate(n_evals, n_commits, seed), DATA)


def repo_git_env() -> dict[str, str]:
    """The environment git runs in for commits on the benchmark repositories (pinned author and dates)."""
    return git_env(DATA)
