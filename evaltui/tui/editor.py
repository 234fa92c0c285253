"""`e`: which repository file the cursor is on, and the command line that opens it at a line in `$EDITOR`.

Editors disagree on how to be told a line. The rule: VS Code and its forks get
`--goto FILE:LINE`; Sublime Text, Helix and Zed get `FILE:LINE`; every other editor (vi, vim,
nvim, nano, emacs, kakoune, micro, ...) gets `+LINE FILE`, the form they share.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

from evaltui.core.registry.locate import FileLine, eval_files, version_location
from evaltui.core.registry.model import FILENAME

if TYPE_CHECKING:
    from evaltui.tui.screens.main import MainScreen

GOTO = frozenset({"code", "code-insiders", "codium", "vscodium", "cursor", "windsurf"})
COLON = frozenset({"subl", "sublime_text", "hx", "helix", "zed"})


def editor_command(editor: str, path: Path | str, line: int | None = None) -> list[str]:
    """The argv that opens `path` at `line` with `editor` (`$VISUAL`/`$EDITOR` as written, flags allowed).

    `ValueError` when `editor` is empty or not valid shell words.
    """
    argv = shlex.split(editor)
    if not argv:
        raise ValueError("the editor command is empty")
    name = Path(argv[0]).name.lower().removesuffix(".exe")
    target = str(path)
    if line is None or line < 1:
        return [*argv, target]
    if name in GOTO:
        goto = [] if {"-g", "--goto"} & set(argv[1:]) else ["--goto"]
        return [*argv, *goto, f"{target}:{line}"]
    if name in COLON:
        return [*argv, f"{target}:{line}"]
    return [*argv, f"+{line}", target]


def main_screen_targets(screen: MainScreen) -> tuple[FileLine, ...]:
    """What `e` offers on the main screen: the files of the row under the cursor, most likely first.

    Lineage tab: the files the commit under the cursor touched (the version file at its version
    line). Overview tab: every file of the eval. Elsewhere: the eval's table in evals.toml.
    """
    from evaltui.tui.widgets.eval_list import EvalList
    from evaltui.tui.widgets.lineage_tab import LineageTab
    from evaltui.tui.widgets.overview import Overview

    registry = screen.app.state.registry
    name = screen.query_one(EvalList).current
    if registry is None or name is None or name not in registry.evals:
        return ()
    ev = registry.evals[name]
    table = FileLine(FILENAME, FILENAME, ev.line)
    focused = screen.focused
    chain = focused.ancestors_with_self if focused is not None else []
    tab = next((n for n in chain if isinstance(n, (LineageTab, Overview))), None)
    if isinstance(tab, Overview):
        return eval_files(registry.root, ev)
    if isinstance(tab, LineageTab):
        entry = tab.entries.get(tab.selected_commit or "")
        if entry is not None:
            known = {f.path: f for f in eval_files(registry.root, ev)}
            version = version_location(registry.root, ev)
            found = []
            for path in entry.paths:
                if path == FILENAME:
                    found.append(table)
                elif version is not None and path == version.path:
                    found.append(version)
                elif path in known:
                    found.append(known[path])
                elif (registry.root / path).is_file():
                    found.append(FileLine("file", path))
            if found:
                return tuple(dict.fromkeys(found))
    return (table,)
