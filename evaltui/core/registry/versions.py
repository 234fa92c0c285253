"""Version sources: inline keys, decorators read with `ast`, keys in YAML/JSON/TOML files.

Every reader works on file *contents*, so the same code resolves a version in the working
tree and in a blob from an old commit. Nothing here imports or runs user code.
"""

from __future__ import annotations

import ast
import datetime as dt
import difflib
import errno
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evaltui.core import fsutil
from evaltui.core.errors import VersionSourceError
from evaltui.core.registry import structured

DECORATOR_NAMES = ("version",)  # bare `@version`, `@evaltui.version`, `@eval.version`, `@x.version`
_FIELDS = ("version", "valid_for", "why")
_EXAMPLE = '@evaltui.version("1.1", valid_for="single-turn QA", why="added multi-hop cases")'


@dataclass(frozen=True)
class VersionInfo:
    """An eval's version and what it says about itself."""

    version: str | None
    valid_for: str | None = None
    why: str | None = None
    source: str = "inline"  # "inline" | "decorator" | "task" (Inspect's Task(version=)) | "key" | "none"
    file: str | None = field(
        default=None, compare=False
    )  # for "key": the file of an include chain that holds the version

    @property
    def shown(self) -> str:
        """The version as text for people: "?" when there is none (never "None")."""
        return self.version if self.version is not None else "?"


def normalise(value: Any) -> str:
    """A version as text: `3.0` → "3.0", `2` → "2", a date → "2026-01-05", strings stripped."""
    if isinstance(value, bool):
        raise VersionSourceError(f'expected a version like "1.1", got the boolean {value}')
    if isinstance(value, float):
        if not math.isfinite(value):
            raise VersionSourceError(f'expected a version like "1.1", got {value}')
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        if not value.strip():
            raise VersionSourceError('expected a version like "1.1", got an empty string')
        return value.strip()
    if isinstance(value, (dt.date, dt.time)):  # YAML/TOML read an unquoted 2026-01-05 as a date
        return value.isoformat()
    raise VersionSourceError(f'expected a version like "1.1", got {_kind(value)}')


# -- decorators ------------------------------------------------------------------------------


def from_decorator(source: bytes | str, function: str, *, filename: str = "<source>") -> VersionInfo:
    """Read `@version(...)` on `function` in Python `source` without importing it.

    Accepts `@version(...)`, `@evaltui.version(...)` and `@eval.version(...)`, positional or
    keyword arguments, on a plain, async or method definition.
    """
    try:
        tree = ast.parse(source, filename=filename)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        line = getattr(exc, "lineno", None)
        raise VersionSourceError(
            f"{filename}{f':{line}' if line else ''}: cannot parse Python "
            f"({structured.one_line(getattr(exc, 'msg', None) or exc)})"
        ) from None
    defs = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    target = next((n for n in defs if n.name == function), None)
    if target is None:
        close = difflib.get_close_matches(function, [n.name for n in defs], n=1, cutoff=0.6)
        hint = next((n for n in defs if close and n.name == close[0]), None)
        if hint is not None:
            raise VersionSourceError(f"{filename}:{hint.lineno}: no function {function!r}; did you mean {hint.name!r}?")
        raise VersionSourceError(f"{filename}: no function {function!r}")
    found = [d for d in target.decorator_list if _decorator_name(d) in DECORATOR_NAMES]
    if not found:
        task = task_version(target, filename, tree)
        if task is not None:
            return task
        raise VersionSourceError(
            f"{filename}:{target.lineno}: {function!r} has no @version(...) decorator; add one, e.g. {_EXAMPLE}"
        )
    if len(found) > 1:
        raise VersionSourceError(
            f"{filename}:{found[1].lineno}: {function!r} has more than one @version(...) decorator; keep one"
        )
    deco = found[0]
    if not isinstance(deco, ast.Call):
        raise VersionSourceError(
            f"{filename}:{deco.lineno}: @version on {function!r} needs its arguments, e.g. {_EXAMPLE}"
        )
    values = _arguments(deco, function, filename)
    if values.get("version") is None:
        raise VersionSourceError(
            f"{filename}:{deco.lineno}: @version(...) on {function!r} has no version; e.g. {_EXAMPLE}"
        )
    try:
        version = normalise(values["version"])
    except VersionSourceError as exc:
        raise VersionSourceError(f"{filename}:{deco.lineno}: @version on {function!r}: {exc}") from None
    return VersionInfo(version=version, valid_for=values.get("valid_for"), why=values.get("why"), source="decorator")


