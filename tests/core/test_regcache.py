"""The registry read kept across starts: used while nothing it read changed, never once something did."""

from __future__ import annotations

import os
import pickle
import shutil
import time
from pathlib import Path

import pytest

from evaltui.core.registry import regcache
from evaltui.core.registry.overview import load_overview

TOML = """\
[project]
name = "cached"

[models.base]
predictions = "runs/base.jsonl"

[evals.qa]
description = "alpha"
dataset = "data/qa.jsonl"
version_from = "evals/qa.py:score"
paths = ["prompts/qa/*.txt", "prompts/later/*.txt"]

[evals.harness]
version_from = "tasks/h.yaml#metadata.version"
paths = ["templates/**/*.md"]
"""

QA = 'import evaltui\n\n@evaltui.version("1.0", why="first")\ndef score(p, r):\n    return 1.0\n'

FILES = {
    "evals.toml": TOML,
    "evals/qa.py": QA,
    "tasks/h.yaml": "include: base.yaml\nmetadata:\n  name: h\n",
    "tasks/base.yaml": "metadata:\n  version: 3.0\n",
    "data/qa.jsonl": '{"id": "1", "input": "a", "reference": "b"}\n',
    "runs/base.jsonl": '{"id": "1", "output": "b"}\n',
    "prompts/qa/one.txt": "one\n",
    "templates/a/deep/x.md": "x\n",
    "prompts/later/README": "no prompt yet\n",
    "templates/b/empty/.keep": "",
}


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def age(root: Path, seconds: int = 3600) -> None:
    """Date every file and folder `seconds` back: a repository at rest, whose read may be kept."""
    when = time.time_ns() - seconds * 1_000_000_000
    for here, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            os.utime(os.path.join(here, name), ns=(when, when), follow_symlinks=False)
    os.utime(root, ns=(when, when))


def kept(root: Path):
    """What the cache answers for `root` now (None: a fresh read)."""
    return regcache.OverviewCache(root.resolve(), (root / "evals.toml").read_text()).load()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = write(tmp_path / "repo", FILES)
    age(root)
    return root


def cached_read(root: Path):
    """Read `root` and check the read was kept and gives back the same registry and summaries."""
    registry, summaries = load_overview(root)
    again = kept(root)
    assert again is not None, "a repository at rest should be answered from the cache"
    assert again == (registry, summaries)
    return registry, summaries


def test_a_repository_at_rest_is_answered_from_the_cache(repo):
    registry, summaries = cached_read(repo)
    by_name = {s.name: s for s in summaries}
    assert by_name["harness"].version.version == "3.0"
    assert "templates/a/deep/x.md" in by_name["harness"].files
    assert registry.models["base"].predictions == "runs/base.jsonl"
    assert (repo / ".evaltui" / "cache" / regcache.FOLDER).is_dir()
    # The cache, like the rest of the cache folder, is ignored by git.
    assert (repo / ".evaltui" / "cache" / ".gitignore").read_text().splitlines()[-1] == "*"


def test_an_edit_of_evals_toml_is_seen_even_at_the_same_size(repo):
    cached_read(repo)
    (repo / "evals.toml").write_text(TOML.replace('"alpha"', '"omega"'), encoding="utf-8")
    assert kept(repo) is None
    assert load_overview(repo)[0].evals["qa"].description == "omega"


def test_a_file_added_where_a_glob_looks_is_seen(repo):
    registry, _ = cached_read(repo)
    assert "empty-glob" in [p.code for p in registry.problems]  # prompts/later/*.txt matches nothing yet
    write(repo, {"prompts/later/two.txt": "two\n"})
    registry, summaries = load_overview(repo)
    assert "prompts/later/two.txt" in summaries[0].files
    assert "empty-glob" not in [p.code for p in registry.problems]
    # `**`: a new folder in a folder no matched file lies in.
    age(repo)
    cached_read(repo)
    write(repo, {"templates/b/empty/new/y.md": "y\n"})
    assert "templates/b/empty/new/y.md" in load_overview(repo)[1][1].files


