"""Which file to open in `$EDITOR` when the row under the cursor names several: one per line, Enter opens."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from evaltui.core.registry.locate import FileLine
from evaltui.core.textsafe import clean
from evaltui.tui.screens.picker import Picker


class OpenFile(Picker[FileLine]):
    """Choose one of an eval's files (with the line it opens at); dismisses with it, or None."""

    def __init__(self, files: Sequence[FileLine], title: str = "Open in $EDITOR") -> None:
        super().__init__(files, title, id="open-file")
        self.files = self.items

    def prompt(self, item: FileLine) -> Text:
        where = f":{item.line}" if item.line else ""
        return Text.assemble((f"{item.label:<11}", "dim"), clean(item.path, keep_newlines=False), (where, "bold"))
