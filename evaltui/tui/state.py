"""What the app has loaded: shared by the screens, replaced whole on reload."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from evaltui.core.registry.model import Registry
from evaltui.core.registry.overview import EvalSummary

if TYPE_CHECKING:  # git, runs and the team modules load after the list is on screen
    from evaltui.core.history import Lineage
    from evaltui.core.runs.store import Listing
    from evaltui.core.team.coverage import Coverage
    from evaltui.core.team.notes import NotesFile
    from evaltui.core.team.triage import Triage
    from evaltui.tui.messages import ChecksDone


@dataclass
class AppState:
    """Loaded data; `None` until its loader has posted it."""

    registry: Registry | None = None
    summaries: dict[str, EvalSummary] = field(default_factory=dict)
    lineage: Lineage | None = None
    lineage_error: str | None = None
    triage: Triage | None = None
    """Owner, badges and scores per eval, worked out after the history pass."""
    notes: NotesFile | None = None
    """`state_dir/notes.jsonl` as last read (None: read it again)."""
    coverage: Coverage | None = None
    """The failure-mode × eval matrix the Coverage screen last computed."""
    run_listings: dict[str, Listing] = field(default_factory=dict)
    """Recorded runs read so far, by eval, for `run_listings_of`."""
    run_listings_of: Registry | None = None
    diffs: dict[Any, Any] = field(default_factory=dict)
    """Diffs computed so far, keyed by what identifies them, for `diffs_of`."""
    diffs_of: Lineage | None = None
    checks: ChecksDone | None = None
    """What `evaltui check` found for `checks_of` (the registry and triage it was run on)."""
    checks_of: tuple[Registry | None, Triage | None] = (None, None)
    checks_running: tuple[Registry | None, Triage | None] = (None, None)
    """The registry and triage the main screen's run of the checks under way (or last started) is for."""
    checks_wanted: bool = False
    """The Check screen has been opened: the checks run again after every history pass."""

    def runs_cache(self) -> dict[str, Listing]:
        """Listings by eval; a new registry (a reload) starts afresh, runs may have come from outside."""
        if self.run_listings_of is not self.registry:
            self.run_listings, self.run_listings_of = {}, self.registry
        return self.run_listings

    def diff_cache(self) -> dict[Any, Any]:
        """Computed diffs; emptied when the lineage changes ("previous version" and "HEAD" move with it)."""
        if self.diffs_of is not self.lineage:
            self.diffs, self.diffs_of = {}, self.lineage
        return self.diffs

    def checks_under_way(self) -> bool:
        """Whether the main screen's run of the checks for what is shown now has not answered yet."""
        registry, triage = self.checks_running
        started = registry is not None and registry is self.registry and triage is self.triage
        return started and self.current_checks() is None

    def current_checks(self) -> ChecksDone | None:
        """The checks run on the registry and history pass shown now, if they have finished."""
        registry, triage = self.checks_of
        return self.checks if registry is self.registry and triage is self.triage else None
