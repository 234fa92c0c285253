"""Where a key sits in a TOML text, so a problem can name its line and column."""

from __future__ import annotations

import difflib
import re
from typing import Iterable

KeyPath = tuple  # of str (table and key names) and int (index in an array of tables)

_HEADER = re.compile(r"^\s*(\[\[|\[)\s*(.+?)\s*(\]\]|\])\s*(?:#.*)?$")
_KEY = re.compile(r"""^\s*((?:"(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_\-]+)(?:\s*\.\s*(?:"(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_\-]+))*)\s*=""")
_PART = re.compile(r"""\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_\-]+)\s*(?:\.|$)""")


def split_dotted(text: str) -> tuple[str, ...]:
    """`a."b.c".d` → ("a", "b.c", "d")."""
    parts = []
    for m in _PART.finditer(text):
        raw = m.group(1)
        parts.append(raw[1:-1] if raw[0] in "\"'" else raw)
    return tuple(parts)


def render_key(key: KeyPath) -> str:
    """("rotation", "absences", 0, "member") → "rotation.absences[0].member"."""
    out = ""
    for part in key:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            name = part if re.fullmatch(r"[A-Za-z0-9_\-]+", part) else f'"{part}"'
            out += ("." if out else "") + name
    return out


def suggest(name: str, choices: Iterable[str]) -> str | None:
    """The closest of `choices` to a misspelt `name`, if any is close."""
    matches = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


class KeyLocator:
    """Maps key paths to (line, column), 1-based, from a light scan of the text.

    A full TOML parse already succeeded (or failed with its own position); this scan only
    needs table headers and `key =` starts, skipping multi-line strings.
    """

    def __init__(self, text: str):
        self._where: dict[tuple, tuple[int, int]] = {}
        counters: dict[tuple, int] = {}
        table: tuple = ()
        in_multiline: str | None = None
        for lineno, line in enumerate(text.splitlines(), start=1):
            if in_multiline:
                if in_multiline in line:
                    in_multiline = None
                continue
            header = _HEADER.match(line)
            if header and not _KEY.match(line):
                names = split_dotted(header.group(2))
                if header.group(1) == "[[":
                    index = counters.get(names, -1) + 1
                    counters[names] = index
                    table = (*names, index)
                    self._where.setdefault((*names,), (lineno, line.index("[") + 1))
                else:
                    table = names
                self._where.setdefault(table, (lineno, line.index("[") + 1))
                continue
            key = _KEY.match(line)
            if key:
                path = (*table, *split_dotted(key.group(1)))
                col = len(line) - len(line.lstrip()) + 1
                for depth in range(len(table) + 1, len(path) + 1):
                    self._where.setdefault(path[:depth], (lineno, col))
                rest = line[key.end():]
                for quote in ('"""', "'''"):
                    if rest.count(quote) == 1:
                        in_multiline = quote

    def find(self, key: KeyPath) -> tuple[int | None, int | None]:
        """Position of `key`, or of its nearest enclosing table, or (None, None)."""
        key = tuple(key)
        while key:
            if key in self._where:
                return self._where[key]
            key = key[:-1]
        return None, None
