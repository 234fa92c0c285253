"""Version sources: inline keys, decorators read with `ast`, keys in YAML/JSON/TOML files.

Every reader works on file *contents*, so the same code resolves a version in the working
tree and in a blob from an old commit. Nothing here imports or runs user code.
"""

from __future__ import annotations

import ast
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import yaml

from evaltui.core.errors import VersionSourceError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DECORATOR_NAMES = ("version",)  # bare `@version`, `@evaltui.version`, `@eval.version`, `@x.version`
_FIELDS = ("version", "valid_for", "why")


@dataclass(frozen=True)
class VersionInfo:
    """An eval's version and what it says about itself."""

    version: str | None
    valid_for: str | None = None
    why: str | None = None
    source: str = "inline"  # "inline" | "decorator" | "key" | "none"


def normalise(value: Any) -> str:
    """A version as text: `3.0` → "3.0", `2` → "2", strings unchanged (stripped)."""
    if isinstance(value, bool):
        raise VersionSourceError(f"expected a version, got the boolean {value}")
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (int, str)):
        return str(value).strip()
    raise VersionSourceError(f"expected a version string or number, got {type(value).__name__}")


def from_decorator(source: bytes | str, function: str, *, filename: str = "<source>") -> VersionInfo:
    """Read `@version(...)` on `function` in Python `source` without importing it."""
    try:
        tree = ast.parse(source, filename=filename)
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None)
        raise VersionSourceError(
            f"{filename}{f':{line}' if line else ''}: cannot parse Python ({getattr(exc, 'msg', exc)})"
        ) from None
    target = None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function:
            target = node
            break
    if target is None:
        raise VersionSourceError(f"{filename}: no function {function!r}")
    for deco in target.decorator_list:
        if not isinstance(deco, ast.Call):
            continue
        name = deco.func.attr if isinstance(deco.func, ast.Attribute) else getattr(deco.func, "id", None)
        if name not in DECORATOR_NAMES:
            continue
        values: dict[str, Any] = {}
        for position, arg in enumerate(deco.args):
            if position >= len(_FIELDS):
                raise VersionSourceError(f"{filename}:{deco.lineno}: @version takes at most 3 positional arguments")
            values[_FIELDS[position]] = _literal(arg, filename, _FIELDS[position])
        for kw in deco.keywords:
            if kw.arg not in _FIELDS:
                raise VersionSourceError(
                    f"{filename}:{deco.lineno}: unexpected @version argument {kw.arg!r}; expected version, "
                    "valid_for, why"
                )
            values[kw.arg] = _literal(kw.value, filename, kw.arg)
        if values.get("version") is None:
            raise VersionSourceError(f"{filename}:{deco.lineno}: @version(...) on {function!r} has no version")
        return VersionInfo(
            version=normalise(values["version"]),
            valid_for=_opt_str(values.get("valid_for"), filename, "valid_for"),
            why=_opt_str(values.get("why"), filename, "why"),
            source="decorator",
        )
    raise VersionSourceError(f"{filename}:{target.lineno}: {function!r} has no @version(...) decorator")


def _literal(node: ast.AST, filename: str, what: str) -> Any:
    try:
        value = ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        raise VersionSourceError(
            f"{filename}:{getattr(node, 'lineno', '?')}: @version {what} must be a literal string or number"
        ) from None
    return value


def _opt_str(value: Any, filename: str, what: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise VersionSourceError(f"{filename}: @version {what} must be a string, got {type(value).__name__}")


def parse_structured(content: bytes | str, suffix: str, *, filename: str = "<source>") -> Any:
    """Parse YAML/JSON/TOML content by file suffix."""
    text = content.decode("utf-8", errors="replace") if isinstance(content, bytes) else content
    try:
        if suffix in (".yaml", ".yml"):
            return yaml.safe_load(text)
        if suffix == ".json":
            return json.loads(text)
        if suffix == ".toml":
            return tomllib.loads(text)
    except (yaml.YAMLError, json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise VersionSourceError(f"{filename}: cannot parse {suffix[1:].upper()}: {exc}") from None
    raise VersionSourceError(f"{filename}: unsupported file type {suffix!r}; expected .yaml, .yml, .json or .toml")


def from_key(content: bytes | str, suffix: str, dotted: str, *, filename: str = "<source>") -> VersionInfo:
    """Read a version at `dotted.key` in a YAML/JSON/TOML document.

    `valid_for` and `why` are read from sibling keys of the version key when present.
    """
    data = parse_structured(content, suffix, filename=filename)
    parts = dotted.split(".")
    node = data
    for i, part in enumerate(parts):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            parent, node = node, node[int(part)]
        elif isinstance(node, dict) and part in node:
            parent, node = node, node[part]
        else:
            where = ".".join(parts[:i]) or "the top level"
            raise VersionSourceError(f"{filename}: no key {part!r} under {where} (looking for {dotted!r})")
    if node is None:
        raise VersionSourceError(f"{filename}: {dotted!r} is empty")
    siblings = parent if isinstance(parent, dict) else {}
    return VersionInfo(
        version=normalise(node),
        valid_for=siblings.get("valid_for") if isinstance(siblings.get("valid_for"), str) else None,
        why=siblings.get("why") if isinstance(siblings.get("why"), str) else None,
        source="key",
    )


Reader = Callable[[str], "bytes | None"]


def resolve(eval: Any, read: Reader) -> VersionInfo:
    """Resolve an eval's version with `read(relative_path) -> bytes | None` as the file source.

    `eval` is a registry `Eval` (or anything with its fields). A missing file or a bad
    source raises `VersionSourceError`; an eval that declares no version gives `source="none"`.
    """
    if eval.version_from:
        spec = eval.version_from
        if "#" in spec:
            path, _, dotted = spec.partition("#")
            content = read(path)
            if content is None:
                raise VersionSourceError(f"{path}: file not found")
            return from_key(content, Path(path).suffix.lower(), dotted, filename=path)
        path, _, function = spec.rpartition(":")
        content = read(path)
        if content is None:
            raise VersionSourceError(f"{path}: file not found")
        return from_decorator(content, function, filename=path)
    if eval.version is not None:
        return VersionInfo(version=str(eval.version), valid_for=eval.valid_for, why=eval.why, source="inline")
    return VersionInfo(version=None, source="none")


def working_tree_reader(root: Path) -> Reader:
    """A `Reader` over the files of the working tree at `root`."""

    def read(path: str) -> bytes | None:
        try:
            return (root / path).read_bytes()
        except OSError:
            return None

    return read
