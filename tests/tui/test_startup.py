"""Start-up: the eval list is drawn first; the history pass, the watcher and the detail pane follow that frame."""

from __future__ import annotations

import os
import time
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.strip import Strip

from evaltui.core.registry.regcache import OverviewCache
from evaltui.tui.app import EvaltuiApp
from evaltui.tui.messages import EvalsShown
from evaltui.tui.widgets.eval_table import EvalTable
from tests.tui.helpers import SIZE, settle, table_names, wait_for, wait_until


class RecordingTable(EvalTable):
    """An eval table that notes which rows it has drawn."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.drawn: set[int] = set()

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        if y >= 1 and y - 1 + self.scroll_offset.y < self.row_count:
            self.drawn.add(y - 1 + self.scroll_offset.y)
        return strip


class OneTable(App):
    def __init__(self) -> None:
        super().__init__()
        self.painted: list[set[int]] = []  # the rows drawn when each `Painted` arrived
        self.built: list[int] = []

    def compose(self) -> ComposeResult:
        yield RecordingTable([("name", None), ("n", 4)], id="t")

    def fill(self, count: int) -> None:
        def row(i: int) -> list[Text]:
            self.built.append(i)
            return [Text(f"row-{i}"), Text(str(i))]

        table = self.query_one(RecordingTable)
        table.set_rows(count, row, [len(f"row-{count}"), 4])
        table.announce_paint()

    @on(EvalTable.Painted)
    def _painted(self, message: EvalTable.Painted) -> None:
        self.painted.append(set(self.query_one(RecordingTable).drawn))


async def test_the_table_announces_the_frame_that_drew_its_rows():
    app = OneTable()
    async with app.run_test(size=(40, 12)) as pilot:
        app.fill(5000)
        await wait_for(pilot, lambda: bool(app.painted), "the rows drawn")
        # When `Painted` arrives the rows on screen have been drawn; and only those were ever built.
        assert set(range(10)) <= app.painted[0]
        assert max(app.built) < 20
        # Once per announcement: later frames (the cursor moving) say nothing.
        await pilot.press("down", "down")
        await wait_for(pilot, lambda: app.query_one(RecordingTable).cursor_row == 2, "the cursor moved")
        assert len(app.painted) == 1
        app.fill(3)
        await wait_for(pilot, lambda: len(app.painted) == 2, "the new rows drawn")
        assert {0, 1, 2} <= app.painted[1]


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


class Timed(EvaltuiApp):
    """The app, noting the counts its list announced when it was first drawn."""

    def __init__(self, root: Path) -> None:
        super().__init__(root, follow=False)
        self.shown: list[int] = []

    @on(EvalsShown)
    def _noted(self, message: EvalsShown) -> None:
        self.shown.append(message.count)


async def test_the_list_is_shown_from_the_registry_cache_and_refreshes_after(tmp_path):
    toml = "".join(f'[evals.e{i:03d}]\nversion = "1.{i}"\ndataset = "data/e{i:03d}.jsonl"\n\n' for i in range(120))
    files = {"evals.toml": toml, **{f"data/e{i:03d}.jsonl": '{"id": "1", "input": "a"}\n' for i in range(120)}}
    root = write(tmp_path / "repo", files)
    when = time.time_ns() - 3600 * 1_000_000_000  # a repository at rest: its read is kept
    for path in [root, *root.rglob("*")]:
        os.utime(path, ns=(when, when))
    for start in ("fresh", "cached"):
        app = Timed(root)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda app=app: bool(app.shown), f"the {start} list shown")
            await settle(app, pilot)
            assert app.shown == [120]
            assert table_names(app)[:3] == ["e000", "e001", "e002"]
            assert app.screen.query("#detail"), "the detail pane follows the list"
            assert app.state.triage is not None, "the history pass follows the list"
        # The first start kept its read for the second.
        assert OverviewCache(root.resolve(), toml).load() is not None
    # An edit made while the app was closed is seen at the next start.
    (root / "evals.toml").write_text(toml.replace('version = "1.7"', 'version = "9.9"'), encoding="utf-8")
    app = Timed(root)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.state.summaries["e007"].version.version == "9.9"
