"""lm-eval `include:` chains: a task file inherits keys (its version among them) from the files it includes."""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from typing import Any, NamedTuple

from evaltui.core.errors import VersionSourceError
from evaltui.core.registry import structured
from evaltui.core.registry.versions import KeyMissing, VersionInfo, at_key, dotted_parts

Reader = Callable[[str], "bytes | None"]
_ABSENT = object()
_UNREAD = object()


class Documents:
    """Chain files read and parsed once each (a tree scan meets the same template many times)."""

    def __init__(self, read: Reader):
        self.read = read
        self.parsed: dict[tuple[str, str | None], Any] = {}
        self.raw: dict[str, bytes | None] = {}
        self.included: dict[tuple[str, str | None], tuple[str, ...]] = {}
        self.keys: dict[tuple[str, str | None, str], VersionInfo | KeyMissing] = {}
        self.found: dict[tuple[str, str | None, str], VersionInfo | None] = {}
        self.joined: dict[tuple[str, str], str] = {}  # (a folder, an include written in it) -> the path

    def __call__(self, path: str) -> bytes | None:
        """The raw file, read once: a `Documents` is a reader too."""
        if path not in self.raw:
            self.raw[path] = self.read(path)
        return self.raw[path]

    def load(self, path: str, declared: str | None = None) -> Any:
        """The parsed document, `_ABSENT` when the file does not exist; `VersionSourceError` if unparsable."""
        key = (path, declared)
        if key not in self.parsed:
            content = self(path)
            try:
                self.parsed[key] = _ABSENT if content is None else parse_file(content, path, declared)
            except VersionSourceError as exc:
                self.parsed[key] = exc
        found = self.parsed[key]
        if isinstance(found, VersionSourceError):
            raise found.with_traceback(None)
        return found

    def includes(self, path: str, declared: str | None, doc: Any) -> tuple[str, ...]:
        """`includes_of` the document `load(path, declared)` returned, worked out once."""
        key = (path, declared)
        found = self.included.get(key)
        if found is None:
            found = self.included[key] = includes_of(doc, path, self.joined)
        return found

    def at(self, path: str, declared: str | None, doc: Any, dotted: str) -> VersionInfo | KeyMissing:
        """`at_key` on the document `load(path, declared)` returned, worked out once (a template's
        version is looked up for every task that includes it); a missing key is returned, not
        raised (most files of a chain do not hold the version)."""
        key = (path, declared, dotted)
        found = self.keys.get(key)
        if found is None:
            try:
                found = at_key(doc, dotted_parts(dotted, path), dotted, path)
            except KeyMissing as exc:
                found = exc
            self.keys[key] = found
        return found

    def find(self, path: str, declared: str | None, doc: Any, dotted: str) -> VersionInfo | None:
        """`at`, with None for a missing key; a table without the key's first part is passed over
        without writing the error `at` would keep (a task file seldom holds its own version)."""
        key = (path, declared, dotted)
        if key in self.found:
            return self.found[key]
        if isinstance(doc, dict) and dotted.partition(".")[0] not in doc:
            for name in doc:
                if type(name) is not str:  # a number YAML read (`1:`) may still match the part
                    break
            else:
                self.found[key] = None
                return None
        at = self.at(path, declared, doc, dotted)
        found = self.found[key] = None if isinstance(at, KeyMissing) else at
        return found


INCLUDE_KEYS = ("include", "extends")
MAX_DEPTH = 32


def includes_of(doc: Any, path: str, joined: dict[tuple[str, str], str] | None = None) -> tuple[str, ...]:
    """The files `doc` (read from `path`) includes, relative to its folder; later ones override earlier ones.

    A path that would leave the repository is returned as it is written, for the caller to refuse.
    `joined` remembers each include's path by its folder (a family's tasks include the same template).
    """
    if not isinstance(doc, dict):
        return ()
    found: list[str] = []
    for key in INCLUDE_KEYS:
        value = doc.get(key)
        if value is None:
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and item.strip():
                if joined is None:
                    found.append(join(path, item.strip()))
                    continue
                # `join` depends on the text up to the last slash only.
                where = (path[: path.rfind("/") + 1], item)
                target = joined.get(where)
                if target is None:
                    target = joined[where] = join(path, item.strip())
                found.append(target)
    return tuple(found)


def join(including: str, target: str) -> str:
    """`target` as written in `including`, relative to the repository root."""
    if target.startswith("/"):
        return target
    return posixpath.normpath(posixpath.join(posixpath.dirname(including), target))


def _escapes(path: str) -> bool:
    return path.startswith(("/", "../")) or path == ".."


_PARSED: dict[tuple[bytes, str, str | None], Any] = {}  # (content, path, declared) -> its document or error
_PARSED_MAX = 50_000


