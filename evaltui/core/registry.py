"""`evals.toml` → frozen dataclasses, with every problem found in one pass."""

from __future__ import annotations

import datetime as dt
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from evaltui.core import fsutil
from evaltui.core.errors import Problem, RegistryError
from evaltui.core.tomlpos import KeyPath, KeyLocator, render_key, suggest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

FILENAME = "evals.toml"
NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
CADENCE_RE = re.compile(r"^\s*(\d+)\s*([dw])\s*$")
KEY_SUFFIXES = (".yaml", ".yml", ".json", ".toml")


@dataclass(frozen=True)
class Project:
    """The `[project]` table."""

    name: str | None = None
    state_dir: str = ".evaltui"


@dataclass(frozen=True)
class Person:
    """A team member and the git e-mail addresses that are theirs."""

    name: str
    emails: tuple[str, ...] = ()
    display_name: str | None = None


@dataclass(frozen=True)
class Model:
    """A model to run evals against: recorded predictions, a Python callable or a command."""

    name: str
    kind: str  # "predictions" | "callable" | "command"
    predictions: str | None = None
    callable: str | None = None
    command: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    timeout: float | None = None
    description: str = ""


@dataclass(frozen=True)
class Eval:
    """One eval: its files, its version source and what it covers."""

    name: str
    description: str = ""
    metric: str | None = None  # "file.py:function"
    dataset: str | None = None
    version_from: str | None = None  # "file.py:function" or "file.yaml#dotted.key"
    version: str | None = None  # inline
    valid_for: str | None = None
    why: str | None = None
    covers: tuple[str, ...] = ()
    owner: str | None = None
    paths: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    threshold: float | None = None
    line: int | None = None

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
        for path in (self.metric_file, self.dataset, self.version_file):
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
        """Whether the repository-relative `path` is one of this eval's files."""
        return path in self.fixed_files or any(_glob(g).match(path) for g in self.globs)


_GLOBS: dict[str, re.Pattern[str]] = {}


def _glob(pattern: str) -> re.Pattern[str]:
    if pattern not in _GLOBS:
        _GLOBS[pattern] = fsutil.glob_regex(pattern)
    return _GLOBS[pattern]


@dataclass(frozen=True)
class FailureMode:
    """A known way the system fails, and the dataset tags that exercise it."""

    name: str
    description: str = ""
    found: str | None = None
    case_tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Absence:
    member: str
    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class Override:
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

    @property
    def state_dir(self) -> Path:
        return self.root / self.project.state_dir

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    def eval(self, name: str) -> Eval:
        from evaltui.core.errors import UnknownEvalError

        try:
            return self.evals[name]
        except KeyError:
            hint = suggest(name, self.evals)
            known = ", ".join(self.evals) or "none"
            raise UnknownEvalError(
                f"no eval named {name!r} in {self.path.name}"
                + (f"; did you mean {hint!r}?" if hint else f" (evals: {known})")
            ) from None

    def eval_files(self, name: str) -> tuple[str, ...]:
        """The eval's files in the working tree, globs expanded, sorted."""
        ev = self.evals[name]
        files = dict.fromkeys(ev.fixed_files)
        for pattern in ev.globs:
            for match in sorted(self.root.glob(pattern)):
                if match.is_file() and fsutil.inside(self.root, match.relative_to(self.root).as_posix()):
                    files[match.relative_to(self.root).as_posix()] = None
        return tuple(sorted(files))

    def member_for_email(self, email: str) -> str | None:
        email = email.lower()
        for person in self.people.values():
            if email in (e.lower() for e in person.emails):
                return person.name
        return None


def find_root(start: Path) -> Path:
    """The nearest directory at or above `start` that holds `evals.toml` (else `start`)."""
    start = start.resolve()
    for candidate in (start, *start.parents):
        if (candidate / FILENAME).is_file():
            return candidate
    return start


