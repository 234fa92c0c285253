"""Load the lineage when the repository allows it, and say why not otherwise."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from evaltui.core.errors import EvaltuiError
from evaltui.core.history.engine import load_lineage
from evaltui.core.history.reads import is_repo

if TYPE_CHECKING:
    from evaltui.core.history.model import Lineage
    from evaltui.core.registry.model import Registry


class LineageAttempt(NamedTuple):
    """The lineage, or None with the reason (None too outside a git repository: nothing to explain)."""

    lineage: Lineage | None
    error: str | None = None


def try_load_lineage(registry: Registry, *, cache_dir: Path | None = None, since: str | None = None) -> LineageAttempt:
    """`load_lineage` for callers that carry on without history: a user-caused failure becomes `error`."""
    if not is_repo(registry.root):
        return LineageAttempt(None)
    try:
        return LineageAttempt(load_lineage(registry, cache_dir=cache_dir, since=since))
    except EvaltuiError as exc:
        return LineageAttempt(None, str(exc))
