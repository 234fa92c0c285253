"""Validation of `evals.toml` against schema 1: every problem with file, line, column and key.

Each table of the document has one method here (or in `modelrules` / `pathrules` / `rotationrules`), so a new
key is one line in its table's allowed list and one read below it.
"""

from __future__ import annotations

import datetime as dt
import posixpath
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from evaltui.core import fsutil
from evaltui.core.compat import tomllib
from evaltui.core.errors import Problem
from evaltui.core.registry import tomlsplit
from evaltui.core.registry.modelrules import ModelRules
from evaltui.core.registry.records import (
    EVAL_KEYS,
    NAME_RE,
    Eval,
    FailureMode,
    Model,
    Person,
    Project,
    Registry,
    ReportRoles,
    Rotation,
)
from evaltui.core.registry.reporting import finite
from evaltui.core.registry.rotationrules import RotationRules
from evaltui.core.registry.structured import FORMATS
from evaltui.core.registry.tomlpos import KeyPath, describe, render_key, suggest, syntax_error


class SchemaReader(ModelRules, RotationRules):
    """One pass over the document; each method validates one part of the schema."""

    def run(self) -> Registry:
        try:
            doc, self.eval_lines = tomlsplit.loads_located(self.text)
        except tomllib.TOMLDecodeError as exc:
            line, col, message = syntax_error(self.text, exc)
            self.problems.append(
                Problem("error", "toml-syntax", f"invalid TOML: {message}", file=self.filename, line=line, column=col)
            )
            return self._registry(Project(), {}, {}, {}, {}, None)
        except RecursionError:
            self.problems.append(Problem("error", "toml-syntax", "invalid TOML: nested too deeply", file=self.filename))
            return self._registry(Project(), {}, {}, {}, {}, None)

        self.unknown_keys(
            doc, ("project", "people", "models", "evals", "failure_modes", "rotation", "runner", "report"), ()
        )
        project = self.project(self.table(doc, "project", ()))
        people = {n: self.person(n, t) for n, t in self.tables(doc, "people")}
        models = {n: m for n, t in self.tables(doc, "models") if (m := self.model(n, t))}
        failure_modes = {n: self.failure_mode(n, t) for n, t in self.tables(doc, "failure_modes")}
        evals = {n: self.eval(n, t, failure_modes) for n, t in self.tables(doc, "evals")}
        if not evals and "evals" not in doc:
            self.problem("warning", "no-evals", (), "no [evals.NAME] tables: nothing to track yet")
        rotation = self.rotation(doc["rotation"], evals, people) if "rotation" in doc else None
        known = set(people) | set(rotation.members if rotation else ())
        for ev in evals.values():
            if ev.owner and known and ev.owner not in known:
                self.error(
                    ("evals", ev.name, "owner"),
                    f"unknown member {ev.owner!r}" + self.member_hint(ev.owner, known),
                    "unknown-member",
                    ev.name,
                )
        runner = self.runner(self.table(doc, "runner", ()))  # before the registry: its problems go in too
        registry = self._registry(project, people, models, evals, failure_modes, rotation)
        roles = self.report_roles(self.table(doc, "report", ()), models)
        return replace(
            registry,
            runner=runner,
            report=roles,
            problems=tuple(sorted(self.problems, key=lambda p: (p.line or 0, p.column or 0))),
        )

    def report_roles(self, t: Mapping[str, Any], models: Mapping[str, Model]) -> ReportRoles:
        """`[report] baseline = "MODEL"`, `candidate = "MODEL"`: names of models defined in [models]."""
        key = ("report",)
        self.unknown_keys(t, ("baseline", "candidate"), key)
        roles = {}
        for role in ("baseline", "candidate"):
            name = self.typed(t, role, (str,), f'the name of a [models.NAME] table, e.g. "{role}"', key)
            if name is not None and name not in models:
                hint = suggest(name, models)
                known = f"; did you mean {hint!r}?" if hint else f"; models: {', '.join(models) or 'none'}"
                self.error((*key, role), f"unknown model {name!r}{known}", "unknown-model")
                name = None
            roles[role] = name
        return ReportRoles(**roles)

    def _registry(
        self,
        project: Project,
        people: dict[str, Person],
        models: dict[str, Model],
        evals: dict[str, Eval],
        failure_modes: dict[str, FailureMode],
        rotation: Rotation | None,
    ) -> Registry:
        return Registry(
            root=self.root,
            path=self.root / self.filename,
            project=project,
            people=MappingProxyType(people),
            models=MappingProxyType(models),
            evals=MappingProxyType(evals),
            failure_modes=MappingProxyType(failure_modes),
            rotation=rotation,
            problems=tuple(sorted(self.problems, key=lambda p: (p.line or 0, p.column or 0))),
        )

    def table(self, doc: Mapping[str, Any], name: str, key: KeyPath) -> Mapping[str, Any]:
        value = doc.get(name, {})
        if not isinstance(value, dict):
            self.error((*key, name), f"expected a table [{render_key((*key, name))}], got {describe(value)}")
            return {}
        return value

    def tables(self, doc: Mapping[str, Any], name: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
        """(entry name, entry table) for each valid `[name.ENTRY]`."""
        for entry, value in self.table(doc, name, ()).items():
            if not NAME_RE.match(entry):
                self.error(
                    (name, entry),
                    f"invalid name {entry!r}: use letters, digits, '_', '-' and '.', "
                    "starting with a letter, digit or '_'",
                )
                continue
            if not isinstance(value, dict):
                self.error((name, entry), f"expected a table [{render_key((name, entry))}], got {describe(value)}")
                continue
            yield entry, value

    def project(self, t: Mapping[str, Any]) -> Project:
        key = ("project",)
        self.unknown_keys(t, ("name", "state_dir", "baseline"), key)
        state_dir = self.typed(
            t, "state_dir", (str,), 'a directory inside the repository, e.g. ".evaltui"', key, ".evaltui"
        )
        if (
            not state_dir.strip()
            or ".." in state_dir.split("/")
            or state_dir.startswith(("/", "~"))
            or Path(state_dir).is_absolute()
        ):
            self.error(
                (*key, "state_dir"),
                f'state_dir {state_dir!r} must be a directory inside the repository, e.g. ".evaltui"',
                "path-escape",
            )
            state_dir = ".evaltui"
        baseline = self.typed(t, "baseline", (str,), 'a revision, e.g. baseline = "4e7e0d4"', key)
        if baseline is not None and (not baseline.strip() or baseline.strip().startswith("-")):
            self.error(
                (*key, "baseline"),
                f'expected a revision (a commit sha, tag or branch), e.g. baseline = "4e7e0d4", got {baseline!r}',
            )
            baseline = None
        return Project(
            name=self.typed(t, "name", (str,), "a string", key),
            state_dir=posixpath.normpath(state_dir),
            baseline=baseline.strip() if baseline else None,
        )

    def person(self, name: str, t: Mapping[str, Any]) -> Person:
        key = ("people", name)
        self.unknown_keys(t, ("emails", "name"), key)
        emails = self.str_list(t, "emails", key, '["alice@example.com"]')
        for email in emails:
            if "@" not in email:
                self.problem(
                    "warning",
                    "bad-email",
                    (*key, "emails"),
                    f"{email!r} does not look like an e-mail address (name@example.com)",
                )
        return Person(name=name, emails=emails, display_name=self.typed(t, "name", (str,), "a string", key))

    def failure_mode(self, name: str, t: Mapping[str, Any]) -> FailureMode:
        key = ("failure_modes", name)
        self.unknown_keys(t, ("description", "found", "case_tags"), key)
        found = t.get("found")
        if found is not None and not isinstance(found, (str, dt.date)):
            self.error(
                (*key, "found"),
                f'expected a string or a date, e.g. "2026-10-02 production incident", got {describe(found)}',
            )
            found = None
        tags = self.str_list(t, "case_tags", key, f'["{name}"]') if "case_tags" in t else (name,)
        return FailureMode(
            name=name,
            description=self.typed(t, "description", (str,), "a string", key, ""),
            found=str(found) if found is not None else None,
            case_tags=tags,
        )

    def eval(self, name: str, t: Mapping[str, Any], failure_modes: Mapping[str, FailureMode]) -> Eval:
        key = ("evals", name)
        self.unknown_keys(t, EVAL_KEYS, key)
        metric = self.typed(t, "metric", (str,), "'file.py:function', e.g. \"evals/qa.py:accuracy\"", key, eval=name)
        metric = metric and self.function_ref(metric, (*key, "metric"), name)
        dataset = self.typed(t, "dataset", (str,), 'a path to a JSONL file, e.g. "data/qa.jsonl"', key, eval=name)
        dataset = dataset and self.path_value(dataset, (*key, "dataset"), eval=name)
        version_from = self.typed(
            t,
            "version_from",
            (str,),
            "'file.py:function' or 'file.yaml#dotted.key', e.g. \"evals/qa.py:accuracy\"",
            key,
            eval=name,
        )
        version_format = self.version_format(t, key, name)
        version_from = version_from and self.version_ref(version_from, (*key, "version_from"), name, version_format)
        version = self.inline_version(t, key, name)
        if version is not None and "version_from" in t:
            self.error(
                (*key, "version"),
                "give either 'version' (inline) or 'version_from' (read from a file), not both",
                eval=name,
            )
        for inline in ("valid_for", "why") if "version_from" in t else ():
            if inline in t:
                self.problem(
                    "warning",
                    "ignored-key",
                    (*key, inline),
                    f"'{inline}' is read with the version from {t['version_from']!r}; this inline value is ignored",
                    name,
                )
        paths = []
        for i, pattern in enumerate(self.str_list(t, "paths", key, '["prompts/qa/*.txt"]', name)):
            where = (*key, "paths", i)
            path = (
                self.glob_value(pattern, where, name)
                if fsutil.is_glob(pattern)
                else self.path_value(pattern, where, eval=name)
            )
            if path:
                paths.append(path)
        prompts = {}
        for field in ("prompt", "system"):  # templates for endpoint models; eval files like the others
            value = self.typed(t, field, (str,), 'a path to a text file, e.g. "prompts/qa.txt"', key, eval=name)
            prompts[field] = (value and self.path_value(value, (*key, field), eval=name)) or None
        if not ("metric" in t or "dataset" in t or "version_from" in t or "paths" in t):
            self.error(
                key,
                "an eval needs at least one file: give 'metric', 'dataset', 'version_from' or "
                "'paths', e.g. dataset = \"data/qa.jsonl\"",
                eval=name,
            )
        covers = self.str_list(t, "covers", key, '["hallucination"]', name)
        for i, mode in enumerate(covers):
            if mode not in failure_modes:
                hint = suggest(mode, failure_modes)
                self.error(
                    (*key, "covers", i),
                    f"unknown failure mode {mode!r}"
                    + (f"; did you mean {hint!r}?" if hint else f"; declare it as [failure_modes.{mode}]"),
                    "unknown-mode",
                    name,
                )
        threshold = self.typed(t, "threshold", (int, float), "a number, e.g. 0.6", key, eval=name)
        params = self.typed(t, "params", (dict,), "an inline table, e.g. { normalize = true }", key, {}, name)
        inline_ok = "version_from" not in t
        return Eval.of(
            name=name,
            description=self.typed(t, "description", (str,), "a string", key, "", name),
            metric=metric or None,
            dataset=dataset or None,
            version_from=version_from or None,
            version=version,
            version_format=version_format,
            valid_for=self.typed(t, "valid_for", (str,), "a string", key, eval=name) if inline_ok else None,
            why=self.typed(t, "why", (str,), "a string", key, eval=name) if inline_ok else None,
            covers=covers,
            owner=self.typed(t, "owner", (str,), 'a member name, e.g. "alice"', key, eval=name),
            paths=tuple(dict.fromkeys(paths)),
            params=MappingProxyType(dict(params)),
            threshold=float(threshold) if threshold is not None else None,
            line=self.table_line("evals", name),
            prompt=prompts["prompt"],
            system=prompts["system"],
        )

    def version_format(self, t: Mapping[str, Any], key: KeyPath, name: str) -> str | None:
        """`version_format`: how to read a version file whose name does not say (one of `FORMATS`)."""
        if "version_format" not in t:
            return None
        value = t["version_format"]
        if value not in FORMATS:
            self.error(
                (*key, "version_format"),
                f"expected one of {', '.join(repr(f) for f in FORMATS)} (how to "
                f'read the version file), e.g. version_format = "yaml", got {describe(value)}',
                eval=name,
            )
            return None
        if "#" not in str(t.get("version_from", "")):
            self.problem(
                "warning",
                "ignored-key",
                (*key, "version_format"),
                "'version_format' applies to version_from = \"file#dotted.key\"; without one it is ignored",
                name,
            )
        return str(value)

    def inline_version(self, t: Mapping[str, Any], key: KeyPath, name: str) -> str | None:
        if "version" not in t:
            return None
        value = t["version"]
        if (
            isinstance(value, bool)
            or not isinstance(value, (str, int, float))
            or not finite(value)
            or (isinstance(value, str) and not value.strip())
        ):
            self.error(
                (*key, "version"), f'expected a version string, e.g. version = "1.1", got {describe(value)}', eval=name
            )
            return None
        return str(value).strip()
