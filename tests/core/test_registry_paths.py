"""The registry's path checks read a folder's listing the way they read each file alone, and remember only good answers."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from types import MappingProxyType

import pytest

from evaltui.core.errors import Problem
from evaltui.core.registry.model import Eval, load_registry
from evaltui.core.registry.regcache import parse_noting

# Every kind of entry the checks tell apart, all in one folder (listed once two of them are asked about).
NAMES = [
    "data/a.jsonl",
    "data/b.jsonl",
    "data/in.jsonl",
    "data/out.jsonl",
    "data/dangling.jsonl",
    "data/sub",
    "data/sublink/x.jsonl",
    "data/outdir/x.jsonl",
    "data/outdir/back/a.jsonl",
    "data/missing.jsonl",
    "data/A.JSONL",
    "data/fifo",
    "data/./b.jsonl",
]


def build(tmp_path: Path) -> Path:
    repo, outside = tmp_path / "repo", tmp_path / "outside"
    (repo / "data" / "sub").mkdir(parents=True)
    (outside / "dir").mkdir(parents=True)
    for name in ("a.jsonl", "b.jsonl", "sub/x.jsonl"):
        (repo / "data" / name).write_text("{}\n")
    (outside / "secret.jsonl").write_text("{}\n")
    (outside / "dir" / "x.jsonl").write_text("{}\n")
    os.symlink("a.jsonl", repo / "data" / "in.jsonl")
    os.symlink(outside / "secret.jsonl", repo / "data" / "out.jsonl")
    os.symlink("nowhere", repo / "data" / "dangling.jsonl")
    os.symlink(repo / "data" / "sub", repo / "data" / "sublink")
    os.symlink(outside / "dir", repo / "data" / "outdir")
    os.symlink(repo / "data", outside / "dir" / "back")  # out of the repository and back in
    os.mkfifo(repo / "data" / "fifo")
    return repo


def registry_text(names: list[str]) -> str:
    return "".join(f'[evals.e{i}]\ndataset = "{name}"\n\n' for i, name in enumerate(names))


def problems_by_eval(problems: tuple[Problem, ...]) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for p in problems:
        out.setdefault(p.eval or "", []).append((p.code, p.message))
    return out


def test_a_listed_folder_gives_what_each_file_read_alone_gives(tmp_path):
    repo = build(tmp_path)
    together = parse_noting(repo, registry_text(NAMES))
    problems = problems_by_eval(together.registry.problems)
    for i, name in enumerate(NAMES):
        alone = parse_noting(repo, registry_text([name]))  # the only file of its folder: one lstat
        assert problems.get(f"e{i}", []) == problems_by_eval(alone.registry.problems).get("e0", []), name
        assert together.registry.evals[f"e{i}"].dataset == alone.registry.evals["e0"].dataset, name
        assert alone.paths <= together.paths
    assert problems == {
        "e3": [
            (
                "path-escape",
                f"path {NAMES[3]!r} resolves outside the repository (through a symlink); point at a file inside it",
            )
        ],
        "e4": [("missing-file", f"file {NAMES[4]!r} does not exist")],
        "e5": [
            (
                "missing-file",
                f"{NAMES[5]!r} is a directory; name a file, or use a glob in 'paths' such as \"data/sub/**\"",
            )
        ],
        "e7": [
            (
                "path-escape",
                f"path {NAMES[7]!r} resolves outside the repository (through a symlink); point at a file inside it",
            )
        ],
        "e9": [("missing-file", f"file {NAMES[9]!r} does not exist")],
        "e10": [("missing-file", f"file {NAMES[10]!r} does not exist")],  # names are case-sensitive here
        "e11": [("missing-file", f"file {NAMES[11]!r} does not exist")],  # a pipe is not a file
    }
    assert together.registry.evals["e12"].dataset == "data/b.jsonl"
    assert together.paths == {os.path.normpath(n) for n in NAMES}


def test_a_reference_with_a_problem_is_reported_for_every_eval_naming_it(tmp_path):
    repo = tmp_path
    (repo / "tasks").mkdir()
    (repo / "tasks" / "a.txt").write_text("v: 1\n")
    text = (
        '[evals.one]\nversion_from = "tasks/a.txt#v"\nversion_format = "yaml"\n\n'
        '[evals.two]\nversion_from = "tasks/a.txt#v"\n\n'  # the same file without a format: not readable
        '[evals.three]\nversion_from = "tasks/gone.yaml#v"\n\n'
        '[evals.four]\nversion_from = "tasks/gone.yaml#v"\n\n'
        '[evals.five]\nmetric = "tasks/gone.py:f"\n\n'
        '[evals.six]\nmetric = "tasks/gone.py:f"\n'
    )
    (repo / "evals.toml").write_text(text)
    registry = load_registry(repo, strict=False)
    assert registry.evals["one"].version_from == "tasks/a.txt#v"
    assert registry.evals["two"].version_from is None
    assert [(p.eval, p.code, p.line) for p in registry.problems] == [
        ("two", "schema", 6),
        ("three", "missing-file", 9),
        ("four", "missing-file", 12),
        ("five", "missing-file", 15),
        ("six", "missing-file", 18),
    ]


def test_eval_of_makes_what_the_constructor_makes():
    values = {f.name: f"v-{f.name}" for f in dataclasses.fields(Eval)}
    values["params"] = MappingProxyType({"k": 1})
    made = Eval.of(**values)
    assert made == Eval(**values)
    assert repr(made) == repr(Eval(**values))
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.name = "other"  # type: ignore[misc]
    del values["system"]
    with pytest.raises(TypeError, match="Eval.of needs all 17 fields, got 16"):
        Eval.of(**values)
