"""Messages that carry results from workers back to the interface."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from evaltui.core.errors import Problem
from evaltui.core.overview import DatasetInfo, EvalSummary
from evaltui.core.registry import Registry


@dataclass
class RegistryLoaded(Message):
    """`evals.toml` was read; `registry.problems` may still hold errors for some evals."""

    registry: Registry
    summaries: tuple[EvalSummary, ...]


@dataclass
class RegistryFailed(Message):
    """`evals.toml` could not be read at all (missing, unreadable)."""

    problems: tuple[Problem, ...]


@dataclass
class EvalSelected(Message):
    """The eval under the list's cursor changed (None when the list is empty)."""

    name: str | None


@dataclass
class EvalsShown(Message):
    """The eval list shows rows for the first time after a load; used to time start-up."""

    count: int


@dataclass
class DatasetRead(Message):
    """An eval's dataset was counted (cases, tags) for the Overview."""

    eval: str
    info: DatasetInfo
