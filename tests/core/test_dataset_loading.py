"""Loading a dataset to run: a rerun of unchanged bytes reuses the parse, changed bytes never do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evaltui.core.registry import datasets
from evaltui.core.registry.datasets import DatasetError, load_dataset


def write(path: Path, rows: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_unchanged_bytes_reuse_the_parse_and_changed_bytes_are_read_again(tmp_path: Path) -> None:
    data = tmp_path / "qa.jsonl"
    write(data, [{"id": "a", "input": "q1", "reference": "r1"}, {"id": "b", "input": "q2", "reference": "r2"}])
    first = load_dataset(tmp_path, "qa.jsonl")
    assert load_dataset(tmp_path, "qa.jsonl") is first

    write(data, [{"id": "a", "input": "q1", "reference": "CHANGED"}, {"id": "b", "input": "q2", "reference": "r2"}])
    second = load_dataset(tmp_path, "qa.jsonl")
    assert second.references == ("CHANGED", "r2") and second.sha256 != first.sha256

    # The same bytes under another path are that path's dataset, not the first one's.
    (tmp_path / "copy.jsonl").write_bytes(data.read_bytes())
    assert load_dataset(tmp_path, "copy.jsonl").path == "copy.jsonl"


def test_a_bad_line_fails_every_load_not_only_the_first(tmp_path: Path) -> None:
    (tmp_path / "bad.jsonl").write_text('{"id": "a"}\nnot json\n', encoding="utf-8")
    for _ in range(2):
        with pytest.raises(DatasetError, match=r"bad.jsonl:2: invalid JSON"):
            load_dataset(tmp_path, "bad.jsonl")


def test_the_memory_of_loaded_datasets_stays_bounded(tmp_path: Path) -> None:
    for n in range(datasets.LOADED_MAX + 3):
        write(tmp_path / f"d{n}.jsonl", [{"id": f"c{n}", "input": "q", "reference": "r"}])
        load_dataset(tmp_path, f"d{n}.jsonl")
    assert len(datasets.LOADED) == datasets.LOADED_MAX


def test_the_files_held_stay_under_the_byte_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(datasets, "LOADED_MAX_BYTES", 300)
    for n in range(4):
        rows = [{"id": f"c{n}", "input": "q" * 80, "reference": "r"}]
        write(tmp_path / f"e{n}.jsonl", rows)
        load_dataset(tmp_path, f"e{n}.jsonl")
    held = [key[0] for key in datasets.LOADED]
    assert held[-1] == "e3.jsonl" and "e0.jsonl" not in held
    assert sum(size for _, size in datasets.LOADED.values()) <= 300
