"""TUI benchmark: key press → the frame that shows the result, on 2,000 evals over 20,000 commits.

Run `python bench/tui.py`. The repository is the lineage benchmark's generator (`git
fast-import`, deterministic, kept under `bench/.data/`) at 2,000 evals and 20,000 commits.
The app runs headless through Pilot at 120×36; a measurement starts before the key is sent
and ends when the screen shows the result and the frame after it has been composed (the
screen's own refresh, as Pilot's `wait_for_scheduled_animations` waits for it). The floor is
the same key → frame refresh of a bare Textual app with a 2,000-row `DataTable`, measured in
the same run the same way. The actions are measured once start-up's background work is done
(the history pass, workers, the checks run after the history pass). Prints p50/p95 per action and the ratio of each p95 to the
floor's p95 (target ≤ 2), then start-up to a populated list against the bare app's start-up
to its populated table (target ≤ 1.5).

Start-up ends at the first frame in which the list shows every eval: headless, the moment the
screen hands that frame to `App._display` (where a terminal driver would write it), for both
apps alike. Pilot's wait for an idle process after it (`wait_for_scheduled_animations`), which
the actions use, also waits for the work the app starts in the background
once the list is shown (the history pass, the checks): that time, which this benchmark
reported as start-up before, is printed beside it.

Three keys cost Pilot three round trips where the floor's one key costs one, so the filter's
floor is the same three keys typed into a bare app's `Input` above its 2,000-row table: the
frame refresh of the same keys in a bare app. Every other action's floor is the bare table's
`down`.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from lineage_repo import built_repo  # noqa: E402 - the generator lives beside this file

N_EVALS, N_COMMITS = 2000, 20000
SIZE = (120, 36)
REPEAT = {"down": 40, "switch tab": 15, "open Lineage": 10, "open Check": 5, "filter (3 keys)": 10}
TARGET_ACTION, TARGET_STARTUP = 2.0, 1.5
LIMIT = 600.0  # a first history pass over 20,000 commits may take a while on a busy machine


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def until(pilot, condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + LIMIT
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for the app")
        await pilot.pause()
        await asyncio.sleep(0.001)


async def timed(pilot, act: Callable[[], Awaitable[None]], shown: Callable[[], bool]) -> float:
    """Seconds from sending the keys of `act` to the composed frame that shows `shown()`."""
    start = time.perf_counter()
    await act()
    await until(pilot, shown)
    await pilot.wait_for_scheduled_animations()
    return time.perf_counter() - start


def first_frame(app, shown: Callable[[], bool]) -> dict[str, float]:
    """Note (as "at") when the first frame in which `shown()` holds has been composed.

    Headless, Textual composes a frame (renders the lines that changed) and hands it to
    `App._display`, where a terminal driver would write it: that is the frame a user sees.
    """
    seen: dict[str, float] = {}
    display = app._display

    def composed(screen, renderable) -> None:
        display(screen, renderable)
        if renderable is not None and "at" not in seen and shown():
            seen["at"] = time.perf_counter()

    app._display = composed
    return seen


# -- the floor: a bare app with a 2,000-row table ------------------------------------------------


async def floor() -> tuple[list[float], float]:
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    class Bare(App):
        def compose(self) -> ComposeResult:
            yield DataTable(id="rows")

        def on_mount(self) -> None:
            table = self.query_one(DataTable)
            table.add_columns("name", "version", "owner", "score")
            table.add_rows([(f"eval_{i:04d}", "1.0", "alice", "0.50") for i in range(N_EVALS)])
            table.focus()

    app = Bare()
    frame = first_frame(app, lambda: app.query_one(DataTable).row_count == N_EVALS)
    start = time.perf_counter()
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(DataTable)
        await until(pilot, lambda: "at" in frame)
        startup = frame["at"] - start
        await pilot.wait_for_scheduled_animations()
        times = []
        for _ in range(REPEAT["down"]):
            row = table.cursor_row
            times.append(await timed(pilot, lambda: pilot.press("down"), lambda r=row: table.cursor_row == r + 1))
    return times, startup


async def typing_floor() -> list[float]:
    """Three keys typed into the `Input` of a bare app over a 2,000-row table (the filter's reference)."""
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable, Input

    class Bare(App):
        def compose(self) -> ComposeResult:
            yield Input(id="filter")
            yield DataTable(id="rows")

        def on_mount(self) -> None:
            table = self.query_one(DataTable)
            table.add_columns("name", "version", "owner", "score")
            table.add_rows([(f"eval_{i:04d}", "1.0", "alice", "0.50") for i in range(N_EVALS)])
            self.query_one(Input).focus()

    app = Bare()
    async with app.run_test(size=SIZE) as pilot:
        box = app.query_one(Input)
        await until(pilot, lambda: app.query_one(DataTable).row_count == N_EVALS)
        times = []
        for i in range(REPEAT["filter (3 keys)"]):
            query = f"{i % 10}{(i + 3) % 10}{(i + 7) % 10}"
            times.append(await timed(pilot, lambda q=query: pilot.press(*q), lambda q=query: box.value == q))
            box.value = ""
    return times


# -- evaltui -------------------------------------------------------------------------------------


async def ours(repo: Path) -> tuple[dict[str, list[float]], float, float]:
    from evaltui.core.registry.model import load_registry
    from evaltui.tui.app import EvaltuiApp
    from evaltui.tui.screens.main import MainScreen

    # The generated history removes and renames a few evals: about 2,000 are left at HEAD.
    count = len(load_registry(repo, strict=False).evals)

    app = EvaltuiApp(repo, follow=False)

    def listed() -> bool:
        found = app.screen.query("EvalList")
        return bool(found) and len(found.first().shown) == count

    frame = first_frame(app, listed)
    start = time.perf_counter()
    async with app.run_test(size=SIZE) as pilot:
        main = app.screen
        assert isinstance(main, MainScreen)
        evals = main.query_one("EvalList")
        await until(pilot, lambda: "at" in frame)
        startup = frame["at"] - start
        await pilot.wait_for_scheduled_animations()
        idle = time.perf_counter() - start
        await until(pilot, lambda: not main.history_pending and bool(main.query("#detail")))
        await app.workers.wait_for_complete()
        await until(pilot, lambda: not app.state.checks_under_way())  # the checks run after the history pass
        out: dict[str, list[float]] = {k: [] for k in REPEAT}

        for _ in range(REPEAT["down"]):
            before = evals.current
            out["down"].append(await timed(pilot, lambda: pilot.press("down"), lambda b=before: evals.current != b))
        detail = main.query_one("#detail")
        for _ in range(REPEAT["switch tab"]):  # Overview ↔ Notes (`[` wraps to the last tab)
            before = detail.active
            key = "left_square_bracket" if before == "tab-overview" else "right_square_bracket"
            out["switch tab"].append(
                await timed(
                    pilot,
                    lambda k=key: pilot.press(k),
                    lambda b=before: (
                        detail.active != b
                        and main.active_tab() is not None
                        and main.active_tab().eval_name == evals.current
                    ),
                )
            )
        if detail.active != "tab-overview":
            await pilot.press("right_square_bracket")
        for _ in range(REPEAT["open Lineage"]):
            await pilot.press("down")
            name = evals.current
            out["open Lineage"].append(
                await timed(
                    pilot,
                    lambda: pilot.press("right_square_bracket"),
                    lambda n=name: (
                        detail.active == "tab-lineage"
                        and main.active_tab().eval_name == n
                        and main.active_tab().query_one("LineageList").option_count > 0
                    ),
                )
            )
            await pilot.press("left_square_bracket")
            await app.workers.wait_for_complete()
        for _ in range(REPEAT["open Check"]):
            out["open Check"].append(
                await timed(
                    pilot,
                    lambda: pilot.press("k"),
                    lambda: type(app.screen).__name__ == "CheckScreen" and bool(getattr(app.screen, "problems", None)),
                )
            )
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is main)
        for i in range(REPEAT["filter (3 keys)"]):
            await pilot.press("slash")
            await until(pilot, lambda: app.focused is main.query_one("#filter"))
            query = f"{i % 10}{(i + 3) % 10}{(i + 7) % 10}"
            out["filter (3 keys)"].append(
                await timed(
                    pilot,
                    lambda q=query: pilot.press(*q),
                    lambda q=query: main.query_one("#filter").value == q and len(evals.shown) < count,
                )
            )
            await pilot.press("escape")
            await until(pilot, lambda: len(evals.shown) == count)
    return out, startup, idle


