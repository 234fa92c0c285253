"""The main screen: eval list on the left, tabbed detail on the right (lazygit's layout)."""

from __future__ import annotations

import threading
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Input
from textual.worker import get_current_worker

from evaltui.core.registry.overview import read_dataset
from evaltui.core.textsafe import clean
from evaltui.tui import loaders
from evaltui.tui.messages import (
    ChecksPrefetched,
    DatasetRead,
    EvalSelected,
    EvalsShown,
    HistoryLoaded,
    RegistryFailed,
    RegistryLoaded,
    StateChanged,
)
from evaltui.tui.screens.opening import screen_for
from evaltui.tui.widgets.base import DetailTab
from evaltui.tui.widgets.eval_list import EvalList
from evaltui.tui.widgets.footer import SteadyFooter
from evaltui.tui.widgets.header import HeaderParts, TopBar
from evaltui.tui.widgets.overview import Overview

if TYPE_CHECKING:
    from textual.widgets import TabbedContent

    from evaltui.core.registry.model import Registry
    from evaltui.core.team.triage import Triage
    from evaltui.tui.app import EvaltuiApp
    from evaltui.tui.widgets.detail_pane import DetailPane


NEAR_DATASETS = 3
"""How many evals above and below the selected one have their datasets counted ahead."""


