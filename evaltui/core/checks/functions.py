"""Metric and model functions named in evals.toml must exist: read with `ast`, never imported."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from evaltui.core.errors import Problem
from evaltui.core.registry.model import Registry
from evaltui.core.registry.tomlpos import FileLocator, suggest


def defined_names(source: bytes | str, filename: str = "<source>") -> set[str]:
    """Names a module binds at its top level (functions, classes, assignments, imports).

    Definitions under a module-level `if`, `try` or `with` count, so a function defined one
    way on one platform and another way elsewhere is still found. `SyntaxError` propagates.
    """
    tree = ast.parse(source, filename=filename)
    return set(_bound(tree.body))


def _bound(body: list[ast.stmt]) -> Iterator[str]:
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield node.name
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                yield from _targets(target)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            yield from _targets(node.target)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name != "*":
                    yield alias.asname or alias.name.split(".")[0]
        elif isinstance(node, ast.If):
            yield from _bound(node.body)
            yield from _bound(node.orelse)
        elif isinstance(node, ast.Try):
            yield from _bound(node.body)
            yield from _bound(node.orelse)
            yield from _bound(node.finalbody)
            for handler in node.handlers:
                yield from _bound(handler.body)
        elif isinstance(node, ast.With):
            yield from _bound(node.body)


def _targets(node: ast.expr) -> Iterator[str]:
    if isinstance(node, ast.Name):
        yield node.id
    elif isinstance(node, (ast.Tuple, ast.List)):
        for element in node.elts:
            yield from _targets(element)


def _star_import(source: bytes | str) -> bool:
    tree = ast.parse(source)
    return any(isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names) for n in tree.body)


def function_problems(registry: Registry) -> list[Problem]:
    """`missing-function` for each metric (`evals.X.metric`) or model callable (`models.X.callable`)
    whose file does not define the name, `unreadable-function` when the file is not valid Python.

    A missing file is already a registry problem and is not reported again.
    """
    locator = FileLocator(registry.path)
    refs: list[tuple[tuple[str, ...], str, str | None]] = []
    for ev in registry.evals.values():
        if ev.metric:
            refs.append((("evals", ev.name, "metric"), ev.metric, ev.name))
    for model in registry.models.values():
        if model.callable:
            refs.append((("models", model.name, "callable"), model.callable, None))
    parsed: dict[str, set[str] | str | None] = {}
    problems = []
    for key, ref, eval_name in refs:
        file, _, function = ref.rpartition(":")
        if file not in parsed:
            parsed[file] = _names_in(registry.root, file)
        names = parsed[file]
        if names is None:
            continue
        line, column = locator.find(key)
        if isinstance(names, str):
            code, message = (
                "unreadable-function",
                (f"{file} is not valid Python ({names}), so {function!r} cannot be found in it"),
            )
        elif function not in names:
            hint = suggest(function, sorted(n for n in names if not n.startswith("_")))
            code, message = (
                "missing-function",
                (f"{file} defines no function {function!r}" + (f"; did you mean {hint!r}?" if hint else "")),
            )
        else:
            continue
        problems.append(
            Problem(
                "error",
                code,
                message,
                file=registry.path.name,
                line=line,
                column=column,
                key=".".join(key),
                eval=eval_name,
            )
        )
    return problems


def _names_in(root: Path, file: str) -> set[str] | str | None:
    """The names `file` binds; a message when it does not parse; None when it cannot be read or
    imports `*` (whatever it pulls in cannot be known without importing)."""
    try:
        source = (root / file).read_bytes()
    except OSError:
        return None
    try:
        if _star_import(source):
            return None
        return defined_names(source, file)
    except SyntaxError as exc:
        return f"line {exc.lineno}: {exc.msg}"
    except (ValueError, RecursionError) as exc:
        return str(exc)
