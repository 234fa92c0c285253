"""evals.toml read table by table: plain `[evals.NAME]` tables with the C JSON decoder, the rest with tomllib.

A registry of thousands of evals is thousands of small tables of `key = "text"` lines and
arrays of paths; tomllib, written in Python, spends most of a check reading them. Here the
text is cut at lines that start with "[", each plain eval table is read line by line (a line
whose value is also JSON, read once per distinct line; a multi-line array of such values),
and everything else goes to tomllib in one piece. Whatever could read differently (multi-line
strings, indented headers, sub-tables, control characters, a table twice) takes the
whole-file parse, so the result always equals `tomllib.loads`, errors included.

The history reads the same text again (evals.toml at HEAD): the tables of the last document
read here are remembered by their text (`recall`).
"""

from __future__ import annotations

import enum
import json
import re
from typing import Any, Literal, NamedTuple, NoReturn, TypeAlias

from evaltui.core.compat import tomllib
from evaltui.core.registry.tomlpos import split_dotted

HEADER = re.compile(
    r"""\[?\s*((?:"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[A-Za-z0-9_\-]+)"""
    r"""(?:\s*\.\s*(?:"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[A-Za-z0-9_\-]+))*)\s*\]\]?\s*(?:#.*)?"""
)
ROOT_EVALS = re.compile(r"""(?m)^\s*["']?evals["']?\s*[.=]""")
# Text the line reader must not see: a header or array line after indentation, a control
# character other than tab and line ends, a carriage return without its line feed. Three
# checks: one pattern of the three alternatives tries every position (4x slower).
_INDENTED_BRACKET = re.compile(r"\n[ \t]+\[")
# The control characters are deleted from the UTF-8 bytes rather than searched for: a C loop
# at any text (a str's translate is that fast on ASCII only), about 2x faster than a regex class.
_CONTROL_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_LONE_CR = re.compile(r"\r(?!\n)")


def _unusual(text: str) -> bool:
    return bool(
        _INDENTED_BRACKET.search(text)
        or _has_control(text.encode("utf-8", "surrogatepass"))
        or ("\r" in text and _LONE_CR.search(text))
    )


def _has_control(raw: bytes) -> bool:
    return len(raw.translate(None, _CONTROL_BYTES)) != len(raw)


# What a line after "[" is: "whole" (only the full parser can read it), "other" (not an eval's
# table), (eval name, whether it is the eval's own table), or None (not a header).
HeaderKind: TypeAlias = Literal["whole", "other"] | tuple[str, bool] | None


class Mark(enum.Enum):
    """Where a multi-line array starts (the value of a `key = [` line) or ends (its "]" line)."""

    ARRAY_START = enum.auto()
    ARRAY_END = enum.auto()


# A `key = value` line read as JSON: (key, value) (the value `Mark.ARRAY_START` for `key = [`),
# True for a blank or comment line, None otherwise.
SimpleLine: TypeAlias = tuple[str, object] | Literal[True] | None
# A line of a multi-line array: (its value, whether a comma follows), `Mark.ARRAY_END`, or None (not plain).
Element: TypeAlias = tuple[object, bool] | Literal[Mark.ARRAY_END] | None

_LAST: dict[str, Recalled] = {}  # the text of each eval table of the last document -> its name and table


class Recalled(NamedTuple):
    """An eval table of the last document read: its name and what it holds."""

    name: str
    table: dict[str, Any]


def recall(part: str) -> Recalled | None:
    """The eval table read from exactly this text (without its "["), if the last document had it."""
    return _LAST.get(part)


def loads(text: str) -> dict[str, Any]:
    """`tomllib.loads(text)`, faster on a registry of many plain eval tables; `TOMLDecodeError` alike."""
    return loads_located(text)[0]


def loads_located(text: str) -> tuple[dict[str, Any], dict[str, int]]:
    """`loads(text)`, and the line of each eval read table by table (none after tomllib's whole-file parse).

    The lines come with the split (the registry needs every eval's line): the lines a scan of
    the header lines finds, as every line that starts with "[" began a table here.
    """
    lines: dict[str, int] = {}
    doc = _split_loads(text, lines) if '"""' not in text and "'''" not in text and not _unusual(text) else None
    return (doc, lines) if doc is not None else (tomllib.loads(text), {})


