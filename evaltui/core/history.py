"""Git access and lineage: the only module that talks to git.

Writing (for the demo builder and the tests) and small reads (a file at a revision, a
revision's sha, a tree exported to a directory) live here next to the lineage engine.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from evaltui.core.errors import GitError

# Git must never ask for anything on a terminal, read the user's pager or differ by locale.
_GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat", "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"}


def git(root: Path, *args: str, input: bytes | None = None, env: dict[str, str] | None = None,
        check: bool = True) -> bytes:
    """Run one git command in `root` and return its stdout; `GitError` on failure."""
    full_env = {**os.environ, **_GIT_ENV, **(env or {})}
    try:
        proc = subprocess.run(["git", *args], cwd=root, input=input, capture_output=True, env=full_env)
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
    if check and proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {args[0]}: {message[-1] if message else f'exit {proc.returncode}'}")
    return proc.stdout


# -- writing: the demo builder and the tests -------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """A pinned author for commits made by the demo builder and the tests."""

    name: str
    email: str


def init_repo(root: Path, branch: str = "main") -> None:
    """Create an empty repository at `root` with a fixed initial branch."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", branch)
    git(root, "config", "user.name", "evaltui")
    git(root, "config", "user.email", "evaltui@example.invalid")
    git(root, "config", "commit.gpgsign", "false")


def commit_all(root: Path, message: str, author: Identity, when: dt.datetime) -> str:
    """Stage everything (removals included) and commit it as `author` at `when`; return the sha."""
    stamp = when.isoformat() if when.tzinfo else when.replace(tzinfo=dt.timezone.utc).isoformat()
    env = {
        "GIT_AUTHOR_NAME": author.name, "GIT_AUTHOR_EMAIL": author.email, "GIT_AUTHOR_DATE": stamp,
        "GIT_COMMITTER_NAME": author.name, "GIT_COMMITTER_EMAIL": author.email, "GIT_COMMITTER_DATE": stamp,
    }
    git(root, "add", "-A")
    git(root, "commit", "-q", "--allow-empty", "--no-verify", "-m", message, env=env)
    return git(root, "rev-parse", "HEAD").decode().strip()


def move(root: Path, old: str, new: str) -> None:
    """`git mv old new` (so the rename is staged as one)."""
    (root / new).parent.mkdir(parents=True, exist_ok=True)
    git(root, "mv", old, new)


# -- small reads --------------------------------------------------------------------------


def is_repo(root: Path) -> bool:
    """Whether `root` is inside a git work tree."""
    try:
        return git(root, "rev-parse", "--is-inside-work-tree", check=False).strip() == b"true"
    except GitError:
        return False


def rev_parse(root: Path, rev: str) -> str:
    """The full sha of `rev`; `GitError` naming the revision when it does not exist."""
    out = git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False).strip()
    if not out:
        raise GitError(f"unknown revision {rev!r}")
    return out.decode()


def show_file(root: Path, rev: str, path: str) -> bytes | None:
    """The content of `path` at `rev`, or None when it does not exist there."""
    proc = subprocess.run(["git", "cat-file", "blob", f"{rev}:{path}"], cwd=root, capture_output=True,
                          env={**os.environ, **_GIT_ENV})
    return proc.stdout if proc.returncode == 0 else None


def export_tree(root: Path, rev: str, dest: Path) -> Path:
    """Write the whole tree at `rev` into `dest` (no checkout; the working tree is untouched)."""
    import io
    import tarfile

    data = git(root, "archive", "--format=tar", rev)
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar.getmembers():
            # Refuse anything that would land outside `dest` (absolute names, '..', links out).
            target = (dest / member.name).resolve()
            if not str(target).startswith(str(dest.resolve())) or member.issym() or member.islnk():
                continue
            tar.extract(member, dest)
    return dest


@dataclass(frozen=True)
class HeadInfo:
    """Where the work tree stands: HEAD's sha (None without commits), branch, dirty flag."""

    sha: str | None
    branch: str | None
    dirty: bool
    notes: tuple[str, ...] = field(default=())


def head_info(root: Path) -> HeadInfo:
    """HEAD's sha, branch and whether tracked files have uncommitted changes."""
    if not is_repo(root):
        return HeadInfo(None, None, False, (f"{root} is not a git repository",))
    sha = git(root, "rev-parse", "--verify", "--quiet", "HEAD", check=False).strip().decode() or None
    branch = git(root, "symbolic-ref", "--short", "-q", "HEAD", check=False).strip().decode() or None
    dirty = bool(git(root, "status", "--porcelain", "--untracked-files=no", check=False).strip())
    notes = []
    if sha is None:
        notes.append("the repository has no commits yet")
    elif branch is None:
        notes.append("HEAD is detached")
    return HeadInfo(sha, branch, dirty, tuple(notes))


def diff_names(root: Path, base: str, head: str) -> list[str]:
    """Paths that differ between two revisions (renames shown as their new path)."""
    out = git(root, "diff", "--name-only", "-z", "--no-renames", base, head)
    return [p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p]


def registry_at(root: Path, rev: str):
    """`evals.toml` as it was at `rev`, parsed without checking today's working tree."""
    from evaltui.core.registry import FILENAME, parse_registry

    content = show_file(root, rev, FILENAME)
    if content is None:
        raise GitError(f"{FILENAME} does not exist at {rev}")
    return parse_registry(content.decode("utf-8", "replace"), root, check_files=False)


# -- lineage: the contract the CLI, the TUI, ownership and checks build on -------------------

KINDS = ("created", "bump", "silent", "meta", "renamed", "removed")


@dataclass(frozen=True)
class Entry:
    """One commit in an eval's lineage."""

    commit: str  # full sha
    author: str  # display name, cleaned
    email: str
    member: str | None  # the [people] member (or .mailmap identity) this author is
    date: dt.datetime  # aware
    subject: str  # cleaned, one line
    version: str | None  # version in force after this commit ("unknown" when a blob is missing)
    previous_version: str | None
    kind: str  # one of KINDS
    paths: tuple[str, ...]  # the eval's files this commit touched (new names for renames)
    valid_for: str | None = None
    why: str | None = None
    note: str | None = None  # degradation note for this entry (e.g. a missing blob)

    def to_json(self) -> dict:
        return {
            "commit": self.commit, "author": self.author, "email": self.email, "member": self.member,
            "date": self.date.isoformat(), "subject": self.subject, "version": self.version,
            "previous_version": self.previous_version, "kind": self.kind, "paths": list(self.paths),
            "valid_for": self.valid_for, "why": self.why, "note": self.note,
        }


@dataclass(frozen=True)
class Authorship:
    """Who is attached to an eval, from git: creator, main author, spread of commits."""

    creator: str | None  # member (or author name when unmapped)
    main_author: str | None
    main_share: float  # share of the eval's commits by the main author, 0..1
    fragmentation: float  # 1 - sum(share^2)
    authors: tuple[tuple[str, int], ...]  # (member or name, commits), most first


@dataclass(frozen=True)
class Lineage:
    """Every eval's lineage and authorship at one HEAD."""

    head: str | None
    entries: dict  # eval name -> tuple[Entry, ...], newest first
    authorship: dict  # eval name -> Authorship
    notes: tuple[str, ...] = ()  # repository-level degradation notes (shallow, no commits, ...)
