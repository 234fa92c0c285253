"""The registry's records: what a parsed `evals.toml` is made of, as frozen dataclasses."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

from evaltui.core import fsutil
from evaltui.core.errors import Problem, UnknownEvalError
from evaltui.core.registry.globs import expand_glob, glob_pattern, inside_repo
from evaltui.core.registry.tomlpos import suggest

FILENAME = "evals.toml"
NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
CADENCE_RE = re.compile(r"^\s*([0-9]+)\s*([dw])\s*$")
MAX_CADENCE_DAYS = 366
KEY_SUFFIXES = (".yaml", ".yml", ".json", ".toml")
# The keys an `[evals.NAME]` table may hold, in the order a written `evals.toml` lists them.
EVAL_KEYS = (
    "description",
    "metric",
    "dataset",
    "version_from",
    "version",
    "valid_for",
    "why",
    "covers",
    "owner",
    "paths",
    "params",
    "threshold",
    "version_format",
    "prompt",
    "system",
)


@dataclass(frozen=True)
class Project:
    """The `[project]` table."""

    name: str | None = None
    state_dir: str = ".evaltui"
    baseline: str | None = None  # a revision: history at or before it is shown, never warned about


@dataclass(frozen=True)
class Person:
    """A team member and the git e-mail addresses that are theirs."""

    name: str
    emails: tuple[str, ...] = ()
    display_name: str | None = None


@dataclass(frozen=True)
class RayResources:
    """A model's `ray = { num_cpus = 2, num_gpus = 1 }`: passed through to its Ray tasks or actors."""

    num_cpus: float | None = None
    num_gpus: float | None = None
    memory: float | None = None
    resources: tuple[tuple[str, float], ...] = ()  # custom resources, e.g. (("a100", 1),)

    def options(self) -> dict[str, Any]:
        """The keyword arguments of Ray's `.options()` that were set."""
        out: dict[str, Any] = {
            k: v
            for k, v in (("num_cpus", self.num_cpus), ("num_gpus", self.num_gpus), ("memory", self.memory))
            if v is not None
        }
        if self.resources:
            out["resources"] = dict(self.resources)
        return out


@dataclass(frozen=True)
class Model:
    """A model to run evals against: recorded predictions, a Python callable, a command or an endpoint."""

    name: str
    kind: str  # "predictions" | "callable" | "command" | "endpoint"
    predictions: str | None = None
    callable: str | None = None
    command: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    timeout: float | None = None
    description: str = ""
    # endpoint models (`provider = "openai" | "anthropic"`); see registry.endpoints
    provider: str | None = None
    model: str | None = None  # the provider's model id
    base_url: str | None = None
    api_key_env: str | None = None  # the environment variable holding the key; the key is never stored
    concurrency: int = 8  # requests in flight for this model
    rpm: int | None = None
    tpm: int | None = None
    retries: int = 6
    prices: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    line: int | None = None
    ray: RayResources | None = None  # what its Ray workers reserve; not fingerprinted (outputs do not depend on it)


@dataclass(frozen=True)
class Runner:
    """The `[runner]` table: where runs execute unless `run --executor` says otherwise."""

    executor: str = "local"  # "local" | "ray"
    address: str | None = None  # a Ray cluster, as in `ray.init` ("auto": the one this machine belongs to)
    shard_size: int | None = None


