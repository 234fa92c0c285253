"""Adopted evals merged into `evals.toml` with tomlkit: comments, layout and existing tables kept."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit
import tomlkit.items
from tomlkit.exceptions import TOMLKitError

from evaltui.core import fsutil
from evaltui.core.compat import tomllib
from evaltui.core.registry import tomlsplit
from evaltui.core.registry.adopt import Adopted, AdoptError
from evaltui.core.registry.model import FILENAME


@dataclass(frozen=True)
class Merge:
    """The new `evals.toml` text and the part of it that was added (what `adopt` prints)."""

    text: str
    added: str
    baseline_before: str | None


def names_in(doc: tomlkit.TOMLDocument) -> set[str]:
    """The eval names a document read by `read_document` has."""
    evals = doc.get("evals")
    return set(evals.keys()) if isinstance(evals, dict) else set()


def read_document(path: Path) -> tomlkit.TOMLDocument:
    """`evals.toml` read with tomlkit (empty when there is no file yet); `AdoptError` if unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return tomlkit.document()
    except (OSError, UnicodeDecodeError) as exc:
        raise AdoptError(f"{path.name}: cannot read it ({exc})") from None
    try:
        return tomlkit.parse(text)
    except TOMLKitError as exc:
        raise AdoptError(f"{path.name}: invalid TOML ({exc}); fix it before adopting") from None


def snippet(name: str, values: dict[str, Any]) -> str:
    """One `[evals.NAME]` table as TOML text; tomlkit quotes the name and renders each value.

    Assembled line by line: a tomlkit table built item by item costs three times as much,
    which shows on a tree of thousands of tasks.
    """
    lines = [f"[evals.{_name(name)}]\n"]
    for key, value in values.items():
        if type(value) is str:
            rendered = _string(value)
        elif isinstance(value, list):
            if not value:
                continue
            if all(type(v) is str for v in value):
                # As tomlkit's arrays write them (one element a line past two); each string is
                # rendered once however many tasks share it (a family's template, say).
                if len(value) > 2:
                    rendered = "[\n" + "".join([f"    {_string(v)},\n" for v in value]) + "]"
                else:
                    rendered = f"[{', '.join([_string(v) for v in value])}]"
            else:
                array = tomlkit.array()
                array.extend(value)
                array.multiline(len(value) > 2)
                rendered = array.as_string()
        else:
            rendered = tomlkit.item(value).as_string()
        lines.append(f"{_key(key)} = {rendered}\n")
    return "".join(lines)


def _name(name: str) -> str:
    """An eval's name as a key, worked out each time (names do not repeat, keys do)."""
    return name if _BARE.fullmatch(name) else tomlkit.key(name).as_string()


@functools.lru_cache(maxsize=64)
def _key(key: str) -> str:
    """A key as tomlkit writes it: bare when it can be (the same few keys come back in every table)."""
    return _name(key)


_BARE = re.compile(r"[A-Za-z0-9_\-]+")


_PLAIN = re.compile(r"[ !#-\[\]-~]*")  # printable ASCII but `"` and `\`: nothing for tomlkit to escape


@functools.lru_cache(maxsize=8192)
def _string(value: str) -> str:
    """A string value as tomlkit writes it (a basic string; quoted as it is when nothing needs escaping)."""
    if _PLAIN.fullmatch(value):
        return f'"{value}"'
    return tomlkit.item(value).as_string()


def merge(path: Path, adopted: list[Adopted], baseline: str | None, doc: tomlkit.TOMLDocument | None = None) -> Merge:
    """`evals.toml` at `path` with `adopted` appended and `[project] baseline` set.

    The existing document is edited only where the baseline goes; the new tables are
    appended to its text, each rendered on its own (a document growing table by table
    costs time in proportion to its size at every step). `doc` is `path` as `read_document`
    gave it, when the caller has it already (a registry of thousands of evals takes seconds
    to read with tomlkit); it is edited.
    """
    doc = read_document(path) if doc is None else doc
    project = doc.get("project")
    if project is None:
        project = tomlkit.table()
        doc.add("project", project)
    elif not isinstance(project, dict):
        raise AdoptError(f"{FILENAME}: [project] is not a table")
    before = project.get("baseline")
    if baseline:
        project["baseline"] = baseline
    evals = doc.get("evals")
    if evals is not None and (not isinstance(evals, dict) or isinstance(evals, tomlkit.items.InlineTable)):
        raise AdoptError(f"{FILENAME}: 'evals' is not a table of [evals.NAME] tables")
    tables = [snippet(item.name, item.table) for item in adopted]
    head = tomlkit.dumps(doc).rstrip("\n")
    text = "\n\n".join([head, *tables]) if head else "\n".join(tables)
    if not text.endswith("\n"):
        text += "\n"
    shown = (f'[project]\nbaseline = "{baseline}"\n' if baseline else "") + "".join(f"\n{t}" for t in tables)
    # Whether the tables fit the document depends on their headers alone (a name defined twice,
    # or under a key that is not a table): each body is tomlkit's rendering of distinct keys.
    try:
        _check_headers(head, tables, evals is None and len({item.name for item in adopted}) == len(adopted))
    except tomllib.TOMLDecodeError as exc:  # e.g. an [evals.NAME] defined by hand under another table
        raise AdoptError(f"{FILENAME}: adding the tables would make it invalid ({exc}); nothing was written") from None
    return Merge(text, shown, str(before) if before is not None else None)


def _check_headers(head: str, tables: list[str], distinct_and_new: bool) -> None:
    """`TOMLDecodeError` when the tables' headers do not fit after `head`."""
    if distinct_and_new:
        # A document without `evals` takes any number of distinct [evals.NAME] tables, so reading
        # it alone is enough (a whole tree adopted at once has thousands of headers to read).
        try:
            if "evals" not in tomlsplit.loads(head):
                return
        except tomllib.TOMLDecodeError:
            pass  # the error is worded from the whole text, as below
    tomlsplit.loads("\n\n".join([head, *(t[: t.index("\n")] for t in tables)]))


def write(path: Path, merged: Merge) -> None:
    """Replace `evals.toml` in one step (a temporary file renamed over it)."""
    fsutil.atomic_write(path, merged.text)
