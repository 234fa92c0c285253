"""The detail pane: the selected eval's tabs (Overview, Lineage, Diff, Runs, Notes), each imported when first needed."""

from __future__ import annotations

from textual import on
from textual.widgets import ContentSwitcher, TabbedContent, TabPane

from evaltui.tui.messages import DiffRequested
from evaltui.tui.widgets.base import DetailTab, load_object
from evaltui.tui.widgets.overview import Overview

# The tabs, in order: (title, id, widget class or "module:Class"). A tab given by name is
# imported and mounted the first time it is shown, or, for those in `AHEAD`, once start-up is
# over (`mount_ahead`). A tab is listed only once it works.
DETAIL_TABS: list[tuple[str, str, type[DetailTab] | str]] = [
    ("Overview", "overview", Overview),
    ("Lineage", "lineage", "evaltui.tui.widgets.lineage_tab:LineageTab"),
    ("Diff", "diff", "evaltui.tui.widgets.diff_tab:DiffTab"),
    ("Runs", "runs", "evaltui.tui.widgets.runs_tab:RunsTab"),
    ("Notes", "notes", "evaltui.tui.widgets.notes_tab:NotesTab"),
]

AHEAD = ("lineage",)  # the tab opened most after the Overview


class TabPlaceholder(DetailTab):
    """Stands in for a tab whose module is not imported yet."""

    def __init__(self, target: str, tab_id: str) -> None:
        super().__init__()
        self.target, self.tab_id = target, tab_id


class DetailPane(TabbedContent):
    """The tabs of the selected eval; the visible one is told which eval to show (`show_eval`)."""

    def __init__(self) -> None:
        super().__init__(id="detail")
        self.border_title = "[2] Detail"
        self.eval_name: str | None = None
        self._search_query = ""  # what `/` looked for last, and where it found it
        self._search_at: tuple[int, int] | None = None
        self._drawn_ahead: DetailTab | None = None  # the tab `switch` drew before showing it
        for title, tab_id, factory in DETAIL_TABS:
            tab = TabPlaceholder(factory, tab_id) if isinstance(factory, str) else factory(id=tab_id)
            self.compose_add_child(TabPane(title, tab, id=f"tab-{tab_id}"))

    def active_tab(self) -> DetailTab | None:
        """The tab on show."""
        pane = self.active_pane
        # The tab is the pane's own child: its children, not a walk of every widget under it.
        tabs = [child for child in pane.children if isinstance(child, DetailTab)] if pane is not None else []
        return tabs[-1] if tabs else None

    def show_eval(self, name: str | None) -> None:
        """The selected eval changed, or what the tabs show was (re)loaded: redraw the visible tab."""
        self.eval_name = name
        tab = self.active_tab()
        if tab is not None:
            tab.show_eval(name)

    def search(self, query: str) -> bool:
        """The next line of the visible tab showing `query` (the first again after the last); False if none does."""
        tab = self.active_tab()
        if tab is None:
            return True  # nothing to search yet: nothing to report either
        if query != self._search_query:
            self._search_query, self._search_at = query, None
        found = tab.find(query, self._search_at)
        if found is None and self._search_at is not None:
            found = tab.find(query)  # wrap around to the top
        self._search_at = found
        return found is not None

    async def mount_tab(self, placeholder: TabPlaceholder) -> DetailTab:
        """Import and mount the tab `placeholder` stands for, in its place."""
        tab = load_object(placeholder.target)(id=placeholder.tab_id)
        await placeholder.query_ancestor(TabPane).mount(tab)
        await placeholder.remove()
        return tab

    async def mount_ahead(self) -> None:
        """Mount the tabs of `AHEAD` not mounted yet: run once start-up is over, so that opening
        one for the first time does not pay for importing and building it. The others wait for
        their first showing: every mounted widget is one more for Textual to walk."""
        for placeholder in list(self.query(TabPlaceholder)):
            if placeholder.tab_id in AHEAD and placeholder.is_attached:
                await self.mount_tab(placeholder)

    def switch(self, step: int) -> None:
        """The next (`step` 1) or previous (-1) tab."""
        panes = [pane.id for pane in self.get_child_by_type(ContentSwitcher).children if pane.id]
        if self.active not in panes:
            return
        # The underline jumps rather than slides: a key shows its tab at once, and the tab bar
        # would otherwise keep redrawing for 0.3 s after each `[` / `]`. Tabs decides on the
        # animation while `active` is set, so the level is lowered only for that.
        target = panes[(panes.index(self.active) + step) % len(panes)]
        # The tab is drawn for the selected eval while still hidden: the switch then costs one
        # layout of the screen, not one to show the tab as it was and another for the new eval.
        tab = next((c for c in self.get_pane(target).children if isinstance(c, DetailTab)), None)
        if tab is not None and not isinstance(tab, TabPlaceholder):
            tab.show_eval(self.eval_name)
            self._drawn_ahead = tab
        app, level = self.app, self.app.animation_level
        app.animation_level = "none"
        try:
            self.active = target
        finally:
            app.animation_level = level

    async def activated(self) -> None:
        """A tab was activated (the screen calls this, as in Textual's own order of handlers):
        build it if it is not yet, show it the selected eval, and focus it when chosen from the pane."""
        tab, ahead, self._drawn_ahead = self.active_tab(), self._drawn_ahead, None
        if isinstance(tab, TabPlaceholder):
            await self.mount_tab(tab)
        if tab is None or tab is not ahead or tab.eval_name != self.eval_name:
            self.show_eval(self.eval_name)
        # A tab chosen from the pane (its tab bar, or another tab) takes the focus into its
        # list; `[` and `]` from the eval list leave the focus there, to keep browsing evals.
        focused = self.screen.focused
        if focused is not None and (focused is self or self in focused.ancestors):
            chosen = self.active_tab()
            if chosen is not None:
                chosen.focus()

    @on(DiffRequested)
    async def _diff_requested(self, message: DiffRequested) -> None:
        """The Lineage tab asks for two commits on the Diff tab: hand them over, then show it."""
        message.stop()
        tab = self.query_one("#tab-diff", TabPane).query(DetailTab).last()
        if isinstance(tab, TabPlaceholder):
            tab = await self.mount_tab(tab)
        from evaltui.tui.widgets.diff_tab import DiffTab  # loaded by now, like every tab

        if isinstance(tab, DiffTab):
            tab.request(message)
        self.active = "tab-diff"