def task_version(
    function: ast.FunctionDef | ast.AsyncFunctionDef, filename: str, module: ast.Module | None = None
) -> VersionInfo | None:
    """`Task(..., version=...)` inside an Inspect `@task` function, when the version is a literal
    or a module-level constant assigned a literal (`TASK_VERSION = "1.0.1"`)."""
    for node in ast.walk(function):
        if isinstance(node, ast.Call) and _decorator_name(node) == "Task":
            for kw in node.keywords:
                if kw.arg == "version":
                    where = f"{filename}:{node.lineno}: Task(version=...) in {function.name!r}"
                    value_node = kw.value
                    if isinstance(value_node, ast.Name) and module is not None:
                        value_node = _constant(module, value_node.id) or value_node
                    value = _literal(value_node, "version", where)
                    try:
                        return VersionInfo(version=normalise(value), source="task")
                    except VersionSourceError as exc:
                        raise VersionSourceError(f"{where}: {exc}") from None
    return None


def _constant(module: ast.Module, name: str) -> ast.expr | None:
    """The value of the last top-level `NAME = ...` (or `NAME: T = ...`) in `module`."""
    found = None
    for stmt in module.body:
        if isinstance(stmt, ast.Assign):
            targets = stmt.targets
        elif isinstance(stmt, ast.AnnAssign):
            targets = [stmt.target]
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            found = stmt.value
    return found


def _decorator_name(node: ast.expr) -> str | None:
    func = node.func if isinstance(node, ast.Call) else node
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else None


def _arguments(deco: ast.Call, function: str, filename: str) -> dict[str, Any]:
    where = f"{filename}:{deco.lineno}: @version on {function!r}"
    if len(deco.args) > len(_FIELDS):
        raise VersionSourceError(f"{where} takes at most 3 arguments (version, valid_for, why), got {len(deco.args)}")
    named = list(zip(_FIELDS, deco.args, strict=False))  # fewer positionals than fields is fine
    for kw in deco.keywords:
        if kw.arg is None:
            raise VersionSourceError(
                f"{where}: **arguments cannot be read without running the code; write "
                "version=..., valid_for=..., why=... out"
            )
        if kw.arg not in _FIELDS:
            raise VersionSourceError(f"{where}: unexpected argument {kw.arg!r}; expected version, valid_for, why")
        named.append((kw.arg, kw.value))
    values: dict[str, Any] = {}
    for name, node in named:
        if name in values:
            raise VersionSourceError(f"{where}: {name!r} is given twice")
        values[name] = _literal(node, name, where)
        if name != "version" and values[name] is not None and not isinstance(values[name], str):
            raise VersionSourceError(f"{where}: {name} must be a string, got {_kind(values[name])}")
    return values


def _literal(node: ast.AST, what: str, where: str) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
        code = ast.unparse(node)
        raise VersionSourceError(
            f"{where}: {what} must be a literal string or number (it is read without running the code), got {code[:40]}"
        ) from None


# -- keys in structured files ------------------------------------------------------------


def parse_structured(content: bytes | str, suffix: str, *, filename: str = "<source>") -> Any:
    """Parse YAML/JSON/TOML content by suffix or format name; "" sniffs (see `structured.parse`)."""
    return structured.parse(content, suffix or None, filename=filename)


class KeyMissing(VersionSourceError):
    """The dotted key is not in the document (an included file may still hold it)."""


def from_key(content: bytes | str, suffix: str, dotted: str, *, filename: str = "<source>") -> VersionInfo:
    """Read a version at `dotted.key` in a YAML/JSON/TOML document (`tasks.0.version` indexes lists).

    `valid_for` and `why` are read from sibling keys of the version key when present. A list
    met where a key is expected (`metadata: [{version: 1.0}]`) is searched for the first
    table holding that key.
    """
    parts = dotted_parts(dotted, filename)
    return at_key(parse_structured(content, suffix, filename=filename), parts, dotted, filename)


def dotted_parts(dotted: str, filename: str) -> list[str]:
    """`a.b.c` as its parts; an error for an empty part."""
    parts = dotted.split(".")
    if not dotted or "" in parts:
        raise VersionSourceError(f"{filename}: {dotted!r} is not a dotted key; expected e.g. 'metadata.version'")
    return parts


