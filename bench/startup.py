"""Start-up: process start → main screen showing its eval list, on a repository with 200 evals.

The floor is a bare Textual app that shows one static line, started the same way in the same
run. Both run headless in their own process; each prints the wall-clock time of the frame
that shows its content and exits: the bare app once its first frame is out (after a refresh),
evaltui on `EvalsShown`, which the list posts once the frame that draws its rows is out. The measure is that instant minus the moment the process
was spawned (teardown is not part of "showing the list"). Prints the median of each and, on
the last line, the ratio (target ≤ 1.5).
"""

from __future__ import annotations

import compileall
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data" / "startup-200"
RUNS = 7

FLOOR = """
import time
from textual.app import App
from textual.widgets import Static
class Bare(App):
    def compose(self):
        yield Static("hello")
    def on_mount(self):
        self.call_after_refresh(self.shown)
    def shown(self):
        print(time.time(), flush=True)
        self.exit()
Bare().run(headless=True, size=(120, 36))
"""

EVALTUI = """
import sys
import time
from pathlib import Path
from textual import on
from evaltui.tui.app import EvaltuiApp
from evaltui.tui.messages import EvalsShown
class Timed(EvaltuiApp):
    @on(EvalsShown)
    def _shown(self, message):  # posted once the frame that draws the rows is out
        assert message.count == 200, message.count
        self.shown()
    def shown(self):
        print(time.time(), flush=True)
        self.exit()
Timed(Path(sys.argv[1])).run(headless=True, size=(120, 36))
"""


def build(root: Path) -> None:
    """200 evals with datasets, decorator, inline and YAML versions; deterministic."""
    if (root / "evals.toml").exists():
        return
    tmp = Path(tempfile.mkdtemp(dir=root.parent if root.parent.exists() else None))
    lines = ['[project]\nname = "bench-startup"\n']
    for i in range(200):
        name = f"eval_{i:03d}"
        (tmp / "evals").mkdir(parents=True, exist_ok=True)
        (tmp / "data").mkdir(exist_ok=True)
        (tmp / "tasks").mkdir(exist_ok=True)
        with (tmp / "data" / f"{name}.jsonl").open("w") as fh:
            for c in range(50):
                fh.write(
                    json.dumps(
                        {"id": f"{name}-{c}", "input": f"q{c}", "reference": f"a{c}", "tags": ["t1" if c % 2 else "t2"]}
                    )
                    + "\n"
                )
        kind = i % 3
        lines.append(f'[evals.{name}]\ndescription = "eval number {i}"\ndataset = "data/{name}.jsonl"')
        if kind == 0:
            (tmp / "evals" / f"{name}.py").write_text(
                f'import evaltui\n\n@evaltui.version("1.{i % 7}", valid_for="bench {i}", why="bench")\n'
                "def score(predictions, references):\n    return 0.0\n"
            )
            lines.append(f'metric = "evals/{name}.py:score"\nversion_from = "evals/{name}.py:score"')
        elif kind == 1:
            lines.append(f'version = "2.{i % 5}"\nvalid_for = "inline {i}"')
        else:
            (tmp / "tasks" / f"{name}.yaml").write_text(f"metadata:\n  version: {i % 4}.0\n")
            lines.append(f'version_from = "tasks/{name}.yaml#metadata.version"')
        lines.append("")
    (tmp / "evals.toml").write_text("\n".join(lines))
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=tmp, check=True)
    subprocess.run(["git", "add", "-A"], cwd=tmp, check=True)
    subprocess.run(
        ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid", "commit", "-q", "-m", "200 evals"],
        cwd=tmp,
        check=True,
        env={
            "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
            "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp),
        },
    )
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp.rename(root)


def timed(code: str, *args: str) -> float:
    with tempfile.TemporaryDirectory() as home:
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": home,
            "XDG_CONFIG_HOME": home,
            "XDG_CACHE_HOME": home,
            "TERM": "xterm-256color",
        }
        start = time.time()  # wall clock: the child reports the moment it showed its content
        proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=120)
    if proc.returncode != 0:
        raise SystemExit(f"run failed:\n{proc.stderr[-3000:]}")
    return float(proc.stdout.split()[-1]) - start


def compile_package() -> None:
    """Write evaltui's bytecode first, as an installed wheel has it: a checkout run with
    PYTHONDONTWRITEBYTECODE would otherwise compile every module in every timed run."""
    import evaltui

    compileall.compile_dir(Path(evaltui.__file__).parent, quiet=1)


def main() -> None:
    compile_package()
    build(DATA)
    floor, ours = [], []
    timed(FLOOR)  # warm the OS file cache for both
    shutil.rmtree(DATA / ".evaltui", ignore_errors=True)  # the first start: no version memo yet
    first = timed(EVALTUI, str(DATA))
    for _ in range(RUNS):
        floor.append(timed(FLOOR))
        ours.append(timed(EVALTUI, str(DATA)))
    f, o = statistics.median(floor), statistics.median(ours)
    print(f"floor (bare Textual app, one line)   median {f * 1000:7.1f} ms over {RUNS} runs")
    print(f"evaltui, first start (no memo yet)          {first * 1000:7.1f} ms ({first / f:.2f}x the floor)")
    print(f"evaltui (200 evals, list shown)      median {o * 1000:7.1f} ms over {RUNS} runs")
    print(f"startup/floor {o / f:.2f}x (target <= 1.5)")


if __name__ == "__main__":
    main()