def parse_file(content: bytes, path: str, declared: str | None) -> Any:
    """A chain file parsed by its suffix, else the declared format, else a sniffed one.

    The same bytes at the same path are parsed once per process: `check` reads each version
    file in the working tree and at HEAD (the same bytes, mostly), and the history reads a
    file for its includes before it reads its version. Documents are only ever read.
    """
    key = (content, path, declared)
    found = _PARSED.get(key, _UNREAD)
    if found is _UNREAD:
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        try:
            found = structured.parse(content, structured.format_for(path, declared), filename=path)
        except VersionSourceError as exc:
            found = exc
        _PARSED[key] = found
    if isinstance(found, VersionSourceError):
        raise found.with_traceback(None)
    return found


def from_chain(read: Reader | Documents, path: str, dotted: str, declared: str | None = None) -> VersionInfo:
    """The version at `dotted` in `path`, else the first one found along its include chain.

    The file that holds it is `VersionInfo.file`. Cycles and chains deeper than `MAX_DEPTH`
    stop with an error naming the files.
    """
    docs = read if isinstance(read, Documents) else Documents(read)
    dotted_parts(dotted, path)  # an invalid key fails before any file is read
    first_missing: KeyMissing | None = None
    seen: list[str] = []
    stack: list[tuple[str, str | None]] = [(path, None)]
    while stack:
        current, by = stack.pop()
        if current in seen:
            raise VersionSourceError(f"{by}: include {current!r} makes a cycle ({' -> '.join([*seen, current])})")
        if len(seen) >= MAX_DEPTH:
            raise VersionSourceError(f"{path}: the include chain is deeper than {MAX_DEPTH} files")
        if _escapes(current):
            raise VersionSourceError(f"{by}: include {current!r} leaves the repository")
        seen.append(current)
        fmt = declared if current == path else None
        doc = docs.load(current, fmt)
        if doc is _ABSENT:
            raise VersionSourceError(
                f"{path}: file not found" if by is None else f"{by}: includes {current!r}, which does not exist"
            )
        found = docs.at(current, fmt, doc, dotted)
        if not isinstance(found, KeyMissing):
            return found
        first_missing = first_missing or found
        # The last include overrides the ones before it, so it is searched first.
        stack.extend((inc, current) for inc in docs.includes(current, fmt, doc))
    assert first_missing is not None
    if len(seen) > 1:
        raise KeyMissing(f"{first_missing} (nor in the files it includes: {', '.join(seen[1:])})")
    raise first_missing.with_traceback(None)


def include_chain(read: Reader | Documents, path: str, declared: str | None = None) -> tuple[str, ...]:
    """`path` and every file it includes, directly or not, that exists and stays in the repository.

    Unreadable files end their branch of the chain quietly: the version reader reports them.
    """
    return walk(read, path, declared).files


class Chain(NamedTuple):
    """A file's include chain walked once: its files, and the documents `from_chain` would search."""

    path: str
    declared: str | None
    files: tuple[str, ...]  # what `include_chain` returns
    # The documents of the first files, up to anything `from_chain` refuses (a cycle, a missing
    # or unparsable file, an include leaving the repository): it visits them in this order.
    searched: tuple[Any, ...]

    def version(self, docs: Documents, dotted: str) -> VersionInfo | None:
        """What `from_chain(docs, path, dotted, declared)` returns; None where it raises."""
        path, declared, files, searched = self
        try:
            dotted_parts(dotted, path)
            for file, doc in zip(files, searched, strict=False):  # searched may stop short
                found = docs.find(file, declared if file == path else None, doc, dotted)
                if found is not None:
                    return found
        except VersionSourceError:  # a version that is there but unreadable stops `from_chain` too
            return None
        return None


def walk(read: Reader | Documents, path: str, declared: str | None = None) -> Chain:
    """The include chain of `path`, walked in `from_chain`'s order (a scan wants its files and its version)."""
    docs = read if isinstance(read, Documents) else Documents(read)
    out: list[str] = []
    searched: list[Any] = []
    sound = True  # nothing `from_chain` would stop at has been met yet
    stack = [path]
    parsed, included = docs.parsed, docs.included  # looked up directly: a scan walks thousands of chains
    while stack and len(out) < MAX_DEPTH:
        current = stack.pop()
        if current in out or _escapes(current):
            sound = False
            continue
        fmt = declared if current == path else None
        doc = parsed.get((current, fmt), _UNREAD)
        if doc is _UNREAD or isinstance(doc, VersionSourceError):
            try:
                doc = docs.load(current, fmt)
            except VersionSourceError:
                out.append(current)
                sound = False
                continue
        if doc is _ABSENT:
            sound = False
            continue
        out.append(current)
        if sound:
            searched.append(doc)
        includes = included.get((current, fmt))
        stack.extend(includes if includes is not None else docs.includes(current, fmt, doc))
    return Chain(path, declared, tuple(out), tuple(searched))
