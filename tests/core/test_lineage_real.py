"""Lineage on histories shaped like real ones: each commit list checked against `git log --follow`."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest

from evaltui.core.checks.problems import lineage_problems
from evaltui.core.history import (
    Identity,
    commit_all,
    git,
    init_repo,
    load_lineage,
    move,
)
from evaltui.core.registry.model import load_registry

ANA = Identity("Ana Pereira", "ana@example.com")
START = dt.datetime(2025, 1, 6, 9, 0, tzinfo=dt.timezone.utc)
BODY = "".join(f"  - line {i}: some stable text of the task\n" for i in range(30))


def task(version: str | None, extra: str = "") -> str:
    meta = f"metadata:\n  version: {version}\n" if version is not None else ""
    return f'task: t\n{meta}doc_to_text: "{extra}"\nnotes:\n{BODY}'


class Repo:
    """A repository whose clock moves one hour per commit, merges included."""

    def __init__(self, root: Path):
        self.root = root
        self.hour = 0
        init_repo(root)

    def write(self, path: str, text: str) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)

    def _stamp(self) -> dict[str, str]:
        self.hour += 1
        when = (START + dt.timedelta(hours=self.hour)).isoformat()
        return {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}

    def commit(self, message: str) -> str:
        self.hour += 1
        return commit_all(self.root, message, ANA, START + dt.timedelta(hours=self.hour))

    def branch(self, name: str, new: bool = True) -> None:
        git(self.root, "checkout", "-q", *(["-b"] if new else []), name)

    def merge(self, branch: str) -> str:
        git(self.root, "merge", "-q", "--no-ff", "--no-edit", branch, env=self._stamp())
        return git(self.root, "rev-parse", "HEAD").decode().strip()

    def register(self, path: str, name: str = "t") -> str:
        """Track `path` with evaltui in a last commit, as adopting an existing tree does."""
        self.write("evals.toml", f'[evals.{name}]\nversion_from = "{path}#metadata.version"\n')
        return self.commit("track the task with evaltui")

    def lineage(self, cache: Path):
        registry = load_registry(self.root, strict=False, check_files=False)
        return load_lineage(registry, cache_dir=cache)

    def follow(self, path: str) -> list[str]:
        return git(self.root, "log", "--follow", "--format=%H", "--", path).decode().split()

    def plain(self, path: str) -> list[str]:
        return git(self.root, "log", "--format=%H", "--", path).decode().split()


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "repo")


def commits(lineage, name: str = "t", registered: str | None = None) -> list[str]:
    """The eval's commits, without the one that only registered it (git knows nothing of that)."""
    return [e.commit for e in lineage.entries[name] if e.commit != registered]


def test_rename_before_registration(repo: Repo, tmp_path: Path) -> None:
    repo.write("tasks/arc.yaml", task("1.0"))
    repo.commit("add arc")
    repo.write("tasks/arc.yaml", task("1.0", "edited"))
    repo.commit("edit arc")
    move(repo.root, "tasks/arc.yaml", "tasks/arc/arc_easy.yaml")
    repo.commit("move arc into its folder")
    repo.write("tasks/arc/arc_easy.yaml", task("2.0", "edited"))
    repo.commit("arc 2.0")
    registered = repo.register("tasks/arc/arc_easy.yaml")

    lineage = repo.lineage(tmp_path / "cache")
    follow = repo.follow("tasks/arc/arc_easy.yaml")
    assert len(follow) == 4
    assert commits(lineage, registered=registered) == follow
    assert [e.kind for e in lineage.entries["t"]] == ["meta", "bump", "renamed", "silent", "created"]


def test_copy_is_followed_to_its_source(repo: Repo, tmp_path: Path) -> None:
    repo.write("tasks/base.yaml", task("1.0"))
    repo.commit("add base")
    repo.write("tasks/base.yaml", task("1.0", "better prompt"))
    repo.commit("edit base")
    repo.write("tasks/variant.yaml", task("1.0", "better prompt"))  # base stays: a copy, not a move
    repo.commit("copy base into a variant")
    repo.write("tasks/variant.yaml", task("1.1", "variant prompt"))
    repo.commit("variant 1.1")
    registered = repo.register("tasks/variant.yaml")

    lineage = repo.lineage(tmp_path / "cache")
    follow = repo.follow("tasks/variant.yaml")
    assert len(follow) == 4
    assert commits(lineage, registered=registered) == follow
    copy = lineage.entries["t"][2]
    assert copy.kind == "renamed" and copy.renames == (("tasks/base.yaml", "tasks/variant.yaml"),)


