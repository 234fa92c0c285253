"""lm-evaluation-harness task YAML: one eval per task, its include chain and `!function` modules as its files."""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

from evaltui.core.errors import VersionSourceError
from evaltui.core.registry import chains, structured
from evaltui.core.registry.adopt import Candidate, walk
from evaltui.core.registry.versions import working_tree_reader

HARNESS = "lm-eval"
VERSION_KEY = "metadata.version"
_FUNCTION_TAG = re.compile(rb"!function\s+([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)+)")


def scan(root: Path, dirs: list[str], skipped: list[str]) -> list[Candidate]:
    """Every task defined by a `*.yaml`/`*.yml` under `dirs`: `task: name`, a `task:` list, or the
    inline task tables of a group config. Group configs that only name other tasks add nothing."""
    tasks = _Tasks(root)
    docs = tasks.docs
    out: list[Candidate] = []
    for path in walk(root, dirs, (".yaml", ".yml")):
        try:
            doc = docs.load(path)
        except VersionSourceError as exc:
            if b"task" in (docs(path) or b""):
                skipped.append(f"{path}: not adopted, {exc}")
            continue
        if not isinstance(doc, dict) or "task" not in doc:
            continue  # a template, a group that names its tasks elsewhere, or not lm-eval at all
        task = doc["task"]
        if isinstance(task, str) and task.strip():
            out.append(tasks.candidate(path, task.strip(), VERSION_KEY))
        elif isinstance(task, list):
            group = "group" in doc
            for i, item in enumerate(task):
                # A table that only names a task and overrides a few settings (`num_fewshot`) is a
                # use of that task, not a new one; a definition says where its data comes from.
                if isinstance(item, dict) and isinstance(item.get("task"), str) and _defines(item):
                    key = f"task.{i}.{VERSION_KEY}"
                    out.append(tasks.candidate(path, item["task"].strip(), key, fallback=VERSION_KEY))
                elif isinstance(item, str) and not group:
                    out.append(tasks.candidate(path, item.strip(), VERSION_KEY))
    return out


def _defines(item: dict[str, Any]) -> bool:
    return any(key in item for key in ("dataset_path", "include", "doc_to_text", "custom_dataset"))


class _Tasks:
    """The tasks of one tree, with what their files share (templates, `!function` modules) worked out once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.docs = chains.Documents(working_tree_reader(root))
        self.modules: dict[str, list[str]] = {}  # a file -> its `!function` modules
        self.exists: dict[tuple[str, bytes], str | None] = {}  # a `!function` tag's file in a folder, if there
        self.suffixless: dict[str, bool] = {}  # a file holding a version -> whether its format must be said

    def candidate(self, path: str, task: str, key: str, fallback: str | None = None) -> Candidate:
        docs, modules = self.docs, self.modules
        chain = chains.walk(docs, path)
        files = list(chain.files)
        for file in chain.files:
            found = modules.get(file)
            if found is None:
                found = modules[file] = function_modules(docs(file) or b"", file, self.root, self.exists)
            if found:
                files += [f for f in found if f not in files]
        table: dict[str, Any] = {"description": f"lm-eval task {task}"}
        info = None
        for dotted in (key, fallback) if fallback else (key,):
            info = chain.version(docs, dotted)  # where `from_chain` would fail, the next key is tried
            if info is not None:
                key = dotted
                break
        if info is not None:
            holder = info.file or path
            table["version_from"] = f"{holder}#{key}"
            suffixless = self.suffixless.get(holder)
            if suffixless is None:
                suffixless = self.suffixless[holder] = structured.format_for(holder) is None
            if suffixless:
                table["version_format"] = "yaml"  # a suffix-less template: say so rather than sniff
            files = [f for f in files if f != holder]
        elif files:
            table["version"] = "0"  # the task declares none: "0" until someone bumps it
        table["paths"] = files
        return Candidate(HARNESS, task, path, table)


def function_modules(
    content: bytes, path: str, root: Path, exists: dict[tuple[str, bytes], str | None] | None = None
) -> list[str]:
    """The `.py` files of the `!function module.fn` tags in `content` (modules relative to its folder).

    `exists` remembers each tag's file by its folder, or None when it is not there (a family's
    tasks name the same module)."""
    found: list[str] = []
    if b"!function" not in content:
        return found
    folder = path[: path.rfind("/") + 1]  # `posixpath.dirname(path)` depends on this alone: a fine cache key
    exists = {} if exists is None else exists
    for m in _FUNCTION_TAG.finditer(content):
        key = (folder, m.group(1))
        if key in exists:
            rel = exists[key]
        else:
            module = m.group(1).decode().rsplit(".", 1)[0]
            rel = posixpath.normpath(posixpath.join(posixpath.dirname(path), module.replace(".", "/") + ".py"))
            there = not rel.startswith("../") and (root / rel).is_file()
            rel = exists[key] = rel if there else None
        if rel is not None and rel not in found:
            found.append(rel)
    return found