def test_a_file_removed_is_reported_missing(repo):
    cached_read(repo)
    before = [p.code for p in load_overview(repo)[0].problems]
    (repo / "data/qa.jsonl").unlink()
    after = [p.code for p in load_overview(repo)[0].problems]
    assert "missing-file" not in before
    assert "missing-file" in after


def test_a_changed_version_in_an_included_file_is_seen(repo):
    cached_read(repo)
    (repo / "tasks/base.yaml").write_text("metadata:\n  version: 4.0\n", encoding="utf-8")
    assert {s.name: s.version.version for s in load_overview(repo)[1]}["harness"] == "4.0"


def test_a_folder_moved_out_of_the_repository_behind_a_symlink_is_refused(repo, tmp_path):
    cached_read(repo)
    # Same files, same inodes, same times: only the folder on the way is now a link outside.
    shutil.move(repo / "data", tmp_path / "outside")
    (repo / "data").symlink_to(tmp_path / "outside", target_is_directory=True)
    registry, _ = load_overview(repo)
    assert "path-escape" in [p.code for p in registry.problems]


def test_a_read_of_files_just_written_is_not_kept(tmp_path):
    # A file written again within the same clock tick would keep its stamp: too fresh to trust.
    # Dated a minute ahead, as by a clock slightly fast: however slow the machine, the read
    # below still comes less than the limit after the files' time.
    root = write(tmp_path / "repo", FILES)
    age(root, -60)
    load_overview(root)
    assert kept(root) is None


def test_a_version_that_cannot_be_read_is_not_kept(repo):
    (repo / "tasks/h.yaml").write_text("include: missing.yaml\nmetadata:\n  name: h\n", encoding="utf-8")
    age(repo)
    _, summaries = load_overview(repo)
    assert {s.name: s.version_error is not None for s in summaries}["harness"]
    # The include it misses is named by no stamp: creating it must be seen, so nothing is kept.
    assert kept(repo) is None


def test_the_cache_follows_the_configured_state_dir(tmp_path):
    toml = TOML.replace('name = "cached"', 'name = "cached"\nstate_dir = "var/evaltui"')
    root = write(tmp_path / "repo", {**FILES, "evals.toml": toml})
    age(root)
    cached_read(root)
    assert (root / "var" / "evaltui" / "cache" / regcache.FOLDER).is_dir()
    assert not (root / ".evaltui").exists()


def test_an_entry_that_is_not_the_registrys_is_never_unpickled(repo, tmp_path):
    cached_read(repo)
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (os.mkdir, (str(marker),))

    store = regcache.open_store(repo / ".evaltui" / "cache" / regcache.FOLDER)
    assert store is not None
    store.set(regcache.KEY, pickle.dumps(Evil()))  # raw bytes, as an entry is kept
    assert kept(repo) is None
    store.set(regcache.KEY, Evil())  # diskcache's own pickled value: refused before it is read
    store.close()
    assert kept(repo) is None
    assert not marker.exists()
    # The next read replaces the entry with a good one.
    cached_read(repo)


def test_garbage_in_the_cache_folder_is_a_fresh_read(repo):
    cached_read(repo)
    folder = repo / ".evaltui" / "cache" / regcache.FOLDER
    for db in folder.glob("cache.db*"):
        db.write_bytes(b"not a database")
    assert kept(repo) is None
    registry, _ = load_overview(repo)
    assert registry.project.name == "cached"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[evals.a]\n", ".evaltui"),
        ('[project]\nname = "x"\nstate_dir = "var/e"\n\n[evals.a]\n', "var/e"),
        ("[project]\nstate_dir = 'state/./here'  # a comment\n", "state/here"),
        ('[project]\nstate_dir = "unclosed\n', ".evaltui"),
        ("[project]\nstate_dir = 3\n", ".evaltui"),
    ],
)
def test_where_the_cache_is_looked_for(text, expected):
    assert regcache.state_dir_of(text) == expected
