"""The Rotation screen: who owns which eval in each coming period, the next handoff, and its brief."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Markdown, Static

from evaltui.core import fsutil
from evaltui.core.formatting import time_until
from evaltui.core.team import icsexport
from evaltui.core.team.lanes import (
    LEGEND,
    MARKS,
    PERIODS,  # noqa: F401 - the window the screen shows, read by its tests
    LaneCell,
    RotationView,
    brief_markdown,
    load_view,
)
from evaltui.core.team.ownership import local_time
from evaltui.core.textsafe import clean
from evaltui.tui.messages import BriefReady, CalendarExported, RotationLoaded

if TYPE_CHECKING:
    from evaltui.tui.app import EvaltuiApp

CALENDAR_FILE = "rotation.ics"


class RotationScreen(Screen):
    """Lanes per member over the coming periods; the selected member's handoff brief below; `x` exports .ics."""

    DEFAULT_CSS = """
    RotationScreen {
        #rotation-summary { height: auto; padding: 0 1; background: $panel; color: $foreground; }
        #rotation-lanes { height: auto; max-height: 50%; background: $surface; }
        #rotation-legend { height: auto; padding: 0 1; border-bottom: solid $pane-border; }
        #rotation-brief-title { height: 1; padding: 0 1; color: $foreground; }
        #rotation-brief-scroll { height: 1fr; padding: 0 1; }
        #rotation-brief { margin: 0; padding: 0; }
    }
    """

    if TYPE_CHECKING:  # the screens and tabs run inside evaltui's app: say so to the type checker
        app: EvaltuiApp

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="rotation-back"),
        Binding("x", "export", "Export .ics", id="rotation-export"),
    ]
    """Back, and the calendar export; up/down choose the member whose brief is shown."""

    def __init__(self, eval_name: str | None = None, *, now: dt.datetime | None = None) -> None:
        super().__init__(id="rotation-screen")
        self.eval_name = eval_name
        self.now = now
        self.view: RotationView | None = None
        self.briefs: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Static(Text("Working out the rotation…", style="dim"), id="rotation-summary")
        yield DataTable(id="rotation-lanes", cursor_type="row")
        yield Static(Text(LEGEND, style="dim"), id="rotation-legend")
        yield Static(id="rotation-brief-title")
        with VerticalScroll(id="rotation-brief-scroll"):
            yield Markdown(id="rotation-brief")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#rotation-lanes", DataTable).focus()
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="rotation")
    def load(self) -> None:
        """Schedule, handoffs, notes, runs and coverage for the window, off the UI thread."""
        state = self.app.state
        registry = state.registry
        if registry is None:
            self.post_message(RotationLoaded(error="evals.toml is not loaded yet"))
            return
        if registry.rotation is None:
            self.post_message(
                RotationLoaded(
                    error=f"{registry.path.name} has no [rotation] table: add one with "
                    "`members`, `cadence`, `start` and `timezone`"
                )
            )
            return
        self.post_message(RotationLoaded(load_view(registry, self.now or self.app.now(), state.lineage)))

    @on(RotationLoaded)
    def _loaded(self, message: RotationLoaded) -> None:
        message.stop()
        colors = self.app.get_css_variables()
        if message.error:
            self.query_one("#rotation-summary", Static).update(
                Text(clean(message.error, keep_newlines=False), style=f"bold {colors.get('warning', 'default')}")
            )
            return
        view = message.view
        if view is None:
            return  # only an error comes without a view
        self.view = view
        state = self.app.state
        if state.lineage is None and view.lineage is not None:
            state.lineage = view.lineage
        self.query_one("#rotation-summary", Static).update(self.summary(view, colors))
        self._fill(view, colors)

    def summary(self, view: RotationView, colors: dict[str, str]) -> Text:
        """The rotation's rules, the next handoff and the absences and overrides still to come."""
        registry, rot = view.registry, view.registry.rotation
        assert rot is not None
        every = (
            f"{rot.cadence_days // 7} week{'s' * (rot.cadence_days != 7)}"
            if rot.cadence_days % 7 == 0
            else f"{rot.cadence_days} day{'s' * (rot.cadence_days != 1)}"
        )
        text = Text.assemble(
            ("Rotation  ", "bold"),
            ", ".join(rot.members),
            f"  ·  every {every}, handing over {rot.start:%a %H:%M} {rot.timezone}  ·  fresh eyes "
            f"{'on' if rot.fresh_eyes else 'off'}",
        )
        text.append(f"\nNow {local_time(registry, view.now):%a %d %b %Y %H:%M}  ·  ")
        if view.upcoming:
            first = view.upcoming[0].at
            text.append(
                f"next handoff in {time_until(view.now, first)}", style=f"bold {colors.get('accent', 'default')}"
            )
            moves = ", ".join(f"{h.eval} {h.outgoing or '–'} → {h.incoming or '–'}" for h in view.upcoming)
            text.append(f" ({local_time(registry, first):%a %d %b %H:%M}): {moves}")
        else:
            text.append("no handoff in the next 12 months", style="dim")
        today = local_time(registry, view.now).date()
        plans = [
            (f"away: {a.member} {a.start:%d %b} – {a.end:%d %b}", "warning") for a in rot.absences if a.end >= today
        ]
        plans += [
            (
                f"override: {o.member} owns {', '.join(o.evals)} {o.start:%d %b} – {o.end:%d %b}"
                + (f" ({clean(o.reason, keep_newlines=False)})" if o.reason else ""),
                "accent",
            )
            for o in rot.overrides
            if o.end >= today
        ]
        for i, (line, color) in enumerate(plans):
            text.append("\n" if i == 0 else "   ")
            text.append(line, style=colors.get(color, "default"))
        return text

    def _fill(self, view: RotationView, colors: dict[str, str]) -> None:
        table = self.query_one("#rotation-lanes", DataTable)
        selected = self.current_member()
        table.clear(columns=True)
        lanes = view.lanes
        name_width = max([len(m) for m in lanes.members] + [6])
        periods = len(lanes.ticks) - 1
        # Cells share what is left of the screen; long eval names are cut, never wrapped.
        width = max(8, (self.size.width - name_width - 3 - periods * 2) // max(periods, 1))
        table.add_column("member", key="member", width=name_width)
        for i, tick in enumerate(lanes.ticks[:-1]):
            table.add_column(f"{local_time(view.registry, tick):%a %d %b}", key=f"p{i}", width=width)
        for member in lanes.members:
            cells = [self.cell(c, width, colors) for c in lanes.cells[member]]
            table.add_row(Text(member, style="bold"), *cells, key=member, height=None)
        if selected in lanes.members:
            table.move_cursor(row=lanes.members.index(selected))
        self.show_brief()

    @staticmethod
    def cell(cell: LaneCell, width: int, colors: dict[str, str]) -> Text:
        """A lane cell: `away` first when the member is absent, then one eval per line with its mark."""
        lines: list[Text] = []
        if cell.away:
            lines.append(Text("away", style=f"bold {colors.get('warning', 'default')}"))
        for name, reason in cell.evals:
            mark = MARKS.get(reason, "")
            shown = name if len(name) + len(mark) <= width else name[: max(width - len(mark) - 1, 1)] + "…"
            style = {
                "override": colors.get("accent", "default"),
                "cover": colors.get("warning", "default"),
                "pin": "dim",
            }.get(reason, "")
            lines.append(Text(shown + mark, style=style))
        if not lines:
            return Text("·", style="dim")
        return Text("\n").join(lines)

    def current_member(self) -> str | None:
        if self.view is None:
            return None
        row = self.query_one("#rotation-lanes", DataTable).cursor_row
        members = self.view.lanes.members
        return members[row] if 0 <= row < len(members) else None

    @on(DataTable.RowHighlighted, "#rotation-lanes")
    def _highlighted(self) -> None:
        self.show_brief()

    def show_brief(self) -> None:
        member = self.current_member()
        if member is None or self.view is None:
            return
        title = Text.assemble(
            ("Brief for ", "dim"),
            (member, "bold"),
            ("'s next handoff   ↑↓ another member · x: export the calendar", "dim"),
        )
        self.query_one("#rotation-brief-title", Static).update(title)
        if member in self.briefs:
            self.post_message(BriefReady(member, self.briefs[member]))
        else:
            self.build_brief(member)

    @work(thread=True, exclusive=True, exit_on_error=False, group="brief")
    def build_brief(self, member: str) -> None:
        """The brief for `member` (reads versions from the working tree)."""
        if self.view is not None:
            self.post_message(BriefReady(member, brief_markdown(self.view, member)))

    @on(BriefReady)
    async def _brief_ready(self, message: BriefReady) -> None:
        message.stop()
        self.briefs[message.member] = message.markdown
        if message.member == self.current_member():
            await self.query_one("#rotation-brief", Markdown).update(message.markdown)
            self.query_one("#rotation-brief-scroll", VerticalScroll).scroll_home(animate=False)

    def action_export(self) -> None:
        if self.view is None:
            self.app.notify("The rotation is not loaded yet.", severity="warning")
            return
        self.export(self.view)

    @work(thread=True, exclusive=True, exit_on_error=False, group="export")
    def export(self, view: RotationView) -> None:
        """Write the window's owner periods and handoffs to `state_dir/rotation.ics`, atomically."""
        registry = view.registry
        text = icsexport.calendar(registry, view.segments, view.changes)
        path = registry.state_dir / CALENDAR_FILE
        try:
            fsutil.write_export(registry.state_dir, path, text)
        except OSError as exc:
            self.post_message(CalendarExported(error=f"cannot write {path}: {exc}"))
            return
        try:
            shown = path.relative_to(registry.root).as_posix()
        except ValueError:
            shown = str(path)
        self.post_message(CalendarExported(shown, text.count("BEGIN:VEVENT")))

    @on(CalendarExported)
    def _exported(self, message: CalendarExported) -> None:
        message.stop()
        if message.error:
            self.app.notify(clean(message.error, keep_newlines=False), title="Calendar", severity="error", markup=False)
        else:
            self.app.notify(f"wrote {message.path} ({message.events} events)", title="Calendar", markup=False)
