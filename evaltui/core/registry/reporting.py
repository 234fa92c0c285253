"""Problems with file, line, column and key, and the typed reads every part of the schema shares."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from evaltui.core.errors import Problem
from evaltui.core.registry.tomlpos import KeyLocator, KeyPath, describe, render_key, split_dotted, suggest

# Eval tables are located on every load (`Eval.line`); a scan of header lines does that
# without building the full locator, which is built only when a problem needs a position.
# A quoted part (`[evals."x-1.1"]`, as `adopt` writes a task name with a dot) is found too, when
# it has no escape in it: the full locator, built for one such eval, reads the whole file.
_HEADER_LINE = re.compile(r"""\n[ \t]*\[((?:[A-Za-z0-9_.\- ]|"[^"\\\n]*"|'[^'\n]*')+)\][ \t\r]*(?:#[^\n]*)?(?=\n|$)""")


def finite(value: Any) -> bool:
    """False for inf and nan, which no key of the schema accepts."""
    return not isinstance(value, float) or math.isfinite(value)


class Reporter:
    """The document being validated and the problems found in it so far."""

    def __init__(self, text: str, root: Path, filename: str, check_files: bool):
        self.text = text
        self.root = root
        self.filename = filename
        self.check_files = check_files
        self.problems: list[Problem] = []
        self._locator: KeyLocator | None = None
        self._headers: dict[tuple[str, ...], int] | None = None
        self.eval_lines: dict[str, int] = {}  # `[evals.NAME]` header lines the TOML read found on its way
        self.listings: dict[str, list[str]] = {}  # directory walks shared by the globs in `paths`
        self.folders_inside: dict[str, bool] = {}
        # Folders whose files were looked at: their entries by name once a second file is asked about.
        self.entries: dict[str, dict[str, os.DirEntry[str]] | None] = {}
        self.paths_ok: dict[str, str] = {}  # path values found good (a template named by many evals)
        self.refs_ok: dict[tuple[str | bool, ...], str] = {}  # metric and version references read without a problem
        self.looked_at: set[str] = set()  # every repository path whose kind (file, folder, link, absent) was read

    @property
    def locator(self) -> KeyLocator:
        if self._locator is None:
            self._locator = KeyLocator(self.text)
        return self._locator

    def table_line(self, *key: str) -> int | None:
        """Line of a `[a.b]` header, from a quick scan; the full locator is built only for problems."""
        if len(key) == 2 and key[0] == "evals":
            line = self.eval_lines.get(key[1])
            if line is not None:
                return line
        if self._headers is None:
            # Header lines only, found by one search over the text; a line's number is the count
            # of line feeds before it (as TOML counts lines).
            self._headers = {}
            text = "\n" + self.text
            lineno, pos = 0, 0
            for m in _HEADER_LINE.finditer(text):
                lineno += text.count("\n", pos, m.start() + 1)
                pos = m.start() + 1
                name = m.group(1)
                if '"' in name or "'" in name:
                    parts = split_dotted(name)
                else:  # spaces are rare
                    parts = tuple(name.split(".") if " " not in name else (p.strip() for p in name.split(".")))
                self._headers.setdefault(parts, lineno)
        line = self._headers.get(tuple(key))
        return line if line is not None else self.locator.find(key)[0]

    def problem(self, severity: str, code: str, key: KeyPath, message: str, eval: str | None = None) -> None:
        line, col = self.locator.find(key)
        self.problems.append(
            Problem(
                severity,
                code,
                message,
                file=self.filename,
                line=line,
                column=col,
                key=render_key(key) or None,
                eval=eval,
            )
        )

    def error(self, key: KeyPath, message: str, code: str = "schema", eval: str | None = None) -> None:
        self.problem("error", code, key, message, eval)

    def unknown_keys(self, table: Mapping[str, Any], allowed: tuple[str, ...], key: KeyPath) -> None:
        for name in table:
            if name not in allowed:
                hint = suggest(name, allowed)
                self.problem(
                    "warning",
                    "unknown-key",
                    (*key, name),
                    f"unknown key {name!r}"
                    + (f"; did you mean {hint!r}?" if hint else f" (expected one of: {', '.join(allowed)})"),
                )

    def typed(
        self,
        table: Mapping[str, Any],
        name: str,
        kinds: tuple[type, ...],
        what: str,
        key: KeyPath,
        default: Any = None,
        eval: str | None = None,
    ) -> Any:
        if name not in table:
            return default
        value = table[name]
        if type(value) in kinds and type(value) is not float:  # the usual case: exactly a kind asked for
            return value
        ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
        if ok and not finite(value):
            ok, what = False, f"{what}, a finite one"
        if not ok:
            self.error((*key, name), f"expected {what}, got {describe(value)}", eval=eval)
            return default
        return value

    def str_list(
        self, table: Mapping[str, Any], name: str, key: KeyPath, example: str, eval: str | None = None
    ) -> tuple[str, ...]:
        if name not in table:
            return ()
        value = table[name]
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.error(
                (*key, name), f"expected a list of strings like {name} = {example}, got {describe(value)}", eval=eval
            )
            return ()
        return tuple(value)

    def array(self, t: Mapping[str, Any], name: str, key: KeyPath) -> list[Mapping[str, Any]]:
        value = t.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.error((*key, name), f"expected [[{render_key((*key, name))}]] tables, got {describe(value)}")
            return []
        return value

    @staticmethod
    def member_hint(name: str, known: set[str]) -> str:
        hint = suggest(name, known)
        if hint:
            return f"; did you mean {hint!r}?"
        return f"; expected one of: {', '.join(sorted(known))}" if known else "; add them to [rotation] members"