def _split_loads(text: str, lines: dict[str, int]) -> dict[str, Any] | None:
    parts = ("\n" + text).split("\n[")
    others = [parts[0]]
    line = parts[0].count("\n")  # line feeds up to the current part's "[", as TOML counts lines
    evals: dict[str, dict[str, Any]] = {}
    first_eval = None  # how many other parts come before the first eval table
    memo: dict[str, SimpleLine] = {}
    elements: dict[str, Element] = {}
    headers: dict[str, HeaderKind] = {}
    remembered: dict[str, Recalled] = {}
    for part in parts[1:]:
        line += 1  # the line feed before this "["
        header_line = line
        line += part.count("\n")
        end = part.find("\n")
        header = part if end < 0 else part[:end]
        # The usual `[evals.NAME]`: with no lone "\r" in the text, it is also an _EVAL_HEADER.
        plain = _PLAIN_HEADER.fullmatch(header)
        if plain:
            name = plain.group(1)
            lines[name] = header_line
        else:
            kind: HeaderKind | Literal[False] = headers.get(header, False)
            if kind is False:
                kind = headers[header] = header_kind(header)
            if kind == "other":
                others.append("[" + part)
                continue
            if not isinstance(kind, tuple) or not kind[1] or not _EVAL_HEADER.fullmatch(header):
                return None  # not a header, [evals] itself, a table inside an eval's, a name with escapes
            name = kind[0]
            lines[name] = header_line
        table = _read_lines(part, memo, elements)
        if table is None or name in evals:
            return None
        evals[name] = table
        remembered[part] = Recalled(name, table)
        if first_eval is None:
            first_eval = len(others)
    try:
        doc: dict[str, Any] = tomllib.loads("\n".join(others))
        if "evals" in doc:
            return None
        if first_eval is not None:
            # "evals" goes where tomllib puts it: after the keys the text defines before its first table.
            before = tomllib.loads("\n".join(others[:first_eval]))
            doc = {**{k: doc[k] for k in before}, "evals": evals, **{k: v for k, v in doc.items() if k not in before}}
    except tomllib.TOMLDecodeError:
        return None  # the whole-file parse words the error
    _LAST.clear()
    _LAST.update(remembered)
    return doc


_PLAIN_HEADER = re.compile(r"evals\.([A-Za-z0-9_\-]+)\][ \t\r]*")  # the usual `[evals.NAME]`, bare
# An eval's header as `loads` reads it without tomllib: a bare name, or a quoted one without
# escapes or control characters (its text is the name), TOML's own whitespace, one bracket.
_EVAL_HEADER = re.compile(
    r"""[ \t]*evals[ \t]*\.[ \t]*(?:[A-Za-z0-9_\-]+|"[^"\\\x00-\x08\x0a-\x1f\x7f]*"|'[^'\x00-\x08\x0a-\x1f\x7f]*')"""
    r"""[ \t]*\][ \t]*(?:#[^\n]*)?\r?"""
)


def header_kind(line: str) -> HeaderKind:
    """ "whole" | "other" | (eval name, is the eval's own table) | None (not a header), for a line after "["."""
    plain = _PLAIN_HEADER.fullmatch(line)
    if plain:
        return (plain.group(1), True)
    m = HEADER.fullmatch(line)
    if not m:
        return None
    keys = split_dotted(m.group(1))
    if not keys or keys[0] != "evals":
        return "other"
    if len(keys) == 1 or line.startswith("["):  # [evals] or [[evals.x]]: leave it to the full parser
        return "whole"
    return (keys[1], len(keys) == 2)


_KEY_VALUE = re.compile(r"([A-Za-z0-9_\-]+)[ \t]*=[ \t]*(.*)")
_ARRAY_START = re.compile(r"[ \t]*([A-Za-z0-9_\-]+)[ \t]*=[ \t]*\[[ \t]*\r?")


def _no_constant(name: str) -> NoReturn:
    raise ValueError(name)  # JSON's NaN and Infinity are not TOML


