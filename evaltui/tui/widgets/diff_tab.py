"""The Diff tab: an eval's files and dataset cases between two of its versions or commits."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Label, LoadingIndicator, Select, Static
from textual.worker import Worker

from evaltui.core import history
from evaltui.core.errors import EvaltuiError
from evaltui.core.history import diffs
from evaltui.core.textsafe import clean
from evaltui.tui.messages import DiffRequested, EvalDiffLoaded
from evaltui.tui.widgets.base import DetailTab
from evaltui.tui.widgets.diffview import (
    diff_cache,
    history_ready,
    render_cases,
    render_files,
    short,
    stack,
    theme_colors,
)

DEFAULT = ""  # the Select value that stands for the default side (previous version, HEAD)


def side_options(lineage, name: str, default: str) -> list[tuple[Text, str]]:
    """What A or B can be: the default, each version (its latest commit), then each commit, newest first.

    Values are `v:<version>` and `c:<full sha>`, so a version can never be taken for a revision.
    """
    options: list[tuple[Text, str]] = [(Text(default, style="italic"), DEFAULT)]
    seen = set()
    for i, span in enumerate(history.versions_of(lineage, name)):
        if span.version and span.version not in seen:
            seen.add(span.version)
            label = Text.assemble(("version ", "dim"), (clean(span.version, keep_newlines=False), "bold"))
            if i == 0:
                label.append("  current", style="dim")
            options.append((label, f"v:{span.version}"))
    for e in history.eval_log(lineage, name):
        options.append(
            (
                Text.assemble(
                    (e.commit[:7], "bold"), f"  {e.kind:<8}  {e.date:%Y-%m-%d}  ", clean(e.subject, keep_newlines=False)
                ),
                f"c:{e.commit}",
            )
        )
    return options


def spec(value: object) -> str | None:
    """The version or revision a Select value asks for (None: the default)."""
    return value[2:] if isinstance(value, str) and value[:2] in ("v:", "c:") else None


class DiffTab(DetailTab):
    """Two sides of the selected eval (previous version → HEAD by default), their file diffs and case summary."""

    DEFAULT_CSS = """
    DiffTab {
        padding: 0 1;
        #diff-head { height: auto; margin: 1 0 1 0; }
        #diff-loading { height: 3; color: $primary; }
        .diff-pick { height: 1; }
        .diff-side { width: 3; text-style: bold; color: $foreground-muted; }
        .diff-pick Select { width: 1fr; }
        #diff-body { height: auto; }
    }
    """

    BINDINGS = [
        Binding("s", "toggle_split", "Side by side", id="diff-split"),
        Binding("u", "unified", "Unified", id="diff-unified", show=False),
        Binding("A", "pick('a')", "Choose A", id="diff-choose-a"),
        Binding("B", "pick('b')", "Choose B", id="diff-choose-b"),
    ]
    """Layout of the diff (s toggles, u goes back to unified) and choosing the two sides."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.choice: tuple[str | None, str | None] = (None, None)  # (A, B) as Select values, None: default
        self.split = False
        self.shown: diffs.EvalDiff | None = None  # the diff on screen
        self._options_for: tuple = ()  # (eval, lineage) the pickers list the sides of
        self._legal: set[str] = set()  # their values
        self.requested: DiffRequested | None = None  # sides asked for by the Lineage tab, taken on show

    def compose(self) -> ComposeResult:
        with Horizontal(classes="diff-pick"):
            yield Label("A", classes="diff-side")
            yield Select([(Text("previous version"), DEFAULT)], id="diff-a", compact=True, allow_blank=False)
        with Horizontal(classes="diff-pick"):
            yield Label("B", classes="diff-side")
            yield Select([(Text("HEAD"), DEFAULT)], id="diff-b", compact=True, allow_blank=False)
        yield Static(Text("Loading evals…", style="dim"), id="diff-head")
        yield LoadingIndicator(id="diff-loading")
        yield Static(id="diff-body")

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._redraw())

    def request(self, message: DiffRequested) -> None:
        """Show `message.eval` from A to B next time the tab shows that eval (from the Lineage tab)."""
        self.requested = message

    def show_eval(self, name: str | None) -> None:
        request, self.requested = self.requested, None
        if request is not None and request.eval == name:
            # Two commits marked on the Lineage tab: full shas, older first.
            self.choice, self.shown = (f"c:{request.a}", f"c:{request.b}"), None
        elif name != self.eval_name:
            self.choice, self.shown = (None, None), None
        super().show_eval(name)

    # -- drawing -----------------------------------------------------------------------------

    def refresh_data(self) -> None:
        colors = theme_colors(self.app)
        ready = history_ready(self.state, self.eval_name, colors, "Nothing to diff without git history", self._message)
        if ready is None:
            return
        name, lineage = ready
        if not lineage.entries.get(name):
            self._message(
                Text.assemble((name, "bold"), ("  no commit touches this eval yet: nothing to compare", "dim"))
            )
            return
        self._fill_pickers(name, lineage)
        a, b = (spec(v) for v in self.choice)
        cached = diff_cache(self.state).get(("eval", name, a, b))
        if cached is None:
            self.query_one("#diff-loading").display = True
            self.query_one("#diff-head", Static).update(Text.assemble((name, "bold"), ("  comparing…", "dim")))
            self.query_one("#diff-body", Static).update("")
            self.compute(name, a, b)
        else:
            self._draw(cached)

    def _message(self, text: Text, loading: bool = False) -> None:
        self.shown = None
        for picker in self.query(".diff-pick"):
            picker.display = False
        self.query_one("#diff-loading").display = loading
        self.query_one("#diff-head", Static).update(text)
        self.query_one("#diff-body", Static).update("")

    def _fill_pickers(self, name: str, lineage: history.Lineage) -> None:
        for picker in self.query(".diff-pick"):
            picker.display = True
        sides = (("#diff-a", "previous version"), ("#diff-b", "HEAD"))
        if self._options_for != (name, lineage):
            self._options_for = (name, lineage)
            for selector, default in sides:
                options = side_options(lineage, name, default)
                self._legal = {value for _, value in options}
                self.query_one(selector, Select).set_options(options)
        for (selector, _), value in zip(sides, self.choice, strict=True):
            select = self.query_one(selector, Select)
            wanted = value if value is not None else DEFAULT
            if select.value != wanted and wanted in self._legal:
                select.value = wanted

    @on(Select.Changed)
    def _side_changed(self, event: Select.Changed) -> None:
        event.stop()
        # Read both pickers as they are now: filling them posts Changed messages of its own.
        values = tuple(self.query_one(s, Select).value for s in ("#diff-a", "#diff-b"))
        a, b = (v if isinstance(v, str) and v != DEFAULT else None for v in values)
        choice = (a, b)
        if choice != self.choice and self._options_for:
            self.choice = choice
            self.shown = None
            self.refresh_data()

    @work(thread=True, exclusive=True, exit_on_error=False, group="diff-tab")
    def compute(self, name: str, a: str | None, b: str | None) -> None:
        """Compare the eval's files and dataset between the two sides, off the UI thread."""
        registry, lineage = self.state.registry, self.state.lineage
        if registry is None or lineage is None:
            return
        try:
            result = diffs.eval_diff(registry, lineage, name, a, b)
        except (EvaltuiError, OSError) as exc:
            self.post_message(EvalDiffLoaded(name, a, b, error=str(exc)))
            return
        self.post_message(EvalDiffLoaded(name, a, b, result))

    @on(EvalDiffLoaded)
    def _computed(self, message: EvalDiffLoaded) -> None:
        message.stop()
        diff_cache(self.state)[("eval", message.eval, message.a, message.b)] = message
        if message.eval == self.eval_name and (message.a, message.b) == tuple(spec(v) for v in self.choice):
            self._draw(message)

    def worker_failed(self, worker: Worker) -> bool:
        """Show the failure of one of this node's workers where it happened (the app calls it)."""
        if worker.group != "diff-tab":
            return False
        self.query_one("#diff-loading").display = False
        self.query_one("#diff-body", Static).update(
            Text(f"The diff could not be computed: {clean(str(worker.error))}", style=theme_colors(self.app)["error"])
        )
        return True

    def _draw(self, loaded: EvalDiffLoaded) -> None:
        colors = theme_colors(self.app)
        self.query_one("#diff-loading").display = False
        head = self.query_one("#diff-head", Static)
        body = self.query_one("#diff-body", Static)
        if loaded.error or loaded.diff is None:
            self.shown = None
            head.update(Text(self.eval_name or "", style="bold"))
            body.update(Text(f"Cannot compare: {clean(loaded.error or 'no result')}", style=colors["error"]))
            return
        diff = loaded.diff
        self.shown = diff
        head.update(self._headline(diff, colors))
        parts: list = []
        if diff.cases:
            parts += render_cases(diff.cases, colors)
            parts.append(Text(""))
        count = len(diff.files)
        parts.append(
            Text.assemble(
                ("files  ", "bold"),
                f"{count} differ" if count else "",
                ("" if count else "no file of the eval differs", "dim"),
                ("  ·  side by side (s)" if self.split else "  ·  unified (s: side by side)", "dim"),
            )
        )
        parts += render_files(diff.files, colors, split=self.split, more_hint=" (`evaltui diff` prints them all)")
        body.update(stack(parts))

    def _headline(self, diff: diffs.EvalDiff, colors: dict[str, str]) -> Text:
        text = Text(diff.eval, style="bold")
        text.append("  ")
        text.append(clean(diff.a.version or "no version", keep_newlines=False), style=f"bold {colors['accent']}")
        text.append(" → ")
        text.append(clean(diff.b.version or "no version", keep_newlines=False), style=f"bold {colors['accent']}")
        for tag, side in (("A", diff.a), ("B", diff.b)):
            text.append(f"\n{tag}  ", style="bold")
            text.append(short(side.label))
            text.append(f"  {side.commit[:7]}", style=colors["secondary"])
        for note in diff.notes:
            text.append("\n" + clean(note, keep_newlines=False), style="dim")
        return text

    def _redraw(self) -> None:
        if self.is_mounted and self.eval_name is not None:
            self.refresh_data()

    # -- actions ----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("toggle_split", "unified", "pick"):
            return bool(self._options_for) and self.query_one(".diff-pick").display
        return True

    def action_toggle_split(self) -> None:
        self.split = not self.split
        self._redraw()

    def action_unified(self) -> None:
        if self.split:
            self.split = False
            self._redraw()

    def action_pick(self, side: str) -> None:
        select = self.query_one(f"#diff-{side}", Select)
        select.focus()
        select.action_show_overlay()
