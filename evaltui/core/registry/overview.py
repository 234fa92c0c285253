"""What the eval list and the Overview show about each eval, computed without running code."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaltui.core.errors import VersionSourceError
from evaltui.core.fsutil import atomic_write, cache_dir
from evaltui.core.registry import chains, regcache, versions
from evaltui.core.registry.model import Eval, Registry, read_registry_text


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
    from evaltui.core.registry.datasets import read_cases  # not on start-up's path: the list counts no cases

    try:
        found = read_cases((root / path).read_bytes(), path)
    except OSError:
        return DatasetInfo(path, 0, (), ())
    tags: dict[str, int] = {}
    for case in found.cases:
        for tag in case.tags:
            tags[tag] = tags.get(tag, 0) + 1
    bad = tuple(p.line for p in found.problems if p.code == "dataset-line" and p.line is not None)
    ordered = tuple(sorted(tags.items(), key=lambda kv: (-kv[1], kv[0])))
    return DatasetInfo(path, len(found.cases), ordered, bad)


class VersionMemo:
    """Versions read from the working tree, remembered by (source, stamps of its files) in a JSON file.

    Opening the app re-reads only the version sources that changed since the last time, so
    neither the Python parser nor the YAML library is needed for a repository at rest. The
    stamps cover every file of an include chain. A memo that cannot be read is ignored and
    rewritten.
    """

    FORMAT = 2

    def __init__(self, path: Path | None):
        self.path = path
        self.entries: dict[str, list[Any]] = {}
        self.chains: dict[str, tuple[str, ...]] = {}  # version_from -> its include chain, as `resolve` found it
        self.changed = False
        self.seen: dict[str, list[Any]] = {}  # file -> its stamp, taken once
        if path is not None:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(data, dict) and data.get("format") == self.FORMAT:
                    self.entries = dict(data.get("entries") or {})
            except (OSError, ValueError):
                pass

    def _stamps(self, root: Path, files: list[str]) -> list[list[Any]] | None:
        # Each file is stat'ed once per memo: the evals of a task family share their templates.
        seen = self.seen
        try:
            out = []
            for f in files:
                stamp = seen.get(f)
                if stamp is None:
                    st = os.stat(os.path.join(root, f))
                    stamp = seen[f] = [f, st.st_mtime_ns, st.st_size]
                out.append(stamp)
            return out
        except (OSError, ValueError):
            return None

    def resolve(self, ev: Eval, root: Path, read: versions.Reader) -> versions.VersionInfo:
        """`versions.resolve`, answered from the memo when the version file and its includes are unchanged."""
        file = ev.version_file
        if file is None or ev.version_from is None:
            return versions.resolve(ev, read)
        known = self.entries.get(ev.version_from)
        if known and known[0] == self._stamps(root, [s[0] for s in known[0]]):
            if "#" in ev.version_from:
                # The stamped files are the chain: unchanged, so is the chain, and no YAML is parsed.
                self.chains[ev.version_from] = tuple(s[0] for s in known[0])
            return versions.VersionInfo(**known[1])
        info = versions.resolve(ev, read)  # a VersionSourceError is not remembered
        chain = list(chain_files(ev, read)) if "#" in ev.version_from else [file]
        stamps = self._stamps(root, chain)
        if stamps is not None:
            self.entries[ev.version_from] = [
                stamps,
                {
                    "version": info.version,
                    "valid_for": info.valid_for,
                    "why": info.why,
                    "source": info.source,
                    "file": info.file,
                },
            ]
            self.changed = True
        return info

    def chain(self, ev: Eval, read: versions.Reader) -> tuple[str, ...]:
        """`chain_files(ev, read)`, from the memo when `resolve` found the chain's files unchanged."""
        known = self.chains.get(ev.version_from or "")
        return known if known is not None else chain_files(ev, read)

    def save(self) -> None:
        if self.path is None or not self.changed:
            return
        try:
            atomic_write(self.path, json.dumps({"format": self.FORMAT, "entries": self.entries}))
        except OSError:
            pass  # a read-only checkout still works, just without the memo


def chain_files(ev: Eval, read: versions.Reader) -> tuple[str, ...]:
    """The version file of `ev` and every file its include chain reaches (empty for other sources)."""
    if not ev.version_from or "#" not in ev.version_from:
        return ()
    return chains.include_chain(read, ev.version_from.partition("#")[0], ev.version_format)


def summarize(
    registry: Registry,
    *,
    datasets: bool = True,
    memo: Path | None = None,
    listings: dict[str, list[str]] | None = None,
) -> tuple[EvalSummary, ...]:
    """A summary per eval, in `evals.toml` order. One broken eval never hides the others.

    `datasets=False` leaves `dataset` empty: the list does not need case counts, and a large
    dataset should be read only when its eval is opened. `memo` is a `VersionMemo` file;
    `listings` are the glob expansions the registry's read just made (not made again).
    """
    # One parse per file: the templates of an include chain are shared by many evals.
    read = chains.Documents(versions.working_tree_reader(registry.root))
    remembered = VersionMemo(memo)
    out = []
    for ev in registry.evals.values():
        try:
            info, error = remembered.resolve(ev, registry.root, read), None
        except VersionSourceError as exc:
            info, error = versions.VersionInfo(None, source="error"), str(exc)
        dataset = read_dataset(registry.root, ev.dataset) if ev.dataset and datasets else None
        files = registry.eval_files(ev.name, listings)
        if ev.version_from and "#" in ev.version_from:
            # The files of an include chain are the eval's files too (their history is its lineage).
            files = tuple(sorted({*files, *remembered.chain(ev, read)}))
        out.append(EvalSummary(ev, info, error, files, dataset))
    remembered.save()
    return tuple(out)


def load_overview(root: Path) -> tuple[Registry, tuple[EvalSummary, ...]]:
    """Registry (not strict: problems ride along) and list summaries; `RegistryError` if unreadable.

    A repository at rest is answered from the previous start's read (`regcache`), kept while
    every file it looked at is unchanged.
    """
    root = Path(root).resolve()
    text = read_registry_text(root)
    cache = regcache.OverviewCache(root, text)
    kept = cache.load()
    if kept is not None:
        return kept
    noted = regcache.parse_noting(root, text)
    registry = noted.registry
    try:
        memo = cache_dir(registry.state_dir) / "versions.json"
    except OSError:
        memo = None  # a read-only checkout: read every version afresh
    summaries = summarize(registry, datasets=False, memo=memo, listings=noted.listings)
    cache.save(noted, summaries, memo)
    return registry, summaries