def test_an_eval_of_several_files_follows_renames_but_not_copies(repo: Repo, tmp_path: Path) -> None:
    """`git log --follow` takes one file; for several, the lineage lists what `git log -- FILES`
    lists, with renames followed and copies read as additions (whole-tree copy detection for
    every file of every adopted task would cost minutes on a large harness)."""
    repo.write("tasks/base.yaml", task("1.0"))
    repo.write("tasks/utils.py", "def f(d):\n    return d\n")
    repo.commit("add base and its helpers")
    repo.write("tasks/base.yaml", task("1.0", "better prompt"))
    repo.commit("edit base")
    repo.write("tasks/variant.yaml", task("1.0", "better prompt"))  # a copy of base
    repo.commit("copy base into a variant")
    move(repo.root, "tasks/utils.py", "tasks/helpers.py")
    repo.commit("rename the helpers")
    repo.write(
        "evals.toml", '[evals.t]\nversion_from = "tasks/variant.yaml#metadata.version"\npaths = ["tasks/helpers.py"]\n'
    )
    registered = repo.commit("track the task with evaltui")

    lineage = repo.lineage(tmp_path / "cache")
    listed = commits(lineage, registered=registered)
    plain = git(repo.root, "log", "--format=%H", "--", "tasks/variant.yaml", "tasks/helpers.py").decode().split()
    renamed = repo.follow("tasks/helpers.py")
    everything = git(repo.root, "log", "--format=%H").decode().split()
    assert listed == [c for c in everything if c in {*plain, *renamed}]
    edit_base = repo.follow("tasks/variant.yaml")[1]
    assert len(listed) == 3 and edit_base not in listed  # the copy's source is not followed


def test_rename_on_a_side_branch_merged_back(repo: Repo, tmp_path: Path) -> None:
    repo.write("tasks/hs.yaml", task("1.0"))
    repo.write("README", "x\n")
    repo.commit("add hellaswag")
    repo.branch("restructure")
    move(repo.root, "tasks/hs.yaml", "tasks/hellaswag/hellaswag.yaml")
    repo.commit("restructure: move the task")
    repo.write("tasks/hellaswag/hellaswag.yaml", task("1.0", "side edit"))
    repo.commit("restructure: edit")
    repo.branch("main", new=False)
    repo.write("README", "y\n")
    repo.commit("main: unrelated")
    repo.merge("restructure")
    registered = repo.register("tasks/hellaswag/hellaswag.yaml")

    lineage = repo.lineage(tmp_path / "cache")
    follow = repo.follow("tasks/hellaswag/hellaswag.yaml")
    assert len(follow) == 3
    assert commits(lineage, registered=registered) == follow
    plain = repo.plain("tasks/hellaswag/hellaswag.yaml")
    assert set(plain) <= set(commits(lineage))


def test_side_branch_commits_are_not_cut_off_by_an_add_in_date_order(repo: Repo, tmp_path: Path) -> None:
    repo.write("README", "x\n")
    repo.commit("root")
    repo.branch("side")
    repo.write("tasks/hs.yaml", task("1.0"))
    side_add = repo.commit("side: add the task")
    repo.write("tasks/hs.yaml", task("1.0", "side edit"))
    repo.commit("side: edit it")
    repo.branch("main", new=False)
    repo.write("tasks/hs.yaml", task("1.0", "side edit"))  # the same file added in parallel, later
    main_add = repo.commit("main: add the same task")
    repo.merge("side")
    repo.write("tasks/hs.yaml", task("1.1", "after"))
    repo.commit("after the merge")
    registered = repo.register("tasks/hs.yaml")

    lineage = repo.lineage(tmp_path / "cache")
    follow = repo.follow("tasks/hs.yaml")
    assert side_add in follow and main_add in follow and len(follow) == 4
    assert commits(lineage, registered=registered) == follow
    plain = repo.plain("tasks/hs.yaml")
    assert set(plain) <= set(commits(lineage))