_JSON = json.JSONDecoder(strict=True, parse_constant=_no_constant)


def read_table(
    pieces: list[str],
    name: str,
    memo: dict[str, SimpleLine] | None = None,
    *,
    strict: bool = False,
    elements: dict[str, Element] | None = None,
) -> dict[str, Any] | Literal[False] | None:
    """The `[evals.NAME]` table from its text; False when that text is not valid TOML.

    Simple `key = value` lines whose value is also JSON (strings, numbers, booleans, flat
    arrays) are read with the C JSON decoder, once per distinct line; anything else goes to
    tomllib (with `strict`: None instead, for the caller's whole-file parse). Values may be
    shared between tables: nothing here or later mutates them.
    """
    if len(pieces) == 1:
        table = _read_lines(pieces[0], {} if memo is None else memo, {} if elements is None else elements)
        if table is not None:
            return table
    if strict:
        return None
    try:
        doc = tomllib.loads("[" + "\n[".join(pieces))
    except tomllib.TOMLDecodeError:
        return False
    found = doc.get("evals", {}).get(name)
    return found if isinstance(found, dict) else None


def _read_lines(text: str, memo: dict[str, SimpleLine], elements: dict[str, Element]) -> dict[str, Any] | None:
    # The lines after the header, each read once per distinct text (a path shared by many
    # tables, a `paths = [` line); None when a line needs tomllib.
    table: dict[str, Any] = {}
    lines = iter(text.split("\n"))
    next(lines)
    for line in lines:
        item = memo.get(line, False)
        if item is False:
            item = memo[line] = simple_line(line)
        if item is True:
            continue
        if item is None:
            return None
        key, value = item
        if value is Mark.ARRAY_START:
            # `key = [` with one plain value a line (as `adopt` writes `paths`), then "]".
            values: list[object] = []
            comma = True  # TOML separates the values with commas; the last may have one too
            for line in lines:
                got = elements.get(line)
                if got is None:
                    got = elements[line] = element(line)
                if got is Mark.ARRAY_END:
                    break
                if got is None or not comma:
                    return None
                values.append(got[0])
                comma = got[1]
            else:
                return None
            value = values
        if key in table:
            return None
        table[key] = value
    return table


def _decodable(text: str) -> bool:
    # JSON reads `\/` and lone surrogates (`\ud800`), TOML refuses them; DEL must be escaped in TOML.
    # Most lines have no escape at all: one search instead of three.
    if "\x7f" in text:
        return False
    return "\\" not in text or ("\\/" not in text and "\\ud" not in text.lower())


def simple_line(line: str) -> SimpleLine:
    """(key, value) for a simple line, True for a blank or comment line, None for anything else."""
    raw, line = line, line.strip(" \t\r")
    if not line or line[0] == "#":
        return True
    m = _KEY_VALUE.fullmatch(line)
    if m is None or not _decodable(line):
        return None
    if m.group(2) == "[":
        return (m.group(1), Mark.ARRAY_START) if _ARRAY_START.fullmatch(raw) else None
    try:
        value, end = _JSON.raw_decode(m.group(2))
    except ValueError:
        return None
    rest = m.group(2)[end:].lstrip(" \t")
    if (rest and rest[0] != "#") or not _plain(value):
        return None
    return (m.group(1), value)


def element(line: str) -> Element:
    """The value of one line of a multi-line array (`"text",`) and whether a comma follows it, when
    it is a plain JSON-readable one; `Mark.ARRAY_END` for the closing "]"."""
    text = line.strip(" \t\r")
    if text == "]":
        return Mark.ARRAY_END
    if not text or text[0] not in '"-0123456789' or not _decodable(text):
        return None
    try:
        value, end = _JSON.raw_decode(text)
    except ValueError:
        return None
    rest = text[end:].strip(" \t")
    if rest not in ("", ",") or not isinstance(value, (str, int, float)) or isinstance(value, bool):
        return None
    return (value, rest == ",")


def _plain(value: object) -> bool:
    if isinstance(value, list):
        return all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value)
    return isinstance(value, (str, int, float, bool))
