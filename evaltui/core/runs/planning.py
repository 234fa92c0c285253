"""What a run will do: the jobs for evals x models, and the trees of past revisions they read."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from evaltui.core import history
from evaltui.core.errors import EvaltuiError, UnknownEvalError
from evaltui.core.registry.model import FILENAME, Registry, parse_registry
from evaltui.core.registry.tomlpos import suggest
from evaltui.core.runs.execution import Job


def runnable(registry: Registry) -> list[str]:
    """Evals that have both a metric and a dataset, in `evals.toml` order."""
    return [name for name, ev in registry.evals.items() if ev.metric and ev.dataset]


def plan(
    registry: Registry, evals: Sequence[str] = (), models: Sequence[str] = (), *, rev: str | None = None
) -> list[Job]:
    """Jobs for evals × models (default: every runnable eval, every model), eval files from `rev` if given."""
    sha = history.rev_parse(registry.root, rev) if rev else None
    source = history.registry_at(registry.root, sha) if sha else registry
    where = f" at {rev}" if rev else ""
    names = list(dict.fromkeys(evals)) or runnable(source)
    for name in names:
        if name not in source.evals:
            if sha is None:
                source.eval(name)  # raises with a suggestion
            raise UnknownEvalError(f"no eval named {name!r} in {FILENAME}{where}")
        ev = source.evals[name]
        if not ev.metric or not ev.dataset:
            raise EvaltuiError(
                f"eval {name!r} cannot be run{where}: it has no "
                f"{'metric' if not ev.metric else 'dataset'} in {FILENAME}"
            )
    if not names:
        raise EvaltuiError(f"no eval in {FILENAME}{where} has both a metric and a dataset; nothing to run")
    return [Job(e, m, sha) for e in names for m in plan_models(registry, models)]


def plan_models(registry: Registry, models: Sequence[str] = ()) -> list[str]:
    """The models named (checked to exist), or every model in `evals.toml`."""
    chosen = list(dict.fromkeys(models)) or list(registry.models)
    if not chosen:
        raise EvaltuiError(f"no models in {FILENAME}: add a [models.NAME] table (predictions, callable or command)")
    for name in chosen:
        if name not in registry.models:
            hint = suggest(name, registry.models)
            raise EvaltuiError(
                f"no model named {name!r} in {FILENAME}"
                + (f"; did you mean {hint!r}?" if hint else f" (models: {', '.join(registry.models)})")
            )
    return chosen


class Trees:
    """Revisions' trees materialised on demand into one temporary directory (the working tree is untouched)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._dir: Path | None = None
        self._paths: dict[str, Path] = {}
        self._registries: dict[str, Registry] = {}
        self._shas: dict[str, str] = {}

    def sha(self, rev: str) -> str:
        """The commit `rev` names (asked of git once per name)."""
        if rev not in self._shas:
            self._shas[rev] = history.rev_parse(self.root, rev)
        return self._shas[rev]

    def path(self, rev: str | None) -> Path:
        """The directory holding the tree of `rev` (the repository itself for None)."""
        if rev is None:
            return self.root
        sha = self.sha(rev)
        if sha not in self._paths:
            if self._dir is None:
                self._dir = Path(tempfile.mkdtemp(prefix="evaltui-trees-"))
            self._paths[sha] = history.export_tree(self.root, sha, self._dir / sha[:16])
        return self._paths[sha]

    def registry(self, rev: str) -> Registry:
        """`evals.toml` as it is in the tree of `rev`."""
        sha = self.sha(rev)
        if sha not in self._registries:
            tree = self.path(sha)
            try:
                text = (tree / FILENAME).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                raise EvaltuiError(f"{FILENAME} does not exist (or is unreadable) at {rev}") from None
            self._registries[sha] = parse_registry(text, tree, check_files=False)
        return self._registries[sha]

    def close(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
            self._paths.clear()
            self._registries.clear()

    def __enter__(self) -> Trees:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