def test_parallel_add_when_the_eval_is_registered_with_its_file(repo: Repo, tmp_path: Path) -> None:
    repo.write("README", "x\n")
    repo.commit("root")
    repo.branch("side")
    repo.write("tasks/hs.yaml", task("1.0"))
    side_add = repo.commit("side: add the task")
    repo.branch("main", new=False)
    repo.write("tasks/hs.yaml", task("1.0"))
    repo.write("evals.toml", '[evals.t]\nversion_from = "tasks/hs.yaml#metadata.version"\n')
    repo.commit("main: add the task and track it")
    repo.merge("side")

    lineage = repo.lineage(tmp_path / "cache")
    follow = repo.follow("tasks/hs.yaml")
    assert side_add in follow
    assert commits(lineage) == follow


def test_side_branch_commit_after_registration_that_does_not_descend_from_it(repo: Repo, tmp_path: Path) -> None:
    """A branch forked before the eval was registered, edited after it and merged back: its edit
    is the eval's (git lists it), and the merge that brings it in is not an entry of its own."""
    repo.write("tasks/hs.yaml", task("1.0"))
    repo.write("README", "x\n")
    repo.commit("add the task")
    repo.branch("side")
    repo.branch("main", new=False)
    registered = repo.register("tasks/hs.yaml")
    repo.branch("side", new=False)
    repo.write("tasks/hs.yaml", task("2.0", "side edit"))
    side_edit = repo.commit("side: edit the task, dated after the registration")
    repo.branch("main", new=False)
    repo.write("README", "y\n")
    repo.commit("main: unrelated")
    before_merge = repo.lineage(tmp_path / "cache")  # cached: the merge is then a refresh on top of it
    assert [e.kind for e in before_merge.entries["t"]] == ["meta", "created"]
    repo.merge("side")

    lineage = repo.lineage(tmp_path / "cache")
    assert lineage.entries == repo.lineage(tmp_path / "cold").entries
    plain = repo.plain("tasks/hs.yaml")
    follow = repo.follow("tasks/hs.yaml")
    assert side_edit in plain and plain == follow
    assert commits(lineage, registered=registered) == follow
    entries = lineage.entries["t"]
    assert [e.kind for e in entries] == ["bump", "meta", "created"]
    assert entries[0].commit == side_edit and entries[0].version == "2.0" and entries[0].previous_version == "1.0"


def _loose(root: Path, sha: str) -> Path:
    path = root / ".git" / "objects" / sha[:2] / sha[2:]
    assert path.exists(), "the object must be loose to be deleted"
    return path


