"""`check` replays only the commits after `[project] baseline`: the problems equal the full lineage's."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from evaltui.core import history
from evaltui.core.checks.problems import check_repository, lineage_problems, run_checks
from evaltui.core.history import Identity, git
from evaltui.core.registry.model import FILENAME, load_registry
from tests.conftest import PINNED_AUTHOR

START = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.timezone.utc)


def task(version: str, k: int = 0) -> str:
    return f"task: t\nnum_fewshot: {k}\nmetadata:\n  version: {version}\n"


def table(name: str, path: str, extra: str = "") -> str:
    return f'[evals.{name}]\nversion_from = "{path}#metadata.version"\npaths = []\n{extra}'


def evals_toml(*tables: str, baseline: str | None = None) -> str:
    head = f'[project]\nbaseline = "{baseline}"\n\n' if baseline else ""
    return head + "\n".join(tables)


class Timeline:
    """Commits an hour apart from START, so that shas are stable."""

    def __init__(self, make_repo, root: Path | None = None):
        self.make_repo, self.root, self.n = make_repo, root, 0

    def commit(self, files: dict[str, str | None], message: str, author: Identity = PINNED_AUTHOR) -> str:
        self.n += 1
        when = START + dt.timedelta(hours=self.n)
        self.root = self.make_repo(files, self.root, message=message, author=author, when=when)
        return history.rev_parse(self.root, "HEAD")


def merge(t: Timeline, branch: str) -> None:
    """Merge `branch` into the checked-out branch with a pinned date, an hour after the last commit."""
    t.n += 1
    stamp = (START + dt.timedelta(hours=t.n)).isoformat()
    env = {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    git(t.root, "merge", "-q", "--no-ff", "-m", f"Merge {branch}", branch, env=env)


def both(root: Path, tmp_path: Path, tag: str = ""):
    """The registry, the lineage `check` builds (bounded by the baseline) and the full one."""
    registry = load_registry(root)
    assert registry.project.baseline
    bounded = history.load_lineage(registry, cache_dir=tmp_path / f"b{tag}", since=registry.project.baseline)
    full = history.load_lineage(registry, cache_dir=tmp_path / f"f{tag}")
    assert full.source == "full"
    return registry, bounded, full


def codes(problems) -> list[tuple[str, str | None, str]]:
    return sorted((p.code, p.eval, p.message) for p in problems)


def test_baseline_set_by_hand_over_a_registry_with_history(make_repo, tmp_path: Path) -> None:
    t = Timeline(make_repo)
    tables = [table("a", "a.yaml"), table("b", "b.yaml"), table("c", "c.yaml"), table("d", "d.yaml")]
    files = {"a.yaml": task("1.0"), "b.yaml": task("1.0"), "c.yaml": task("1.0"), "d.yaml": task("1.0")}
    t.commit({**files, FILENAME: evals_toml(*tables)}, "Add four evals")
    t.commit({"a.yaml": task("1.0", 1)}, "Silent change to a before the baseline")
    t.commit({"d.yaml": task("2.0")}, "Bump d without why before the baseline")
    base = t.commit({"b.yaml": task("1.0", 2)}, "Silent change to b before the baseline")
    # After the baseline: a silent change, a bump without why, a rename, a change that is acknowledged.
    t.commit({"a.yaml": task("1.0", 3)}, "Silent change to a after the baseline")
    t.commit({"b.yaml": task("1.1", 2)}, "Bump b without why")
    t.commit(
        {
            "c.yaml": None,
            "tasks/c.yaml": task("1.0"),
            FILENAME: evals_toml(*tables[:2], table("c", "tasks/c.yaml"), tables[3], baseline=base),
        },
        "Move c, set the baseline",
    )
    t.commit({"tasks/c.yaml": task("1.0", 4)}, "Silent change to c after its move")
    root = t.root
    assert root is not None
    registry, bounded, full = both(root, tmp_path)
    assert (bounded.source, bounded.since, full.since) == ("bounded", base, None)
    problems = lineage_problems(registry, bounded)
    assert problems == lineage_problems(registry, full)
    found = {(p.code, p.eval) for p in problems}
    assert found == {("silent-change", "a"), ("bump-without-why", "b"), ("silent-change", "c")}
    silent_c = next(p for p in problems if p.eval == "c")
    assert "tasks/c.yaml" in silent_c.message
    # The whole check (through `check_repository`) agrees with the one on the full lineage.
    assert codes(check_repository(registry)) == codes(run_checks(registry, full))
    # The bounded lineage starts at the baseline, holding the version each eval had there.
    assert bounded.entries["d"][-1].commit == base and bounded.entries["d"][-1].version == "2.0"
    # It was not cached: the next full load replays the whole history.
    again = history.load_lineage(registry, cache_dir=tmp_path / "b")
    assert again.source == "full" and again.entries == full.entries


def test_adoption_after_the_baseline(make_repo, tmp_path: Path) -> None:
    t = Timeline(make_repo)
    t.commit({"x/a.yaml": task("1.0"), "x/b.yaml": task("1.0"), "x/old.yaml": task("1.0")}, "Tasks")
    t.commit({"x/a.yaml": task("1.0", 1)}, "Silent change before adoption")
    t.commit({"x/old.yaml": None, "x/c.yaml": task("1.0")}, "Rename old to c before adoption")
    base = t.commit({"x/b.yaml": task("2.0")}, "Bump b before adoption")
    tables = [table("a", "x/a.yaml"), table("b", "x/b.yaml"), table("c", "x/c.yaml")]
    t.commit({FILENAME: evals_toml(*tables, baseline=base)}, "Adopt")
    t.commit({"x/a.yaml": task("1.0", 2)}, "Silent change after adoption")
    moved = evals_toml(*tables[:2], table("c", "y/c.yaml"), baseline=base)
    t.commit({"x/c.yaml": None, "y/c.yaml": task("1.0"), FILENAME: moved}, "Move c")
    t.commit({"x/b.yaml": task("3.0")}, "Bump b again without why")
    root = t.root
    assert root is not None
    registry, bounded, full = both(root, tmp_path)
    assert bounded.source == "bounded"
    problems = lineage_problems(registry, bounded)
    assert problems == lineage_problems(registry, full)
    assert {(p.code, p.eval) for p in problems} == {("silent-change", "a"), ("bump-without-why", "b")}
    assert codes(check_repository(registry)) == codes(run_checks(registry, full))


def test_a_branch_forked_before_the_baseline_takes_the_full_lineage(make_repo, tmp_path: Path) -> None:
    t = Timeline(make_repo)
    t.commit({"a.yaml": task("1.0"), FILENAME: evals_toml(table("a", "a.yaml"))}, "Add a")
    git(t.root, "checkout", "-q", "-b", "side")
    t.commit({"a.yaml": task("1.0", 1)}, "Silent change on a side branch")
    git(t.root, "checkout", "-q", "main")
    base = t.commit({"notes.md": "n\n"}, "Notes")
    merge(t, "side")
    t.commit({FILENAME: evals_toml(table("a", "a.yaml"), baseline=base)}, "Set the baseline")
    registry, bounded, full = both(t.root, tmp_path)
    assert bounded.source == "full"
    assert lineage_problems(registry, bounded) == lineage_problems(registry, full)
    assert [p.code for p in lineage_problems(registry, full)] == ["silent-change"]


def test_history_of_a_file_or_name_before_the_baseline_takes_the_full_lineage(make_repo, tmp_path: Path) -> None:
    # `old.yaml` was deleted before the baseline and comes back after it: git knows it from before.
    t = Timeline(make_repo)
    t.commit({"old.yaml": task("1.0")}, "A task")
    t.commit({"old.yaml": None}, "Drop it")
    base = t.commit({"notes.md": "n\n"}, "Notes")
    t.commit({"old.yaml": task("1.0", 1)}, "Bring it back")
    t.commit({FILENAME: evals_toml(table("old", "old.yaml"), baseline=base)}, "Adopt")
    registry, bounded, full = both(t.root, tmp_path, "1")
    assert bounded.source == "full"
    assert lineage_problems(registry, bounded) == lineage_problems(registry, full)

    # An eval registered before the baseline, removed, and registered again after it.
    t2 = Timeline(make_repo, t.root.parent / "second")
    t2.commit({"e.yaml": task("1.0"), FILENAME: evals_toml(table("e", "e.yaml"))}, "Add e")
    base = t2.commit({FILENAME: evals_toml(table("f", "e.yaml"))}, "Rename the eval to f")
    t2.commit({"e.yaml": task("1.0", 1)}, "Change it")
    t2.commit({FILENAME: evals_toml(table("e", "e.yaml"), baseline=base)}, "Back to e")
    registry, bounded, full = both(t2.root, tmp_path, "2")
    assert bounded.source == "full"
    assert lineage_problems(registry, bounded) == lineage_problems(registry, full)


def test_fresh_eyes_counts_authors_from_before_the_baseline(make_repo, tmp_path: Path) -> None:
    # alice wrote the eval before the baseline, bob touched it once after: alice stays its main author.
    alice, bob = Identity("Alice", "alice@example.com"), Identity("Bob", "bob@example.com")
    people = (
        '[people.alice]\nemails = ["alice@example.com"]\n[people.bob]\nemails = ["bob@example.com"]\n'
        '[rotation]\nmembers = ["alice", "bob"]\ncadence = "1w"\nstart = 2025-03-03T09:00:00\n'
        'timezone = "UTC"\nfresh_eyes = true\n'
    )
    t = Timeline(make_repo)
    t.commit({"a.yaml": task("1.0")}, "Add a", alice)
    t.commit({"a.yaml": task("1.0", 1)}, "Tune a", alice)
    base = t.commit({"a.yaml": task("1.1", 1)}, "Bump a", alice)
    t.commit({"a.yaml": task("1.2", 2)}, "Bump a again", bob)
    t.commit({"b.md": "x\n"}, "Docs", bob)
    t.commit({"c.md": "x\n"}, "Docs", bob)
    owned = table("a", "a.yaml", 'owner = "alice"\n')
    t.commit({FILENAME: evals_toml(owned, baseline=base) + "\n" + people}, "Adopt", bob)
    registry = load_registry(t.root)
    problems = check_repository(registry)
    assert [(p.code, p.eval) for p in problems if p.code == "owner-is-main-author"] == [("owner-is-main-author", "a")]


def test_a_baseline_that_is_not_an_ancestor_takes_the_full_lineage(make_repo, tmp_path: Path) -> None:
    t = Timeline(make_repo)
    t.commit({"a.yaml": task("1.0"), FILENAME: evals_toml(table("a", "a.yaml"))}, "Add a")
    git(t.root, "checkout", "-q", "-b", "other")
    elsewhere = t.commit({"a.yaml": task("1.0", 1)}, "On another branch")
    git(t.root, "checkout", "-q", "main")
    t.commit({FILENAME: evals_toml(table("a", "a.yaml"), baseline=elsewhere)}, "A baseline HEAD does not descend from")
    registry, bounded, full = both(t.root, tmp_path)
    assert bounded.source == "full"
    assert lineage_problems(registry, bounded) == lineage_problems(registry, full)


def listed(paths: dict[str, str], registered: set[str], baseline: str | None = None) -> str:
    return evals_toml(*(table(n, paths[n]) for n in sorted(registered)), baseline=baseline)


def test_random_histories_give_the_same_problems_bounded_or_full(make_repo, tmp_path: Path) -> None:
    # Seeded random histories of edits, bumps, moves, registrations and removals around a baseline.
    bounded_seen = 0
    for seed in range(12):
        rng = random.Random(seed)
        t = Timeline(make_repo, tmp_path / f"random{seed}")
        paths = {name: f"{name}.yaml" for name in "abcd"}
        versions = dict.fromkeys("abcd", 1)
        registered = {"a", "b"}
        files: dict[str, str | None] = {p: task("1.0") for p in paths.values()}

        t.commit({**files, FILENAME: listed(paths, registered)}, "Start")
        shas = []
        for step in range(12):
            name = rng.choice("abcd")
            roll = rng.random()
            change: dict[str, str | None] = {}
            if roll < 0.35:
                change[paths[name]] = task(f"{versions[name]}.0", step + 1)
            elif roll < 0.55:
                versions[name] += 1
                change[paths[name]] = task(f"{versions[name]}.0", step + 1)
            elif roll < 0.7:
                old, new = paths[name], f"moved{step}/{name}.yaml"
                change[old], change[new] = None, task(f"{versions[name]}.0", step + 1)
                paths[name] = new
                change[FILENAME] = listed(paths, registered)
            elif roll < 0.85:
                registered.add(name)
                change[FILENAME] = listed(paths, registered)
            else:
                registered.discard(name)
                change[FILENAME] = listed(paths, registered)
            shas.append(t.commit(change, f"Step {step}"))
        base = shas[rng.randrange(3, 9)]
        t.commit({FILENAME: listed(paths, registered, base)}, "Set the baseline")
        if seed % 2:
            # A branch forked after the baseline and merged back (its commits are after it too).
            name = rng.choice(sorted(registered) or ["a"])
            git(t.root, "checkout", "-q", "-b", f"side{seed}")
            t.commit({paths[name]: task(f"{versions[name]}.0", 99)}, "On the side branch")
            git(t.root, "checkout", "-q", "main")
            t.commit({"notes.md": "n\n"}, "Meanwhile on main")
            merge(t, f"side{seed}")
        registry_now = load_registry(t.root, strict=False)
        bounded = history.load_lineage(registry_now, cache_dir=tmp_path / f"rb{seed}", since=base)
        full = history.load_lineage(registry_now, cache_dir=tmp_path / f"rf{seed}")
        assert lineage_problems(registry_now, bounded) == lineage_problems(registry_now, full), seed
        bounded_seen += bounded.source == "bounded"
    assert bounded_seen >= 2  # the bounded build itself is exercised, not only the fallback
