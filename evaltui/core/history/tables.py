"""evals.toml blobs to eval definitions, re-reading only the tables whose text changed."""

from __future__ import annotations

from typing import Literal, TypeAlias

from evaltui.core.compat import tomllib
from evaltui.core.history.defs import EvalDef, def_from_table
from evaltui.core.registry.tomlsplit import ROOT_EVALS, HeaderKind, SimpleLine, header_kind, read_table, recall

Defs: TypeAlias = dict[str, EvalDef]  # eval name -> definition, for one evals.toml
Part: TypeAlias = tuple[str, EvalDef | None]  # (eval name, definition), or ("", None) for another table


class Tables:
    """evals.toml blobs → {eval name: EvalDef}, re-reading only the tables whose text changed.

    The text is cut at lines that start with "[". A part that is exactly one `[evals.NAME]`
    table, or another table, is remembered by its bytes. A new version of the file is compared
    with its parent's text: only the tables between the first and the last changed byte are
    cut and looked at. Anything unusual (multi-line strings, sub-tables, arrays that start a
    line with "[", root-level dotted keys) takes the whole-file parse instead.
    """

    _KEEP = 16  # parent texts kept for comparison

    def __init__(self) -> None:
        self.by_blob: dict[str, Defs | None] = {}
        self.delta: dict[str, tuple[str, set[str]]] = {}  # blob -> (parent blob, names of the tables that differ)
        self._texts: dict[str, bytes] = {}  # recent blobs whose parts are all remembered
        self._parts: dict[bytes, Part] = {}  # part -> (eval name, EvalDef) or ("", None) for other tables
        self._pieces: dict[str, EvalDef | None] = {}  # the text of an eval's table(s) -> definition
        self._headers: dict[str, HeaderKind] = {}
        self._lines: dict[str, SimpleLine] = {}  # "key = value" line -> (key, value); None: not simple

    def defs(self, blob: str, content: bytes | None, parent: str | None = None) -> Defs | None:
        """The definitions in one evals.toml blob; None when it cannot be read or parsed."""
        if blob in self.by_blob:
            return self.by_blob[blob]
        result: Defs | None = None
        if content is not None:
            if parent is not None and parent in self._texts:
                before = self.by_blob[parent]
                if before is not None:  # always: a text is kept only for a blob that was read
                    patched = self._patch(content, self._texts[parent], before)
                    if patched is not None:
                        result = patched[0]
                        self.delta[blob] = (parent, patched[1])
            if result is None:
                result = self._split(content)
            if result is not None:
                self._texts[blob] = content
                if len(self._texts) > self._KEEP:
                    del self._texts[next(iter(self._texts))]
            else:
                result = self._group_or_whole(content)
        self.by_blob[blob] = result
        return result

    def _patch(self, text: bytes, before: bytes, defs: Defs) -> tuple[Defs, set[str]] | None:
        """The definitions of `text` from its parent's, and the names of the tables that differ."""
        start = _common_prefix(text, before)
        cut = text.rfind(b"\n[", 0, start)
        if cut < 0:
            return None
        tail = _common_suffix(text, before, min(len(text), len(before)) - start)
        stop = text.find(b"\n[", len(text) - tail)
        stop_before = len(before) if stop < 0 else stop - len(text) + len(before)
        stop = len(text) if stop < 0 else stop
        region = text[cut:stop]
        if b'"""' in region or b"'''" in region:
            return None
        out = dict(defs)
        names: set[str] = set()
        for part in before[cut:stop_before].split(b"\n[")[1:]:
            hit = self._parts.get(part)
            if hit is None:
                return None
            out.pop(hit[0], None)
            names.add(hit[0])
        for part in region.split(b"\n[")[1:]:
            hit = self._parts.get(part) or self._part(part)
            if hit is None:
                return None
            if hit[0]:
                if hit[0] in out:
                    return None  # the same table twice: only the full parser words that error
                if hit[1] is not None:
                    out[hit[0]] = hit[1]
                names.add(hit[0])
        names.discard("")
        return out, names

    def _split(self, text: bytes) -> Defs | None:
        if b'"""' in text or b"'''" in text:
            return None
        parts = (b"\n" + text).split(b"\n[")
        if ROOT_EVALS.search(parts[0].decode("utf-8", "replace")):
            return None
        parts = parts[1:]
        hits: list[Part | None] = list(map(self._parts.get, parts))
        if None in hits:
            for i, hit in enumerate(hits):
                if hit is None:
                    hit = hits[i] = self._part(parts[i])
                    if hit is None:
                        return None
        out: Defs = {}
        for hit in hits:
            if hit is None:
                return None  # not reached: every missing part was filled in or returned
            name, d = hit
            if name:
                if name in out:
                    return None
                if d is not None:
                    out[name] = d
        return out

    def _part(self, part: bytes) -> Part | None:
        """Remember one new part when it is a whole table; None when it needs the full parser."""
        text = part.decode("utf-8", "replace")
        known = recall(text)  # the registry may have just read the same text
        if known is not None:
            hit: Part = (known.name, def_from_table(known.table))
            self._parts[part] = hit
            return hit
        end = text.find("\n")
        line = text if end < 0 else text[:end]
        kind: HeaderKind | Literal[False] = self._headers.get(line, False)
        if kind is False:
            kind = self._headers[line] = header_kind(line)
        if kind == "other":
            hit = ("", None)
            self._parts[part] = hit
            return hit
        if kind is None or kind == "whole" or not kind[1]:
            return None
        table = read_table([text], kind[0], self._lines)
        if table is False:
            return None
        hit = (kind[0], def_from_table(table) if table is not None else None)
        self._parts[part] = hit
        return hit

    def _group_or_whole(self, content: bytes) -> Defs | None:
        text = content.decode("utf-8", "replace")
        if '"""' in text or "'''" in text or ROOT_EVALS.search(("\n" + text).split("\n[", 1)[0]):
            return self._whole(text)
        found = self._group(("\n" + text).split("\n[")[1:])
        return self._whole(text) if found is None else found

    def _group(self, parts: list[str]) -> Defs | None:
        groups: dict[str, list[str]] = {}
        current: list[str] | None = None
        for part in parts:
            end = part.find("\n")
            line = part if end < 0 else part[:end]
            kind: HeaderKind | Literal[False] = self._headers.get(line, False)
            if kind is False:
                kind = self._headers[line] = header_kind(line)
            if kind is None:  # not a header: a line of an array that starts with "["
                if current is not None:
                    current.append(part)
                continue
            if kind == "whole":
                return None
            current = None if kind == "other" else groups.setdefault(kind[0], [])
            if current is not None:
                current.append(part)
        out: Defs = {}
        for name, pieces in groups.items():
            key = "\n[".join(pieces)
            found: EvalDef | Literal[False] | None = self._pieces.get(key, False)
            if found is False:
                table = read_table(pieces, name)
                if table is False:
                    return None
                found = self._pieces[key] = def_from_table(table) if table is not None else None
            if found is not None:
                out[name] = found
        return out

    def _whole(self, text: str) -> Defs | None:
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            return None
        evals = doc.get("evals", {})
        if not isinstance(evals, dict):
            return {}
        return {n: def_from_table(t) for n, t in evals.items() if isinstance(t, dict)}


def _common_prefix(a: bytes, b: bytes) -> int:
    """Length of the common prefix, by binary search over memcmp (memoryview slices copy nothing)."""
    n = min(len(a), len(b))
    view = memoryview(b)
    if a.startswith(view[:n]):
        return n
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a.startswith(view[lo:mid], lo):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_suffix(a: bytes, b: bytes, limit: int) -> int:
    """Length of the common suffix, at most `limit`."""
    la, lb = len(a), len(b)
    view = memoryview(b)
    if a.endswith(view[lb - limit :]):
        return limit
    lo, hi = 0, limit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a.endswith(view[lb - mid : lb - lo], 0, la - lo):
            lo = mid
        else:
            hi = mid - 1
    return lo