def main() -> int:
    print(f"building (or reusing) {N_EVALS} evals × {N_COMMITS} commits …", flush=True)
    repo = built_repo(N_EVALS, N_COMMITS)
    print(f"repository: {repo}", flush=True)
    shutil.rmtree(repo / ".evaltui", ignore_errors=True)
    started = time.perf_counter()
    _, cold, _ = asyncio.run(ours(repo))  # the first pass fills the caches, as a second start would find them
    print(
        f"first pass (cold caches): {time.perf_counter() - started:.1f} s; its start-up to the list {cold:.2f} s",
        flush=True,
    )
    floor_times, floor_start = asyncio.run(floor())
    typing = asyncio.run(typing_floor())
    times, start, idle = asyncio.run(ours(repo))
    base = p95(floor_times)
    print(
        f"floor: bare app, 2,000-row DataTable, down: p50 {statistics.median(floor_times) * 1000:.1f} ms,"
        f" p95 {base * 1000:.1f} ms; start-up {floor_start:.2f} s"
    )
    print(
        f"floor for the filter: 3 keys into a bare Input over the table: p50 {statistics.median(typing) * 1000:.1f} ms,"
        f" p95 {p95(typing) * 1000:.1f} ms"
    )
    ok = True
    for action, values in times.items():
        ratio = p95(values) / (p95(typing) if action == "filter (3 keys)" else base)
        ok &= ratio <= TARGET_ACTION
        print(
            f"{action:16s} p50 {statistics.median(values) * 1000:7.1f} ms  p95 {p95(values) * 1000:7.1f} ms"
            f"  ratio {ratio:5.2f} (target ≤ {TARGET_ACTION})"
        )
    print(f"  (the filter against the one-key floor: {p95(times['filter (3 keys)']) / base:.2f})")
    startup_ratio = start / floor_start
    ok &= startup_ratio <= TARGET_STARTUP
    print(
        f"start-up to a populated list: {start:.2f} s  ratio {startup_ratio:.2f} (target ≤ {TARGET_STARTUP});"
        f" with Pilot's idle wait after it (the former measure; history pass and checks under way): {idle:.2f} s"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
