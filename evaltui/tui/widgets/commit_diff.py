"""One commit's diff under the Lineage timeline, following its cursor (lazygit's main view)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static
from textual.worker import Worker

from evaltui.core import history
from evaltui.core.errors import EvaltuiError
from evaltui.core.registry.model import FILENAME
from evaltui.core.textsafe import clean
from evaltui.tui.messages import CommitDiffLoaded
from evaltui.tui.widgets.diffview import diff_cache, render_files, stack, theme_colors
from evaltui.tui.widgets.timeline import kind_badge

if TYPE_CHECKING:
    from evaltui.tui.app import EvaltuiApp

# Git's empty tree: what the first commit of a history (or of a shallow clone) is compared with.
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


def commit_paths(entry: history.Entry) -> tuple[str, ...]:
    """The files a commit's diff covers: the eval's files it touched, the old names of those it moved,
    and `evals.toml` when only the eval's table changed."""
    paths = {*entry.paths, *(old for old, _ in entry.renames)}
    return tuple(sorted(paths)) or (FILENAME,)


class CommitDiff(Vertical):
    """The diff of one commit of an eval against its first parent, read in a worker and kept in the shared diff cache."""

    if TYPE_CHECKING:  # the screens and tabs run inside evaltui's app: say so to the type checker
        app: EvaltuiApp

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.eval_name: str | None = None
        self.commit: str | None = None  # the commit whose diff is open (None: closed)

    def compose(self) -> ComposeResult:
        yield Static(id="lineage-diff-title")
        with VerticalScroll(id="lineage-diff"):
            yield Static(id="lineage-diff-body")

    def show(self, name: str, entry: history.Entry, acknowledged: bool) -> None:
        """Open the diff of `entry`, a commit of eval `name` (`acknowledged`: by a non-semantic note)."""
        self.eval_name, self.commit = name, entry.commit
        self.display = True
        colors = theme_colors(self.app)
        title = Text.assemble(
            ("diff ", "bold"),
            (entry.commit[:7], f"bold {colors['secondary']}"),
            "  ",
            kind_badge(entry.kind, colors, acknowledged),
            ("  esc closes", "dim"),
        )
        self.query_one("#lineage-diff-title", Static).update(title)
        cached = diff_cache(self.app.state).get(("commit", name, entry.commit))
        if cached is None:
            self.query_one("#lineage-diff-body", Static).update(Text("Reading the diff…", style="dim"))
            self.load(name, entry)
        else:
            self._draw(cached)

    def close(self) -> None:
        self.commit = None
        if self.is_mounted:
            self.display = False

    @work(thread=True, exclusive=True, exit_on_error=False, group="lineage-diff")
    def load(self, name: str, entry: history.Entry) -> None:
        """The commit's changes to the eval's files, against its first parent (or the empty tree)."""
        registry = self.app.state.registry
        if registry is None:
            return
        root = registry.root
        try:
            parent, base = history.rev_parse(root, f"{entry.commit}^"), "its parent"
        except EvaltuiError:
            parent, base = EMPTY_TREE, "nothing (the first commit here)"
        try:
            patches = history.diff_text(root, parent, entry.commit, commit_paths(entry))
        except (EvaltuiError, OSError) as exc:
            self.post_message(CommitDiffLoaded(name, entry.commit, error=str(exc)))
            return
        self.post_message(CommitDiffLoaded(name, entry.commit, patches, base))

    @on(CommitDiffLoaded)
    def _loaded(self, message: CommitDiffLoaded) -> None:
        message.stop()
        diff_cache(self.app.state)[("commit", message.eval, message.commit)] = message
        if message.eval == self.eval_name and message.commit == self.commit:
            self._draw(message)

    def worker_failed(self, worker: Worker) -> bool:
        """Show the failure of one of this node's workers where it happened (the app calls it)."""
        if worker.group != "lineage-diff" or not self.commit:
            return False
        self.query_one("#lineage-diff-body", Static).update(
            Text(f"The diff could not be read: {clean(str(worker.error))}", style=theme_colors(self.app)["error"])
        )
        return True

    def _draw(self, loaded: CommitDiffLoaded) -> None:
        colors = theme_colors(self.app)
        body = self.query_one("#lineage-diff-body", Static)
        if loaded.error:
            body.update(Text(f"The diff could not be read: {clean(loaded.error)}", style=colors["error"]))
            return
        parts: list = [Text(f"compared with {loaded.base}", style="dim")]
        if not loaded.patches:
            parts.append(Text("none of the eval's files differ in this commit", style="dim"))
        parts += render_files(loaded.patches, colors, more_hint=" (the Diff tab and `evaltui diff` show all)")
        body.update(stack(parts))
        self.query_one("#lineage-diff", VerticalScroll).scroll_home(animate=False)
