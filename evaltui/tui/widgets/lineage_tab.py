"""The Lineage tab: an eval's versions as a timeline, newest first, with the commits under each and their diffs."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import RenderableType
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import LoadingIndicator, OptionList, Static
from textual.widgets.option_list import Option

from evaltui.core import history
from evaltui.core.registry.model import FILENAME
from evaltui.core.team import notes as notes_core
from evaltui.core.textsafe import clean
from evaltui.tui.messages import DiffRequested, NotesLoaded
from evaltui.tui.widgets.base import DetailTab
from evaltui.tui.widgets.commit_diff import CommitDiff
from evaltui.tui.widgets.diffview import history_ready, theme_colors
from evaltui.tui.widgets.lineage_list import LineageList
from evaltui.tui.widgets.overview import Drawn
from evaltui.tui.widgets.timeline import entry_details, entry_line, entry_prompt, header


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"


class LineageTab(DetailTab):
    """The selected eval's lineage, one line per commit; enter shows a commit's diff, space marks two
    commits and d compares them, p shows every commit's files, z zooms the tab to the whole screen."""

    ALLOW_MAXIMIZE = True

    DEFAULT_CSS = """
    LineageTab {
        padding: 0 1;
        overflow-y: hidden;
        #lineage-head { height: auto; margin-bottom: 1; }
        #lineage-loading { height: 3; color: $primary; }
        #lineage-list { height: 1fr; min-height: 6; border: none; padding: 0; background: $surface; }
        #lineage-list > .option-list--option-disabled { color: $foreground; }
        #lineage-list > .option-list--separator { color: $pane-border; }
        #lineage-diff-box { display: none; height: 2fr; border-top: solid $pane-border; }
        #lineage-diff-title { height: 1; }
        #lineage-diff { height: 1fr; }
        #lineage-diff:focus { background: $boost; }
    }
    LineageTab #lineage-list {
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    LineageTab.-expanded #lineage-list {
        text-wrap: wrap;
    }
    #lineage-detail {
        height: auto;
        max-height: 4;
        border-top: solid $panel-lighten-2;
    }
    """

    BINDINGS = [
        Binding("space", "toggle_mark", "Mark", id="lineage-mark"),
        Binding("d", "compare", "Compare", id="lineage-compare"),
        Binding("p", "toggle_paths", "Paths", id="lineage-paths"),
        Binding("z", "zoom", "Zoom", id="lineage-zoom"),
        Binding("escape", "close_diff", "Close diff", id="lineage-close-diff"),
    ]
    """Marking commits for the Diff tab, files and notes of every commit, zoom, closing the commit diff."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.entries: dict[str, history.Entry] = {}  # commit -> Entry, of the eval shown
        self.marked: list[str] = []  # at most two commits, in the order they were marked
        self._acks: set[str] = set()
        self._acks_from: object = None  # the notes file the acknowledgements were read from
        self._drawn: tuple = ()  # what the list was last filled from, to keep the cursor on redraws
        self._detail_of: tuple = ()  # what the commit's details were last drawn from
        self.expanded = False  # every commit with its files, subject and note on lines of its own

    def compose(self) -> ComposeResult:
        yield Static(Text("Loading evals…", style="dim"), id="lineage-head")
        yield LoadingIndicator(id="lineage-loading")
        yield LineageList(id="lineage-list")
        yield Static(id="lineage-detail")  # the files and note of the commit under the cursor
        yield CommitDiff(id="lineage-diff-box")

    def on_mount(self) -> None:
        self.app.screen_change_signal.subscribe(self, self._screen_changed)
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._redraw())

    @property
    def timeline(self) -> LineageList:
        return self.query_one(LineageList)

    def focus(self, scroll_visible: bool = True) -> LineageTab:
        # The panel key (2) lands on the timeline, where this tab's keys work.
        self.timeline.focus(scroll_visible)
        return self

    @property
    def selected_commit(self) -> str | None:
        """The full sha under the cursor (the annotate dialog prefills it)."""
        timeline = self.timeline
        index = timeline.highlighted
        if index is None or not self.entries:
            return None
        return timeline.get_option_at_index(index).id

    def show_eval(self, name: str | None) -> None:
        if name != self.eval_name:
            self.marked, self._drawn, self.entries = [], (), {}
            if self.is_mounted:
                self.timeline.clear_options()  # a new eval starts at its newest commit
            self._close()
        super().show_eval(name)

    # -- drawing -----------------------------------------------------------------------------

    def refresh_data(self) -> None:
        colors = theme_colors(self.app)
        ready = history_ready(self.state, self.eval_name, colors, "No git history to show", self._message)
        if ready is None:
            return
        name, lineage = ready
        entries = history.eval_log(lineage, name)
        if not entries:
            self._message(
                Text.assemble(
                    (name, "bold"), ("  no commit touches this eval yet: commit its files to start its lineage", "dim")
                )
            )
            return
        self._read_acks()
        self._fill(lineage, name, entries, colors)

    def _message(self, text: Text, loading: bool = False) -> None:
        self.query_one("#lineage-head", Static).update(text)
        self.query_one("#lineage-loading").display = loading
        self.entries, self._drawn = {}, ()
        self.timeline.clear_options()
        self.timeline.display = False
        self.query_one("#lineage-detail").display = False
        self._close()

    def _headline(
        self, lineage: history.Lineage, name: str, entries: Sequence[history.Entry], colors: dict[str, str]
    ) -> Text:
        spans = history.versions_of(lineage, name)
        text = Text(name, style="bold")
        text.append(f"  {_count(len(spans), 'version')}, {_count(len(entries), 'commit')}")
        silent = [e for e in entries if e.kind == "silent" and not notes_core.is_acknowledged(e.commit, self._acks)]
        if silent:
            text.append(
                f"  ·  {len(silent)} unacknowledged silent change{'s' * (len(silent) != 1)}",
                style=f"bold {colors['warning']}",
            )
        text.append("\nenter diff · space mark two, d compare · p paths · z zoom · a annotate", style="dim")
        notes = lineage.notes
        # On a degraded history the notes could push the list off a small pane: the first one
        # stands for all until p asks for everything.
        for note in notes if self.expanded else notes[:1]:
            text.append("\n" + clean(note, keep_newlines=False), style=colors["warning"])
        if len(notes) > 1 and not self.expanded:
            text.append(
                f"\n+{len(notes) - 1} more note{'s' * (len(notes) > 2)} on this history (p shows them)",
                style=colors["warning"],
            )
        return text

    def _fill(
        self, lineage: history.Lineage, name: str, entries: Sequence[history.Entry], colors: dict[str, str]
    ) -> None:
        self.query_one("#lineage-loading").display = False
        timeline = self.timeline
        timeline.display = True
        key = (name, lineage, frozenset(self._acks), self.app.theme, self.expanded)
        if key == self._drawn:
            return  # drawn already (the headline too): updating it would lay the screen out again
        self.query_one("#lineage-head", Static).update(self._headline(lineage, name, entries, colors))
        keep = self.selected_commit
        self._drawn = key
        self.entries = {e.commit: e for e in entries}
        options: list = []
        spans = history.versions_of(lineage, name)
        starts = {span.entries[0].commit: (i, span) for i, span in enumerate(spans)}
        in_spans = {e.commit for span in spans for e in span.entries}
        for entry in entries:
            if entry.commit in starts:
                i, span = starts[entry.commit]
                if options:
                    options.append(None)
                # Drawn once per width: the list asks a heading for its height, then for its lines.
                options.append(Option(Drawn(timeline, header(span, i == 0, colors)), disabled=True))
            elif entry.commit not in in_spans and (not options or options[-1] is not None):
                gone = Text(f"removed from {FILENAME}", style=f"bold {colors['error']}")
                options.append(Option(gone, disabled=True))
            options.append(Option(self._prompt(entry, colors), id=entry.commit))
        timeline.set_options(options)
        target = keep if keep in self.entries else entries[0].commit
        timeline.highlighted = timeline.get_option_index(target)
        self._show_details(target)

    def _prompt(self, entry, colors: dict[str, str]) -> RenderableType | Drawn:
        acknowledged = notes_core.is_acknowledged(entry.commit, self._acks)
        if self.expanded:
            return Drawn(self.timeline, entry_prompt(entry, colors, acknowledged, self._mark(entry.commit)))
        return entry_line(entry, colors, acknowledged, self._mark(entry.commit))

    def _show_details(self, commit: str | None) -> None:
        detail = self.query_one("#lineage-detail", Static)
        entry = self.entries.get(commit) if commit else None
        detail.display = entry is not None and not self.expanded
        if entry is None:
            return
        acknowledged = notes_core.is_acknowledged(entry.commit, self._acks)
        # The list's highlight repeats what `_fill` showed: only a change is drawn (and laid out).
        key = (entry, acknowledged, self.app.theme)
        if key != self._detail_of:
            self._detail_of = key
            detail.update(entry_details(entry, theme_colors(self.app), acknowledged))

    def _mark(self, commit: str) -> str:
        if commit not in self.marked:
            return ""
        if len(self.marked) < 2:
            return "●"
        return "AB"[self._ordered().index(commit)]

    def _ordered(self) -> list[str]:
        """The marked commits as (A, B): the older one first."""
        order = list(self.entries)  # newest first
        return sorted(self.marked, key=lambda c: -order.index(c) if c in order else 0)

    def _redraw(self) -> None:
        self._drawn = ()
        if self.is_mounted:
            self.refresh_data()
            if self.diff_commit is not None:
                self._show_diff(self.diff_commit)

    # -- acknowledgements (non-semantic notes) ------------------------------------------------

    def _read_acks(self) -> None:
        found = self.state.notes
        if found is None:
            self.load_notes()
        elif found is not self._acks_from:
            self._acks_from = found
            self._acks = notes_core.acknowledged_commits(found)

    @on(NotesLoaded)
    def _notes_loaded(self, message: NotesLoaded) -> None:
        message.stop()
        if message.registry is self.state.registry:
            # Shared with the Notes tab; the annotate dialog drops it when it writes a note.
            if self.state.notes is None:
                self.state.notes = message.notes
            self.refresh_data()

    def _screen_changed(self, screen) -> None:
        # Back from the annotate dialog: a new non-semantic note may acknowledge a silent change
        # (the dialog drops the shared notes; redrawing reads them again, and is cheap otherwise).
        if screen is self.screen and self.is_mounted and self.eval_name is not None:
            self.refresh_data()

    # -- a commit's diff ----------------------------------------------------------------------

    @on(OptionList.OptionSelected, "#lineage-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id in self.entries:
            self._show_diff(event.option.id)
            self.query_one("#lineage-diff").focus()

    @on(OptionList.OptionHighlighted, "#lineage-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self._show_details(event.option.id)
        # An open diff follows the cursor, like lazygit's main view.
        if self.diff_commit is not None and event.option.id in self.entries:
            self._show_diff(event.option.id)

    def _show_diff(self, commit: str) -> None:
        entry = self.entries.get(commit)
        if self.eval_name is not None and entry is not None:
            acknowledged = notes_core.is_acknowledged(commit, self._acks)
            self.query_one(CommitDiff).show(self.eval_name, entry, acknowledged)

    @property
    def diff_commit(self) -> str | None:
        """The commit whose diff is open, if any."""
        return self.query_one(CommitDiff).commit if self.is_mounted else None

    def _close(self) -> None:
        if self.is_mounted:
            self.query_one(CommitDiff).close()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "close_diff":
            return self.diff_commit is not None
        if action in ("toggle_mark", "compare"):
            return bool(self.entries)
        return True

    def action_toggle_paths(self) -> None:
        """Every commit with its files, subject and note (and every note on the history), or one line each."""
        self.expanded = not self.expanded
        self.set_class(self.expanded, "-expanded")
        self._redraw()

    def action_zoom(self) -> None:
        """The tab over the whole screen, or back into its pane."""
        screen = self.screen
        if screen.maximized is self:
            screen.minimize()
        else:
            screen.maximize(self, container=False)
        self.timeline.focus()

    def action_close_diff(self) -> None:
        self._close()
        self.timeline.focus()
        self.refresh_bindings()

    # -- marking two commits for the Diff tab ----------------------------------------------------

    def action_toggle_mark(self) -> None:
        commit = self.selected_commit
        if commit is None:
            return
        marked = [c for c in self.marked if c != commit]
        self._set_marks(marked if commit in self.marked else [*marked, commit][-2:])

    def _set_marks(self, marked: list[str]) -> None:
        before, self.marked = self.marked, marked
        colors = theme_colors(self.app)
        for c in {*before, *marked}:
            if c in self.entries:
                self.timeline.replace_option_prompt(c, self._prompt(self.entries[c], colors))

    def action_compare(self) -> None:
        """Show the two marked commits (or the marked one and the cursor) on the Diff tab, older as A."""
        pair = list(self.marked)
        current = self.selected_commit
        if len(pair) == 1 and current is not None and current != pair[0]:
            pair.append(current)
        if len(pair) != 2 or self.eval_name is None:
            self.app.notify(
                "Mark two commits with space first (or one, and put the cursor on another).",
                title="Lineage",
                severity="warning",
            )
            return
        self._set_marks(pair)
        a, b = self._ordered()
        self.post_message(DiffRequested(self.eval_name, a, b))
