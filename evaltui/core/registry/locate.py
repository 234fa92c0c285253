"""Where an eval's pieces are written: the file and line of its table, version, metric and other files.

Read with `ast` and the YAML composer, never by importing or running anything; a line that
cannot be found is None (the file is still named), never an error.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any, NamedTuple

from evaltui.core import fsutil
from evaltui.core.registry import structured
from evaltui.core.registry.model import FILENAME, Eval


class FileLine(NamedTuple):
    """A repository file to open, what it is to the eval, and the line to open it at (None: the top)."""

    label: str  # "evals.toml", "version", "metric", "dataset", "prompt", "system", "file"
    path: str  # relative to the repository root
    line: int | None = None


def eval_files(root: Path, ev: Eval) -> tuple[FileLine, ...]:
    """The eval's table in evals.toml, then each of its files that exists, at the line that matters."""
    out = [FileLine(FILENAME, FILENAME, ev.line)]
    version = version_location(root, ev)
    if version is not None and version.path != FILENAME:  # an inline version is the table itself
        out.append(version)
    if ev.metric_file:
        out.append(FileLine("metric", ev.metric_file, function_line(root, ev.metric_file, ev.metric_function or "")))
    for label, path in (("dataset", ev.dataset), ("prompt", ev.prompt), ("system", ev.system)):
        if path:
            out.append(FileLine(label, path))
    listed = {f.path for f in out}
    out += [FileLine("file", p) for p in ev.fixed_files if p not in listed]
    return tuple(f for f in out if _exists(root, f.path))


def version_location(root: Path, ev: Eval) -> FileLine | None:
    """The file holding the eval's version and the line of its decorator or key (inline: its table)."""
    if not ev.version_from:
        return FileLine("version", FILENAME, ev.line) if ev.version else None
    if "#" in ev.version_from:
        path, key = ev.version_from.split("#", 1)
        text = _text(root, path)
        fmt = structured.format_for(path, ev.version_format)
        return FileLine("version", path, key_line(text, key, fmt) if text is not None else None)
    path, function = ev.version_from.rsplit(":", 1)
    return FileLine("version", path, decorator_line(root, path, function))


def function_line(root: Path, path: str, function: str) -> int | None:
    """The line of `def function` in a Python file (its first decorator's line when decorated)."""
    node = _function(root, path, function)
    if node is None:
        return None
    return min([node.lineno, *(d.lineno for d in node.decorator_list)])


def decorator_line(root: Path, path: str, function: str) -> int | None:
    """The line of the `@version(...)` decorator on `function`, else of the function itself."""
    node = _function(root, path, function)
    if node is None:
        return None
    for deco in node.decorator_list:
        target = deco.func if isinstance(deco, ast.Call) else deco
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", None)
        if name == "version":
            return deco.lineno
    return node.lineno


def key_line(text: str, dotted: str, fmt: str | None) -> int | None:
    """The line of a dotted key in a YAML, JSON or TOML document (YAML: exactly; the others: the last part)."""
    parts = dotted.split(".")
    if (fmt or structured.sniff(text)) == "yaml":
        found = _yaml_key_line(text, parts)
        if found is not None:
            return found
    pattern = re.compile(rf"""^\s*["']?{re.escape(parts[-1])}["']?\s*[:=]""")
    return next((n for n, line in enumerate(text.splitlines(), 1) if pattern.match(line)), None)


def _yaml_key_line(text: str, parts: list[str]) -> int | None:
    import yaml

    try:
        node: Any = yaml.compose(text, Loader=structured.yaml_loader())
    except (yaml.YAMLError, ValueError, RecursionError):
        return None
    line = None
    for part in parts:
        if not isinstance(node, yaml.MappingNode):
            return None
        match = next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part), None)
        if match is None:
            return None
        line, node = match[0].start_mark.line + 1, match[1]
    return line


def _function(root: Path, path: str, function: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    text = _text(root, path)
    if text is None or not function:
        return None
    try:
        tree = ast.parse(text, filename=path)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    defs = (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))
    return next((n for n in defs if n.name == function), None)


def _text(root: Path, path: str) -> str | None:
    target = fsutil.inside(root, path)
    try:
        return target.read_text(encoding="utf-8-sig", errors="replace") if target is not None else None
    except OSError:
        return None


def _exists(root: Path, path: str) -> bool:
    target = fsutil.inside(root, path)
    return target is not None and target.is_file()
