"""Where a key sits in a TOML text, and TOML syntax errors worded for people, both from tomlkit.

tomlkit parses the text (the registry reads the values with tomllib, which is faster); its
typed errors carry the line and column, and a parser that notes where each item starts
gives the position of every key, table and array element.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from evaltui.core.compat import tomllib

KeyPath = tuple[str | int, ...]  # table and key names, and indexes in arrays
Position = tuple[int | None, int | None]

_BARE = re.compile(r"[A-Za-z0-9_\-]+")
_PART = re.compile(r"""\s*("(?:[^"\\]|\\.)*"|'[^'\n]*'|[A-Za-z0-9_\-]+)\s*(?:\.|$)""")


def split_dotted(text: str) -> tuple[str, ...]:
    """`a."b.c".d` → ("a", "b.c", "d"), quoted parts unescaped as TOML reads them."""
    parts = []
    for m in _PART.finditer(text):
        raw = m.group(1)
        if raw[0] in "\"'":
            try:
                raw = next(iter(tomllib.loads(f"{raw} = 0")))  # the TOML reader unescapes quoted keys
            except tomllib.TOMLDecodeError:
                raw = raw[1:-1]
        parts.append(raw)
    return tuple(parts)


def render_key(key: KeyPath) -> str:
    """("rotation", "absences", 0, "member") → "rotation.absences[0].member"."""
    out = ""
    for part in key:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            name = (
                part
                if _BARE.fullmatch(part)
                else '"' + _printable(part.replace("\\", "\\\\").replace('"', '\\"')) + '"'
            )
            out += ("." if out else "") + name
    return out


def suggest(name: str, choices: Iterable[str]) -> str | None:
    """The closest of `choices` to a misspelt `name`, if any is close."""
    matches = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _map(text: str) -> tuple[list[int], dict[int, int], Any, list[Any]]:
    """Line starts, item offsets (by item identity), tomlkit's document of `text` (None if
    unparsable) and the noted items, kept alive with the map so that no noted id is reused."""
    from tomlkit.exceptions import TOMLKitError

    from evaltui.core.registry import tomlparse

    parser = tomlparse.NotingParser(text)
    try:
        doc: Any = parser.parse()
    except (TOMLKitError, RecursionError, ValueError, KeyError):
        doc = None
    return tomlparse.line_starts(text), parser.starts, doc, parser.kept


# The last text mapped and its map: (text, map), at most one (a list, so a thread swaps it whole).
_LAST_MAPPED: list[tuple[str, tuple[list[int], dict[int, int], Any, list[Any]]]] = []


class KeyLocator:
    """Maps key paths to their (line, column), 1-based, in a TOML text.

    Knows table headers, keys (also inside inline tables) and array elements, with the index
    of each `[[array.of.tables]]` entry in the path. On text tomlkit cannot parse it knows
    nothing, and every position is (None, None).
    """

    def __init__(self, text: str):
        from evaltui.core.registry import tomlparse  # tomlkit is imported only when a position is needed

        # One check maps the same evals.toml several times (functions, thresholds, coverage):
        # the last text's map is kept and shared, as nothing changes a map once it is built.
        last = _LAST_MAPPED[0] if _LAST_MAPPED else None
        if last is not None and last[0] == text:
            mapped = last[1]
        else:
            mapped = _map(text)
            _LAST_MAPPED[:] = [(text, mapped)]
        self._starts, self._offsets, self._doc, _kept = mapped
        self._child, self._children, self._position = tomlparse.child_item, tomlparse.children, tomlparse.position

    def find(self, key: KeyPath) -> Position:
        """Position of `key`, or of its nearest enclosing table, or (None, None)."""
        if self._doc is None:
            return None, None
        found: int | None = None
        node: Any = self._doc
        for part in key:
            try:
                node = self._child(node, part)
            except (KeyError, IndexError, TypeError):
                break
            start = self._first(node)
            if start is not None:
                found = start
        return self._position(self._starts, found) if found is not None else (None, None)

    def _first(self, node: Any) -> int | None:
        """Where `node` starts; for a table only implied by its children, where the first of them starts."""
        if id(node) in self._offsets:
            return self._offsets[id(node)]
        starts = [s for child in self._children(node) if (s := self._first(child)) is not None]
        return min(starts) if starts else None


class FileLocator:
    """A `KeyLocator` over a file, built on the first `find`: most checks place nothing, and a large
    evals.toml takes long to map. An unreadable file places every key at (None, None)."""

    def __init__(self, path: Path):
        self.path = path
        self.built: KeyLocator | None = None
        self.failed = False

    def find(self, key: KeyPath) -> Position:
        if self.built is None and not self.failed:
            try:
                self.built = KeyLocator(self.path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError):
                self.failed = True
        return self.built.find(key) if self.built is not None else (None, None)


# -- syntax errors -------------------------------------------------------------------------

_ASSIGNMENT = re.compile(r"([A-Za-z0-9_\-.\"' ]+?)\s*=\s*([^\s\"'\[{#][^#]*?)\s*(?:#.*)?$")


def syntax_error(text: str, fallback: Exception) -> tuple[int | None, int | None, str]:
    """(line, column, message) for a text tomllib rejected (`fallback`): what is wrong, the line, how to fix it.

    tomlkit reads the text again for a typed error with its position and what it was reading;
    an error at the end of the document is placed where the unclosed statement started.
    """
    from tomlkit.exceptions import TOMLKitError

    from evaltui.core.registry import tomlparse  # tomlkit is imported only for a broken file

    parser = tomlparse.NotingParser(text)
    try:
        parser.parse()
    except (TOMLKitError, RecursionError) as exc:
        problem = tomlparse.explain(text, parser, exc)
    else:  # tomlkit reads TOML 1.1 (inline tables over several lines, ...); evals.toml is TOML 1.0
        first = str(fallback).splitlines()[0] if str(fallback) else "invalid TOML"
        return (
            None,
            None,
            (
                first[:1].lower() + first[1:] + "; evals.toml is read as TOML 1.0: keep each "
                "inline table { ... } on one line, without a trailing comma"
            ),
        )
    line, col, what, fix = problem
    lines = text.split("\n")  # TOML lines end at \n only (not at \x85, \u2028, ...)
    source = lines[line - 1].strip() if line is not None and 1 <= line <= len(lines) else ""
    if source:
        bare = _ASSIGNMENT.fullmatch(source)
        if what == "invalid value" and bare and bare.group(2) not in ("true", "false"):
            fix = f'text needs quotes: {_printable(bare.group(1))} = "{_printable(bare.group(2))}"'
        quoted = _printable(source)
        what += f" (in: {quoted[:60] + '...' if len(quoted) > 63 else quoted})"
    return line, col, f"{what}; {fix}" if fix else what


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def describe(value: Any) -> str:
    """`value` as a message shows it: its kind and a short repr, e.g. "an integer 3"."""
    if value is None:
        return "nothing"
    kinds = {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
        dt.datetime: "a date-time",
        dt.date: "a date",
        dt.time: "a time",
    }
    kind = kinds.get(type(value), type(value).__name__)
    if isinstance(value, dict):
        return "a table { ... }" if value else "an empty table {}"
    text = _printable(repr(value))
    return f"{kind} {text if len(text) <= 40 else text[:37] + '...'}"
