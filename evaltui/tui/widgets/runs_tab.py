"""The Runs tab: an eval's recorded runs by version and model, its score trend, and flips between two runs."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Label, Sparkline, Static

from evaltui.core.formatting import score_text
from evaltui.core.runs import store
from evaltui.core.runs.store import Comparison, Listing, RunRecord
from evaltui.core.textsafe import clean
from evaltui.tui.messages import RunsCompared, RunsImported, RunsListed, RunsRecorded
from evaltui.tui.widgets.base import DetailTab
from evaltui.tui.widgets.flip_list import FlipList
from evaltui.tui.widgets.runs_text import colors, gate, render_comparison, trend, when_text

# What matters most first: the detail pane is narrow and the table scrolls sideways.
COLUMNS = (
    ("mark", " "),
    ("model", "model"),
    ("version", "ver"),
    ("score", "score"),
    ("gate", "gate"),
    ("when", "when"),
    ("cases", "cases"),
    ("errors", "err"),
    ("cache", "cache h/m"),
    ("code", "code"),
)


class RunsTable(DataTable):
    """The table of one eval's runs (a class of its own so CSS and tests can name it)."""


class RunsTab(DetailTab):
    """Recorded runs of the selected eval; mark two with space or enter to see the flips between them."""

    DEFAULT_CSS = """
    RunsTab {
        padding: 0 1;
        #runs-head { height: auto; }
        #runs-trend { height: auto; margin-top: 1; }
        .runs-trend-row { height: 1; }
        .runs-model { width: 12; }
        .runs-spark { width: 16; margin-right: 2; }
        .runs-path { width: 1fr; color: $foreground-muted; }
        #runs-table { height: auto; max-height: 16; margin-top: 1; }
        #runs-compare { height: auto; margin-top: 1; }
    }
    """

    BINDINGS = [
        Binding("space", "toggle_mark", "Mark to compare", id="runs-mark"),
        Binding("x", "clear_marks", "Clear marks", id="runs-clear"),
        Binding("i", "import_logs", "Import", id="runs-import"),
    ]
    """Marking runs (enter marks too); the two marked runs are compared; i imports lm-eval or Inspect logs."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.records: tuple[RunRecord, ...] = ()
        self.marked: list[str] = []  # record ids, in the order they were marked (at most two)
        self.comparison: Comparison | None = None
        self.last_import: RunsImported | None = None  # what the last import from this tab did

    def compose(self) -> ComposeResult:
        yield Static(Text("No eval selected.", style="dim"), id="runs-head")
        yield Vertical(id="runs-trend")
        table = RunsTable(id="runs-table", cursor_type="row", zebra_stripes=False)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        yield table
        yield Static("", id="runs-compare")
        yield FlipList(id="runs-flips")

    @property
    def table(self) -> RunsTable:
        return self.query_one(RunsTable)

    def focus(self, scroll_visible: bool = True) -> RunsTab:
        # The panel key (2) lands on the table, where the keys of this tab work.
        self.table.focus(scroll_visible)
        return self

    @property
    def cache(self) -> dict[str, Listing]:
        """Listings already read, by eval (shared through the app state, dropped when a run records more).

        A reload (a new registry) starts afresh: runs may have been recorded outside the app.
        """
        return self.state.runs_cache()

    def show_eval(self, name: str | None) -> None:
        if name != self.eval_name:
            self.marked, self.comparison = [], None
        super().show_eval(name)

    def refresh_data(self) -> None:
        name = self.eval_name
        head = self.query_one("#runs-head", Static)
        if name is None:
            self._fill((), Text("No eval selected.", style="dim"))
            return
        listing = self.cache.get(name)
        if listing is None:
            head.update(Text.assemble((name, "bold"), ("  reading runs…", "dim")))
            self.load(name)
            return
        self._fill(listing.records, self._headline(name, listing))

    def _headline(self, name: str, listing: Listing) -> Text:
        records = listing.records
        text = Text(name, style="bold")
        if not records:
            text.append(
                "  no recorded runs yet: press r on the eval list to run it, or i here to import "
                "lm-eval or Inspect results",
                style="dim",
            )
        else:
            versions = len({r.eval_version for r in records})
            models = len({r.model for r in records})
            text.append(
                f"  {len(records)} run{'s' * (len(records) != 1)}, {versions} version{'s' * (versions != 1)}, "
                f"{models} model{'s' * (models != 1)}"
            )
            text.append("  ·  space marks two runs to compare", style="dim")
        for warning in listing.warnings[:3]:
            text.append("\n" + clean(warning, keep_newlines=False), style=colors(self.app)["warning"])
        return text

    @work(thread=True, exclusive=True, exit_on_error=False, group="runs-tab")
    def load(self, name: str) -> None:
        """Read the eval's run records (summaries only) off the UI thread."""
        registry = self.state.registry
        if registry is None:
            return
        self.post_message(RunsListed(name, store.list_records(registry.state_dir, name)))

    @on(RunsListed)
    def _listed(self, message: RunsListed) -> None:
        self.cache[message.eval] = message.listing
        if message.eval == self.eval_name:
            known = {r.id for r in message.listing.records}
            self.marked = [m for m in self.marked if m in known]
            self.refresh_data()

    @on(RunsRecorded)
    def _recorded(self, message: RunsRecorded) -> None:
        for name in message.evals:
            self.cache.pop(name, None)
        if self.eval_name in message.evals:
            self.refresh_data()

    def _fill(self, records: tuple[RunRecord, ...], headline: Text) -> None:
        self.records = records
        self.query_one("#runs-head", Static).update(headline)
        self._fill_trend(records)
        table = self.table
        cursor = table.cursor_row
        table.clear()
        c = colors(self.app)
        for r in records:
            table.add_row(*self._cells(r, c), key=r.id)
        if records:
            table.move_cursor(row=min(cursor, len(records) - 1))
        table.display = bool(records)
        self._show_comparison()

    def _fill_trend(self, records: tuple[RunRecord, ...]) -> None:
        box = self.query_one("#runs-trend", Vertical)
        box.remove_children()
        lines = trend(records)
        rows = []
        for model, points in lines.items():
            spark = Sparkline([score for _, score in points], classes="runs-spark")
            path = "  ".join(f"{v} {score_text(s)}" for v, s in points[-4:])
            more = f"{len(points) - 4} older · " if len(points) > 4 else ""
            rows.append(
                Horizontal(
                    Label(Text(clean(model, keep_newlines=False), style="bold"), classes="runs-model"),
                    spark,
                    Label(Text(more + path), classes="runs-path"),
                    classes="runs-trend-row",
                )
            )
        if rows:
            box.mount(Label(Text("score by version (oldest → newest)", style="dim")), *rows)
        box.display = bool(rows)

    def _cells(self, r: RunRecord, c: dict[str, str]) -> list[Text]:
        mark = ""
        if r.id in self.marked:
            mark = "AB"[self._order().index(r.id)] if len(self.marked) == 2 else "●"
        code = r.eval_rev[:7] if r.eval_rev else "tree"
        cache = "recorded" if r.model_kind == "predictions" else f"{r.cache_hits}/{r.cache_misses}"
        if r.source is not None:
            cache = r.source.harness  # imported: no cache was involved
        return [
            Text(mark, style="bold"),
            Text(clean(r.model, keep_newlines=False)),
            Text(clean(r.eval_version or "?", keep_newlines=False)),
            Text(score_text(r.aggregate), style="bold"),
            gate(r, c),
            Text(when_text(r)),
            Text(str(r.n_cases)),
            Text(str(r.n_errors), style=c["error"] if r.n_errors else ""),
            Text(cache),
            Text(code, style="dim" if not r.eval_rev else ""),
        ]

    def _order(self) -> list[str]:
        """The marked ids as (A, B): older first; marking order breaks ties (runs of one invocation)."""
        by_id = {r.id: r for r in self.records}
        marked = [m for m in self.marked if m in by_id]
        return sorted(marked, key=lambda m: (by_id[m].time, marked.index(m)))

    # -- marking and comparing -----------------------------------------------------------------

    def action_toggle_mark(self) -> None:
        table = self.table
        if not self.records or not (0 <= table.cursor_row < len(self.records)):
            return
        record_id = self.records[table.cursor_row].id
        if record_id in self.marked:
            self.marked.remove(record_id)
        else:
            self.marked = [*self.marked, record_id][-2:]
        self.comparison = None
        self._redraw_marks()
        if len(self.marked) == 2 and self.eval_name is not None:
            a, b = self._order()
            self.compare(self.eval_name, a, b)
        self._show_comparison()

    def action_clear_marks(self) -> None:
        self.marked, self.comparison = [], None
        self._redraw_marks()
        self._show_comparison()

    @on(DataTable.RowSelected, "#runs-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_toggle_mark()

    def _redraw_marks(self) -> None:
        table, c = self.table, colors(self.app)
        for r in self.records:
            table.update_cell(r.id, "mark", self._cells(r, c)[0])

    @work(thread=True, exclusive=True, exit_on_error=False, group="runs-compare")
    def compare(self, name: str, a: str, b: str) -> None:
        """Load both records with their per-case results and compare them."""
        by_id = {r.id: r for r in self.records}
        try:
            ra, rb = (store.load_record(Path(by_id[i].path or "")) for i in (a, b))
        except (store.RecordError, KeyError) as exc:
            self.post_message(RunsCompared(name, (a, b), error=f"cannot read a run record: {exc}"))
            return
        self.post_message(RunsCompared(name, (a, b), records=(ra, rb), comparison=store.compare(ra, rb)))

    @on(RunsCompared)
    def _compared(self, message: RunsCompared) -> None:
        if message.eval != self.eval_name or list(message.ids) != self._order():
            return  # the marks moved on since
        box = self.query_one("#runs-compare", Static)
        if message.error:
            box.update(Text(clean(message.error), style=colors(self.app)["error"]))
            return
        ra, rb = message.records
        comparison = message.comparison
        if comparison is None:
            return  # a comparison without an error always carries one
        self.comparison = comparison
        box.update(render_comparison(ra, rb, comparison, colors(self.app)))
        self.query_one(FlipList).show(message.eval, ra, rb, comparison)

    def _show_comparison(self) -> None:
        box = self.query_one("#runs-compare", Static)
        if self.comparison is None:
            self.query_one(FlipList).clear_flips()
        if not self.records:
            box.update("")
        elif len(self.marked) < 2:
            box.update(
                Text(
                    f"Marked {len(self.marked)} of 2 runs: space (or enter) on a row marks it; "
                    "the flips between the two appear here.",
                    style="dim",
                )
            )
        elif self.comparison is None:
            box.update(Text("Comparing…", style="dim"))

    # -- importing other harnesses' results ----------------------------------------------------

    def action_import_logs(self) -> None:
        from evaltui.tui.widgets.import_prompt import ImportPrompt

        if self.state.registry is None:
            return

        def chosen(path: str | None) -> None:
            if path:
                self.query_one("#runs-head", Static).update(Text(f"importing {clean(path)}…", style="dim"))
                self.import_logs(path)

        self.app.push_screen(ImportPrompt(self.state.registry.root), chosen)

    @work(thread=True, exclusive=True, exit_on_error=False, group="runs-import")
    def import_logs(self, text: str) -> None:
        """Import the logs at `text` (relative to the repository) off the UI thread."""
        import os

        from evaltui.core.errors import EvaltuiError
        from evaltui.core.runs.importers import detect, import_files

        registry = self.state.registry
        if registry is None:
            return
        path = Path(os.path.expanduser(text))
        path = path if path.is_absolute() else registry.root / path
        try:
            result = import_files(registry, detect(path), [path])
        except EvaltuiError as exc:
            self.post_message(RunsImported(error=str(exc)))
            return
        self.post_message(
            RunsImported(
                tuple(sorted({r.eval for r in result.written})),
                len(result.written),
                len(result.skipped),
                result.warnings,
            )
        )

    @on(RunsImported)
    def _imported(self, message: RunsImported) -> None:
        self.last_import = message
        if message.error:
            self.notify(clean(message.error), title="Import failed", severity="error", timeout=10)
            self.refresh_data()
            return
        text = f"{message.written} run record{'s' * (message.written != 1)} imported"
        if message.skipped:
            text += f", {message.skipped} already imported"
        self.notify(
            text + "".join(f"\n{clean(w)}" for w in message.warnings[:3]),
            title="Import",
            severity="warning" if message.warnings else "information",
        )
        self.post_message(RunsRecorded(message.evals or ((self.eval_name,) if self.eval_name else ())))
        screen = self.screen
        if message.evals and hasattr(screen, "load_history") and self.state.registry is not None:
            # The list's score column comes from the same pass that reads the history.
            screen.load_history(self.state.registry)