def at_key(node: Any, parts: list[str], dotted: str, filename: str) -> VersionInfo:
    """The version at `parts` of a parsed document; `KeyMissing` when a key is not there."""
    parent: Any = None
    for i, part in enumerate(parts):
        where = ".".join(parts[:i]) or "the top level"
        if isinstance(node, dict):
            key = _dict_key(node, part)
            if key is _MISSING:
                known = ", ".join(str(k) for k in list(node)[:8]) or "none"
                raise KeyMissing(
                    f"{filename}: no key {part!r} under {where} (keys there: {known}); looking for {dotted!r}"
                )
            parent, node = node, node[key]
        elif isinstance(node, list):
            if part.isdigit() and int(part) < len(node):
                parent, node = node, node[int(part)]
                continue
            holder = next(
                (item for item in node if isinstance(item, dict) and _dict_key(item, part) is not _MISSING), None
            )
            if holder is None:
                raise KeyMissing(
                    f"{filename}: {where} is a list of {len(node)}; {part!r} is not an index "
                    f"in it (looking for {dotted!r})"
                )
            parent, node = holder, holder[_dict_key(holder, part)]
        else:
            raise VersionSourceError(
                f"{filename}: {where} is {_kind(node)}, not a table, so it has no key {part!r} (looking for {dotted!r})"
            )
    if node is None:
        raise VersionSourceError(f'{filename}: {dotted!r} is empty; give it a version like "1.1"')
    try:
        version = normalise(node)
    except VersionSourceError as exc:
        raise VersionSourceError(f"{filename}: {dotted!r}: {exc}") from None
    siblings = parent if isinstance(parent, dict) else {}
    return VersionInfo(
        version=version,
        valid_for=siblings.get("valid_for") if isinstance(siblings.get("valid_for"), str) else None,
        why=siblings.get("why") if isinstance(siblings.get("why"), str) else None,
        source="key",
        file=filename,
    )


_MISSING = object()


def _dict_key(node: dict[Any, Any], part: str) -> Any:
    """`part` as a key of `node`; YAML may have read a key such as `1` or `2.0` as a number."""
    if part in node:
        return part
    for key in node:
        if not isinstance(key, (str, bool)) and str(key) == part:
            return key
    return _MISSING


def _kind(value: Any) -> str:
    kinds = {
        dict: "a table",
        list: "a list",
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "a boolean",
        type(None): "empty",
    }
    return kinds.get(type(value), type(value).__name__)


# -- resolving an eval -----------------------------------------------------------------------

Reader = Callable[[str], "bytes | None"]


def resolve(eval: Any, read: Reader) -> VersionInfo:
    """Resolve an eval's version with `read(relative_path) -> bytes | None` as the file source.

    `eval` is a registry `Eval` (or anything with its fields). A missing file or a bad
    source raises `VersionSourceError`; an eval that declares no version gives `source="none"`.
    """
    if eval.version_from:
        spec = eval.version_from
        if "#" in spec:
            from evaltui.core.registry import (
                chains,  # it builds on the key readers above
            )

            path, _, dotted = spec.partition("#")
            return chains.from_chain(read, path, dotted, getattr(eval, "version_format", None))
        path, sep, function = spec.rpartition(":")
        if not sep or not function:
            raise VersionSourceError(f"{spec!r}: expected 'file.py:function' or 'file.yaml#dotted.key'")
        return from_decorator(_read(read, path), function, filename=path)
    if eval.version is not None:
        return VersionInfo(version=normalise(eval.version), valid_for=eval.valid_for, why=eval.why, source="inline")
    return VersionInfo(version=None, source="none")


def _read(read: Reader, path: str) -> bytes:
    content = read(path)
    if content is None:
        raise VersionSourceError(f"{path}: file not found")
    return content


def working_tree_reader(root: Path) -> Reader:
    """A `Reader` over the files of the working tree at `root`; nothing outside it is read."""

    # A folder -> where it resolves inside the repository, checked once, with its separator
    # (a file's path is then one concatenation: `os.path.join` costs more, thousands of times).
    folders: dict[str, str | None] = {}

    def read(path: str) -> bytes | None:
        try:
            folder, _, name = path.rpartition("/")
            if not name or name in (".", "..") or ".." in folder.split("/"):
                target = fsutil.inside(root, path)
            else:
                if folder not in folders:
                    real = fsutil.inside(root, folder) if folder else Path(os.path.realpath(root))
                    folders[folder] = None if real is None else os.path.join(real, "")
                inside = folders[folder]
                if inside is None:
                    return None
                candidate = inside + name
                # Only a symlinked file can lead elsewhere once its folder is known to be inside:
                # opened without following links, a link fails and is resolved and checked below.
                if _NOFOLLOW:
                    try:
                        return _read_fd(os.open(candidate, os.O_RDONLY | _NOFOLLOW))
                    except OSError as exc:
                        if exc.errno != errno.ELOOP:
                            return None
                target = Path(candidate) if not os.path.islink(candidate) else fsutil.inside(root, path)
            if target is None:
                return None
            with open(target, "rb") as fh:
                return fh.read()
        except (OSError, ValueError):
            return None

    return read


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _read_fd(fd: int) -> bytes:
    """A whole file from an open descriptor, closed after (leaner than a buffered file object)."""
    try:
        chunks: list[bytes] = []
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    finally:
        os.close(fd)
