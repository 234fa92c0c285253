"""The lineage engine on real repositories: kinds, renames, merges, identities, cache and degradation."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from evaltui.core import history
from evaltui.core.checks.problems import lineage_problems
from evaltui.core.history import (
    Identity,
    commit_all,
    eval_log,
    git,
    init_repo,
    load_lineage,
    move,
    versions_of,
)
from evaltui.core.history.fastversions import VersionReader
from evaltui.core.history.vkeys import DecoratorSpec, KeySpec
from evaltui.core.registry.model import load_registry

ALICE = Identity("Alice Moreau", "alice@example.com")
ALICE_HOME = Identity("alice", "alice@home.example.net")
BOB = Identity("Bob Tanaka", "bob@example.com")
BOB_WORK = Identity("Robert Tanaka", "robert@work.example.org")
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)


def metric(version: str | None, body: str = "return float(p == r)", why: str | None = "first") -> str:
    deco = ""
    if version is not None:
        deco = f'@evaltui.version("{version}", valid_for="English QA"' + (f', why="{why}"' if why else "") + ")\n"
    return f"import evaltui\n\n\n{deco}def score(p, r):\n    {body}\n"


def toml(*tables: str, people: bool = False) -> str:
    head = ""
    if people:
        head = '[people.alice]\nemails = ["alice@example.com"]\n\n[people.bob]\nemails = ["bob@example.com"]\n\n'
    return head + "\n".join(tables)


def qa_table(path: str = "evals/qa.py", extra: str = "") -> str:
    return f'[evals.qa]\ndescription = "Exact match"\nmetric = "{path}:score"\nversion_from = "{path}:score"\n{extra}'


class Repo:
    """A repository in tmp_path with a clock that moves one day per commit."""

    def __init__(self, root: Path):
        self.root = root
        self.day = 0
        init_repo(root)

    def write(self, path: str, text: str | bytes) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            target.write_bytes(text)
        else:
            target.write_text(text)

    def remove(self, path: str) -> None:
        (self.root / path).unlink()

    def commit(self, message: str, who: Identity = ALICE) -> str:
        self.day += 1
        return commit_all(self.root, message, who, START + dt.timedelta(days=self.day))

    def lineage(self, cache: Path, registry_root: Path | None = None):
        registry = load_registry(registry_root or self.root, strict=False, check_files=False)
        return load_lineage(registry, cache_dir=cache)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "repo")


def kinds(lineage, name: str) -> list[str]:
    return [e.kind for e in lineage.entries[name]]


# -- kinds, renames, versions -----------------------------------------------------------------


def test_single_file_eval_follows_renames_like_git_log_follow(repo: Repo, tmp_path: Path) -> None:
    repo.write("evals/qa.py", metric("1.0"))
    repo.write("evals.toml", toml(qa_table()))
    repo.write("app.py", "x = 1\n")
    repo.commit("qa: first version")
    repo.write("evals/qa.py", metric("1.0", "return float(p.strip() == r)"))
    repo.commit("qa: strip predictions")
    repo.write("app.py", "x = 2\n")
    repo.commit("app: unrelated")
    repo.write("evals/qa.py", metric("1.1", "return float(p.strip() == r)", why="strip spaces"))
    repo.commit("qa: bump to 1.1")
    move(repo.root, "evals/qa.py", "evals/exact.py")
    repo.write("evals.toml", toml(qa_table("evals/exact.py")))
    repo.commit("qa: move the metric")
    move(repo.root, "evals/exact.py", "metrics/exact.py")
    repo.write("metrics/exact.py", metric("1.1", "return float(p.strip().lower() == r)", why="strip spaces"))
    repo.write("evals.toml", toml(qa_table("metrics/exact.py")))
    repo.commit("qa: move and lower-case")

    lineage = repo.lineage(tmp_path / "cache")
    follow = git(repo.root, "log", "--follow", "--format=%H", "--", "metrics/exact.py").decode().split()
    assert [e.commit for e in lineage.entries["qa"]] == follow
    assert kinds(lineage, "qa") == ["silent", "renamed", "bump", "silent", "created"]
    moved_and_edited, moved, bump = lineage.entries["qa"][:3]
    assert moved.renames == (("evals/qa.py", "evals/exact.py"),)
    assert moved_and_edited.renames == (("evals/exact.py", "metrics/exact.py"),)
    assert moved_and_edited.paths == ("metrics/exact.py",)
    assert (bump.previous_version, bump.version, bump.why, bump.valid_for) == (
        "1.0",
        "1.1",
        "strip spaces",
        "English QA",
    )
    assert lineage.entries["qa"][-1].version == "1.0"
    assert lineage.source == "full"


def test_glob_paths_match_at_each_commit(repo: Repo, tmp_path: Path) -> None:
    table = '[evals.tone]\nversion = "1.0"\npaths = ["prompts/tone/*.txt"]\n'
    repo.write("prompts/tone/a.txt", "be kind\n")
    repo.write("evals.toml", toml(table))
    created = repo.commit("tone: first prompt")
    repo.write("prompts/tone/b.txt", "be brief\n")
    added = repo.commit("tone: second prompt")
    repo.write("prompts/other/c.txt", "not part of it\n")
    repo.write("prompts/tone/notes.md", "not a .txt file\n")
    repo.commit("unrelated prompt")
    move(repo.root, "prompts/tone/a.txt", "prompts/tone/kind.txt")
    renamed = repo.commit("tone: rename a prompt")
    move(repo.root, "prompts/tone/b.txt", "prompts/archive/b.txt")
    moved_out = repo.commit("tone: archive a prompt")

    lineage = repo.lineage(tmp_path / "cache")
    entries = {e.commit: e for e in lineage.entries["tone"]}
    assert list(entries) == [moved_out, renamed, added, created]
    assert entries[added].kind == "silent" and entries[added].paths == ("prompts/tone/b.txt",)
    assert entries[renamed].kind == "renamed"
    assert entries[renamed].renames == (("prompts/tone/a.txt", "prompts/tone/kind.txt"),)
    assert entries[moved_out].kind == "removed" and entries[moved_out].paths == ("prompts/tone/b.txt",)
    assert entries[created].paths == ("prompts/tone/a.txt",)


def test_bumps_silent_changes_and_check(repo: Repo, tmp_path: Path) -> None:
    repo.write("evals/qa.py", metric("1.0"))
    repo.write("data/qa.jsonl", '{"id": "1"}\n')
    repo.write("evals.toml", toml(qa_table(extra='dataset = "data/qa.jsonl"\n')))
    repo.commit("qa: first")
    repo.write("evals/qa.py", metric("1.1", why="more cases"))
    repo.commit("qa: bump with why")
    repo.write("data/qa.jsonl", '{"id": "1"}\n{"id": "2"}\n')
    early = repo.commit("qa: add a case")
    repo.write("evals/qa.py", metric("1.2", why=None))
    bump = repo.commit("qa: bump without why")
    repo.write("data/qa.jsonl", '{"id": "1"}\n{"id": "2"}\n{"id": "3"}\n')
    first_silent = repo.commit("qa: another case", BOB)
    repo.write("evals/qa.py", metric("1.2", "return 1.0", why=None))
    second_silent = repo.commit("qa: simplify")

    lineage = repo.lineage(tmp_path / "cache")
    assert kinds(lineage, "qa") == ["silent", "silent", "bump", "silent", "bump", "created"]
    assert [s.version for s in versions_of(lineage, "qa")] == ["1.2", "1.1", "1.0"]
    assert versions_of(lineage, "qa")[1].why == "more cases"
    assert [e.commit for e in versions_of(lineage, "qa")[1].entries] == [early, lineage.entries["qa"][4].commit]

    registry = load_registry(repo.root, strict=False, check_files=False)
    problems = lineage_problems(registry, lineage)
    silent = [p for p in problems if p.code == "silent-change"]
    assert [p.message.split()[3] for p in silent] == [second_silent[:7], first_silent[:7]]
    assert early[:7] not in " ".join(p.message for p in silent)  # before the last bump
    assert all(p.severity == "warning" and p.eval == "qa" for p in problems)
    assert "Bob Tanaka" in " ".join(p.message for p in silent)
    assert [p.code for p in problems if p.code == "bump-without-why"] == ["bump-without-why"]
    assert bump[:7] in next(p.message for p in problems if p.code == "bump-without-why")
    quiet = lineage_problems(registry, lineage, acknowledged={first_silent, second_silent[:10]})
    assert [p.code for p in quiet] == ["bump-without-why"]


def test_meta_edits_inline_bumps_and_params(repo: Repo, tmp_path: Path) -> None:
    def table(description="QA", owner="alice", version="1.0", why="start", params="") -> str:
        return (
            f'[evals.qa]\ndescription = "{description}"\nowner = "{owner}"\ndataset = "data/qa.jsonl"\n'
            f'version = "{version}"\nwhy = "{why}"\n{params}'
        )

    repo.write("data/qa.jsonl", "{}\n")
    repo.write("evals.toml", toml(table(), people=True))
    repo.commit("qa: first")
    repo.write("evals.toml", toml(table(description="Exact-match QA", owner="bob"), people=True))
    meta = repo.commit("qa: describe it")
    repo.write("evals.toml", toml(table(description="Exact-match QA", owner="bob"), people=True) + "\n\n# end\n")
    repo.commit("evals.toml: formatting only")
    repo.write("evals.toml", toml(table("Exact-match QA", "bob", "1.1", "harder cases"), people=True))
    bump = repo.commit("qa: inline bump")
    repo.write(
        "evals.toml",
        toml(table("Exact-match QA", "bob", "1.1", "harder cases", "params = { normalize = true }\n"), people=True),
    )
    params = repo.commit("qa: normalise")
    repo.write(
        "evals.toml",
        toml(
            table("Exact-match QA", "bob", "1.1", "harder cases, reworded", "params = { normalize = true }\n"),
            people=True,
        ),
    )
    why = repo.commit("qa: reword why")

    lineage = repo.lineage(tmp_path / "cache")
    entries = {e.commit: e for e in lineage.entries["qa"]}
    assert [entries[c].kind for c in (why, params, bump, meta)] == ["meta", "silent", "bump", "meta"]
    assert len(entries) == 5  # the formatting-only commit is not an entry
    assert (entries[bump].previous_version, entries[bump].version, entries[bump].why) == ("1.0", "1.1", "harder cases")
    assert entries[meta].paths == ()


def test_removed_and_added_again(repo: Repo, tmp_path: Path) -> None:
    repo.write("evals/qa.py", metric("1.0"))
    repo.write("evals/other.py", metric("2.0"))
    other = '[evals.other]\nmetric = "evals/other.py:score"\nversion_from = "evals/other.py:score"\n'
    repo.write("evals.toml", toml(qa_table(), other))
    repo.commit("two evals")
    repo.write("evals.toml", toml(other))
    removed = repo.commit("retire qa")
    repo.write("evals/qa.py", metric("1.0", "return 0.0"))
    repo.commit("edit the retired metric")
    repo.write("evals/qa.py", metric("2.0", "return 0.0"))
    repo.write("evals.toml", toml(qa_table(), other))
    again = repo.commit("bring qa back")
    repo.remove("evals/other.py")
    gone = repo.commit("delete the other metric file")

    lineage = repo.lineage(tmp_path / "cache")
    assert kinds(lineage, "qa") == ["created", "removed", "created"]
    latest = lineage.entries["qa"][0]
    assert (latest.commit, latest.version, latest.note) == (again, "2.0", "added to evals.toml again")
    assert lineage.entries["qa"][1].commit == removed and lineage.entries["qa"][1].previous_version == "1.0"
    assert lineage.entries["other"][0].commit == gone and lineage.entries["other"][0].kind == "removed"
    assert "does not exist" in lineage.entries["other"][0].note


def test_history_before_the_eval_was_registered(repo: Repo, tmp_path: Path) -> None:
    repo.write("tasks/old.yaml", "task: qa\nmetadata:\n  version: 0.9\n")
    first = repo.commit("import the task")
    move(repo.root, "tasks/old.yaml", "tasks/qa.yaml")
    renamed = repo.commit("rename the task")
    repo.write("tasks/qa.yaml", "task: qa\nmetadata:\n  version: 1.0\n  why: cleaned up\n")
    bumped = repo.commit("task 1.0")
    repo.write("evals.toml", '[evals.qa]\nversion_from = "tasks/qa.yaml#metadata.version"\n')
    registered = repo.commit("track it with evaltui")

    lineage = repo.lineage(tmp_path / "cache")
    assert [e.commit for e in lineage.entries["qa"]] == [registered, bumped, renamed, first]
    assert kinds(lineage, "qa") == ["meta", "bump", "renamed", "created"]
    assert [e.version for e in lineage.entries["qa"]] == ["1.0", "1.0", "0.9", "0.9"]
    assert lineage.entries["qa"][2].renames == (("tasks/old.yaml", "tasks/qa.yaml"),)
    assert lineage.entries["qa"][-1].note == "before it was added to evals.toml"
    assert lineage.authorship["qa"].creator == "Alice Moreau"


def test_registry_in_a_subdirectory(repo: Repo, tmp_path: Path) -> None:
    repo.write("suite/evals/qa.py", metric("1.0"))
    repo.write("suite/evals.toml", toml(qa_table()))
    repo.write("evals/qa.py", "outside the suite\n")
    repo.commit("suite")
    repo.write("suite/evals/qa.py", metric("1.1"))
    repo.write("evals/qa.py", "still outside\n")
    repo.commit("bump")
    lineage = repo.lineage(tmp_path / "cache", repo.root / "suite")
    assert kinds(lineage, "qa") == ["bump", "created"]
    assert lineage.entries["qa"][0].paths == ("evals/qa.py",)


# -- merges ---------------------------------------------------------------------------------------


def test_merge_of_two_branches_that_both_changed_an_eval(repo: Repo, tmp_path: Path) -> None:
    repo.write("evals/qa.py", metric("1.0"))
    repo.write("data/qa.jsonl", '{"id": "1"}\n')
    repo.write("evals.toml", toml(qa_table(extra='dataset = "data/qa.jsonl"\n')))
    repo.commit("qa: first")
    git(repo.root, "checkout", "-q", "-b", "cases")
    repo.write("data/qa.jsonl", '{"id": "1"}\n{"id": "2"}\n')
    side = repo.commit("qa: a case on a branch", BOB)
    git(repo.root, "checkout", "-q", "main")
    repo.write("evals/qa.py", metric("1.1", why="stricter"))
    main = repo.commit("qa: bump on main")
    git(
        repo.root,
        "merge",
        "-q",
        "--no-ff",
        "--no-edit",
        "cases",
        env={"GIT_AUTHOR_DATE": "2026-04-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-04-01T00:00:00Z"},
    )
    merge = git(repo.root, "rev-parse", "HEAD").decode().strip()

    lineage = repo.lineage(tmp_path / "cache")
    commits = [e.commit for e in lineage.entries["qa"]]
    assert side in commits and main in commits and merge not in commits
    side_entry = lineage.entries["qa"][commits.index(side)]
    assert (side_entry.kind, side_entry.version) == ("silent", "1.0")
    git(repo.root, "checkout", "-q", "-b", "later")
    repo.write("data/qa.jsonl", '{"id": "1"}\n{"id": "2"}\n{"id": "3"}\n')
    after = repo.commit("qa: after the merge")
    lineage = repo.lineage(tmp_path / "cache")
    assert lineage.entries["qa"][0].commit == after
    assert (lineage.entries["qa"][0].version, lineage.entries["qa"][0].previous_version) == ("1.1", "1.1")


def test_merge_that_resolves_a_conflict_is_an_entry(repo: Repo, tmp_path: Path) -> None:
    repo.write("evals/qa.py", metric("1.0"))
    repo.write("evals.toml", toml(qa_table()))
    repo.commit("qa: first")
    git(repo.root, "checkout", "-q", "-b", "side")
    repo.write("evals/qa.py", metric("1.1", "return 0.5", why="side"))
    repo.commit("qa: side bump")
    git(repo.root, "checkout", "-q", "main")
    repo.write("evals/qa.py", metric("1.1", "return 0.7", why="main"))
    repo.commit("qa: main bump")
    subprocess.run(["git", "merge", "-q", "side"], cwd=repo.root, capture_output=True)
    repo.write("evals/qa.py", metric("1.2", "return 0.6", why="both"))
    merge = repo.commit("merge side, keep both ideas")
    lineage = repo.lineage(tmp_path / "cache")
    top = lineage.entries["qa"][0]
    assert (top.commit, top.kind, top.version, top.note) == (merge, "bump", "1.2", "merge")
    assert len(git(repo.root, "rev-list", "--parents", "-n1", "HEAD").split()) == 3


# -- identities -------------------------------------------------------------------------------------


def test_people_and_mailmap_merge_identities(repo: Repo, tmp_path: Path) -> None:
    repo.write(
        ".mailmap",
        "Alice Moreau <alice@example.com> <alice@home.example.net>\n"
        "Bob Tanaka <bob@example.com> Robert Tanaka <robert@work.example.org>\n",
    )
    repo.write("evals/qa.py", metric("1.0"))
    repo.write("evals.toml", toml(qa_table(), people=True))
    repo.commit("qa: first", ALICE_HOME)
    for i, who in enumerate((BOB, BOB_WORK, ALICE, BOB_WORK)):
        repo.write("evals/qa.py", metric("1.0", f"return {i}.0"))
        repo.commit(f"qa: tweak {i}", who)

    lineage = repo.lineage(tmp_path / "cache")
    authors = {(e.author, e.email, e.member) for e in lineage.entries["qa"]}
    assert authors == {("Alice Moreau", "alice@example.com", "alice"), ("Bob Tanaka", "bob@example.com", "bob")}
    who = lineage.authorship["qa"]
    assert who.creator == "alice" and who.main_author == "bob"
    assert who.authors == (("bob", 3), ("alice", 2))
    assert who.main_share == pytest.approx(0.6)
    assert who.fragmentation == pytest.approx(1 - 0.6**2 - 0.4**2)


# -- cache ------------------------------------------------------------------------------------------


def _as_json(lineage) -> dict:
    return {name: [e.to_json() for e in entries] for name, entries in lineage.entries.items()}


def _grow(repo: Repo, rounds: int, start: int = 0) -> None:
    for i in range(start, start + rounds):
        repo.write("data/qa.jsonl", "".join(f'{{"id": "{k}"}}\n' for k in range(i + 2)))
        if i % 3 == 1:
            repo.write("evals/qa.py", metric(f"1.{i}", why=f"round {i}"))
        if i % 4 == 2:
            table = f'[evals.e{i}]\ndataset = "data/e{i}.jsonl"\nversion = "1.0"\n'
            repo.write(f"data/e{i}.jsonl", "{}\n")
            repo.write("evals.toml", (repo.root / "evals.toml").read_text() + "\n" + table)
        repo.commit(f"round {i}", BOB if i % 2 else ALICE)


def test_a_process_writes_its_cache_before_it_exits(repo: Repo, tmp_path: Path) -> None:
    """The cache is written behind, in a thread; a command that exits right after loading the
    lineage still leaves it complete for the next one."""
    import subprocess
    import sys

    repo.write("evals/qa.py", metric("1.0"))
    repo.write("evals.toml", toml(qa_table()))
    _grow(repo, 3)
    cache = tmp_path / "cache"
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from evaltui.core.history import load_lineage\n"
        "from evaltui.core.registry.model import load_registry\n"
        "registry = load_registry(Path(sys.argv[1]), strict=False, check_files=False)\n"
        "print(load_lineage(registry, cache_dir=Path(sys.argv[2])).source)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(repo.root), str(cache)], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "full"
    again = repo.lineage(cache)
    assert again.source == "cache"
    assert _as_json(again) == _as_json(repo.lineage(tmp_path / "cold"))


def test_incremental_refresh_equals_cold_build(repo: Repo, tmp_path: Path) -> None:
    repo.write("evals/qa.py", metric("1.0"))
    repo.write("evals.toml", toml(qa_table(extra='dataset = "data/qa.jsonl"\n')))
    _grow(repo, 5)
    warm_cache = tmp_path / "cache"
    assert repo.lineage(warm_cache).source == "full"
    assert repo.lineage(warm_cache).source == "cache"
    _grow(repo, 6, start=5)
    incremental = repo.lineage(warm_cache)
    cold = repo.lineage(tmp_path / "cold")
    assert (incremental.source, cold.source) == ("incremental", "full")
    assert _as_json(incremental) == _as_json(cold)
    assert incremental.authorship == cold.authorship
    assert len(incremental.entries["qa"]) == 11 and "e10" in incremental.entries


def test_rewritten_history_is_detected(repo: Repo, tmp_path: Path) -> None:
    repo.write("evals/qa.py", metric("1.0"))
    repo.write("evals.toml", toml(qa_table()))
    repo.commit("qa: first")
    repo.write("evals/qa.py", metric("1.1"))
    dropped = repo.commit("qa: bump")
    cache = tmp_path / "cache"
    assert kinds(repo.lineage(cache), "qa") == ["bump", "created"]
    git(repo.root, "reset", "-q", "--hard", "HEAD~1")
    after_reset = repo.lineage(cache)
    assert after_reset.source == "rebuild" and kinds(after_reset, "qa") == ["created"]
    repo.write("evals/qa.py", metric("1.0", "return 2.0"))
    tweak = repo.commit("qa: tweak")
    assert repo.lineage(cache).source == "incremental"
    git(repo.root, "commit", "-q", "--amend", "-m", "qa: tweak, reworded")
    amended = repo.lineage(cache)
    assert amended.source == "rebuild"  # from the commits cached by sha; git is asked for the new one only
    assert [e.subject for e in amended.entries["qa"]] == ["qa: tweak, reworded", "qa: first"]
    assert not {dropped, tweak} & {e.commit for e in amended.entries["qa"]}
    assert _as_json(amended) == _as_json(repo.lineage(tmp_path / "cold"))


def test_corrupt_or_foreign_cache_is_discarded(repo: Repo, tmp_path: Path) -> None:
    repo.write("evals/qa.py", metric("1.0"))
    repo.write("evals.toml", toml(qa_table()))
    repo.commit("qa: first")
    cache = tmp_path / "cache"
    expected = _as_json(repo.lineage(cache))
    import diskcache

    from evaltui.core.history.cache import wait_for_writes

    wait_for_writes(cache)  # the cache is written behind: touch it only once that is done
    with diskcache.Cache(str(cache)) as raw:
        raw.set("schema", -1)
    assert repo.lineage(cache).source == "full"
    wait_for_writes(cache)
    with diskcache.Cache(str(cache)) as raw:
        raw.set("result", {"key": "nonsense", "rows": 3})
    assert _as_json(repo.lineage(cache)) == expected
    wait_for_writes(cache)
    for path in cache.rglob("*"):
        if path.is_file():
            path.write_bytes(b"\0garbage" * 64)
    again = repo.lineage(cache)
    assert _as_json(again) == expected and again.source == "full"


def test_a_cache_planted_in_the_repository_runs_no_code(repo: Repo, tmp_path: Path) -> None:
    """A clone may carry a state folder of its own: its pickles are read as records only."""
    import os

    import diskcache

    from evaltui.core.history.cache import wait_for_writes

    repo.write("evals/qa.py", metric("1.0"))
    repo.write("evals.toml", toml(qa_table()))
    repo.commit("qa: first")
    cache = tmp_path / "cache"
    expected = _as_json(repo.lineage(cache))
    wait_for_writes(cache)
    marker = tmp_path / "ran"

    class Planted:
        def __reduce__(self):
            return (os.mkdir, (str(marker),))

    with diskcache.Cache(str(cache)) as raw:
        raw.set("result", Planted())
        raw.set("snapshot", Planted())
    again = repo.lineage(cache)
    assert not marker.exists()
    assert _as_json(again) == expected and again.source == "full"


# -- degrading -----------------------------------------------------------------------------------


def test_not_a_repository_and_no_commits(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "evals.toml").write_text('[evals.qa]\ndataset = "d.jsonl"\n')
    registry = load_registry(plain, strict=False, check_files=False)
    lineage = load_lineage(registry, cache_dir=tmp_path / "c1")
    assert lineage.head is None and lineage.entries == {"qa": ()}
    assert "not inside a git work tree" in lineage.notes[0]
    init_repo(plain)
    lineage = load_lineage(registry, cache_dir=tmp_path / "c2")
    assert lineage.head is None and lineage.notes == ("the repository has no commits yet",)
    assert lineage.authorship["qa"].main_author is None


def test_detached_head_is_a_note(repo: Repo, tmp_path: Path) -> None:
    repo.write("evals/qa.py", metric("1.0"))
    repo.write("evals.toml", toml(qa_table()))
    first = repo.commit("qa: first")
    repo.write("evals/qa.py", metric("1.1"))
    repo.commit("qa: bump")
    git(repo.root, "checkout", "-q", "--detach", first)
    lineage = repo.lineage(tmp_path / "cache")
    assert lineage.head == first and kinds(lineage, "qa") == ["created"]
    assert any("detached" in note for note in lineage.notes)


def test_shallow_clone_says_where_history_stops(repo: Repo, tmp_path: Path) -> None:
    repo.write("evals/qa.py", metric("1.0"))
    repo.write("evals.toml", toml(qa_table()))
    repo.commit("qa: first")
    for i in range(4):
        repo.write("evals/qa.py", metric(f"1.{i + 1}"))
        repo.commit(f"qa: bump {i}")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "2", f"file://{repo.root}", str(clone)], check=True)
    registry = load_registry(clone, strict=False, check_files=False)
    lineage = load_lineage(registry, cache_dir=tmp_path / "cache")
    assert kinds(lineage, "qa") == ["bump", "created"]
    boundary = lineage.entries["qa"][-1].commit
    note = next(n for n in lineage.notes if "shallow" in n)
    assert boundary[:10] in note and "2026-03-" in note


def test_missing_blob_keeps_the_other_entries(repo: Repo, tmp_path: Path) -> None:
    repo.write("evals/qa.py", metric("1.0"))
    repo.write("evals.toml", toml(qa_table()))
    repo.commit("qa: first")
    repo.write("evals/qa.py", metric("1.1", "return 3.0"))
    lost = repo.commit("qa: the blob of this one goes missing")
    repo.write("evals/qa.py", metric("1.2"))
    repo.commit("qa: later")
    blob = git(repo.root, "rev-parse", f"{lost}:evals/qa.py").decode().strip()
    (repo.root / ".git" / "objects" / blob[:2] / blob[2:]).unlink()

    lineage = repo.lineage(tmp_path / "cache")
    entries = lineage.entries["qa"]
    assert [e.version for e in entries] == ["1.2", "unknown", "1.0"]
    assert "missing" in entries[1].note and blob[:10] in entries[1].note
    assert entries[0].kind == "bump" and entries[0].previous_version == "unknown"
    assert any("missing" in n for n in lineage.notes)


def test_git_text_is_cleaned_but_markup_is_kept_literally(repo: Repo, tmp_path: Path) -> None:
    repo.write("prompts/qa/plain.txt", "x\n")
    repo.write("evals.toml", '[evals.qa]\nversion = "1.0"\npaths = ["prompts/qa/*"]\n')
    repo.commit("qa: first")
    repo.write(os.fsdecode(b"prompts/qa/caf\xe9.txt"), "latin-1 name\n")
    repo.commit(
        os.fsdecode(b"caf\xe9 \x1b[31mred\x1b[0m [bold]x[/bold] \x07done"),
        Identity("Eve \x1b[2JMallory", "eve@example.com"),
    )
    lineage = repo.lineage(tmp_path / "cache")
    entry = lineage.entries["qa"][0]
    # git may re-encode a message that is not UTF-8; either way no raw byte or escape survives
    assert entry.subject in ("caf\ufffd red [bold]x[/bold] done", "caf\xe9 red [bold]x[/bold] done")
    assert entry.author == "Eve Mallory"
    assert entry.paths == ("prompts/qa/caf\ufffd.txt",)
    assert "[bold]x[/bold]" in entry.to_json()["subject"] and "\x1b" not in str(entry.to_json())


def test_eval_log_filters(repo: Repo, tmp_path: Path) -> None:
    repo.write("evals/qa.py", metric("1.0"))
    repo.write("evals.toml", toml(qa_table()))
    repo.commit("qa: first")
    for i in range(3):
        repo.write("evals/qa.py", metric("1.0", f"return {i}.0"))
        repo.commit(f"qa: {i}")
    lineage = repo.lineage(tmp_path / "cache")
    assert len(eval_log(lineage, "qa")) == 4
    assert [e.subject for e in eval_log(lineage, "qa", limit=2)] == ["qa: 2", "qa: 1"]
    since = (START + dt.timedelta(days=3)).date()
    assert [e.subject for e in eval_log(lineage, "qa", since=since)] == ["qa: 2", "qa: 1"]
    assert eval_log(lineage, "nope") == ()


def test_blob_reader_pipelines_and_reports_missing(repo: Repo) -> None:
    repo.write("a.txt", "alpha\n")
    repo.commit("a")
    blob = git(repo.root, "rev-parse", "HEAD:a.txt").decode().strip()
    with history.BlobReader(repo.root) as reader:
        for _ in range(3):
            reader.request(blob)
        reader.request("0" * 40)
        assert reader.get("0" * 40) is None
        assert reader.get(blob) == b"alpha\n"
        assert reader.get(blob, keep=True) == b"alpha\n" and reader.get(blob) == b"alpha\n"


def test_cache_lives_under_the_state_dir_by_default(repo: Repo) -> None:
    repo.write(".gitignore", ".evaltui/\n")
    repo.write("evals/qa.py", metric("1.0"))
    repo.write("evals.toml", toml(qa_table()))
    repo.commit("qa: first")
    registry = load_registry(repo.root, strict=False, check_files=False)
    assert load_lineage(registry).source == "full"
    assert load_lineage(registry).source == "cache"  # once the write behind the first is done
    assert (repo.root / ".evaltui" / "cache" / "lineage").is_dir()
    shutil.rmtree(repo.root / ".evaltui")


def test_missing_blob_in_a_rename_falls_back_to_no_rename_detection(repo: Repo, tmp_path: Path) -> None:
    body = "\n".join(f"    # line {i}" for i in range(40))
    repo.write("evals/qa.py", metric("1.0", "return 1.0\n" + body))
    repo.write("evals.toml", toml(qa_table()))
    repo.commit("qa: first")
    move(repo.root, "evals/qa.py", "evals/exact.py")
    repo.write("evals/exact.py", metric("1.0", "return 2.0\n" + body))
    repo.write("evals.toml", toml(qa_table("evals/exact.py")))
    moved = repo.commit("qa: move and edit")
    blob = git(repo.root, "rev-parse", "HEAD~1:evals/qa.py").decode().strip()
    (repo.root / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    lineage = repo.lineage(tmp_path / "cache")
    assert [e.commit for e in lineage.entries["qa"]][0] == moved
    assert lineage.entries["qa"][0].paths == ("evals/exact.py", "evals/qa.py")
    assert any("renames are not followed" in n for n in lineage.notes)
    assert lineage.entries["qa"][1].version == "unknown"


@pytest.mark.parametrize(
    "source",
    [
        'import evaltui\n\n\n@evaltui.version("1.0", valid_for="x", why="y")\ndef score(p, r):\n    return 1\n',
        "@version(1.10)\ndef score():\n    pass\n",
        "@version(2)\ndef score():\n    pass\n",
        "@version(01)\ndef score():\n    pass\n",
        '@a\n@eval.version(\n    "2.0",\n    why="multi, (with) parens",\n)\n# note\ndef score(p):\n    pass\n',
        '@evaltui.version(why="w", version="3")\ndef score():\n    pass\n',
        '@evaltui.version(why="w", "3")\ndef score():\n    pass\n',
        '@evaltui.version("3", "v", "w", "x")\ndef score():\n    pass\n',
        '@evaltui.version("3", version="4")\ndef score():\n    pass\n',
        '@evaltui.version("")\ndef score():\n    pass\n',
        '@evaltui.version(" 3 ")\ndef score():\n    pass\n',
        '@evaltui.version("3", valid_for=1)\ndef score():\n    pass\n',
        '@evaltui.version("3", why="a\\nb")\ndef score():\n    pass\n',
        '@evaltui.version("3") # note\ndef score():\n    pass\n',
        '@evaltui.version("3")\n@version("4")\ndef score():\n    pass\n',
        "@evaltui.version('3', why='it''s')\ndef score():\n    pass\n",
        '@evaltui.version(version="3",)\ndef score():\n    pass\n',
        "@evaltui.version()\ndef score():\n    pass\n",
        "@evaltui.version\ndef score():\n    pass\n",
        'class K:\n    @version("5")\n    async def score(self):\n        pass\n',
        '@version("1")\ndef score():\n    pass\n\n\ndef score_all():\n    pass\n',
        '"""def score is documented here"""\n@version("1")\ndef score():\n    pass\n',
        '@version("1")\ndef score():\n    pass\nsyntax error here (\n',
        '@version(\n    "1",\n\n    why="blank line inside",\n)\ndef score():\n    pass\n',
        "def score():\n    pass\n",
    ],
)
def test_versions_of_blobs_agree_with_the_version_reader(source: str) -> None:
    from evaltui.core.registry import versions

    try:
        info = versions.from_decorator(source, "score")
        expected = (info.version, info.valid_for, info.why, None, True)
    except versions.VersionSourceError:
        expected = None
    got = VersionReader(None, {}).parse(source.encode(), DecoratorSpec("score"), "evals/qa.py")
    if "syntax error here" in source:
        # Only the decorator block is read: a broken line elsewhere does not hide the version.
        assert expected is None and got == ("1", None, None, None, True)
    elif expected is None:
        assert got.version is None and not got.determinate and "version could not be read" in (got.note or "")
    else:
        assert got == expected


@pytest.mark.parametrize(
    "source",
    [
        "task: qa\nmetadata:\n  version: 2.0\n  why: harder\n  valid_for: English\nother: 1\n",
        "metadata:\n  version: '1.1'\n# a comment\n  why: x\nnext:\n  version: 9\n",
        "metadata: &m\n  version: 1\nalias: *m\n",
        "metadata:\n  version: 1\nmetadata:\n  version: 2\n",
        "---\nmetadata:\n  version: 1\n---\nmetadata:\n  version: 2\n",
        "{metadata: {version: 3}}\n",
        "metadata:\n  version: 1\n  why: |\n    long text\n",
        '"metadata":\n  version: 4\n',
        "metadata:\n  nothing: here\n",
        "metadata:\n  version: [1, 2\n",
    ],
)
def test_yaml_versions_agree_with_the_version_reader(source: str) -> None:
    from evaltui.core.registry import versions

    try:
        info = versions.from_key(source.encode(), ".yaml", "metadata.version", filename="t.yaml")
        expected = (info.version, info.valid_for, info.why, None, True)
    except versions.VersionSourceError:
        expected = None
    got = VersionReader(None, {}).parse(source.encode(), KeySpec("", "metadata.version"), "t.yaml")
    if expected is None:
        assert got.version is None and not got.determinate
    else:
        assert got == expected


def test_incremental_refreshes_fold_and_stay_equal_to_cold(repo: Repo, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("evaltui.core.history.cache._FOLD_AT", 3)  # fold the delta into a new base every few rows
    repo.write("evals/qa.py", metric("1.0"))
    repo.write("evals.toml", toml(qa_table(extra='dataset = "data/qa.jsonl"\n')))
    _grow(repo, 2)
    cache = tmp_path / "cache"
    repo.lineage(cache)
    for round_ in range(4):
        _grow(repo, 2, start=2 + 2 * round_)
        incremental = repo.lineage(cache)
        assert incremental.source == "incremental"
        assert _as_json(incremental) == _as_json(repo.lineage(tmp_path / f"cold{round_}"))
    assert repo.lineage(cache).source == "cache"


def test_new_commits_joining_older_history_replay_everything(repo: Repo, tmp_path: Path) -> None:
    repo.write("evals/qa.py", metric("1.0"))
    repo.write("data/qa.jsonl", "{}\n")
    repo.write("evals.toml", toml(qa_table(extra='dataset = "data/qa.jsonl"\n')))
    base = repo.commit("qa: first")
    repo.write("evals/qa.py", metric("1.1"))
    repo.commit("qa: bump")
    cache = tmp_path / "cache"
    repo.lineage(cache)
    git(repo.root, "checkout", "-q", "-b", "old", base)
    repo.write("data/qa.jsonl", "{}\n{}\n")
    side = repo.commit("qa: a case on an old branch", BOB)
    git(repo.root, "checkout", "-q", "main")
    git(
        repo.root,
        "merge",
        "-q",
        "--no-edit",
        "old",
        env={"GIT_AUTHOR_DATE": "2026-06-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-06-01T00:00:00Z"},
    )
    lineage = repo.lineage(cache)
    assert lineage.source == "rebuild"
    assert side in [e.commit for e in lineage.entries["qa"]]
    assert _as_json(lineage) == _as_json(repo.lineage(tmp_path / "cold"))


def test_registering_an_existing_file_after_a_cached_build(repo: Repo, tmp_path: Path) -> None:
    repo.write("evals/qa.py", metric("1.0"))
    repo.write("evals.toml", toml(qa_table()))
    repo.write("tasks/old.yaml", "metadata:\n  version: 1\n")
    early = repo.commit("qa, and a task nobody tracks yet")
    cache = tmp_path / "cache"
    repo.lineage(cache)
    repo.write("evals.toml", toml(qa_table(), '[evals.task]\nversion_from = "tasks/old.yaml#metadata.version"\n'))
    repo.commit("track the task")
    lineage = repo.lineage(cache)
    assert lineage.source == "rebuild"  # the task's earlier history lies before the cached HEAD
    assert [e.commit for e in lineage.entries["task"]][-1] == early


def test_a_rewritten_tail_is_rebuilt_from_cached_commits(repo: Repo, tmp_path: Path) -> None:
    repo.write("evals/qa.py", metric("1.0"))
    repo.write("evals.toml", toml(qa_table(extra='dataset = "data/qa.jsonl"\n')))
    _grow(repo, 8)
    cache = tmp_path / "cache"
    repo.lineage(cache)
    git(repo.root, "reset", "-q", "--hard", "HEAD~3")
    _grow(repo, 3, start=20)  # three different commits in place of the last three
    rebuilt = repo.lineage(cache)
    assert rebuilt.source == "rebuild"
    assert _as_json(rebuilt) == _as_json(repo.lineage(tmp_path / "cold"))
    git(repo.root, "checkout", "-q", "--orphan", "fresh")
    _grow(repo, 2, start=40)  # an unrelated history: nothing cached is of use
    assert repo.lineage(cache).source == "full"


@pytest.mark.parametrize(
    "table",
    [
        'paths = [\n    "a.yaml",\n    "b/_template_yaml",\n]\nversion_format = "yaml"\n',
        'paths = [\n  "a", # why this file\n  "b"\n]\n',
        'paths = [\n  "a",\n  1,\n  2.5,\n]\nparams = [\n]\n',
        "paths = [\n  true,\n]\n",
        'paths = [\n  "a" "b",\n]\n',
        'paths = [\n  "\\U0001F600",\n  "\\/",\n]\n',
        'paths = [\n  "a",\n] # closed\n',
        'paths = [\n  "a",\n  ["b"],\n]\n',
        'paths = [\n  "a",\n',
        'paths = [\n  "a",\n]\npaths = [\n]\n',
    ],
)
def test_eval_tables_read_from_history_agree_with_tomllib(table: str) -> None:
    from evaltui.core.compat import tomllib
    from evaltui.core.history.tables import Tables

    text = f'[project]\nname = "x"\n\n[evals.qa]\nmetric = "qa.py:score"\n{table}\n[evals.other]\nmetric = "o.py:f"\n'
    try:
        expected = tomllib.loads(text)["evals"]["qa"]
    except tomllib.TOMLDecodeError:
        expected = None
    defs = Tables().defs("blob", text.encode())
    if expected is None:
        assert defs is None
    else:
        assert defs is not None and defs["qa"].table == expected
