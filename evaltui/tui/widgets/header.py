"""The main screen's top line: project, eval count, what needs attention and HEAD, fitted to the width."""

from __future__ import annotations

from typing import NamedTuple

from rich.text import Text
from textual.app import RenderResult
from textual.widgets import Static

from evaltui.core.textsafe import clean
from evaltui.tui.state import AppState
from evaltui.tui.widgets.eval_list import BLIND_BADGE, PENDING_BADGE, SILENT_BADGE, below_threshold

# The badges the eval list shows, most urgent first, and what the header calls them: (badge, long, short);
# `{s}` is the plural ending, for a count other than one.
BADGES = (
    ("✗", "below threshold", "failing"),
    (PENDING_BADGE, "uncommitted", "pending"),
    (SILENT_BADGE, "silent", "silent"),
    (BLIND_BADGE, "blind spot{s}", "blind"),
)


class HeaderParts(NamedTuple):
    """What the top line says; each count is a number of evals (0: not shown)."""

    project: str
    evals: int
    counts: tuple[int, ...]  # one per `BADGES`, in that order
    head: str | None  # HEAD's abbreviated commit, None while history is read
    reading: bool  # the history pass has not finished yet
    notes: int  # notes on a degraded history

    @classmethod
    def of(cls, state: AppState) -> HeaderParts:
        """What the loaded `state` (its registry read) has to say."""
        assert state.registry is not None
        statuses = state.triage.statuses.values() if state.triage is not None else ()
        lineage = state.lineage
        return cls(
            project=clean(state.registry.project.name or state.registry.root.name, keep_newlines=False),
            evals=len(state.summaries),
            counts=(
                sum(1 for st in statuses if below_threshold(st)),
                sum(1 for st in statuses if st.pending),
                sum(1 for st in statuses if st.silent),
                sum(1 for st in statuses if st.blind_spots),
            ),
            head=lineage.head[:7] if state.triage is not None and lineage is not None and lineage.head else None,
            reading=state.triage is None,
            notes=len(lineage.notes) if lineage is not None else 0,
        )


# How much each level of `header_text` gives up, from the whole line to the shortest. Counts
# of what needs attention and HEAD are the last to shrink; the app's name goes first.
LEVELS = 5


def header_text(parts: HeaderParts, level: int = 0) -> Text:
    """The line at `level` (0: in full; higher: shorter labels, then fewer parts)."""
    text = Text()
    if level < 2:
        text.append("evaltui", style="bold")
        text.append(" · ")
    if level < 4:
        text.append(parts.project)
        text.append(" · ")
    text.append(f"{parts.evals} eval{'s' * (parts.evals != 1)}")
    for (badge, long, short), n in zip(BADGES, parts.counts, strict=True):
        if not n:
            continue
        if level < 3:
            label = long.format(s="s" * (n != 1)) if level == 0 else short
            text.append(f" · {badge} {n} {label}", style="bold")
        else:  # compact, as the list's badge column shows them: `✗1 !2`
            text.append(f" {badge}{n}", style="bold")
    if parts.reading:
        text.append(" · reading history…" if level < 3 else " · …", style="dim")
    elif parts.head:
        text.append(f" · HEAD {parts.head}", style="dim")
    if parts.notes:
        plural = "s" * (parts.notes != 1)
        if level == 0:
            text.append(f" · history: {parts.notes} note{plural} (Lineage tab)", style="bold")
        else:
            text.append(f" · {parts.notes} history note{plural}", style="bold")
    return text


def fitted(parts: HeaderParts, width: int) -> Text:
    """The fullest level of `header_text` that fits in `width` cells; the shortest, cut with `…`, if none does."""
    for level in range(LEVELS):
        text = header_text(parts, level)
        if text.cell_len <= width:
            return text
    text.truncate(max(1, width), overflow="ellipsis")
    return text


class TopBar(Static):
    """One line over both panes. Its `content` is the whole line; it draws the fullest form that fits."""

    def __init__(self, **kwargs) -> None:
        super().__init__(Text("evaltui", style="bold"), **kwargs)
        self.parts: HeaderParts | None = None

    def show(self, parts: HeaderParts) -> None:
        self.parts = parts
        self.update(header_text(parts))

    def render(self) -> RenderResult:
        if self.parts is None:
            return super().render()
        return fitted(self.parts, self.content_size.width)