def test_a_missing_object_degrades_only_the_commit_that_needs_it(repo: Repo, tmp_path: Path) -> None:
    git(repo.root, "config", "core.looseCompression", "0")
    repo.write("tasks/a.yaml", task("1.0"))
    repo.write("tasks/b.yaml", task("1.0", "b"))
    repo.commit("add a and b")
    repo.write("tasks/a.yaml", task("1.0", "a edit"))
    repo.commit("edit a")
    move(repo.root, "tasks/a.yaml", "tasks/a2.yaml")
    repo.write("tasks/a2.yaml", task("1.0", "a edit, moved"))
    repo.commit("move a (git can still compare)")
    repo.write("tasks/b.yaml", task("1.0", "b edit"))
    lost_at = repo.commit("edit b: this blob goes missing")
    move(repo.root, "tasks/b.yaml", "tasks/b2.yaml")
    repo.write("tasks/b2.yaml", task("1.0", "b edit, moved"))
    moved_b = repo.commit("move b (git cannot compare any more)")
    repo.write(
        "evals.toml",
        '[evals.a]\nversion_from = "tasks/a2.yaml#metadata.version"\n\n'
        '[evals.b]\nversion_from = "tasks/b2.yaml#metadata.version"\n',
    )
    registered = repo.commit("track both")
    blob = git(repo.root, "rev-parse", f"{lost_at}:tasks/b.yaml").decode().strip()
    _loose(repo.root, blob).unlink()

    lineage = repo.lineage(tmp_path / "cache")
    # a's rename is still followed: one missing object does not turn rename detection off.
    assert commits(lineage, "a", registered) == repo.follow("tasks/a2.yaml")
    assert any(f"renames are not followed at {moved_b[:10]}" in n for n in lineage.notes)
    # b: git itself cannot follow past the commit; evaltui lists at least what git does.
    done = subprocess.run(
        ["git", "log", "--follow", "--format=%H", "--", "tasks/b2.yaml"],
        cwd=repo.root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert set(done.stdout.split()) <= set(commits(lineage, "b", registered))
    assert moved_b in commits(lineage, "b")


def test_unreadable_to_readable_is_a_bump_and_no_message_says_none(repo: Repo, tmp_path: Path) -> None:
    repo.write("tasks/t.yaml", task(None))
    repo.commit("add the task without a version")
    repo.write("tasks/t.yaml", task(None, "edited"))
    repo.commit("edit it, still no version")
    repo.write("tasks/t.yaml", task("1.0", "edited"))
    versioned = repo.commit("give it a version")
    repo.register("tasks/t.yaml")

    lineage = repo.lineage(tmp_path / "cache")
    entry = next(e for e in lineage.entries["t"] if e.commit == versioned)
    assert (entry.kind, entry.version, entry.previous_version) == ("bump", "1.0", None)
    registry = load_registry(repo.root, strict=False, check_files=False)
    texts = [p.message for p in lineage_problems(registry, lineage)]
    assert not any("None" in text for text in texts)


def test_mailmap_file_and_blob_from_git_config(repo: Repo, tmp_path: Path) -> None:
    repo.write("tasks/t.yaml", task("1.0"))
    repo.write("tasks/u.yaml", task("1.0"))
    repo.write(
        "evals.toml",
        '[evals.t]\nversion_from = "tasks/t.yaml#metadata.version"\n\n'
        '[evals.u]\nversion_from = "tasks/u.yaml#metadata.version"\n',
    )
    repo.write("maps/team.mailmap", "Ana P. <ana.p@example.org> Ana Pereira <ana@example.com>\n")
    repo.commit("add the tasks and a mailmap kept in the tree")
    outside = tmp_path / "people.mailmap"
    outside.write_text("Ana From File <ana.file@example.org> Ana Pereira <ana@example.com>\n")

    git(repo.root, "config", "mailmap.blob", "HEAD:maps/team.mailmap")
    lineage = repo.lineage(tmp_path / "cache-blob")
    assert (lineage.entries["t"][0].author, lineage.entries["t"][0].email) == ("Ana P.", "ana.p@example.org")

    git(repo.root, "config", "mailmap.file", str(outside))
    lineage = repo.lineage(tmp_path / "cache-file")
    # mailmap.file is read after mailmap.blob, so it wins, as in git.
    assert (lineage.entries["t"][0].author, lineage.entries["t"][0].email) == ("Ana From File", "ana.file@example.org")
    shown = git(repo.root, "log", "-1", "--format=%aN <%aE>").decode().strip()
    assert shown == "Ana From File <ana.file@example.org>"


def test_many_copies_follow_git_and_their_answers_are_kept_for_the_next_build(repo: Repo, tmp_path: Path) -> None:
    """Enough copies that git is asked in several processes; a later full build reuses the answers."""
    from evaltui.core.history.cache import Store

    repo.write("tasks/t00.yaml", task("1.0", "first"))
    repo.commit("add t00")
    for i in range(1, 20):
        repo.write(f"tasks/t{i:02d}.yaml", task("1.0", f"copy {i}"))  # each a near copy of the one before
        repo.commit(f"copy into t{i:02d}")
    names = {f"e{i:02d}": f"tasks/t{i:02d}.yaml" for i in range(20)}
    repo.write("evals.toml", "".join(f'[evals.{n}]\nversion_from = "{p}#metadata.version"\n' for n, p in names.items()))
    registered = repo.commit("track the tasks")
    cache = tmp_path / "cache"
    first = repo.lineage(cache)
    for name, path in names.items():
        assert commits(first, name, registered) == repo.follow(path), name
    store = Store(cache)
    kept = store.get("copies")
    store.close()
    assert kept and any(source is not None for source in kept.values())
    # A new eval over older files needs a full replay: the copies it meets were answered before.
    repo.write(
        "evals.toml",
        (repo.root / "evals.toml").read_text() + '[evals.extra]\nversion_from = "tasks/t01.yaml#metadata.version"\n',
    )
    again = repo.commit("track one more")
    second = repo.lineage(cache)
    assert second.source in ("full", "rebuild")
    assert commits(second, "extra", again) == repo.follow("tasks/t01.yaml")
    for name, path in names.items():
        assert commits(second, name, registered) == repo.follow(path), name