class MainScreen(Screen):
    """Eval list and detail; loads the registry in a worker and never blocks on disk or git."""

    if TYPE_CHECKING:  # the screens and tabs run inside evaltui's app: say so to the type checker
        app: EvaltuiApp

    BINDINGS = [
        Binding("1", "focus_evals", "Evals", id="focus-evals", show=False),
        Binding("2", "focus_detail", "Detail", id="focus-detail", show=False),
        Binding("slash", "filter", "Filter", id="filter-evals"),
        Binding("right_square_bracket", "switch_tab(1)", "Next tab", id="next-tab", show=False),
        Binding("left_square_bracket", "switch_tab(-1)", "Previous tab", id="previous-tab", show=False),
        Binding("R", "app.reload", "Reload", id="reload"),
        # Screens opened from here: (key, screen name in OPEN_SCREENS, footer label, binding id).
        Binding("r", "open_screen('run')", "Run", id="run-eval"),
        Binding("P", "open_screen('report')", "Report", id="report"),
        Binding("c", "open_screen('coverage')", "Coverage", id="coverage"),
        Binding("o", "open_screen('rotation')", "Rotation", id="rotation"),
        Binding("k", "open_screen('check')", "Check", id="check"),
        Binding("a", "open_screen('annotate')", "Annotate", id="annotate"),
        Binding("plus", "zoom", "Zoom", id="zoom-pane", show=False),
        Binding("s", "sort", "Sort", id="sort-evals", show=False),
        Binding("m", "mine", "Mine", id="mine", show=False),
        Binding("e", "edit", "Edit", id="edit-eval", show=False),
    ]
    """Panel jumps (1, 2), filter, reload, the screens reachable from the eval list, and lazygit's
    habits: zoom the focused pane, sort the list, only my evals, open the eval in `$EDITOR`."""

    AUTO_FOCUS = "#evals"

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    """Below 100 columns the list and the detail stack, each the full width."""

    DEFAULT_CSS = """
    MainScreen {
        #topbar { height: 1; padding: 0 1; background: $panel; color: $foreground; }
        #panels { height: 1fr; }
        #eval-list, #detail {
            border: round $pane-border;
            border-title-color: $foreground-muted;
            &:focus-within { border: round $primary; border-title-color: $primary; }
        }
        /* fr, not %: the keys panel (?) takes its width from both panes, not from the detail alone */
        #eval-list { width: 11fr; min-width: 40; }
        #eval-list #filter { display: none; height: 3; }
        #evals { height: 1fr; background: $surface; }
        #detail { width: 9fr; }
        #detail-search { display: none; height: 3; }
        &.-narrow {
            #panels { layout: vertical; }
            #eval-list { width: 1fr; min-width: 0; height: 1fr; }
            #detail { width: 1fr; height: 1fr; }
        }
        &.-zoom-evals #detail, &.-zoom-detail #eval-list { display: none; }
        &.-zoom-evals #eval-list, &.-zoom-detail #detail { width: 1fr; height: 1fr; }
    }
    """

    def __init__(self) -> None:
        super().__init__(id="main")
        self._history_generation = 0
        self.history_pending = False  # a history pass is running (tests wait on this)
        self._detail_pane: DetailPane | None = None  # kept: a query would walk every widget, on every key

    def compose(self) -> ComposeResult:
        yield TopBar(id="topbar")
        with Horizontal(id="panels"):
            evals = EvalList(id="eval-list")
            evals.border_title = "[1] Evals"
            yield evals
        # The detail pane and the footer come once the list is on screen (`_mount_rest`):
        # they cost as much to set up as everything else. Until then every path that
        # queries them allows for their absence.

    def on_mount(self) -> None:
        self.query_one(EvalList).table.focus()
        # A slow read of evals.toml must not leave the screen without its detail pane and keys.
        self.set_timer(0.5, self._mount_rest)
        prefetch = getattr(self.app, "prefetch", None)
        if prefetch is not None and prefetch.done() and prefetch.exception() is None:
            # Already read while the app started: show it in the first frame.
            self.app.prefetch = None
            self._loaded(RegistryLoaded(*prefetch.result()))
        else:
            self.load()

    def _mount_rest(self) -> None:
        """Mount the detail pane and the footer, once; its first tab shows the eval under the cursor
        as it activates. Not awaited: nothing else waits for it."""
        # The tab widgets are imported here, after the first frame, rather than with the screen.
        from evaltui.tui.widgets.detail_pane import DetailPane

        if not self.is_attached or self.query("#detail"):
            return  # the app is closing, or it is there already
        detail = self._detail_pane = DetailPane()
        detail.eval_name = self.query_one(EvalList).current
        self.query_one("#panels").mount(detail)
        search = Input(placeholder="search the detail pane (enter: next, esc: close)", id="detail-search")
        self.mount(search, after=self.query_one("#panels"))
        self.mount(SteadyFooter())  # its keys are drawn as it is composed, with the focus already set

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def load(self) -> None:
        """Read `evals.toml` and summarise every eval, off the UI thread."""
        prefetch, self.app.prefetch = getattr(self.app, "prefetch", None), None
        self.post_message(loaders.read_registry(self.app.root, prefetch))

    def load_history(self, registry) -> None:
        """Read the lineage (cached, incremental) and work out owners, badges and scores.

        A daemon thread rather than a Textual worker: a first pass over a long history can take
        a while, and quitting must not wait for it (the app joins its worker threads on exit).
        Results from a pass that a reload superseded are dropped.
        """
        self._history_generation += 1
        generation, now = self._history_generation, self.app.now()

        def run() -> None:
            self.post_message(loaders.read_history(registry, now, generation))

        threading.Thread(target=run, name="evaltui-history", daemon=True).start()

    @on(StateChanged)
    def _state_changed(self, message: StateChanged) -> None:
        """An action of the app or a change outside it: read again what the list and header show."""
        message.stop()  # handled: it must not bubble back up to the app that forwarded it
        state = self.app.state
        if message.what == "registry" or state.registry is None:
            self.load()
            return
        state.notes = None  # read again by whichever tab shows notes
        self.history_pending = True
        self.load_history(state.registry)

    @on(HistoryLoaded)
    def _history_loaded(self, message: HistoryLoaded) -> None:
        if message.generation != self._history_generation:
            return  # a reload started a newer pass
        self.history_pending = False
        first = self.app.state.triage is None
        state = self.app.state
        state.lineage, state.lineage_error = message.lineage, message.error
        state.triage = message.triage
        evals = self.query_one(EvalList)
        evals.me = message.me
        evals.set_statuses(message.triage.statuses, self.app.now())
        self._topbar()
        self.refresh_tabs()
        if state.registry is not None:
            self.prefetch_checks(state.registry, message.triage)
        if not first:
            return  # a refresh: its warnings were shown by the first pass
        detail = self._detail()
        if detail is not None:  # start-up is over: build the Lineage tab before it is asked for
            self.call_after_refresh(detail.mount_ahead)
        problems = list(message.triage.problems) + ([message.error] if message.error else [])
        # Notes on a degraded history go to the top bar and the Lineage tab, not to toasts that
        # would sit over the lists for seconds at every start.
        for note in problems:
            self.notify(clean(note), title="History", severity="warning", timeout=8)

    def prefetch_checks(self, registry: Registry, triage: Triage) -> None:
        """What `evaltui check` reports, after the first history pass (and later ones once the Check
        screen was used), so that it opens on the answer; a daemon thread: quitting never waits."""
        state, now = self.app.state, self.app.now()
        if state.checks_of[0] is not None and not state.checks_wanted:
            return
        state.checks_running = (registry, triage)

        def run() -> None:
            self.post_message(loaders.run_checks(registry, triage, now))

        threading.Thread(target=run, name="evaltui-checks", daemon=True).start()

    @on(ChecksPrefetched)
    def _checks_prefetched(self, message: ChecksPrefetched) -> None:
        state = self.app.state
        if message.registry is not state.registry or message.triage is not state.triage:
            return  # a reload or a newer history pass came meanwhile: its own run follows
        state.checks, state.checks_of = message.done, (message.registry, message.triage)
        loaders.hand_over_checks(self.app, message.done)  # to a Check screen opened while they ran

    @work(thread=True, exclusive=True, exit_on_error=False, group="dataset")
    def read_datasets(self, wanted: list[tuple[str, str]]) -> None:
        """Count the cases and tags of (eval, dataset path) pairs, in order; a newer call supersedes this one."""
        worker = get_current_worker()
        for name, path in wanted:
            if not worker.is_cancelled:
                self.post_message(DatasetRead(name, read_dataset(self.app.root, path)))

    @on(DatasetRead)
    def _dataset_read(self, message: DatasetRead) -> None:
        summaries = self.app.state.summaries
        summary = summaries.get(message.eval)
        if summary is None:
            return
        summaries[message.eval] = replace(summary, dataset=message.info)
        if self.query_one(EvalList).current == message.eval:
            for overview in self.query(Overview):
                overview.refresh_data()

    @on(RegistryLoaded)
    def _loaded(self, message: RegistryLoaded) -> None:
        registry = message.registry
        state = self.app.state
        state.registry = registry
        state.summaries = {s.name: s for s in message.summaries}
        count = len(message.summaries)
        self._topbar()
        self.query_one(EvalList).set_summaries(message.summaries)
        if self.focused is None:
            self.query_one(EvalList).table.focus()
        self.history_pending = True
        # Once the list is on screen (its first paint waits for none of it): the watcher, the history
        # pass, the detail pane and `EvalsShown` (app-level: start-up timing). A reload, or problems
        # shown over the list, go on at once.
        shown = partial(self.app.post_message, EvalsShown(count))
        steps = (partial(self.app.follow, registry), partial(self.load_history, registry), self._mount_rest)
        self.query_one(EvalList).after_paint(shown, *steps, wait=not (self.query("#detail") or registry.errors))
        if registry.errors:
            self.app.show_problems(registry.problems, count)

    def _topbar(self) -> None:
        """Project, eval count, what needs attention, HEAD and whether history is still being read."""
        if self.app.state.registry is not None:
            self.query_one(TopBar).show(HeaderParts.of(self.app.state))

    @on(RegistryFailed)
    def _failed(self, message: RegistryFailed) -> None:
        self.query_one(EvalList).set_summaries(())
        self.call_after_refresh(self._mount_rest)
        self.app.post_message(EvalsShown(0))
        self.app.show_problems(message.problems, 0)

    @on(EvalSelected)
    def _selected(self, message: EvalSelected) -> None:
        detail = self._detail()
        if detail is not None:
            detail.show_eval(message.name)
        # The selected eval's dataset and, once start-up is over, its neighbours', counted
        # ahead: moving the cursor then finds the next eval's Overview complete.
        summaries, near = self.app.state.summaries, NEAR_DATASETS if self.app.state.triage is not None else 0
        wanted = [
            (s.name, s.eval.dataset)
            for name in self.query_one(EvalList).around(message.name, near)
            if (s := summaries.get(name)) is not None and s.dataset is None and s.eval.dataset
        ]
        if wanted:
            # After the frame that shows the selection: at start-up that is the eval list's
            # first frame, which the read (a thread) would otherwise slow down.
            self.call_after_refresh(self.read_datasets, wanted)

    async def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        detail = self._detail()
        if detail is not None and event.tabbed_content is detail:
            await detail.activated()

    def active_tab(self) -> DetailTab | None:
        """The detail tab on show (None until the detail pane is mounted)."""
        detail = self._detail()
        return detail.active_tab() if detail is not None else None

    def _detail(self) -> DetailPane | None:
        """The detail pane, None until `_mount_rest` has mounted it (and imported its widgets)."""
        pane = self._detail_pane
        return pane if pane is not None and pane.is_attached else None

    def refresh_tabs(self) -> None:
        """Something the tabs show was (re)loaded: redraw the visible one."""
        detail = self._detail()
        if detail is not None:
            detail.show_eval(self.query_one(EvalList).current)

    def action_focus_evals(self) -> None:
        self.query_one(EvalList).table.focus()

    def action_switch_tab(self, step: int) -> None:
        """`]` and `[`: the next or previous tab of the detail pane, wherever the focus is."""
        detail = self._detail()
        if detail is not None:
            detail.switch(step)

    def action_focus_detail(self) -> None:
        tab = self.active_tab()
        if tab is not None:
            tab.focus()

    def action_filter(self) -> None:
        """`/`: filter the list, or, with the focus in the detail pane, search in what it shows."""
        detail = self.query("#detail")
        if detail and self.focused is not None and detail.first() in self.focused.ancestors_with_self:
            box = self.query_one("#detail-search", Input)
            box.display = True
            box.focus()
            return
        self.query_one(EvalList).open_filter()

    @on(Input.Submitted, "#detail-search")
    def _search(self, event: Input.Submitted) -> None:
        """Enter: the next line showing the words (again: the one after it); not found says so."""
        detail = self._detail()
        if detail is not None and not detail.search(event.value):
            self.notify(f"not found: {event.value}", title="Search", severity="warning", timeout=3, markup=False)

    def key_escape(self) -> None:
        box = self.query("#detail-search")
        if box and box.first(Input).display:
            box.first(Input).display = False
            self.action_focus_detail()

    def action_open_screen(self, name: str) -> None:
        """Push one of `OPEN_SCREENS`; it is given the eval under the cursor."""
        screen = screen_for(self.app, name, self.query_one(EvalList).current)
        if screen is not None and screen not in self.app.screen_stack:
            self.app.push_screen(screen)

    def select_eval(self, name: str) -> None:
        self.query_one(EvalList).select(name)

    def action_zoom(self) -> None:
        """`+`: the focused pane takes the whole screen; again, both come back."""
        if self.has_class("-zoom-evals") or self.has_class("-zoom-detail"):
            self.remove_class("-zoom-evals", "-zoom-detail")
            return
        detail = self.query("#detail")
        in_detail = bool(detail) and self.focused is not None and detail.first() in self.focused.ancestors_with_self
        self.add_class("-zoom-detail" if in_detail else "-zoom-evals")

    def action_sort(self) -> None:
        order = self.query_one(EvalList).cycle_sort()
        self.notify(f"Sorted by {order}", title="Evals", timeout=2)

    def action_mine(self) -> None:
        evals = self.query_one(EvalList)
        if not evals.toggle_mine():
            self.notify(
                "Your git user.email is not in [people] of evals.toml (or history is still being read).",
                title="Mine",
                severity="warning",
            )

    def action_edit(self) -> None:
        """`e` in `$EDITOR`: the file under the cursor (Lineage: the commit's files; Overview: the eval's
        files, to choose from), else the eval's table in evals.toml."""
        from evaltui.tui.editor import main_screen_targets

        self.app.edit(main_screen_targets(self))
