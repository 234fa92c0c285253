"""Shared fixtures: every test runs away from the developer's config, caches and git settings."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
from pathlib import Path

import pytest

from evaltui.core.history import Identity, commit_all, init_repo

PINNED_AUTHOR = Identity("Test Author", "author@example.com")
PINNED_WHEN = dt.datetime(2026, 9, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))

# Variables that would point git at another repository (set inside git hooks, for example).
_GIT_REDIRECTS = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_CEILING_DIRECTORIES",
)


def _isolate(mp: pytest.MonkeyPatch, base: Path) -> None:
    for var, name in (
        ("HOME", "home"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_STATE_HOME", "state"),
    ):
        folder = base / name
        folder.mkdir(parents=True, exist_ok=True)
        mp.setenv(var, str(folder))
    gitconfig = base / "gitconfig"
    gitconfig.touch()
    mp.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in _GIT_REDIRECTS:
        mp.delenv(var, raising=False)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HOME, the XDG dirs and git's global config point at fresh, empty places for each test."""
    base = tmp_path_factory.mktemp("env")
    _isolate(monkeypatch, base)
    return base


@pytest.fixture(scope="session")
def demo_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo repository, built once per session. Read-only: use `demo_copy` to write."""
    from evaltui.core.demo import builder as demo

    with pytest.MonkeyPatch.context() as mp:
        _isolate(mp, tmp_path_factory.mktemp("demo-env"))
        return demo.build_demo(tmp_path_factory.mktemp("demo") / "support-bot")


@pytest.fixture
def demo_copy(demo_repo: Path, tmp_path: Path) -> Path:
    """A private copy of the demo repository that the test may change."""
    return Path(shutil.copytree(demo_repo, tmp_path / "support-bot", symlinks=True))


@pytest.fixture
def make_repo(tmp_path: Path):
    """`make_repo(files, root=None, message=..., author=..., when=...) -> Path`: commit files to a repo.

    `files` maps repository-relative paths to text or bytes (None deletes the file). The
    first call creates the repository (default `tmp_path/"repo"`); later calls on the same
    root add commits, an hour apart unless `when` is given, so shas are stable.
    """
    commits: dict[Path, int] = {}

    def make(
        files: dict[str, str | bytes | None],
        root: Path | None = None,
        *,
        message: str = "Commit",
        author: Identity = PINNED_AUTHOR,
        when: dt.datetime | None = None,
    ) -> Path:
        root = Path(root) if root is not None else tmp_path / "repo"
        if not (root / ".git").exists():
            init_repo(root)
        for rel, content in files.items():
            target = root / rel
            if content is None:
                target.unlink(missing_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8", newline="\n")
        n = commits.get(root, 0)
        commits[root] = n + 1
        commit_all(root, message, author, when or PINNED_WHEN + dt.timedelta(hours=n))
        return root

    return make


# -- shared test data: import these from tests.conftest --------------------------------------

# The `[rotation]` example of DESIGN.md: three members taking fortnightly turns from Monday
# 2 November 2026 in Berlin, bob away over the new year, carol covering the qa_* evals.
DESIGN_ROTATION = """\
[rotation]
members = ["alice", "bob", "carol"]
cadence = "2w"
start = 2026-11-02T09:00:00
timezone = "Europe/Berlin"
fresh_eyes = true

[[rotation.absences]]
member = "bob"
start = 2026-12-21
end = 2027-01-03

[[rotation.overrides]]
member = "carol"
evals = ["qa_*"]
start = 2026-12-07
end = 2026-12-21
reason = "conference cover"
"""

# A command model that never answers: it waits on an event nobody sets, until the run's cancel
# kills it. A run with it is cancelled mid-way however fast or slow the machine is; a cancel is
# seen while calls are in flight when a job has more than one (the runner's `concurrency`).
SLOW_MODEL_PATH = "app/slow.py"
SLOW_MODEL_SOURCE = "import sys\nimport threading\n\nsys.stdin.read()\nthreading.Event().wait()\n"
SLOW_MODEL_TOML = f'[models.slow]\ncommand = [{json.dumps(sys.executable)}, "{SLOW_MODEL_PATH}"]\n'