def load_registry(root: Path, *, strict: bool = True, check_files: bool = True) -> Registry:
    """Read `root/evals.toml`. With `strict`, any error raises `RegistryError` with all problems."""
    root = Path(root).resolve()
    path = root / FILENAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RegistryError(
            [Problem("error", "no-file", f"no {FILENAME} here; create one (see `evaltui --help`) "
                     "or run `evaltui demo` to see an example", file=str(path))]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RegistryError([Problem("error", "unreadable", f"cannot read: {exc}", file=str(path))]) from None
    registry = parse_registry(text, root, check_files=check_files)
    if strict and registry.errors:
        raise RegistryError(registry.problems)
    return registry


def parse_registry(text: str, root: Path, *, check_files: bool = True, filename: str = FILENAME) -> Registry:
    """Parse `evals.toml` text. Never raises for bad content: problems are collected.

    `check_files=False` skips the checks against the working tree, for reading the file as
    it was at an old commit.
    """
    root = Path(root)
    parser = _Parser(text, root, filename, check_files)
    return parser.run()


class _Parser:
    """One pass over the document; each `_table` method validates one part of the schema."""

    def __init__(self, text: str, root: Path, filename: str, check_files: bool):
        self.text = text
        self.root = root
        self.filename = filename
        self.check_files = check_files
        self.problems: list[Problem] = []
        self.locator = KeyLocator(text)

    # -- reporting -------------------------------------------------------------------------

    def problem(self, severity: str, code: str, key: KeyPath, message: str, eval: str | None = None) -> None:
        line, col = self.locator.find(key)
        self.problems.append(
            Problem(severity, code, message, file=self.filename, line=line, column=col,
                    key=render_key(key), eval=eval)
        )

    def error(self, key: KeyPath, message: str, code: str = "schema", eval: str | None = None) -> None:
        self.problem("error", code, key, message, eval)

    def unknown_keys(self, table: Mapping[str, Any], allowed: tuple[str, ...], key: KeyPath) -> None:
        for name in table:
            if name not in allowed:
                hint = suggest(name, allowed)
                self.problem(
                    "warning", "unknown-key", (*key, name),
                    f"unknown key {name!r}" + (f"; did you mean {hint!r}?" if hint else
                                               f" (expected one of: {', '.join(allowed)})"),
                )

    def typed(self, table: Mapping[str, Any], name: str, kinds: tuple[type, ...], what: str,
              key: KeyPath, default: Any = None) -> Any:
        if name not in table:
            return default
        value = table[name]
        if isinstance(value, bool) and bool not in kinds:
            ok = False
        else:
            ok = isinstance(value, kinds)
        if not ok:
            self.error((*key, name), f"expected {what}, got {_describe(value)}")
            return default
        return value

    def str_list(self, table: Mapping[str, Any], name: str, key: KeyPath) -> tuple[str, ...]:
        value = table.get(name, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.error((*key, name), f"expected a list of strings, got {_describe(value)}")
            return ()
        return tuple(value)

    def path_value(self, value: str, key: KeyPath, *, must_exist: bool = True, eval: str | None = None) -> bool:
        """Check a repository-relative path; report escapes and missing files."""
        if Path(value).is_absolute() or value.startswith("~"):
            self.error(key, f"path {value!r} must be relative to {self.filename}", "path-escape", eval)
            return False
        parts = Path(value).parts
        if ".." in parts:
            self.error(key, f"path {value!r} leaves the repository ('..' is not allowed)", "path-escape", eval)
            return False
        if not self.check_files:
            return True
        if fsutil.inside(self.root, value) is None:
            self.error(key, f"path {value!r} resolves outside the repository (a symlink?)", "path-escape", eval)
            return False
        if must_exist and not (self.root / value).is_file():
            self.error(key, f"file {value!r} does not exist", "missing-file", eval)
            return False
        return True

    # -- the document ----------------------------------------------------------------------

    def run(self) -> Registry:
        try:
            doc = tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as exc:
            line, col = _toml_position(exc)
            message = re.sub(r"\s*\(at line \d+, column \d+\)\s*$", "", str(exc)) or "invalid TOML"
            self.problems.append(Problem("error", "toml-syntax", f"invalid TOML: {message}",
                                         file=self.filename, line=line, column=col))
            doc = None
        if doc is None:
            return self._registry(Project(), {}, {}, {}, {}, None)

        self.unknown_keys(doc, ("project", "people", "models", "evals", "failure_modes", "rotation"), ())
        project = self.project(self.table(doc, "project", ()))
        people = {n: p for n, t in self.tables(doc, "people") if (p := self.person(n, t))}
        models = {n: m for n, t in self.tables(doc, "models") if (m := self.model(n, t))}
        failure_modes = {n: f for n, t in self.tables(doc, "failure_modes") if (f := self.failure_mode(n, t))}
        evals = {n: e for n, t in self.tables(doc, "evals") if (e := self.eval(n, t, failure_modes))}
        if not evals and "evals" not in doc:
            self.problem("warning", "no-evals", (), "no [evals.NAME] tables: nothing to track yet")
        rotation = self.rotation(doc["rotation"], evals, people) if "rotation" in doc else None
        known = set(people) | set(rotation.members if rotation else ())
        for ev in evals.values():
            if ev.owner and known and ev.owner not in known:
                self.error(("evals", ev.name, "owner"), f"unknown member {ev.owner!r}; expected one of: "
                           f"{', '.join(sorted(known))}", "unknown-member", ev.name)
        return self._registry(project, people, models, evals, failure_modes, rotation)

    def _registry(self, project, people, models, evals, failure_modes, rotation) -> Registry:
        return Registry(
            root=self.root, path=self.root / self.filename, project=project,
            people=MappingProxyType(people), models=MappingProxyType(models),
            evals=MappingProxyType(evals), failure_modes=MappingProxyType(failure_modes),
            rotation=rotation,
            problems=tuple(sorted(self.problems, key=lambda p: (p.line or 0, p.column or 0))),
        )

    def table(self, doc: Mapping[str, Any], name: str, key: KeyPath) -> Mapping[str, Any]:
        value = doc.get(name, {})
        if not isinstance(value, dict):
            self.error((*key, name), f"expected a table [{render_key((*key, name))}], got {_describe(value)}")
            return {}
        return value

    def tables(self, doc: Mapping[str, Any], name: str):
        """(entry name, entry table) for each valid `[name.ENTRY]`."""
        for entry, value in self.table(doc, name, ()).items():
            if not NAME_RE.match(entry):
                self.error((name, entry), f"invalid name {entry!r}: use letters, digits, '_', '-', '.'")
                continue
            if not isinstance(value, dict):
                self.error((name, entry), f"expected a table [{name}.{entry}], got {_describe(value)}")
                continue
            yield entry, value

    def project(self, t: Mapping[str, Any]) -> Project:
        key = ("project",)
        self.unknown_keys(t, ("name", "state_dir"), key)
        state_dir = self.typed(t, "state_dir", (str,), "a relative directory", key, ".evaltui")
        if ".." in Path(state_dir).parts or Path(state_dir).is_absolute():
            self.error((*key, "state_dir"), f"state_dir {state_dir!r} must stay inside the repository",
                       "path-escape")
            state_dir = ".evaltui"
        return Project(name=self.typed(t, "name", (str,), "a string", key), state_dir=state_dir)

    def person(self, name: str, t: Mapping[str, Any]) -> Person:
        key = ("people", name)
        self.unknown_keys(t, ("emails", "name"), key)
        return Person(name=name, emails=self.str_list(t, "emails", key),
                      display_name=self.typed(t, "name", (str,), "a string", key))

    def model(self, name: str, t: Mapping[str, Any]) -> Model | None:
        key = ("models", name)
        self.unknown_keys(t, ("predictions", "callable", "command", "params", "timeout", "description"), key)
        kinds = [k for k in ("predictions", "callable", "command") if k in t]
        if len(kinds) != 1:
            self.error(key, "expected exactly one of 'predictions', 'callable' or 'command'"
                       + (f", got {', '.join(kinds)}" if kinds else ""))
            return None
        kind = kinds[0]
        predictions = callable_ = None
        command: tuple[str, ...] = ()
        if kind == "predictions":
            predictions = self.typed(t, "predictions", (str,), "a path to a JSONL file", key)
            if predictions is None or not self.path_value(predictions, (*key, "predictions")):
                return None
        elif kind == "callable":
            callable_ = self.typed(t, "callable", (str,), "'file.py:function'", key)
            if callable_ is None or not self.function_ref(callable_, (*key, "callable")):
                return None
        else:
            raw = t["command"]
            if isinstance(raw, str):
                raw = raw.split()
            if not isinstance(raw, list) or not raw or not all(isinstance(a, str) for a in raw):
                self.error((*key, "command"), f"expected a non-empty list of strings, got {_describe(raw)}")
                return None
            command = tuple(raw)
        timeout = self.typed(t, "timeout", (int, float), "a number of seconds", key)
        if timeout is not None and timeout <= 0:
            self.error((*key, "timeout"), f"expected a positive number of seconds, got {timeout}")
            timeout = None
        params = self.typed(t, "params", (dict,), "an inline table", key, {})
        return Model(name=name, kind=kind, predictions=predictions, callable=callable_, command=command,
                     params=MappingProxyType(dict(params)), timeout=timeout,
                     description=self.typed(t, "description", (str,), "a string", key, ""))

    def function_ref(self, value: str, key: KeyPath, eval: str | None = None) -> bool:
        file, sep, func = value.rpartition(":")
        if not sep or not file.endswith(".py") or not func.isidentifier():
            self.error(key, f"expected 'file.py:function', got {value!r}", eval=eval)
            return False
        return self.path_value(file, key, eval=eval)

    def failure_mode(self, name: str, t: Mapping[str, Any]) -> FailureMode:
        key = ("failure_modes", name)
        self.unknown_keys(t, ("description", "found", "case_tags"), key)
        found = t.get("found")
        if found is not None and not isinstance(found, (str, dt.date)):
            self.error((*key, "found"), f"expected a string or a date, got {_describe(found)}")
            found = None
        tags = self.str_list(t, "case_tags", key) if "case_tags" in t else (name,)
        return FailureMode(name=name, description=self.typed(t, "description", (str,), "a string", key, ""),
                           found=str(found) if found is not None else None, case_tags=tags)

    def eval(self, name: str, t: Mapping[str, Any], failure_modes: Mapping[str, FailureMode]) -> Eval:
        key = ("evals", name)
        allowed = ("description", "metric", "dataset", "version_from", "version", "valid_for", "why",
                   "covers", "owner", "paths", "params", "threshold")
        self.unknown_keys(t, allowed, key)
        metric = self.typed(t, "metric", (str,), "'file.py:function'", key)
        if metric is not None:
            self.function_ref(metric, (*key, "metric"), name)
        dataset = self.typed(t, "dataset", (str,), "a path to a JSONL file", key)
        if dataset is not None:
            self.path_value(dataset, (*key, "dataset"), eval=name)
        version_from = self.typed(t, "version_from", (str,), "'file.py:function' or 'file.yaml#dotted.key'", key)
        if version_from is not None:
            self.version_ref(version_from, (*key, "version_from"), name)
        version = t.get("version")
        if version is not None:
            if isinstance(version, bool) or not isinstance(version, (str, int, float)):
                self.error((*key, "version"), f"expected a version string like \"1.1\", got {_describe(version)}",
                           eval=name)
                version = None
            else:
                version = str(version)
        if version is not None and version_from is not None:
            self.error((*key, "version"), "give either 'version' or 'version_from', not both", eval=name)
        for inline in ("valid_for", "why"):
            if inline in t and version_from is not None:
                self.problem("warning", "ignored-key", (*key, inline),
                             f"'{inline}' is read from {version_from!r}; this inline value is ignored", name)
        paths = self.str_list(t, "paths", key)
        for i, pattern in enumerate(paths):
            if fsutil.is_glob(pattern):
                if Path(pattern).is_absolute() or ".." in Path(pattern).parts:
                    self.error((*key, "paths"), f"glob {pattern!r} leaves the repository", "path-escape", name)
                elif self.check_files and not any(m.is_file() for m in self.root.glob(pattern)):
                    self.problem("warning", "empty-glob", (*key, "paths"), f"glob {pattern!r} matches no file", name)
                elif self.check_files:
                    for m in self.root.glob(pattern):
                        if fsutil.inside(self.root, m.relative_to(self.root).as_posix()) is None:
                            self.error((*key, "paths"), f"{m.relative_to(self.root).as_posix()!r} (from glob "
                                       f"{pattern!r}) resolves outside the repository", "path-escape", name)
            else:
                self.path_value(pattern, (*key, "paths"), eval=name)
        if not (metric or dataset or version_from or paths):
            self.error(key, "an eval needs at least one file: 'metric', 'dataset', 'version_from' or 'paths'",
                       eval=name)
        covers = self.str_list(t, "covers", key)
        for mode in covers:
            if mode not in failure_modes:
                hint = suggest(mode, failure_modes)
                self.error((*key, "covers"), f"unknown failure mode {mode!r}"
                           + (f"; did you mean {hint!r}?" if hint else
                              f"; declare it as [failure_modes.{mode}]"), "unknown-mode", name)
        threshold = self.typed(t, "threshold", (int, float), "a number (a score fraction, e.g. 0.6)", key)
        params = self.typed(t, "params", (dict,), "an inline table", key, {})
        return Eval(
            name=name,
            description=self.typed(t, "description", (str,), "a string", key, ""),
            metric=metric, dataset=dataset, version_from=version_from, version=version,
            valid_for=None if version_from else self.typed(t, "valid_for", (str,), "a string", key),
            why=None if version_from else self.typed(t, "why", (str,), "a string", key),
            covers=covers, owner=self.typed(t, "owner", (str,), "a member name", key), paths=paths,
            params=MappingProxyType(dict(params)),
            threshold=float(threshold) if threshold is not None else None,
            line=self.locator.find(key)[0],
        )

    def version_ref(self, value: str, key: KeyPath, eval: str) -> None:
        if "#" in value:
            file, _, dotted = value.partition("#")
            if not file.endswith(KEY_SUFFIXES) or not dotted:
                self.error(key, f"expected 'file.yaml#dotted.key' (.yaml/.yml/.json/.toml), got {value!r}",
                           eval=eval)
                return
            self.path_value(file, key, eval=eval)
        else:
            self.function_ref(value, key, eval)

    def rotation(self, t: Any, evals: Mapping[str, Eval], people: Mapping[str, Person]) -> Rotation | None:
        key = ("rotation",)
        if not isinstance(t, dict):
            self.error(key, f"expected a table [rotation], got {_describe(t)}")
            return None
        self.unknown_keys(t, ("members", "cadence", "start", "timezone", "fresh_eyes", "absences", "overrides"), key)
        members = self.str_list(t, "members", key)
        if not members:
            self.error((*key, "members"), "expected a non-empty list of member names")
            return None
        if len(set(members)) != len(members):
            self.error((*key, "members"), "a member is listed twice")
        if people:
            for m in members:
                if m not in people:
                    self.problem("warning", "unknown-member", (*key, "members"),
                                 f"member {m!r} has no [people.{m}] entry; their git commits will not be "
                                 "recognised as theirs")
        cadence_days = 14
        if "cadence" in t:
            m = CADENCE_RE.match(str(t["cadence"])) if isinstance(t["cadence"], str) else None
            if not m or int(m.group(1)) == 0:
                self.error((*key, "cadence"), f"expected a period like \"2w\" or \"10d\", got {_describe(t['cadence'])}")
            else:
                cadence_days = int(m.group(1)) * (7 if m.group(2) == "w" else 1)
        start = t.get("start", Rotation.start)
        if isinstance(start, dt.date) and not isinstance(start, dt.datetime):
            start = dt.datetime.combine(start, dt.time(9, 0))
        if not isinstance(start, dt.datetime):
            self.error((*key, "start"), f"expected a date-time like 2026-11-02T09:00:00, got {_describe(start)}")
            start = Rotation.start
        elif start.tzinfo is not None:
            self.error((*key, "start"), "give a local date-time without offset; 'timezone' says where it is")
            start = start.replace(tzinfo=None)
        timezone = self.typed(t, "timezone", (str,), "an IANA time zone like \"Europe/Berlin\"", key, "UTC")
        if not _valid_zone(timezone):
            self.error((*key, "timezone"), f"unknown time zone {timezone!r}; expected an IANA name like "
                       "\"Europe/Berlin\"")
            timezone = "UTC"
        fresh = self.typed(t, "fresh_eyes", (bool,), "true or false", key, True)
        member_set = set(members) | set(people)
        absences = []
        for i, a in enumerate(self.array(t, "absences", key)):
            akey: KeyPath = (*key, "absences", i)
            self.unknown_keys(a, ("member", "start", "end", "reason"), akey)
            span = self.span(a, akey)
            member = self.member(a, akey, member_set)
            if span and member:
                absences.append(Absence(member, *span))
        overrides = []
        for i, o in enumerate(self.array(t, "overrides", key)):
            okey: KeyPath = (*key, "overrides", i)
            self.unknown_keys(o, ("member", "evals", "start", "end", "reason"), okey)
            span = self.span(o, okey)
            member = self.member(o, okey, member_set)
            patterns = self.str_list(o, "evals", okey) or ("*",)
            for p in patterns:
                if not any(fsutil.glob_regex(p).match(e) for e in evals):
                    self.problem("warning", "empty-override", (*okey, "evals"), f"pattern {p!r} matches no eval")
            if span and member:
                overrides.append(Override(member, patterns, *span,
                                          reason=self.typed(o, "reason", (str,), "a string", okey, "")))
        return Rotation(members=members, cadence_days=cadence_days, start=start, timezone=timezone,
                        fresh_eyes=fresh, absences=tuple(absences), overrides=tuple(overrides))

    def array(self, t: Mapping[str, Any], name: str, key: KeyPath) -> list[Mapping[str, Any]]:
        value = t.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.error((*key, name), f"expected [[{render_key((*key, name))}]] tables, got {_describe(value)}")
            return []
        return value

    def member(self, t: Mapping[str, Any], key: KeyPath, known: set[str]) -> str | None:
        member = self.typed(t, "member", (str,), "a member name", key)
        if member is None:
            self.error((*key, "member"), "missing 'member'")
        elif member not in known:
            hint = suggest(member, known)
            self.error((*key, "member"), f"unknown member {member!r}"
                       + (f"; did you mean {hint!r}?" if hint else f"; expected one of: {', '.join(sorted(known))}"),
                       "unknown-member")
            return None
        return member

    def span(self, t: Mapping[str, Any], key: KeyPath) -> tuple[dt.date, dt.date] | None:
        out = []
        for name in ("start", "end"):
            value = t.get(name)
            if isinstance(value, dt.datetime):
                value = value.date()
            if not isinstance(value, dt.date):
                self.error((*key, name), f"expected a date like 2026-12-21, got {_describe(value)}")
                return None
            out.append(value)
        if out[1] < out[0]:
            self.error((*key, "end"), f"end {out[1]} is before start {out[0]}")
            return None
        return out[0], out[1]


def _valid_zone(name: str) -> bool:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    kind = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
            dict: "a table", dt.datetime: "a date-time", dt.date: "a date"}.get(type(value), type(value).__name__)
    text = repr(value)
    return f"{kind} {text if len(text) <= 40 else text[:37] + '...'}"


def _toml_position(exc: Exception) -> tuple[int | None, int | None]:
    lineno = getattr(exc, "lineno", None)
    colno = getattr(exc, "colno", None)
    if lineno is None:
        m = re.search(r"at line (\d+), column (\d+)", str(exc))
        if m:
            lineno, colno = int(m.group(1)), int(m.group(2))
    return lineno, colno