@dataclass(frozen=True)
class Eval:
    """One eval: its files, its version source and what it covers."""

    name: str
    description: str = ""
    metric: str | None = None  # "file.py:function"
    dataset: str | None = None
    version_from: str | None = None  # "file.py:function" or "file.yaml#dotted.key"
    version: str | None = None  # inline
    version_format: str | None = None  # "yaml" | "json" | "toml" for a version file without a known suffix
    valid_for: str | None = None
    why: str | None = None
    covers: tuple[str, ...] = ()
    owner: str | None = None
    paths: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    threshold: float | None = None
    line: int | None = None
    prompt: str | None = None  # a prompt template file for endpoint models ({input} and case fields)
    system: str | None = None  # a system prompt file

    @classmethod
    def of(cls, **values: Any) -> Eval:
        """The eval of every field given by name, made as `Eval(**values)` is.

        A registry read makes thousands: the frozen `__init__` costs one `object.__setattr__`
        a field, the same attributes set here at once (3x faster). No default is filled in.
        """
        if len(values) != _EVAL_FIELDS:
            raise TypeError(f"Eval.of needs all {_EVAL_FIELDS} fields, got {len(values)}")
        ev = object.__new__(cls)
        ev.__dict__.update(values)
        return ev

    @property
    def metric_file(self) -> str | None:
        return self.metric.rsplit(":", 1)[0] if self.metric else None

    @property
    def metric_function(self) -> str | None:
        return self.metric.rsplit(":", 1)[1] if self.metric else None

    @property
    def version_file(self) -> str | None:
        """The file the version is read from, if it is not inline."""
        if not self.version_from:
            return None
        if "#" in self.version_from:
            return self.version_from.split("#", 1)[0]
        return self.version_from.rsplit(":", 1)[0]

    @property
    def fixed_files(self) -> tuple[str, ...]:
        """Metric file, dataset and version file: the eval's files that are not globs."""
        seen: dict[str, None] = {}
        for path in (self.metric_file, self.dataset, self.version_file, self.prompt, self.system):
            if path:
                seen[path] = None
        for pattern in self.paths:
            if not fsutil.is_glob(pattern):
                seen[pattern] = None
        return tuple(seen)

    @property
    def globs(self) -> tuple[str, ...]:
        return tuple(p for p in self.paths if fsutil.is_glob(p))

    def matches(self, path: str) -> bool:
        """Whether the repository-relative `path` is one of this eval's files (globs: `*`, `?`, `**`)."""
        return path in self.fixed_files or any(glob_pattern(g).match(path) for g in self.globs)


_EVAL_FIELDS = len(fields(Eval))


@dataclass(frozen=True)
class FailureMode:
    """A known way the system fails, and the dataset tags that exercise it."""

    name: str
    description: str = ""
    found: str | None = None
    case_tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Absence:
    """A member away from `start` to `end` (both days included); the rotation skips them."""

    member: str
    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class Override:
    """Evals matching `evals` (globs) go to `member` from `start` to `end`, days included."""

    member: str
    evals: tuple[str, ...]
    start: dt.date
    end: dt.date
    reason: str = ""


@dataclass(frozen=True)
class Rotation:
    """The `[rotation]` table: who takes turns, how often, from when, and the exceptions."""

    members: tuple[str, ...]
    cadence_days: int = 14
    start: dt.datetime = dt.datetime(2026, 1, 5, 9, 0)
    timezone: str = "UTC"
    fresh_eyes: bool = True
    absences: tuple[Absence, ...] = ()
    overrides: tuple[Override, ...] = ()


@dataclass(frozen=True)
class ReportRoles:
    """The `[report]` table: which models the PR text calls the baseline and the candidate."""

    baseline: str | None = None
    candidate: str | None = None


@dataclass(frozen=True)
class Registry:
    """A parsed, validated `evals.toml` and the repository it belongs to."""

    root: Path
    path: Path
    project: Project
    people: Mapping[str, Person]
    models: Mapping[str, Model]
    evals: Mapping[str, Eval]
    failure_modes: Mapping[str, FailureMode]
    rotation: Rotation | None
    problems: tuple[Problem, ...] = ()
    runner: Runner = field(default_factory=Runner)
    report: ReportRoles = ReportRoles()

    @property
    def state_dir(self) -> Path:
        return self.root / self.project.state_dir

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    def eval(self, name: str) -> Eval:
        """The eval called `name`, or `UnknownEvalError` with a suggestion."""
        try:
            return self.evals[name]
        except KeyError:
            hint = suggest(name, self.evals)
            known = ", ".join(self.evals) or "none"
            raise UnknownEvalError(
                f"no eval named {name!r} in {self.path.name}"
                + (f"; did you mean {hint!r}?" if hint else f" (evals: {known})")
            ) from None

    def eval_files(self, name: str, listings: dict[str, list[str]] | None = None) -> tuple[str, ...]:
        """The eval's files in the working tree, globs expanded, sorted (`listings`: expansions already made)."""
        ev = self.evals[name]
        files = dict.fromkeys(ev.fixed_files)
        for pattern in ev.globs:
            for match in expand_glob(self.root, pattern, listings):
                if inside_repo(self.root, match) and (self.root / match).is_file():
                    files[match] = None
        return tuple(sorted(files))

    def member_for_email(self, email: str) -> str | None:
        """The `[people]` member who owns `email` (case-insensitive), if any."""
        email = email.lower()
        for person in self.people.values():
            if email in (e.lower() for e in person.emails):
                return person.name
        return None
