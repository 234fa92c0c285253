"""What the eval list and the Overview show about each eval, computed without running code."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from evaltui.core import versions
from evaltui.core.errors import VersionSourceError
from evaltui.core.registry import Eval, Registry, load_registry


@dataclass(frozen=True)
class DatasetInfo:
    """Case count and tags of an eval's JSONL dataset (read, never executed)."""

    path: str
    cases: int
    tags: tuple[tuple[str, int], ...]  # (tag, cases with it), most first
    bad_lines: tuple[int, ...] = ()  # 1-based line numbers that are not a JSON object


@dataclass(frozen=True)
class EvalSummary:
    """One eval as the list and the Overview tab show it."""

    eval: Eval
    version: versions.VersionInfo
    version_error: str | None
    files: tuple[str, ...]
    dataset: DatasetInfo | None

    @property
    def name(self) -> str:
        return self.eval.name


def read_dataset(root: Path, path: str) -> DatasetInfo:
    """Count cases and tags in a JSONL dataset; malformed lines are listed, not fatal."""
    cases = 0
    tags: dict[str, int] = {}
    bad: list[int] = []
    try:
        with (root / path).open("rb") as fh:
            for lineno, raw in enumerate(fh, start=1):
                if not raw.strip():
                    continue
                try:
                    case = json.loads(raw)
                except ValueError:
                    bad.append(lineno)
                    continue
                if not isinstance(case, dict):
                    bad.append(lineno)
                    continue
                cases += 1
                case_tags = case.get("tags") or []
                if isinstance(case_tags, list):
                    for tag in case_tags:
                        if isinstance(tag, str):
                            tags[tag] = tags.get(tag, 0) + 1
    except OSError:
        return DatasetInfo(path, 0, (), ())
    ordered = tuple(sorted(tags.items(), key=lambda kv: (-kv[1], kv[0])))
    return DatasetInfo(path, cases, ordered, tuple(bad))


def summarize(registry: Registry, *, datasets: bool = True) -> tuple[EvalSummary, ...]:
    """A summary per eval, in `evals.toml` order. One broken eval never hides the others.

    `datasets=False` leaves `dataset` empty: the list does not need case counts, and a large
    dataset should be read only when its eval is opened.
    """
    read = versions.working_tree_reader(registry.root)
    out = []
    for ev in registry.evals.values():
        try:
            info, error = versions.resolve(ev, read), None
        except VersionSourceError as exc:
            info, error = versions.VersionInfo(None, source="error"), str(exc)
        dataset = read_dataset(registry.root, ev.dataset) if ev.dataset and datasets else None
        out.append(EvalSummary(ev, info, error, registry.eval_files(ev.name), dataset))
    return tuple(out)


def load_overview(root: Path) -> tuple[Registry, tuple[EvalSummary, ...]]:
    """Registry (not strict: problems ride along) and list summaries; `RegistryError` if unreadable."""
    registry = load_registry(root, strict=False)
    return registry, summarize(registry, datasets=False)
