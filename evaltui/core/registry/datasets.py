"""Datasets: `{"id", "input", "reference", "tags"}` per JSONL line, read fast and checked line by line.

`read_cases` is the one reader (cases and problems); `load_dataset` is what a run needs.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from evaltui.core.errors import EvaltuiError, Problem


class DatasetError(EvaltuiError):
    """A dataset file that cannot be read or has a bad line."""


@dataclass(frozen=True)
class Dataset:
    """A dataset's cases as columns, and the sha256 of its bytes."""

    path: str
    sha256: str
    ids: tuple[str, ...]
    inputs: tuple[Any, ...]
    references: tuple[Any, ...]


def whole_file_values(text: str) -> list[Any] | None:
    """Every line's value, parsed as one JSON array; None when the lines must be parsed one by one.

    ~3x faster than a parse per line. A blank line makes ",," (invalid) and a line holding two
    values changes the count, so either gives None.
    """
    body = text.rstrip()
    if not body or body[0].isspace():
        return None
    try:
        values = json.loads("[" + body.replace("\n", ",") + "]")
    except (json.JSONDecodeError, RecursionError):
        return None
    if not isinstance(values, list) or len(values) != body.count("\n") + 1:
        return None
    return values


def parse_jsonl(data: bytes, name: str) -> tuple[list[Any], list[int]]:
    """The value of each non-blank JSONL line and its line number; `DatasetError` naming the first bad line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{name}: not UTF-8 text (byte {exc.start})") from None
    values = whole_file_values(text)
    if values is not None:
        return values, list(range(1, len(values) + 1))
    values, numbers = [], []
    for number, line in enumerate(text.split("\n"), 1):
        if not line or line.isspace():
            continue
        try:
            values.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{name}:{number}: invalid JSON ({exc.msg} at column {exc.colno})") from None
        numbers.append(number)
    if not values and text.strip():
        raise DatasetError(f"{name}: not JSON lines")
    return values, numbers


@dataclass(frozen=True)
class Case:
    """One dataset case: its id, tags, line and the object itself."""

    id: str
    tags: tuple[str, ...] = ()
    line: int | None = None
    input: Any = None
    reference: Any = None
    data: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)


class LooseLine(NamedTuple):
    """A non-blank line that is not a case (not JSON, no usable id, a repeated id), as written."""

    line: int
    text: str


@dataclass(frozen=True)
class CaseFile:
    """What one JSONL dataset holds: its cases, the problems found (with lines) and the lines that are not cases."""

    cases: tuple[Case, ...]
    problems: tuple[Problem, ...] = ()
    loose: tuple[LooseLine, ...] = ()


def _is_id(value: Any) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


def read_cases(data: bytes | str, filename: str, eval: str | None = None) -> CaseFile:
    """Every case of a JSONL dataset; a bad line or a repeated id is a problem naming its line, never fatal.

    The one reader of datasets: coverage, the overview, case diffs and runs all read cases here.
    """
    problems: list[Problem] = []
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            problems.append(
                Problem(
                    "error",
                    "dataset-line",
                    f"not UTF-8 text (byte {exc.start})",
                    file=filename,
                    line=data[: exc.start].count(b"\n") + 1,
                    eval=eval,
                )
            )
            text = data.decode("utf-8", "replace")
    else:
        text = data.removeprefix("\ufeff")
    lines = text.split("\n")

    def bad(code: str, message: str, number: int, severity: str = "error") -> None:
        problems.append(Problem(severity, code, message, file=filename, line=number, eval=eval))

    cases: list[Case] = []
    loose: list[LooseLine] = []
    seen: dict[str, int] = {}
    for number, row in _rows(text):
        if isinstance(row, json.JSONDecodeError):
            bad("dataset-line", f"invalid JSON ({row.msg} at column {row.colno})", number)
            loose.append(LooseLine(number, lines[number - 1].strip()))
            continue
        if not isinstance(row, dict) or not _is_id(row.get("id")):
            bad("dataset-line", 'expected an object with an "id"', number)
            loose.append(LooseLine(number, lines[number - 1].strip()))
            continue
        case_id = row["id"] if type(row["id"]) is str else str(row["id"])
        if case_id in seen:
            bad("dataset-duplicate-id", f"duplicate id {case_id!r}", number)
            loose.append(LooseLine(number, lines[number - 1].strip()))
            continue
        seen[case_id] = number
        tags = row.get("tags", [])
        if isinstance(tags, str):
            tags = [tags]
        if not isinstance(tags, list):
            bad("dataset-tags", f'case {case_id!r}: "tags" should be a list of strings', number, "warning")
            tags = []
        cases.append(
            Case(
                case_id,
                tuple(str(t) for t in tags if isinstance(t, (str, int))),
                number,
                row.get("input"),
                row.get("reference"),
                row,
            )
        )
    return CaseFile(tuple(cases), tuple(problems), tuple(loose))


def _rows(text: str) -> list[tuple[int, Any]]:
    """(line number, parsed value or the JSON error) for each non-blank line."""
    values = whole_file_values(text)
    if values is not None:
        return list(enumerate(values, 1))
    out: list[tuple[int, Any]] = []
    for number, line in enumerate(text.split("\n"), 1):
        if not line or line.isspace():
            continue
        try:
            out.append((number, json.loads(line)))
        except json.JSONDecodeError as exc:
            out.append((number, exc))
        except RecursionError:
            out.append((number, json.JSONDecodeError("nested too deeply", line, 0)))
    return out


# The datasets a long-lived process (the app, a rerun) loaded last, by path and content hash:
# a rerun of unchanged bytes skips the parse, three quarters of a warm run's time. A `Dataset`
# is immutable, so sharing one is safe. At most LOADED_MAX of them, from at most
# LOADED_MAX_BYTES of files together, so what this holds stays small beside the app.
LOADED_MAX, LOADED_MAX_BYTES = 8, 24 << 20
LOADED: dict[tuple[str, str], tuple[Dataset, int]] = {}  # -> (dataset, its file's size)
LOADED_LOCK = threading.Lock()  # runs may load from several threads


def load_dataset(tree_root: Path, relpath: str) -> Dataset:
    """Read a `{"id", "input", "reference", "tags"}` JSONL dataset to run; `DatasetError` names its first bad line."""
    import hashlib  # only when running: the app's start-up imports this module but never hashes

    try:
        data = (Path(tree_root) / relpath).read_bytes()
    except OSError as exc:
        raise DatasetError(f"{relpath}: cannot read ({exc.strerror or exc})") from None
    sha256 = hashlib.sha256(data).hexdigest()
    known = LOADED.get((relpath, sha256))
    if known is not None:
        return known[0]
    found = read_cases(data, relpath)
    for problem in found.problems:
        if problem.severity == "error":
            raise DatasetError(f"{relpath}:{problem.line}: {problem.message}")
    if not found.cases and data.strip():
        raise DatasetError(f"{relpath}: not JSON lines")
    cases = found.cases
    dataset = Dataset(
        relpath,
        sha256,
        tuple(c.id for c in cases),
        tuple(c.input for c in cases),
        tuple(c.reference for c in cases),
    )
    if len(data) <= LOADED_MAX_BYTES:
        with LOADED_LOCK:
            LOADED[(relpath, sha256)] = (dataset, len(data))
            while len(LOADED) > LOADED_MAX or sum(size for _, size in LOADED.values()) > LOADED_MAX_BYTES:
                del LOADED[next(iter(LOADED))]  # the oldest
    return dataset
