"""Where the registry sits in git: the work tree, HEAD, a shallow boundary and the mailmap, read without git processes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from evaltui.core.history.identities import mailmap_text


@dataclass(frozen=True)
class RepoInfo:
    """Where the registry sits in git, what HEAD is, and the mailmap text git would use."""

    top: Path
    prefix: str  # registry root relative to the top of the work tree, "" or ending in "/"
    head: str | None
    detached: bool
    shallow: tuple[str, ...]  # boundary commits of a shallow clone
    mailmap: str = ""


def probe(root: Path) -> tuple[RepoInfo | None, str | None]:
    """Where the registry sits in git and what HEAD is (GitPython's `Repo`, no git process);
    a note instead when there is nothing to read."""
    import git as gitpython  # GitPython: only when history is loaded, off the start-up path

    # No path in the notes: they are shown as they are, and must read the same everywhere.
    outside = "evals.toml is not inside a git work tree; there is no history to show"
    try:
        repo = gitpython.Repo(root, search_parent_directories=True)
    except (gitpython.InvalidGitRepositoryError, gitpython.NoSuchPathError, OSError):
        return None, outside
    with repo:
        if repo.bare or repo.working_tree_dir is None:
            return None, outside
        top = Path(repo.working_tree_dir)
        prefix = prefix_of(root, top)
        if prefix is None:
            return None, outside
        try:
            # The sha from the refs alone: `head.commit` would start a `cat-file` process to
            # learn the object's type, which costs more than everything else here.
            head = gitpython.SymbolicReference.dereference_recursive(repo, "HEAD")
            detached = repo.head.is_detached
        except (ValueError, gitpython.BadName, gitpython.GitError):
            return RepoInfo(top, prefix, None, False, ()), "the repository has no commits yet"
        shallow: tuple[str, ...] = ()
        shallow_file = Path(repo.common_dir) / "shallow"
        if shallow_file.exists():
            try:
                shallow = tuple(shallow_file.read_text().split())
            except OSError:
                shallow = ("?",)
        return RepoInfo(top, prefix, head, detached, shallow, mailmap_text(repo, top)), None


def prefix_of(root: Path, top: Path) -> str | None:
    """`root` relative to the work tree's `top`, "" or ending in "/" (as `git rev-parse --show-prefix`
    gives it); None when it is not inside."""
    try:
        rel = Path(root).resolve().relative_to(top.resolve()).as_posix()
    except ValueError:
        return None
    return "" if rel == "." else rel + "/"


def work_tree_prefix(root: Path) -> str | None:
    """Where `root` sits in its git work tree (`prefix_of`), with no git process; None outside one."""
    import git as gitpython

    try:
        repo = gitpython.Repo(root, search_parent_directories=True)
    except (gitpython.InvalidGitRepositoryError, gitpython.NoSuchPathError, OSError):
        return None
    with repo:
        if repo.bare or repo.working_tree_dir is None:
            return None
        return prefix_of(root, Path(repo.working_tree_dir))
