"""Messages that carry results from workers back to the interface."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from textual.message import Message

from evaltui.core.errors import Problem
from evaltui.core.registry.model import Registry
from evaltui.core.registry.overview import DatasetInfo, EvalSummary

if TYPE_CHECKING:  # the runner, git and the team modules are imported when first used, not at start-up
    from evaltui.core.history import FilePatch, Lineage
    from evaltui.core.history.diffs import EvalDiff
    from evaltui.core.runs.cases import CaseView
    from evaltui.core.runs.execution import JobCancelled, JobFailed, JobFinished, JobProgress, JobStarted, RunWarning
    from evaltui.core.runs.report import Report
    from evaltui.core.runs.runner import RunResult
    from evaltui.core.runs.store import Comparison, Listing, RunRecord
    from evaltui.core.team.coverage import Coverage
    from evaltui.core.team.notes import Note, NotesFile
    from evaltui.core.team.triage import Triage
    from evaltui.tui.screens.rotation import RotationView

    RunEventKind = JobStarted | JobFinished | JobFailed | JobCancelled | RunWarning


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


# -- what changed on disk -----------------------------------------------------------------------


@dataclass
class StateChanged(Message):
    """Something the main screen shows changed on disk: by an action of the app or outside it.

    `what`: "registry" (evals.toml or an eval's files: read everything again) or "status" (runs,
    notes, git refs: work out owners, badges and scores again). `evals` names the evals concerned
    when known (empty: any).
    """

    what: Literal["registry", "status"]
    evals: tuple[str, ...] = ()
    source: str = ""  # what made the change, for the user: "a run", "a note", "git", …


# -- runs, the Runs tab and the report ----------------------------------------------------------


@dataclass
class RunEvent(Message):
    """A job of run `run` started, finished, failed or was cancelled, or the run warned."""

    run: int
    event: RunEventKind


@dataclass
class RunProgress(Message):
    """The latest progress of every job of run `run` (a snapshot, so a newer one loses nothing).

    Progress arrives many times a second per job; a pending `RunProgress` of the same run is
    replaced by the next one, so the screen redraws once per batch however fast a run goes.
    """

    run: int
    progress: tuple[JobProgress, ...]  # one per job that has reported

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RunProgress) and message.run == self.run


@dataclass
class RunEnded(Message):
    """Run `run` is over: `result` (a `RunResult`) or the `error` that stopped it before any job ran."""

    run: int
    result: RunResult | None = None
    error: str | None = None


@dataclass
class RunsListed(Message):
    """The recorded runs of `eval` were read (a `store.Listing`, newest first)."""

    eval: str
    listing: Listing


@dataclass
class RunsCompared(Message):
    """Two runs of an eval were compared: both records (with results) and their `store.Comparison`, or `error`."""

    eval: str
    ids: tuple[str, str]
    records: tuple[RunRecord, ...] = ()
    comparison: Comparison | None = None
    error: str | None = None


@dataclass
class RunsRecorded(Message):
    """A run wrote records for these evals; whoever shows runs should read them again."""

    evals: tuple[str, ...]


@dataclass
class RunsImported(Message):
    """`evaltui import` from the Runs tab finished: records written per eval, skipped files, or an error."""

    evals: tuple[str, ...] = ()
    written: int = 0
    skipped: int = 0
    warnings: tuple[str, ...] = ()
    error: str | None = None


@dataclass
class ReportBase(Message):
    """The default base ref for the report was worked out, with why it was chosen."""

    ref: str
    why: str


@dataclass
class ReportStatus(Message):
    """What building the report is doing now (coalesced: only the latest line matters)."""

    text: str

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ReportStatus)


@dataclass
class ReportBuilt(Message):
    """The report for `base` is ready as Markdown (`error` set instead when it could not be built)."""

    base: str
    markdown: str = ""
    error: str | None = None
    report: Report | None = None  # what the Markdown was written from (its flips open the case drill-down)


# -- coverage, rotation, notes and check ---------------------------------------------------------


@dataclass
class CoverageLoaded(Message):
    """The failure-mode × eval matrix was computed from `registry` (or `error` says why it was not)."""

    registry: Registry | None = None
    coverage: Coverage | None = None
    error: str | None = None


@dataclass
class FormSaved(Message):
    """A form's edit was written; `summary` says what changed, in a line fit for a notification."""

    summary: str


@dataclass
class FormFailed(Message):
    """A form's edit was refused (a name that exists, an id that is taken, …); the form stays open."""

    error: str


@dataclass
class RotationLoaded(Message):
    """The rotation lanes, handoffs and what the briefs need were worked out (or `error` says why not)."""

    view: RotationView | None = None
    error: str | None = None


@dataclass
class BriefReady(Message):
    """The handoff brief (markdown) for `member`'s next handoff."""

    member: str
    markdown: str


@dataclass
class CalendarExported(Message):
    """The rotation was written as an iCalendar file at `path` (or `error` says why not)."""

    path: str = ""
    events: int = 0
    error: str | None = None


@dataclass
class NotesLoaded(Message):
    """`state_dir/notes.jsonl` was read (a `NotesFile`) for `registry`."""

    notes: NotesFile
    registry: Registry | None = None


@dataclass
class NoteSaved(Message):
    """A note was appended to the notes file; whoever shows notes should read them again."""

    note: Note


@dataclass
class NoteFailed(Message):
    """A note could not be saved (no text, unknown commit, the file is locked, …)."""

    error: str


@dataclass
class ChecksDone(Message):
    """`check` ran on the repository: every problem found (or `error` says why it could not run)."""

    problems: tuple[Problem, ...] = ()
    error: str | None = None


@dataclass
class ChecksPrefetched(Message):
    """The checks the main screen runs after each history pass finished, for `registry` and `triage`."""

    registry: Registry
    triage: Triage
    done: ChecksDone


@dataclass
class HistoryLoaded(Message):
    """The lineage was read (or could not be) and each eval's list status worked out."""

    lineage: Lineage | None
    error: str | None
    triage: Triage
    generation: int = 0  # which load it answers; older ones are dropped
    me: str | None = None  # the `[people]` member for git's user.email, for "mine"


# -- the Lineage and Diff tabs --------------------------------------------------------------------


@dataclass
class DiffRequested(Message):
    """Show `eval` compared from `a` to `b` on the Diff tab (the Lineage tab's "compare")."""

    eval: str
    a: str | None
    b: str | None


@dataclass
class CommitDiffLoaded(Message):
    """One lineage commit's changes to `eval`'s files (`patches`, FilePatch tuple), or the `error` that stopped it.

    `base` says what the commit was compared with: its first parent, or the empty tree when it has none.
    """

    eval: str
    commit: str
    patches: tuple[FilePatch, ...] = ()
    base: str = ""
    error: str | None = None


@dataclass
class EvalDiffLoaded(Message):
    """`eval` compared from `a` to `b` (None: previous version, HEAD) as an `EvalDiff`, or the `error`."""

    eval: str
    a: str | None
    b: str | None
    diff: EvalDiff | None = None
    error: str | None = None


@dataclass
class CaseRead(Message):
    """One case read on each side with every model's output and score, for the drill-down."""

    view: CaseView
