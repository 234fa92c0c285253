"""The evaltui app: themes, keymap, command palette and screen wiring. Behaviour lives in screens."""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from pathlib import Path
from threading import Event, Thread
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from evaltui.core.errors import Problem
from evaltui.core.registry.model import Registry
from evaltui.core.registry.overview import load_overview
from evaltui.tui.config import UserConfig
from evaltui.tui.messages import EvalsShown, StateChanged
from evaltui.tui.screens.main import MainScreen
from evaltui.tui.state import AppState
from evaltui.tui.themes import DEFAULT_THEME, shipped_themes

if TYPE_CHECKING:
    from evaltui.core.registry.locate import FileLine


def _evals_provider():
    """The palette's eval provider, imported when the palette first opens (it is slow to import)."""
    from evaltui.tui.commands import EvalsProvider

    return EvalsProvider


class EvaltuiApp(App):
    """Eval list, lineage, coverage and runs of one repository."""

    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "evaltui"
    COMMANDS = App.COMMANDS | {_evals_provider}
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("question_mark", "toggle_keys", "Keys", id="keys"),
        Binding("ctrl+p", "command_palette", "Palette", id="palette", show=False),
    ]
    """App-wide keys; every binding has an id so `[keymap]` in the user config can move it."""

    def __init__(
        self,
        root: Path,
        config: UserConfig | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        follow: bool = True,
    ) -> None:
        super().__init__()
        self.follow_changes = follow  # follow changes made outside the app (a commit in another terminal)
        self._stop_watching: Event | None = None
        # Start-up allocates many long-lived objects (modules, CSS, widgets) and the collector
        # would scan them over and over; collect once the eval list is on screen instead.
        self._gc_was_enabled = gc.isenabled()
        gc.disable()
        self._clock = clock
        self.root = Path(root)
        self.config = config or UserConfig.load()
        self.state = AppState()
        # Reading evals.toml starts now, in a thread, so it overlaps Textual's own start-up;
        # the main screen's loader picks the result up (and does every later reload itself).
        self.prefetch: Future | None = _start_prefetch(self.root)
        themes, self._setting_problems = shipped_themes()
        for theme in themes:
            self.register_theme(theme)
        wanted = self.config.theme or DEFAULT_THEME
        if wanted not in self.available_themes:
            self._setting_problems.append(f"theme {wanted!r} is not available; using {DEFAULT_THEME}")
            wanted = DEFAULT_THEME if DEFAULT_THEME in self.available_themes else "textual-dark"
        self.theme = wanted
        if self.config.keymap:
            self.set_keymap(self.config.keymap)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """Colours the style sheets use beyond Textual's own, for themes that do not set them."""
        return {"pane-border": "#7F7F7F"}

    def now(self) -> dt.datetime:
        """The current time, aware: the one clock every screen reads (tests pin it)."""
        return self._clock() if self._clock else dt.datetime.now(dt.timezone.utc)

    @property
    def registry(self) -> Registry | None:
        """The loaded registry (None until read)."""
        return self.state.registry

    def get_default_screen(self) -> Screen:
        return MainScreen()

    @on(EvalsShown)
    def _started(self) -> None:
        """The list is on screen: set start-up's objects aside from future collections."""
        if self._gc_was_enabled and not gc.isenabled():
            gc.freeze()
            gc.enable()

    def on_unmount(self) -> None:
        if self._stop_watching is not None:
            self._stop_watching.set()
        if self._gc_was_enabled:
            gc.enable()

    # -- one source of truth -------------------------------------------------------------------

    @on(StateChanged)
    def _state_changed(self, message: StateChanged) -> None:
        """Whoever changed something (a screen's action, the watcher) says so here; the main screen reads it again."""
        main = self._main()
        if main is not None:
            main.post_message(StateChanged(message.what, message.evals, message.source))

    def follow(self, registry: Registry) -> None:
        """(Re)start the watcher on the files of `registry`, just loaded (evals may have gained files)."""
        if not self.follow_changes:
            return
        if self._stop_watching is not None:
            self._stop_watching.set()
        self._stop_watching = Event()
        self.follow_repository(registry, self._stop_watching)

    @work(thread=True, exit_on_error=False, group="watch")
    def follow_repository(self, registry: Registry, stop: Event) -> None:
        """Turn changes made outside the app into `StateChanged` until `stop` is set (runs in a thread)."""
        from evaltui.core import history
        from evaltui.tui import watch

        git_dirs: list[Path] = []
        try:
            out = history.git(registry.root, "rev-parse", "--absolute-git-dir", "--git-common-dir").decode()
            git_dirs = [(registry.root / line).resolve() for line in out.splitlines() if line]
        except Exception:  # no repository: the working tree is still watched
            pass
        found = watch.targets(registry, git_dirs)
        watch.watch(registry, found, stop, lambda what: self.post_message(StateChanged(what, source="outside")))

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """The one place a worker's failure is handled: the nearest node that shows it in place
        (`worker_failed(worker) -> bool`, from the worker's own node up) goes first; else a notification."""
        if event.state != WorkerState.ERROR:
            return
        worker = event.worker
        node: DOMNode | None = worker.node
        while node is not None:
            shown = getattr(node, "worker_failed", None)
            if shown is not None and shown(worker):
                return
            node = node.parent
        if worker.group == "watch":
            message = f"following outside changes stopped: {worker.error}"
        else:
            message = f"{worker.name or worker.group} failed: {worker.error}"
        self.notify(message, title="Error", severity="error", timeout=10, markup=False)

    def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        for message in [*self._setting_problems, *self.config.problems]:
            self.notify(message, title="Settings", severity="warning", timeout=8)

    def _remember_theme(self, theme) -> None:
        if theme.name != self.config.theme:
            self.config.save_theme(theme.name)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Reload", "Read evals.toml and the eval files again", self.action_reload)
        yield SystemCommand("Filter evals", "Narrow the eval list by words", self.action_filter)
        yield SystemCommand("Keys", "Show the keys of the focused panel", self.action_toggle_keys)
        yield SystemCommand(
            "Run: selected eval",
            "Choose models and run the eval under the cursor",
            lambda: self.open_named_screen("run"),
        )
        yield SystemCommand(
            "Run: all evals", "Choose models and run every runnable eval", lambda: self.open_named_screen("run-all")
        )
        yield SystemCommand(
            "Report",
            "Preview the pull-request report: old and new eval versions × models",
            lambda: self.open_named_screen("report"),
        )
        yield SystemCommand(
            "Coverage",
            "Failure modes × evals: blind spots, cases, add a mode or a case",
            lambda: self.open_named_screen("coverage"),
        )
        yield SystemCommand(
            "Rotation",
            "Who owns which eval when, the next handoff and its brief",
            lambda: self.open_named_screen("rotation"),
        )
        yield SystemCommand(
            "Check", "Every problem `evaltui check` reports; jump to the eval", lambda: self.open_named_screen("check")
        )
        yield SystemCommand("Annotate", "Write a note on the selected eval", lambda: self.open_named_screen("annotate"))

    # -- actions reachable from every screen ---------------------------------------------

    def action_reload(self) -> None:
        from evaltui.tui.screens.problems import ProblemsScreen  # shown only for a broken evals.toml

        while isinstance(self.screen, ProblemsScreen):
            self.pop_screen()
        main = self._main()
        if main is not None:
            main.load()

    def action_filter(self) -> None:
        main = self._main()
        if main is not None and self.screen is main:
            main.action_filter()

    def action_toggle_keys(self) -> None:
        from textual.widgets import HelpPanel

        if self.screen.query(HelpPanel):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def edit(self, files: Sequence[FileLine]) -> None:
        """`e`: open the one file in `$EDITOR`, or ask which when the cursor's row names several."""
        if len(files) == 1:
            self.open_file(files[0].path, files[0].line)
        elif files:
            from evaltui.tui.screens.open_file import OpenFile

            def chosen(found: FileLine | None) -> None:
                if found is not None:
                    self.open_file(found.path, found.line)

            self.push_screen(OpenFile(files), chosen)

    def open_file(self, relative: str, line: int | None = None) -> None:
        """Open a repository file at `line` in `$EDITOR`; a path that leads outside the repository is refused."""
        from evaltui.core.fsutil import inside

        root = self.state.registry.root if self.state.registry is not None else self.root
        target = inside(root, relative)
        if target is None:
            self.notify(
                f"{relative} is outside the repository: not opened.", title="Edit", severity="error", markup=False
            )
            return
        self.open_in_editor(target, line)

    def open_in_editor(self, path: Path, line: int | None = 1) -> None:
        """Open `path` at `line` in `$VISUAL`/`$EDITOR`, the app suspended meanwhile; then read the files again.

        The command line follows the editor (`+LINE FILE`, `--goto FILE:LINE`, `FILE:LINE`): see `tui.editor`.
        """
        import os
        import subprocess

        from textual.app import SuspendNotSupported

        from evaltui.tui.editor import editor_command

        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
        if not editor:
            self.notify("Set $EDITOR (or $VISUAL) to open files from evaltui.", title="Edit", severity="warning")
            return
        try:
            command = editor_command(editor, path, line)
        except ValueError as exc:
            self.notify(f"cannot read $EDITOR {editor!r}: {exc}", title="Edit", severity="error", markup=False)
            return
        where = f"{path}:{line}" if line else str(path)
        try:
            if self.is_headless:  # no terminal to hand over (tests): the editor runs on its own
                subprocess.run(command, check=False, stdin=subprocess.DEVNULL)
            else:
                with self.suspend():
                    subprocess.run(command, check=False)
        except SuspendNotSupported:
            self.notify(
                f"This terminal cannot be handed to an editor: open {where} yourself.",
                title="Edit",
                severity="warning",
                markup=False,
            )
            return
        except OSError as exc:
            self.notify(f"cannot start {editor!r}: {exc}", title="Edit", severity="error", markup=False)
            return
        self.post_message(StateChanged("registry", source="the editor"))

    def select_eval(self, name: str) -> None:
        """Show eval `name` on the main screen (from the palette and other screens)."""
        while not isinstance(self.screen, MainScreen) and len(self.screen_stack) > 1:
            self.pop_screen()
        main = self._main()
        if main is not None:
            main.select_eval(name)

    def show_problems(self, problems: tuple[Problem, ...], evals_loaded: int) -> None:
        from evaltui.tui.screens.problems import ProblemsScreen

        self.push_screen(ProblemsScreen(problems, evals_loaded))

    def open_named_screen(self, name: str) -> None:
        """Open one of the main screen's `OPEN_SCREENS` (from the palette), for the eval under its cursor."""
        main = self._main()
        if main is not None:
            main.action_open_screen(name)

    def _main(self) -> MainScreen | None:
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                return screen
        return None


def _start_prefetch(root: Path) -> Future:
    """Run `load_overview(root)` in a daemon thread; the future carries its result or error."""
    future: Future = Future()

    def run() -> None:
        try:
            future.set_result(load_overview(root))
        except BaseException as exc:  # handed to whoever takes the result
            future.set_exception(exc)

    Thread(target=run, name="evaltui-prefetch", daemon=True).start()
    return future
