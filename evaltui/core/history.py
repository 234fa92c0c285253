"""Git access and lineage: the only module that talks to git.

Writing (for the demo builder and the tests) and small reads (a file at a revision, a
revision's sha, a tree exported to a directory, a diff) live here next to the lineage
engine. The engine's public surface: `load_lineage`, `eval_log`, `versions_of`,
`since_last_bump`, `file_at`, `tree_files`, `diff_text` and `BlobReader`; the sections below
follow the order in which it works (stream the log, read evals.toml and version blobs,
replay, cache).
"""

from __future__ import annotations

import bisect
import datetime as dt
import gc
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Mapping

from evaltui.core import fsutil, versions
from evaltui.core.errors import GitError, VersionSourceError
from evaltui.core.registry import FILENAME, glob_pattern
from evaltui.core.textsafe import clean
from evaltui.core.tomlpos import split_dotted

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

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
    from evaltui.core.registry import parse_registry

    content = show_file(root, rev, f"./{FILENAME}")  # "./": relative to `root`, not to the top
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
    renames: tuple[tuple[str, str], ...] = ()  # (old path, new path) of the eval's files this commit moved

    def to_json(self) -> dict:
        return {
            "commit": self.commit, "author": self.author, "email": self.email, "member": self.member,
            "date": self.date.isoformat(), "subject": self.subject, "version": self.version,
            "previous_version": self.previous_version, "kind": self.kind, "paths": list(self.paths),
            "valid_for": self.valid_for, "why": self.why, "note": self.note,
            "renames": [list(pair) for pair in self.renames],
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
    source: str = ""  # how it was built: "cache", "incremental", "rebuild" (cached log), "full", "" (none)


@dataclass(frozen=True)
class VersionSpan:
    """One version of an eval as it was in force: where it started and the commits under it."""

    version: str | None
    started: Entry  # the entry that brought this version into force
    entries: tuple[Entry, ...]  # every entry while it was in force, newest first

    @property
    def valid_for(self) -> str | None:
        return self.started.valid_for

    @property
    def why(self) -> str | None:
        return self.started.why


def eval_log(lineage: Lineage, name: str, since: dt.date | dt.datetime | None = None,
             limit: int | None = None) -> tuple[Entry, ...]:
    """An eval's entries, newest first, optionally only those at or after `since`, at most `limit`."""
    entries = lineage.entries.get(name, ())
    if since is not None:
        if not isinstance(since, dt.datetime):
            since = dt.datetime.combine(since, dt.time())
        if since.tzinfo is None:
            since = since.replace(tzinfo=dt.timezone.utc)
        entries = tuple(e for e in entries if e.date >= since)
    return entries[:limit] if limit is not None and limit >= 0 else entries


def versions_of(lineage: Lineage, name: str) -> tuple[VersionSpan, ...]:
    """The versions an eval went through, newest first, each with the entry it started at.

    A version that comes back later (a revert) is a new span.
    """
    spans: list[list] = []
    for entry in reversed(lineage.entries.get(name, ())):
        if entry.kind == "removed" and entry.version is None:
            continue
        if not spans or entry.kind in ("created", "bump") or entry.version != spans[-1][0]:
            spans.append([entry.version, entry, [entry]])
        else:
            spans[-1][2].append(entry)
    return tuple(VersionSpan(v, start, tuple(reversed(items))) for v, start, items in reversed(spans))


def since_last_bump(lineage: Lineage, name: str, acknowledged: Iterable[str] = ()) -> tuple[Entry | None,
                                                                                         tuple[Entry, ...]]:
    """The entry that started the current version (a bump, or the creation) and the silent
    changes after it that no commit in `acknowledged` (full or abbreviated shas) covers.

    Silent entries whose version is unknown (a missing blob) are left out: nobody can tell.
    """
    acks = tuple(a.strip().lower() for a in acknowledged if len(a.strip()) >= 7)
    silent = []
    for entry in lineage.entries.get(name, ()):
        if entry.kind in ("bump", "created"):
            return entry, tuple(silent)
        if entry.kind == "silent" and entry.version != "unknown" and not entry.commit.startswith(acks):
            silent.append(entry)
    return None, tuple(silent)


def file_at(root: Path, rev: str, path: str) -> bytes | None:
    """The content of `path` (relative to `root`) at `rev`, or None when it does not exist there."""
    return show_file(root, rev, path if path.startswith("./") else f"./{path}")


def tree_files(root: Path, rev: str) -> tuple[str, ...]:
    """Every file path at `rev`, relative to `root` (a subdirectory of the work tree is fine)."""
    out = git(root, "ls-tree", "-r", "-z", "--name-only", rev, "--", ".", check=False)
    return tuple(p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p)


@dataclass(frozen=True)
class FilePatch:
    """One file's change between two revisions, as git reports it."""

    status: str  # "added" | "removed" | "modified" | "renamed"
    old_path: str | None
    new_path: str | None
    old_blob: str | None
    new_blob: str | None
    patch: str  # unified diff body (from the `---` line), cleaned; "" when binary or unchanged
    binary: bool = False


_STATUS = {"A": "added", "D": "removed", "M": "modified", "T": "modified", "R": "renamed", "C": "added"}


def diff_text(root: Path, a: str, b: str, paths: Iterable[str], *, context: int = 3) -> tuple[FilePatch, ...]:
    """The changes to `paths` (relative to `root`) between revisions `a` and `b`, renames detected.

    Two git calls whatever the number of files: the raw pairs with blob ids, then the patches.
    """
    paths = sorted(set(paths))
    if not paths:
        return ()
    spec = ["--", *paths]
    common = ["-c", "core.quotePath=false", "--literal-pathspecs", "diff", "--no-color", "--no-ext-diff",
              "--no-textconv", "-M", "--relative"]
    raw = git(root, *common, "--raw", "-z", "--no-abbrev", a, b, *spec)
    pairs = []
    tokens = iter(raw.split(b"\0"))
    for tok in tokens:
        if not tok.startswith(b":"):
            continue
        meta = tok.split(b" ")
        status = meta[4][:1].decode()
        first = next(tokens, b"").decode("utf-8", "surrogateescape")
        second = next(tokens, b"").decode("utf-8", "surrogateescape") if status in ("R", "C") else first
        old_blob = None if set(meta[2]) == {48} else meta[2].decode()
        new_blob = None if set(meta[3]) == {48} else meta[3].decode()
        pairs.append((_STATUS.get(status, "modified"), None if status in ("A", "C") else first,
                      None if status == "D" else second, old_blob, new_blob))
    body = git(root, *common, f"-U{context}", "--src-prefix=a/", "--dst-prefix=b/", a, b, *spec)
    sections = [s for s in re.split(rb"(?m)^diff --git ", body) if s]
    out = []
    for i, pair in enumerate(pairs):
        section = sections[i] if i < len(sections) else b""
        start = section.find(b"\n--- ")
        binary = b"\nBinary files " in section and start < 0
        patch = section[start + 1:] if start >= 0 else b""
        out.append(FilePatch(*pair, patch=clean(patch.decode("utf-8", "replace")), binary=binary))
    return tuple(out)


# -- the lineage engine ------------------------------------------------------------------------
#
# One `git log --reverse --raw -M -z` stream is parsed as it arrives and replayed commit by
# commit, parents first, over a model of the tree (path -> blob), the eval definitions of that
# commit's evals.toml, and each eval's files and version source. Blobs (evals.toml, version
# files) go through one `git cat-file --batch`, requested ahead of need while the log streams.
# Versions are resolved once per (blob, source) and cached; the state at HEAD is kept so that
# new commits on top of it are replayed alone. History from before an eval was registered is
# found afterwards by walking back from its files (renames followed by path).

SCHEMA = 6  # of the cache; another value is discarded
_NOGIT = {"GIT_NO_LAZY_FETCH": "1"}  # a partial clone must not fetch from the network while browsing
_CFG = ("-c", "core.quotePath=false", "-c", "log.showSignature=false", "-c", "diff.noprefix=false")
_FORMAT = "%x01%H%x00%P%x00%an%x00%ae%x00%aI%x00%s"
_LOG = ("log", "--reverse", "--date-order", "--raw", "-z", "--no-abbrev", "--root", "--no-color",
        "--encoding=UTF-8", "--diff-merges=first-parent", f"--format={_FORMAT}")
_CONTENT, _GONE, _MOVED, _META = 1, 2, 4, 8  # what a commit did to an eval, before versions are known


def _popen(root: Path, *args: str, stdin: bool = False) -> subprocess.Popen:
    """A git process whose output we stream. Its messages go to a file, read after it ends:
    a pipe nobody reads while stdout is streaming could fill (rename-limit warnings, say)
    and stall git."""
    errors = tempfile.TemporaryFile()
    try:
        proc = subprocess.Popen(["git", *args], cwd=root, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=errors, env={**os.environ, **_GIT_ENV, **_NOGIT})
    except FileNotFoundError:
        errors.close()
        raise GitError("git is not installed or not on PATH") from None
    proc.errors = errors  # type: ignore[attr-defined]
    return proc


def _finish(proc: subprocess.Popen) -> tuple[int, str]:
    """Wait for a streamed git process; its exit code and last message line (cleaned). Idempotent."""
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            stream.close()
    code = proc.wait()
    if not proc.errors.closed:
        proc.errors.seek(0)
        lines = proc.errors.read().decode("utf-8", "replace").strip().splitlines()
        proc.errors.close()
        proc.message = clean(lines[-1]) if lines else ""  # type: ignore[attr-defined]
    return code, proc.message


class BlobReader:
    """One persistent `git cat-file --batch` process; requests are pipelined, answers kept by sha.

    `request` may be called many times before `get`. Answers come back in request order and
    are read on demand; no more requests than fit in the pipe are ever outstanding, so
    neither side can block the other. Missing objects come back as None.
    """

    _MAX_OUTSTANDING = 800  # at most 65 bytes each (SHA-256 names): inside a 64 KB pipe

    def __init__(self, root: Path):
        self.root = root
        self._proc: subprocess.Popen | None = None
        self._unsent: list[str] = []
        self._outstanding: deque[str] = deque()
        self._queued: set[str] = set()
        self._ready: dict[str, bytes | None] = {}

    def __enter__(self) -> "BlobReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def request(self, sha: str) -> None:
        """Ask for `sha`; it is sent with the next `send` (or `get`), and `get` collects it."""
        if sha not in self._queued and sha not in self._ready:
            self._queued.add(sha)
            self._unsent.append(sha)

    def send(self) -> None:
        """Write the pending requests to git (draining answers first if too many are in flight)."""
        if not self._unsent:
            return
        if self._proc is None:
            self._proc = _popen(self.root, "cat-file", "--batch", stdin=True)
            _widen_pipe(self._proc.stdout)
        while self._unsent:
            room = self._MAX_OUTSTANDING - len(self._outstanding)
            if room <= 0:
                self._read_one()
                continue
            batch, self._unsent = self._unsent[:room], self._unsent[room:]
            try:
                self._proc.stdin.write("".join(f"{sha}\n" for sha in batch).encode())
                self._proc.stdin.flush()
            except OSError:
                for sha in batch + self._unsent:
                    self._queued.discard(sha)
                    self._ready[sha] = None
                self._unsent = []
                return
            self._outstanding.extend(batch)

    def _read_one(self) -> None:
        sha = self._outstanding.popleft()
        self._queued.discard(sha)
        out = self._proc.stdout
        header = out.readline().split()
        data = None
        if len(header) == 3 and header[1] != b"missing":
            data = out.read(int(header[2]))
            out.read(1)
        elif not header:  # git went away: nothing more will come
            for rest in (sha, *self._outstanding):
                self._ready[rest] = None
            self._outstanding.clear()
            return
        self._ready[sha] = data

    def arrived(self, sha: str) -> bool:
        """Whether `get(sha)` would return without waiting for git."""
        return sha in self._ready

    def get(self, sha: str, *, keep: bool = False) -> bytes | None:
        """The blob's bytes (None when missing); forgotten after unless `keep`."""
        if sha not in self._ready:
            self.request(sha)
            self.send()
            while sha not in self._ready and self._outstanding:
                self._read_one()
        return self._ready.get(sha) if keep else self._ready.pop(sha, None)

    def close(self) -> None:
        if self._proc is None:
            return
        try:
            _finish(self._proc)
        except OSError:
            pass
        self._proc = None


def _widen_pipe(stream) -> None:
    """Let git run up to a megabyte ahead of us (Linux; elsewhere the default pipe is fine)."""
    try:
        import fcntl

        fcntl.fcntl(stream.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError, ValueError):
        pass


def _parse_log(stream, prefix: str, watch: str = FILENAME) -> Iterator[tuple]:
    """Commit records from `git log -z --raw` output, as they arrive.

    A record is (sha, parents, name, email, date, subject, changes, touches `watch`); a change
    is (status, old_path, new_path, old_blob, new_blob) with paths relative to the registry root.
    Tokens are walked by position (a path may hold any byte); a record is only taken once the
    next header or the end of the output shows it complete.
    """
    names: dict[bytes, str] = {}
    cut = len(prefix)
    pending: list[bytes] = []
    rest = b""
    while True:
        # Whole blocks, not whatever is in the pipe: git writes a commit at a time, and thousands
        # of tiny reads would cost more than the parsing.
        chunk = stream.read(1 << 16)
        eof = not chunk
        tokens = (rest + chunk).split(b"\0")
        rest = b"" if eof else tokens.pop()
        if pending:
            tokens[:0] = pending
        n = len(tokens)
        i = 0
        while i < n:
            start = i
            head = tokens[i]
            if head[:1] != b"\x01":
                i += 1  # the empty token after the last NUL
                continue
            if i + 6 > n:
                break  # the rest of this header is still in the pipe (or git died mid-way)
            i += 6
            changes = []
            complete = True
            watched = False
            while i < n:
                tok = tokens[i]
                if tok[:1] == b"\x01":
                    break
                if tok[:1] == b"\n":
                    tok = tok[1:]
                if tok[:1] != b":":
                    i += 1
                    continue
                meta = tok.split(b" ")
                status = meta[4][:1]
                two = status == b"R" or status == b"C"
                if i + (3 if two else 2) > n:
                    complete = False
                    break
                first = tokens[i + 1]
                second = tokens[i + 2] if two else first
                i += 3 if two else 2
                if meta[0] == b":160000" or meta[1] == b"160000":
                    continue  # a submodule is not a file of any eval
                old = names.get(first)
                if old is None:
                    old = names[first] = first.decode("utf-8", "surrogateescape")
                new = names.get(second)
                if new is None:
                    new = names[second] = second.decode("utf-8", "surrogateescape")
                kind = "A" if status == b"C" else status.decode()
                if cut:
                    old = old[cut:] if old.startswith(prefix) else None
                    new = new[cut:] if new.startswith(prefix) else None
                    if old is None and new is None:
                        continue
                    if kind == "R" and (old is None or new is None):
                        kind = "A" if old is None else "D"
                    elif old is None or new is None:
                        old = new = old or new
                if kind == "A":
                    old = new
                elif kind == "D":
                    new = old
                if new == watch or old == watch:
                    watched = True
                changes.append((kind, old, new, None if kind == "A" else meta[2].decode(),
                                None if kind == "D" else meta[3].decode()))
            if (i >= n or not complete) and not eof:
                i = start
                break
            yield (head[1:].decode(), tuple(tokens[start + 1].decode().split()), tokens[start + 2],
                   tokens[start + 3], tokens[start + 4].decode(), tokens[start + 5], tuple(changes), watched)
        pending = tokens[i:]
        if eof:
            return


def _start_log(root: Path, revs: list[str], renames: bool = True) -> subprocess.Popen:
    proc = _popen(root, *_CFG, *_LOG, "-M" if renames else "--no-renames", *revs, "--")
    _widen_pipe(proc.stdout)
    return proc


class _Tee:
    """A stream that keeps every block read from it (the raw log, cached per commit)."""

    def __init__(self, stream, keep: list):
        self.stream, self.keep = stream, keep

    def read(self, size: int) -> bytes:
        block = self.stream.read(size)
        self.keep.append(block)
        return block


def _run_log(root: Path, revs: list[str], prefix: str, renames: bool, on_record,
             proc: subprocess.Popen | None = None, keep: list | None = None) -> str | None:
    """Stream `git log` over `revs` (or read `proc`, already started) into `on_record`.

    Returns git's error message when it failed, else None. `keep` collects the raw output.
    """
    proc = proc or _start_log(root, revs, renames)
    try:
        stream = proc.stdout if keep is None else _Tee(proc.stdout, keep)
        for record in _parse_log(stream, prefix):
            on_record(record)
    finally:
        code, message = _finish(proc)
    if code != 0:
        return message or f"git log exited with {code}"
    return None


@dataclass(frozen=True)
class _Repo:
    """Where the registry sits in git, and what HEAD is."""

    top: Path
    prefix: str  # registry root relative to the top of the work tree, "" or ending in "/"
    head: str | None
    detached: bool
    shallow: tuple[str, ...]  # boundary commits of a shallow clone


def _probe_start(root: Path) -> subprocess.Popen:
    """One `git rev-parse` for everything the lineage needs to know first (read by `_probe`)."""
    return _popen(root, "rev-parse", "--is-inside-work-tree", "--show-toplevel", "--show-prefix", "--git-path",
                  "shallow", "--is-shallow-repository", "HEAD", "--symbolic-full-name", "HEAD")


def _probe(root: Path, proc: subprocess.Popen | None = None) -> tuple[_Repo | None, str | None]:
    """Where the registry sits in git and what HEAD is; a note instead when there is nothing to read."""
    proc = proc or _probe_start(root)
    out = proc.stdout.read()
    _finish(proc)
    lines = out.decode("utf-8", "surrogateescape").split("\n")
    if len(lines) < 6 or lines[0] != "true":
        # No path in the text: notes are shown as they are, and must read the same everywhere.
        return None, "evals.toml is not inside a git work tree; there is no history to show"
    top, prefix, shallow_file, is_shallow, head = lines[1], lines[2], lines[3], lines[4], lines[5]
    if proc.returncode != 0 or head == "HEAD" or not re.fullmatch(r"[0-9a-f]{40,64}", head):
        return _Repo(Path(top), prefix, None, False, ()), "the repository has no commits yet"
    shallow: tuple[str, ...] = ()
    if is_shallow == "true":
        try:
            shallow = tuple((root / shallow_file).read_text().split())
        except OSError:
            shallow = ("?",)
    detached = len(lines) > 6 and lines[6] == "HEAD"
    return _Repo(Path(top), prefix, head, detached, shallow), None


# -- eval definitions at a commit ---------------------------------------------------------------


@dataclass(eq=False, slots=True)  # compared by identity: one object per distinct table text; never mutated
class _Def:
    """What one `[evals.NAME]` table says, reduced to what the lineage compares."""

    table: dict  # the parsed table, to tell a real change from reformatting
    fixed: frozenset  # fixed file paths
    globs: tuple  # (literal directory prefix, glob pattern)
    files_key: tuple  # the file-defining fields (a change re-reads which files belong)
    vspec: tuple | None  # ("file", path, spec) | ("inline", version, valid_for, why) | ("bad", message)
    sem: str  # behaviour-changing fields other than files and version (metric function, params)
    meta: str  # the rest: description, covers, owner, threshold, inline valid_for/why, unknown keys

    def matches(self, path: str) -> bool:
        if path in self.fixed:
            return True
        return bool(self.globs) and any(path.startswith(pre) and glob_pattern(pat).match(path)
                                        for pre, pat in self.globs)


_SEM_KEYS = ("metric", "dataset", "version_from", "paths", "params", "version")


_CORES: dict[str, _Def] = {}  # the behaviour-defining part of a table -> a definition holding it
_CORE_KEYS = (*_SEM_KEYS, "valid_for", "why")


def _def_from_table(table: dict) -> _Def:
    """A definition from a raw table, tolerant of anything an old commit may hold.

    Most edits of a table touch only its metadata (owner, description, covers): the fields
    derived from the rest are then shared with an earlier definition.
    """
    core = repr([table.get(k) for k in _CORE_KEYS])
    known = _CORES.get(core)
    if known is not None:
        rest = {k: v for k, v in table.items() if k not in _SEM_KEYS}
        if known.vspec and known.vspec[0] == "inline":
            rest.pop("valid_for", None), rest.pop("why", None)
        return _Def(table, known.fixed, known.globs, known.files_key, known.vspec, known.sem, _stable(rest))
    found = _CORES[core] = _build_def(table)
    if len(_CORES) > 50_000:
        _CORES.clear()
    return found


def _build_def(table: dict) -> _Def:
    def text(key: str) -> str | None:
        value = table.get(key)
        return value if isinstance(value, str) and value else None

    metric, dataset, version_from = text("metric"), text("dataset"), text("version_from")
    paths = table.get("paths", [])
    paths = [paths] if isinstance(paths, str) else [p for p in paths if isinstance(p, str)] \
        if isinstance(paths, list) else []
    fixed, globs = set(), []
    for path in (metric.rpartition(":")[0] if metric and ":" in metric else metric, dataset):
        if path:
            fixed.add(path)
    vspec: tuple | None = None
    if version_from:
        if "#" in version_from:
            path, _, dotted = version_from.partition("#")
            vspec = ("file", path, ("key", os.path.splitext(path)[1].lower(), dotted))
        else:
            path, sep, function = version_from.rpartition(":")
            vspec = ("file", path, ("py", function)) if sep and path and function else \
                ("bad", f"{version_from!r}: expected 'file.py:function' or 'file.yaml#dotted.key'")
        if vspec[0] == "file":
            fixed.add(vspec[1])
    elif table.get("version") is not None:
        try:
            version = versions.normalise(table["version"])
        except VersionSourceError as exc:
            vspec = ("bad", f"evals.toml: version: {exc}")
        else:
            why, valid_for = table.get("why"), table.get("valid_for")
            vspec = ("inline", version, valid_for if isinstance(valid_for, str) else None,
                     why if isinstance(why, str) else None)
    for pattern in paths:
        if fsutil.is_glob(pattern):
            cut = min(i for i, c in enumerate(pattern) if c in "*?[")
            globs.append((pattern[: pattern.rfind("/", 0, cut) + 1], pattern))
        else:
            fixed.add(pattern)
    function = metric.rpartition(":")[2] if metric and ":" in metric else None
    rest = {k: v for k, v in table.items() if k not in _SEM_KEYS}
    if vspec and vspec[0] == "inline":
        rest.pop("valid_for", None), rest.pop("why", None)
    return _Def(table, frozenset(fixed), tuple(globs),
                (tuple(sorted(fixed)), tuple(globs), vspec[1] if vspec and vspec[0] == "file" else None),
                vspec, repr((function, vspec[2] if vspec and vspec[0] == "file" else None,
                             _stable(table.get("params")))),
                _stable(rest))


def _stable(value) -> str:
    return repr(sorted(value.items())) if isinstance(value, dict) else repr(value)


_HEADER = re.compile(r"""\[?\s*((?:"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[A-Za-z0-9_\-]+)"""
                     r"""(?:\s*\.\s*(?:"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[A-Za-z0-9_\-]+))*)\s*\]\]?\s*(?:#.*)?""")
_ROOT_EVALS = re.compile(r"""(?m)^\s*["']?evals["']?\s*[.=]""")


class _Tables:
    """evals.toml blobs → {eval name: _Def}, re-reading only the tables whose text changed.

    The text is cut at lines that start with "[". A part that is exactly one `[evals.NAME]`
    table, or another table, is remembered by its bytes. A new version of the file is compared
    with its parent's text: only the tables between the first and the last changed byte are
    cut and looked at. Anything unusual (multi-line strings, sub-tables, arrays that start a
    line with "[", root-level dotted keys) takes the whole-file parse instead.
    """

    _KEEP = 16  # parent texts kept for comparison

    def __init__(self):
        self.by_blob: dict[str, dict | None] = {}
        self.delta: dict[str, tuple] = {}  # blob -> (parent blob, names of the tables that differ)
        self._delta: set | None = None
        self._texts: dict[str, bytes] = {}  # recent blobs whose parts are all remembered
        self._parts: dict[bytes, tuple] = {}  # part -> (eval name, _Def) or ("", None) for other tables
        self._pieces: dict[str, _Def | None] = {}  # the text of an eval's table(s) -> definition
        self._headers: dict[str, object] = {}
        self._lines: dict[str, tuple | None] = {}  # "key = value" line -> (key, value); None: not simple

    def defs(self, blob: str, content: bytes | None, parent: str | None = None) -> dict | None:
        """The definitions in one evals.toml blob; None when it cannot be read or parsed."""
        if blob in self.by_blob:
            return self.by_blob[blob]
        result = None
        if content is not None:
            if parent in self._texts:
                self._delta = None
                result = self._patch(content, self._texts[parent], self.by_blob[parent])
                if result is not None:
                    self.delta[blob] = (parent, self._delta)
            if result is None:
                result = self._split(content)
            if result is not None:
                self._texts[blob] = content
                if len(self._texts) > self._KEEP:
                    del self._texts[next(iter(self._texts))]
            else:
                result = self._group_or_whole(content)
        self.by_blob[blob] = result
        return result

    def _patch(self, text: bytes, before: bytes, defs: dict) -> dict | None:
        start = _common_prefix(text, before)
        cut = text.rfind(b"\n[", 0, start)
        if cut < 0:
            return None
        tail = _common_suffix(text, before, min(len(text), len(before)) - start)
        stop = text.find(b"\n[", len(text) - tail)
        stop_before = len(before) if stop < 0 else stop - len(text) + len(before)
        stop = len(text) if stop < 0 else stop
        region = text[cut:stop]
        if b'"""' in region or b"'''" in region:
            return None
        out = dict(defs)
        names = set()
        for part in before[cut:stop_before].split(b"\n[")[1:]:
            hit = self._parts.get(part)
            if hit is None:
                return None
            out.pop(hit[0], None)
            names.add(hit[0])
        for part in region.split(b"\n[")[1:]:
            hit = self._parts.get(part) or self._part(part)
            if hit is None:
                return None
            if hit[0]:
                if hit[0] in out:
                    return None  # the same table twice: only the full parser words that error
                if hit[1] is not None:
                    out[hit[0]] = hit[1]
                names.add(hit[0])
        names.discard("")
        self._delta = names
        return out

    def _split(self, text: bytes) -> dict | None:
        if b'"""' in text or b"'''" in text:
            return None
        parts = (b"\n" + text).split(b"\n[")
        if _ROOT_EVALS.search(parts[0].decode("utf-8", "replace")):
            return None
        parts = parts[1:]
        hits = list(map(self._parts.get, parts))
        if None in hits:
            for i, hit in enumerate(hits):
                if hit is None:
                    hit = hits[i] = self._part(parts[i])
                    if hit is None:
                        return None
        out: dict = {}
        for name, d in hits:
            if name:
                if name in out:
                    return None
                if d is not None:
                    out[name] = d
        return out

    def _part(self, part: bytes) -> tuple | None:
        """Remember one new part when it is a whole table; None when it needs the full parser."""
        text = part.decode("utf-8", "replace")
        end = text.find("\n")
        line = text if end < 0 else text[:end]
        kind = self._headers.get(line, False)
        if kind is False:
            kind = self._headers[line] = _header_kind(line)
        if kind == "other":
            hit = self._parts[part] = ("", None)
            return hit
        if kind is None or kind == "whole" or not kind[1]:
            return None
        table = _read_table([text], kind[0], self._lines)
        if table is False:
            return None
        hit = self._parts[part] = (kind[0], _def_from_table(table) if table is not None else None)
        return hit

    def _group_or_whole(self, content: bytes) -> dict | None:
        text = content.decode("utf-8", "replace")
        if '"""' in text or "'''" in text or _ROOT_EVALS.search(("\n" + text).split("\n[", 1)[0]):
            return self._whole(text)
        found = self._group(("\n" + text).split("\n[")[1:])
        return self._whole(text) if found is None else found

    def _group(self, parts: list[str]) -> dict | None:
        groups: dict[str, list[str]] = {}
        current: list[str] | None = None
        for part in parts:
            end = part.find("\n")
            line = part if end < 0 else part[:end]
            kind = self._headers.get(line, False)
            if kind is False:
                kind = self._headers[line] = _header_kind(line)
            if kind is None:  # not a header: a line of an array that starts with "["
                if current is not None:
                    current.append(part)
                continue
            if kind == "whole":
                return None
            current = None if kind == "other" else groups.setdefault(kind[0], [])
            if current is not None:
                current.append(part)
        out = {}
        for name, pieces in groups.items():
            key = "\n[".join(pieces)
            found = self._pieces.get(key, False)
            if found is False:
                table = _read_table(pieces, name)
                if table is False:
                    return None
                found = self._pieces[key] = _def_from_table(table) if table is not None else None
            if found is not None:
                out[name] = found
        return out

    def _whole(self, text: str) -> dict | None:
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            return None
        evals = doc.get("evals", {})
        if not isinstance(evals, dict):
            return {}
        return {n: _def_from_table(t) for n, t in evals.items() if isinstance(t, dict)}


def _common_prefix(a: bytes, b: bytes) -> int:
    """Length of the common prefix, by binary search over memcmp (memoryview slices copy nothing)."""
    n = min(len(a), len(b))
    view = memoryview(b)
    if a.startswith(view[:n]):
        return n
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a.startswith(view[lo:mid], lo):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_suffix(a: bytes, b: bytes, limit: int) -> int:
    """Length of the common suffix, at most `limit`."""
    la, lb = len(a), len(b)
    view = memoryview(b)
    if a.endswith(view[lb - limit:]):
        return limit
    lo, hi = 0, limit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a.endswith(view[lb - mid:lb - lo], 0, la - lo):
            lo = mid
        else:
            hi = mid - 1
    return lo


_KEY_VALUE = re.compile(r"([A-Za-z0-9_\-]+)[ \t]*=[ \t]*(.*)")
def _no_constant(name: str):
    raise ValueError(name)  # JSON's NaN and Infinity are not TOML


_JSON = json.JSONDecoder(strict=True, parse_constant=_no_constant)


def _read_table(pieces: list[str], name: str, memo: dict | None = None):
    """The `[evals.NAME]` table from its text; False when that text is not valid TOML.

    Simple `key = value` lines whose value is also JSON (strings, numbers, booleans, flat
    arrays) are read with the C JSON decoder, once per distinct line; anything else goes to
    tomllib. Values may be shared between tables: nothing here or later mutates them.
    """
    if len(pieces) == 1:
        memo = {} if memo is None else memo
        table = {}
        lines = pieces[0].split("\n")
        for line in lines[1:]:
            item = memo.get(line, False)
            if item is False:
                item = memo[line] = _simple_line(line)
            if item is None:
                break
            if item is True:
                continue
            if item[0] in table:
                break
            table[item[0]] = item[1]
        else:
            return table
    try:
        doc = tomllib.loads("[" + "\n[".join(pieces))
    except tomllib.TOMLDecodeError:
        return False
    table = doc.get("evals", {}).get(name)
    return table if isinstance(table, dict) else None


def _simple_line(line: str):
    """(key, value) for a simple line, True for a blank or comment line, None for anything else."""
    line = line.strip()
    if not line or line[0] == "#":
        return True
    m = _KEY_VALUE.fullmatch(line)
    if m is None or "\\/" in line:
        return None
    try:
        value, end = _JSON.raw_decode(m.group(2))
    except ValueError:
        return None
    rest = m.group(2)[end:].lstrip()
    if (rest and rest[0] != "#") or not _plain(value):
        return None
    return (m.group(1), value)


def _plain(value) -> bool:
    if isinstance(value, list):
        return all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value)
    return isinstance(value, (str, int, float, bool))


def _header_kind(line: str):
    """"whole" | "other" | (eval name, is the eval's own table) | None (not a header), for a line after "["."""
    m = _HEADER.fullmatch(line)
    if not m:
        return None
    keys = split_dotted(m.group(1))
    if not keys or keys[0] != "evals":
        return "other"
    if len(keys) == 1 or line.startswith("["):  # [evals] or [[evals.x]]: leave it to the full parser
        return "whole"
    return (keys[1], len(keys) == 2)


# -- versions of blobs ------------------------------------------------------------------------

def _decorator_block(text: str, function: str) -> str | None:
    """Just the decorators and `def` line of `function`, when they can be cut out safely.

    Parsing three lines instead of the whole module makes history cheap. Anything unusual
    (another `def` with that name, a decorator block with blank lines, a block that does not
    parse alone) returns None or "" and the whole file is parsed instead.
    """
    needle = "def " + function
    pos = text.find(needle)
    end = pos + len(needle)
    if pos < 0 or (end < len(text) and (text[end].isalnum() or text[end] == "_")) or text.find(needle, end) >= 0:
        return None
    line_start = text.rfind("\n", 0, pos) + 1
    indent = text[line_start:pos]
    if indent.endswith("async "):
        indent = indent[:-6]
    if indent.strip(" \t"):
        return None  # not at the start of a line: in a string, or after other code
    start = p = line_start
    width = len(indent)
    while p > 0:
        ls = text.rfind("\n", 0, p - 1) + 1
        line = text[ls:p - 1]
        if not line.startswith(indent) or not line.strip():
            break
        head = line[width:width + 1]
        if head == "@":
            start = ls
        elif head not in (" ", "\t", ")", "]", "}", "#"):
            break
        p = ls
    if start == line_start:
        return ""
    lines = text[start:line_start].split("\n")
    body = "\n".join(ln[width:] for ln in lines)
    return f"{body}def {function}():\n    pass\n"


_DECO_HEAD = re.compile(r"(?m)^@\s*(?:[A-Za-z_]\w*\s*\.\s*)*version\s*\(")
_DECO_ARG = re.compile(r"""\s*(?:(version|valid_for|why)\s*=\s*)?("[^"\\\n]*"|'[^'\\\n]*'|(?:0|[1-9]\d*)(?:\.\d+)?)\s*(,|\))""")


def _plain_decorator(block: str) -> tuple | None:
    """(version, valid_for, why) from the one `@version(...)` of a decorator block, when its
    arguments are plain literals; None sends the block to the `ast` reader, which also words
    every error. Numbers follow `versions.normalise`: 2 -> "2", 1.10 -> "1.1"."""
    heads = _DECO_HEAD.findall(block)
    if len(heads) != 1:
        return None
    m = _DECO_HEAD.search(block)
    pos, values, positional = m.end(), {}, 0
    names = ("version", "valid_for", "why")
    while True:
        arg = _DECO_ARG.match(block, pos)
        if arg is None:
            if block.startswith(")", pos) or re.match(r"\s*\)", block[pos:]):
                break
            return None
        name, raw, end = arg.groups()
        if name is None:
            if values.keys() - set(names[:positional]) or positional >= 3:
                return None  # a positional argument after a keyword one, or too many
            name = names[positional]
            positional += 1
        if name in values:
            return None
        if raw[0] in "\"'":
            values[name] = raw[1:-1]
        elif name == "version":
            values[name] = str(int(raw)) if "." not in raw else repr(float(raw))
        else:
            return None
        pos = arg.end()
        if end == ")":
            break
    rest = block[pos:]
    if not re.match(r"[ \t]*\n", rest) or not (values.get("version") or "").strip():
        return None
    return values["version"].strip(), values.get("valid_for"), values.get("why")


_TOP_KEY: dict[str, re.Pattern] = {}
_YAML_RISKY = re.compile(r"[&*!|>%\t]|<<")


def _yaml_block(content: bytes, dotted: str) -> str | None:
    """Only the top-level mapping entry that holds `dotted` (a.b...), when it can stand alone.

    The version and its sibling keys live under one top-level key, so that entry is all the
    parser needs. Documents with several parts, anchors, tags, block scalars or a top level
    that is not a plain mapping return None and are parsed whole.
    """
    first, dot, _ = dotted.partition(".")
    if not dot:
        return None
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if text.startswith(("---", "%", "\ufeff")) or "\n---" in text or "\n..." in text:
        return None
    rx = _TOP_KEY.get(first)
    if rx is None:
        rx = _TOP_KEY[first] = re.compile(rf"(?m)^{re.escape(first)}[ ]*:(?=[ ]|$)")
    found = rx.findall(text)
    if len(found) != 1:
        return None
    m = rx.search(text)
    head = text.lstrip()
    if head[:1] in ("-", "[", "{", "?"):
        return None  # the top level is a list or a flow mapping
    end = re.compile(r"\n(?=[^ \n#])").search(text, m.end())
    block = text[m.start():end.start() if end else len(text)]
    return None if _YAML_RISKY.search(block) else block


class _Versions:
    """Version keys → resolved versions, each blob read once through the blob reader."""

    def __init__(self, reader: BlobReader, known: dict):
        self.reader = reader
        self.known = known  # vkey -> (version, valid_for, why, note, determinate)
        self.missing: set[str] = set()
        self._blocks: dict[tuple, tuple] = {}
        self._wanted: list[tuple] = []  # (version key, path) still to parse

    def want(self, vkey, path: str) -> None:
        """Queue the blob of a version to be read; `drain` parses what has arrived meanwhile."""
        if vkey[0] == "b" and vkey not in self.known:
            self.reader.request(vkey[1])
            self._wanted.append((vkey, path))

    def drain(self) -> None:
        """Parse the queued versions whose blobs git has already sent (never waits for git)."""
        waiting = []
        for vkey, path in self._wanted:
            if vkey in self.known:
                continue
            if self.reader.arrived(vkey[1]):
                self.get(vkey, path)
            else:
                waiting.append((vkey, path))
        self._wanted = waiting

    def fetch(self) -> None:
        """Read and parse every queued version."""
        self.reader.send()
        for vkey, path in self._wanted:
            if vkey not in self.known:
                self.get(vkey, path)
        self._wanted = []

    def get(self, vkey, path_hint: str = "version file") -> tuple:
        if vkey is None:
            return (None, None, None, None, True)
        kind = vkey[0]
        if kind == "i":
            return (vkey[1], vkey[2], vkey[3], None, True)
        if kind == "absent":
            return (None, None, None, f"{vkey[1]} (the version source) does not exist at this commit", False)
        if kind == "bad":
            return (None, None, None, vkey[1], False)
        found = self.known.get(vkey)
        if found is not None:
            return found
        content = self.reader.get(vkey[1])
        if content is None:
            self.missing.add(vkey[1])
            return ("unknown", None, None, f"blob {vkey[1][:10]} of {path_hint} is missing from this clone", False)
        found = self.known[vkey] = self._parse(content, vkey[2], path_hint)
        return found

    def _parse(self, content: bytes, spec: tuple, path: str) -> tuple:
        try:
            if spec[0] == "py":
                try:
                    block = _decorator_block(content.decode("utf-8"), spec[1])
                except UnicodeDecodeError:
                    block = None
                if block:
                    cached = self._blocks.get((block, spec[1]))
                    if cached is not None:
                        return cached
                    found = _plain_decorator(block)
                    if found is None:
                        try:
                            info = versions.from_decorator(block, spec[1], filename=path)
                            found = (info.version, info.valid_for, info.why)
                        except VersionSourceError:
                            pass
                    if found is not None:
                        result = self._blocks[(block, spec[1])] = (*found, None, True)
                        return result
                info = versions.from_decorator(content, spec[1], filename=path)
            else:
                block = _yaml_block(content, spec[2]) if spec[1] in (".yaml", ".yml") else None
                if block:
                    cached = self._blocks.get((block, spec[2]))
                    if cached is not None:
                        return cached
                    try:
                        info = versions.from_key(block, spec[1], spec[2], filename=path)
                    except VersionSourceError:
                        info = None
                    if info is not None:
                        result = self._blocks[(block, spec[2])] = (info.version, info.valid_for, info.why, None, True)
                        return result
                info = versions.from_key(content, spec[1], spec[2], filename=path)
        except VersionSourceError as exc:
            return (None, None, None, f"version could not be read: {clean(str(exc))}", False)
        return (info.version, info.valid_for, info.why, None, True)


# -- replaying history --------------------------------------------------------------------------


class _Line:
    """The repository as one commit left it: tree, eval definitions and each eval's state."""

    __slots__ = ("blobs", "toml", "defs", "evals", "fixed", "globs")

    def __init__(self):
        self.blobs: dict[str, str] = {}  # path -> blob sha
        self.toml: str | None = None  # blob of evals.toml
        self.defs: dict[str, _Def] = {}
        self.evals: dict[str, tuple] = {}  # name -> (files {path: blob}, version key)
        self.fixed: dict[str, tuple] = {}  # fixed path -> eval names
        self.globs: dict[str, tuple] = {}  # literal prefix -> ((pattern, eval name), ...)

    def copy(self) -> "_Line":
        new = _Line.__new__(_Line)
        for slot in _Line.__slots__:
            value = getattr(self, slot)
            setattr(new, slot, value.copy() if isinstance(value, dict) else value)
        return new

    def reindex(self, name: str, old: _Def | None, new: _Def | None) -> None:
        if old is not None:
            for path in old.fixed:
                rest = tuple(n for n in self.fixed.get(path, ()) if n != name)
                if rest:
                    self.fixed[path] = rest
                else:
                    self.fixed.pop(path, None)
            for prefix, pattern in old.globs:
                rest = tuple(x for x in self.globs.get(prefix, ()) if x[1] != name)
                if rest:
                    self.globs[prefix] = rest
                else:
                    self.globs.pop(prefix, None)
        if new is not None:
            for path in new.fixed:
                self.fixed[path] = (*self.fixed.get(path, ()), name)
            for prefix, pattern in new.globs:
                self.globs[prefix] = (*self.globs.get(prefix, ()), (pattern, name))


class _NeedsFullBuild(Exception):
    """An incremental refresh met something only a full replay can place (e.g. older files)."""


class _Builder:
    """Replays commit records in order (parents first) into per-eval transitions."""

    def __init__(self, toml: str, reader: BlobReader, vers: _Versions, tables: _Tables, children: dict,
                 *, start: dict | None = None):
        self.toml = toml
        self.reader = reader
        self.vers = vers
        self.tables = tables
        self.children = children
        self.lines: dict[str, _Line] = {}
        self.last_line: _Line | None = None
        self.records: list = []
        self.trans: dict[str, list] = {}
        self.first_def: dict[str, tuple] = {}
        self.vpaths: dict = {}
        self.notes: list[str] = []
        self.ever: set[str] = set()
        self.last_known: dict[str, str | None] = {}
        self.incremental = start is not None
        self._sorted: tuple = (-1, [])
        self._touched: tuple = (-1, {})
        if start is not None:
            self.lines[start["head"]] = start["line"]
            self.children[start["head"]] = self.children.get(start["head"], 0) + 1
            self.ever = set(start["ever"])
            self.last_known = dict(start["last_known"])

    def feed(self, record: tuple) -> None:
        i = len(self.records)
        self.records.append(record)
        sha, parents, changes = record[0], record[1], record[6]
        lines, children = self.lines, self.children
        first = parents[0] if parents else None
        if first in lines:
            left = children.get(first, 1) - 1
            children[first] = left
            line = lines.pop(first) if left <= 0 else lines[first].copy()
        else:
            line = _Line()  # a root, or the boundary of a shallow clone
        blobs, toml = line.blobs, self.toml
        for kind, old, new, _ob, nb in changes:
            if kind == "D":
                blobs.pop(old, None)
            else:
                if kind == "R":
                    blobs.pop(old, None)
                blobs[new] = nb
        changed: dict = {}
        if record[7] and blobs.get(toml) != line.toml:
            changed = self._new_defs(line, blobs.get(toml), sha)
        affected = dict.fromkeys(changed)
        fixed, globs = line.fixed, line.globs
        for ch in changes:
            for path in ((ch[1],) if ch[1] == ch[2] else (ch[1], ch[2])):
                names = fixed.get(path)
                if names:
                    affected.update(dict.fromkeys(names))
                if globs:
                    j = 0
                    while True:
                        for pattern, name in globs.get(path[:j], ()):
                            if glob_pattern(pattern).match(path):
                                affected[name] = None
                        j = path.find("/", j) + 1
                        if j == 0:
                            break
        if affected:
            others = [lines.get(p) for p in parents[1:]]
            for name in affected:
                self._eval(i, name, line, changes, changed, others, len(parents) > 1)
        for parent in parents[1:]:
            if parent in lines:
                left = children.get(parent, 1) - 1
                children[parent] = left
                if left <= 0:
                    del lines[parent]
        if children.get(sha, 0) > 0:
            lines[sha] = line
        self.last_line = line

    def _new_defs(self, line: _Line, blob: str | None, sha: str) -> dict:
        if blob is None:
            new = {}
        else:
            new = self.tables.by_blob.get(blob, False)
            if new is False:
                content = self.reader.get(blob)
                if content is None:
                    self.vers.missing.add(blob)
                new = self.tables.defs(blob, content, line.toml)
            if new is None:
                why = "is missing from this clone" if blob in self.vers.missing else "cannot be parsed"
                self.notes.append(f"evals.toml at {sha[:10]} {why}; its evals keep the definitions they had before")
                line.toml = blob
                return {}
        old = line.defs
        delta = self.tables.delta.get(blob)
        if delta is not None and delta[0] == line.toml:
            candidates = delta[1]  # the tables that differ from this parent's, known from the text
        else:
            candidates = {name for name, _ in new.items() ^ old.items()}  # defs compare by identity
        line.toml = blob
        changed = {}
        for name in candidates:
            before, after = old.get(name), new.get(name)
            if before is after:
                continue
            if before is None or after is None or before.table != after.table:
                changed[name] = before
                if before is None or after is None or before.files_key != after.files_key:
                    line.reindex(name, before, after)
        line.defs = new
        return changed

    def _eval(self, i: int, name: str, line: _Line, changes: tuple, changed: dict, others: list,
              merge: bool) -> None:
        prev = line.evals.get(name)
        d = line.defs.get(name)
        before = changed[name] if name in changed else d
        if d is None:
            if prev is None:
                return
            del line.evals[name]
            if merge and any(o is not None and name not in o.defs for o in others):
                return  # the removal came from the other line, which has its own entry
            self._emit(name, (i, "removed", prev[1], None, 0, tuple(sorted(prev[0])), (), "removed from evals.toml"))
            return
        blobs = line.blobs
        if prev is None or (before is not d and before.files_key != d.files_key):
            files = {p: blobs[p] for p in d.fixed if p in blobs}
            for prefix, pattern in d.globs:
                rx = glob_pattern(pattern)
                files.update((p, blobs[p]) for p in self._under(i, blobs, prefix) if rx.match(p))
        else:
            files = prev[0]
            copied = False
            for kind, old, new, _ob, nb in changes:
                if kind in ("D", "R") and old in files:
                    if not copied:
                        files, copied = dict(files), True
                    del files[old]
                if kind != "D" and d.matches(new):
                    if not copied:
                        files, copied = dict(files), True
                    files[new] = nb
        vspec = d.vspec
        if vspec is None:
            vkey = None
        elif vspec[0] == "file":
            blob = blobs.get(vspec[1])
            vkey = ("b", blob, vspec[2]) if blob else ("absent", vspec[1])
            if blob and (prev is None or prev[1] != vkey):
                self.vpaths.setdefault(vkey, vspec[1])
                self.vers.want(vkey, vspec[1])
        elif vspec[0] == "inline":
            vkey = ("i", vspec[1], vspec[2], vspec[3])
        else:
            vkey = ("bad", vspec[1])
        line.evals[name] = (files, vkey)
        if merge:
            sources = [(prev, before)] + [(o.evals.get(name), o.defs.get(name)) for o in others if o is not None]
            sources = [s for s in sources if s[0] is not None]
            if sources and not _merge_changed(files, vkey, d, sources):
                return
            if prev is None and sources:
                prev, before = sources[0]
        if prev is None:
            note = "added to evals.toml again" if name in self.ever else None
            if name not in self.ever:
                self._first(i, name, d, files, changes)
            self.ever.add(name)
            self._emit(name, (i, "created", None, vkey, 0, tuple(sorted(files)), (), note))
            return
        flags, paths, renames = 0, [], []
        old_files = prev[0]
        if files is not old_files:
            moved = {}
            for kind, old, new, ob, nb in changes:
                if kind == "R" and old in old_files and new in files:
                    moved[new] = old
                    renames.append((old, new))
                    flags |= _MOVED | (_CONTENT if old_files[old] != files[new] else 0)
            for path, blob in files.items():
                if path in moved:
                    paths.append(path)
                elif old_files.get(path) != blob:
                    flags |= _CONTENT
                    paths.append(path)
            sources_moved = set(moved.values())
            for path in old_files:
                if path not in files and path not in sources_moved:
                    paths.append(path)
                    flags |= _CONTENT if path in blobs else _GONE
        if before is not d:
            if before.sem != d.sem:
                flags |= _CONTENT
            if before.meta != d.meta:
                flags |= _META
        if flags or vkey != prev[1]:
            self._emit(name, (i, None, prev[1], vkey, flags, tuple(sorted(paths)), tuple(renames),
                              "merge" if merge else None))

    def _under(self, i: int, blobs: dict, prefix: str) -> list[str]:
        """The paths of commit `i`'s tree under `prefix` (sorted once per commit that asks)."""
        if self._sorted[0] != i:
            self._sorted = (i, sorted(blobs))
        paths = self._sorted[1]
        start = bisect.bisect_left(paths, prefix)
        end = bisect.bisect_left(paths, prefix + "\U0010ffff") if prefix else len(paths)
        return paths[start:end]

    def _first(self, i: int, name: str, d: _Def, files: dict, changes: tuple) -> None:
        """Remember where an eval's files came from when it first appears, to look further back."""
        if self._touched[0] != i:
            self._touched = (i, {ch[2]: ch for ch in changes})
        touched = self._touched[1]
        origins, flags, paths, renames = {}, 0, [], []
        for path in files:
            ch = touched.get(path)
            if ch is None:
                origins[path] = path
                continue
            if ch[0] == "A":
                continue  # born with the eval: nothing before
            origins[path] = ch[1]
            paths.append(path)
            if ch[0] == "R":
                renames.append((ch[1], path))
                flags |= _MOVED | (_CONTENT if ch[3] != ch[4] else 0)
            else:
                flags |= _CONTENT
        if origins:
            if self.incremental:
                raise _NeedsFullBuild(name)
            vpath = d.vspec[1] if d.vspec and d.vspec[0] == "file" else None
            self.first_def[name] = (i, d, origins, vpath, flags, tuple(sorted(paths)), tuple(renames))

    def _emit(self, name: str, item: tuple) -> None:
        items = self.trans.get(name)
        if items is None:
            self.trans[name] = [item]
        else:
            items.append(item)

    # -- after the last commit -------------------------------------------------------------

    def prehistory(self) -> None:
        """Commits to an eval's files from before it was in evals.toml, renames followed backwards.

        One backward walk over the records serves every eval: a file is tracked by its path,
        which moves to the old name at a rename and stops at the commit that added it.
        """
        if not self.first_def:
            return
        starts = sorted(self.first_def.items(), key=lambda kv: -kv[1][0])
        hits: dict[str, list] = {name: [] for name in self.first_def}
        tracked: dict[str, list] = {}
        k = 0
        for j in range(starts[0][1][0] - 1, -1, -1):
            while k < len(starts) and starts[k][1][0] > j:
                name, info = starts[k]
                for at_first, origin in info[2].items():
                    tracked.setdefault(origin, []).append((name, at_first))
                k += 1
            if not tracked:
                if k >= len(starts):
                    break
                continue
            record = self.records[j]
            if len(record[1]) > 1:
                continue  # a merge repeats what its other parent's commits did
            for ch in record[6]:
                tokens = tracked.get(ch[2])
                if tokens is None or ch[0] == "D":
                    continue
                for name, at_first in tokens:
                    hits[name].append((j, ch, at_first))
                if ch[0] == "A":
                    del tracked[ch[2]]
                elif ch[0] == "R":
                    del tracked[ch[2]]
                    tracked.setdefault(ch[1], []).extend(tokens)
        for name, found in hits.items():
            if found:
                self._prepend(name, found[::-1])

    def _prepend(self, name: str, found: list) -> None:
        first, d, _origins, vpath, flags_at, paths_at, renames_at = self.first_def[name]
        spec = d.vspec[2] if d.vspec and d.vspec[0] == "file" else None
        items, vkey = [], None
        groups: dict[int, list] = {}
        for j, ch, at_first in found:
            groups.setdefault(j, []).append((ch, at_first))
        for j, group in groups.items():
            flags, paths, renames = 0, [], []
            before = vkey
            for (kind, old, new, ob, nb), at_first in group:
                paths.append(new)
                if kind == "R":
                    renames.append((old, new))
                    flags |= _MOVED | (_CONTENT if ob != nb else 0)
                else:
                    flags |= _CONTENT
                if at_first == vpath and spec is not None:
                    vkey = ("b", nb, spec)
                    self.vpaths.setdefault(vkey, new)
                    self.vers.want(vkey, new)
            items.append((j, None if items else "created", before, vkey, flags, tuple(sorted(paths)),
                          tuple(renames), "before it was added to evals.toml"))
        created = self.trans[name][0]
        self.trans[name][0] = (created[0], None, vkey, created[3], flags_at or _META, paths_at, renames_at,
                               "added to evals.toml")
        self.trans[name][:0] = items

    def rows(self) -> dict[str, list]:
        """Each eval's entries as identity-neutral rows, oldest first."""
        self.vers.fetch()
        meta: dict[int, tuple] = {}
        out: dict[str, list] = {}
        get = self.vers.get
        hint_of = self.vpaths.get
        for name, items in self.trans.items():
            last = self.last_known.get(name, _UNSET)
            rows = out[name] = []
            for i, hint, pkey, vkey, flags, paths, renames, note in items:
                version, valid_for, why, vnote, known = get(vkey, hint_of(vkey, "the version file"))
                if hint == "created":
                    kind, previous = "created", None
                elif hint == "removed":
                    kind, previous, version, valid_for, why, vnote = "removed", get(pkey)[0], None, None, None, None
                else:
                    before = get(pkey, hint_of(pkey, "the version file"))
                    previous = before[0]
                    if known and before[4]:
                        bumped = version != previous
                    else:
                        bumped = known and last is not _UNSET and version != last
                    kind = ("bump" if bumped else "silent" if flags & _CONTENT else "removed" if flags & _GONE
                            else "renamed" if flags & _MOVED else "meta")
                if known and hint != "removed":
                    last = version
                info = meta.get(i)
                if info is None:
                    info = meta[i] = _commit_meta(self.records[i])
                shown = kind in ("bump", "created")
                rows.append((*info, version, previous, kind, tuple(map(_shown, paths)),
                             valid_for if shown else None, why if shown else None,
                             "; ".join(x for x in (note, vnote) if x) or None,
                             tuple((_shown(a), _shown(b)) for a, b in renames) if renames else ()))
            self.last_known[name] = last
        return out


_UNSET = object()


def _merge_changed(files: dict, vkey, d: _Def, sources: list) -> bool:
    """Whether a merge itself changed an eval: a file, the version or the table unlike every parent."""
    if any(s[0][0] == files and s[0][1] == vkey and s[1] is not None and s[1].table == d.table for s in sources):
        return False
    paths = set(files).union(*(s[0][0] for s in sources))
    if any(all(s[0][0].get(p) != files.get(p) for s in sources) for p in paths):
        return True
    if all(s[1] is None or s[1].table != d.table for s in sources):
        return True
    return all(s[0][1] != vkey for s in sources)


def _shown(path: str) -> str:
    if path.isprintable():
        return path
    return clean(path.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))


def _commit_meta(record: tuple) -> tuple:
    sha, _parents, name, email, date, subject = record[:6]
    try:
        when = dt.datetime.fromisoformat(date)
    except ValueError:
        when = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    # Interned: one object per person, so the cached rows pickle each name once.
    return (sha, sys.intern(_git_text(name)), sys.intern(_git_text(email)), when, _git_text(subject))


def _git_text(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    return text.strip() if text.isprintable() else clean(text, keep_newlines=False).strip()


# -- identities -----------------------------------------------------------------------------------

_MAILMAP_LINE = re.compile(r"^\s*([^<#]*?)\s*<([^>]*)>\s*(?:([^<#]*?)\s*<([^>]*)>)?\s*(?:#.*)?$")


class _Identities:
    """Raw git identities → (name, email, member), through `.mailmap` and `[people]` emails."""

    def __init__(self, registry, top: Path):
        try:
            text = (top / ".mailmap").read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        self._map: dict[tuple, tuple] = {}
        for line in text.splitlines():
            m = _MAILMAP_LINE.match(line)
            if not m:
                continue
            proper, first, commit_name, second = m.groups()
            if second is None:
                self._map[(None, first.lower())] = (proper or None, None)
            else:
                self._map[(commit_name.lower() if commit_name else None, second.lower())] = (proper or None, first)
        self._registry = registry
        self._seen: dict[tuple, tuple] = {}

    def __call__(self, name: str, email: str) -> tuple[str, str, str | None]:
        key = (name, email)
        found = self._seen.get(key)
        if found is None:
            lower = email.lower()
            proper = self._map.get((name.lower(), lower)) or self._map.get((None, lower)) or (None, None)
            canon_name, canon_email = proper[0] or name, proper[1] or email
            member = self._registry.member_for_email(canon_email) or self._registry.member_for_email(email)
            found = self._seen[key] = (canon_name, canon_email, member)
        return found


_NOBODY = Authorship(None, None, 0.0, 0.0, ())


def _materialize(rows: Mapping[str, tuple], identities: _Identities | None, names: Iterable[str],
                 notes: tuple[str, ...], head: str | None, source: str = "") -> Lineage:
    """Entries (identities resolved) and authorship from identity-neutral rows."""
    new = object.__new__
    entries: dict[str, tuple[Entry, ...]] = {}
    authorship: dict[str, Authorship] = {}
    for name, items in rows.items():
        out = []
        counts: dict[str, int] = {}
        creator = None
        for r in items:
            author, email, member = identities(r[1], r[2])
            entry = new(Entry)
            d = entry.__dict__  # frozen: fill the instance dict directly, as unpickling would
            (d["commit"], d["date"], d["subject"], d["version"], d["previous_version"], d["kind"], d["paths"],
             d["valid_for"], d["why"], d["note"], d["renames"]) = (r[0], *r[3:])
            d["author"], d["email"], d["member"] = author, email, member
            out.append(entry)
            who = member or author
            counts[who] = counts.get(who, 0) + 1
            if r[7] == "created":
                creator = who
        entries[name] = tuple(out)
        authorship[name] = _authorship(counts, creator)
    for name in names:
        if name not in entries:
            entries[name] = ()
            authorship[name] = _NOBODY
    return Lineage(head=head, entries=entries, authorship=authorship, notes=notes, source=source)


def _authorship(counts: dict[str, int], creator: str | None) -> Authorship:
    total = sum(counts.values())
    if not total:
        return _NOBODY
    ranked = tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return Authorship(creator=creator, main_author=ranked[0][0], main_share=ranked[0][1] / total,
                      fragmentation=1.0 - sum((c / total) ** 2 for _, c in ranked), authors=ranked)


# -- the cache ------------------------------------------------------------------------------------


class _Store:
    """The lineage cache (diskcache): anything unreadable or from another schema is thrown away."""

    def __init__(self, path: Path):
        self.path = path
        self.cache = None
        try:
            self.cache = self._open()
        except Exception:  # a corrupt database or a directory we cannot use: start over once
            shutil.rmtree(path, ignore_errors=True)
            try:
                self.cache = self._open()
            except Exception:
                self.cache = None

    def _open(self):
        import diskcache  # only when history is loaded: it takes a while to import

        # No fsync: after a crash the worst case is a cache that fails to read, and that is
        # thrown away and rebuilt like any other.
        cache = diskcache.Cache(str(self.path), size_limit=2 ** 30, sqlite_synchronous=0)
        if cache.get("schema") != SCHEMA:
            cache.clear()
            cache.set("schema", SCHEMA)
        return cache

    def get(self, key: str, kind: type = dict):
        if self.cache is None:
            return None
        try:
            value = self.cache.get(key)
        except Exception:  # unpickling garbage, a vanished value file, a locked database
            self.reset()
            return None
        return value if isinstance(value, kind) else None

    def save(self, **values) -> None:
        """Write several values in one transaction."""
        if self.cache is None:
            return
        try:
            with self.cache.transact():
                for key, value in values.items():
                    self.cache.set(key, value)
        except Exception:
            self.reset()

    def drop(self, key: str) -> None:
        if self.cache is not None:
            try:
                self.cache.delete(key)
            except Exception:
                self.reset()

    def reset(self) -> None:
        try:
            self.cache.clear()
            self.cache.set("schema", SCHEMA)
        except Exception:
            self.cache = None

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()


# -- loading ----------------------------------------------------------------------------------------


def load_lineage(registry, *, cache_dir: Path | None = None) -> Lineage:
    """Every eval's lineage and authorship at HEAD, from the cache when HEAD has not moved.

    Never raises for the state of the repository: a missing repository, no commits, a shallow
    or partial clone become notes on the result.
    """
    enabled = gc.isenabled()
    gc.disable()  # hundreds of thousands of small tuples: collection passes would only cost time
    try:
        return _load(registry, Path(cache_dir) if cache_dir else registry.state_dir / "cache" / "lineage")
    finally:
        if enabled:
            gc.enable()


def _load(registry, cache_dir: Path) -> Lineage:
    names = tuple(registry.evals)
    try:
        probe = _probe_start(registry.root)
    except GitError as exc:
        return _materialize({}, None, names, (str(exc),), None)
    cached = (cache_dir / "cache.db").exists()
    store = result = None
    if cached:  # read the cache while git answers
        store = _Store(cache_dir)
        result = _read_result(store)
    repo, problem = _probe(registry.root, probe)
    if repo is None or repo.head is None:
        if store is not None:
            store.close()
        return _materialize({}, None, names, (problem,), None)
    identities = _Identities(registry, repo.top)
    live = (f"HEAD is detached at {repo.head[:10]}",) if repo.detached else ()
    key = (repo.head, repo.prefix, repo.shallow)
    # Without a cache the whole history is read anyway: let git start walking while the
    # cache is being created.
    early = None if cached else _start_full(registry.root)
    try:
        if store is None:
            store = _Store(cache_dir)
        source = "cache"
        if result is None or result["key"] != key:
            result, source = _refresh(registry.root, repo, store, key, result, early)
            early = None
    finally:
        store.close()
        if early is not None:
            for proc in early:
                _stop(proc)
    return _materialize(result["rows"], identities, names, (*result["notes"], *live), repo.head, source)


# The rows of a build are kept as one large base, written by full builds, plus a small delta
# that incremental refreshes rewrite; the base is folded in again when the delta grows.
_FOLD_AT = 2000


def _read_result(store: _Store) -> dict | None:
    meta = store.get("result")
    if not meta or not isinstance(meta.get("delta"), dict) or not isinstance(meta.get("notes"), tuple):
        return None
    base = store.get(f"rows:{meta.get('base')}")
    if base is None:
        return None
    rows = dict(base)
    for name, items in meta["delta"].items():
        rows[name] = items + base.get(name, ())
    return {**meta, "rows": rows}


def _save_result(store: _Store, key: tuple, rows: dict, notes: tuple, previous: dict | None = None,
                 fresh: dict | None = None, **more) -> None:
    """Write a full result, or only the new rows on top of `previous` when they are few."""
    if previous is not None and fresh is not None:
        delta = dict(previous["delta"])
        for name, items in fresh.items():
            delta[name] = items + delta.get(name, ())
        if sum(len(v) for v in delta.values()) < _FOLD_AT:
            store.save(result={"key": key, "notes": notes, "base": previous["base"], "delta": delta}, **more)
            return
    base = key[0]
    old = previous.get("base") if previous else None
    store.save(**{f"rows:{base}": rows}, result={"key": key, "notes": notes, "base": base, "delta": {}}, **more)
    if old and old != base:
        store.drop(f"rows:{old}")


def _start_full(root: Path) -> tuple[subprocess.Popen, subprocess.Popen]:
    """The two walks of a full build: child counts, and the log itself."""
    return _popen(root, "rev-list", "--parents", "HEAD"), _start_log(root, ["HEAD"])


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    _finish(proc)


def _refresh(root: Path, repo: _Repo, store: _Store, key: tuple, previous: dict | None,
             early: tuple | None = None) -> tuple[dict, str]:
    if early is not None:
        return _full(root, repo, store, key, early, previous)
    log = _start_log(root, ["HEAD", f"^{previous['key'][0]}"]) if previous else None
    snap = store.get("snapshot")  # read while git walks the new commits
    if previous and snap and snap.get("key") == previous["key"] and snap["key"][1:] == key[1:]:
        try:
            return _incremental(root, repo, store, key, snap, previous, log), "incremental"
        except (_NeedsFullBuild, KeyError, TypeError, AttributeError, ValueError):
            pass  # anything surprising in the snapshot: a full replay is always right
    if log is not None:
        _stop(log)
    return _full(root, repo, store, key, previous=previous)


def _full(root: Path, repo: _Repo, store: _Store, key: tuple, early: tuple | None = None,
          previous: dict | None = None) -> tuple[dict, str]:
    """Replay the whole history at HEAD: from the cached per-commit log when most of it is
    still there (history was rewritten), else from one `git log` stream (renames off if git
    cannot compare contents)."""
    known = store.get("versions") or {}
    notes: list[str] = []
    raw: list[bytes] = []
    source = "full"
    with BlobReader(root) as reader:
        replayed = None if early is not None else _replay(root, repo, store, reader, known, raw)
        if replayed is not None:
            builder, vers, error = replayed
            source = "rebuild"
        else:
            for renames in (True, False):
                # The walk for child counts runs beside the log: both start before either is read.
                rev_list, log = early or (_popen(root, "rev-list", "--parents", "HEAD"),
                                          _start_log(root, ["HEAD"], renames))
                early = None
                raw.clear()
                vers = _Versions(reader, known)
                children: dict[str, int] = {}
                builder = _Builder(FILENAME, reader, vers, _Tables(), children)
                ahead = _Lookahead(builder, reader, FILENAME)

                def counted(record, first=[True]) -> None:
                    if first[0]:
                        first[0] = False
                        _count_children(rev_list, children, repo.head)
                    ahead(record)

                error = _run_log(root, ["HEAD"], repo.prefix, renames, counted, log, raw if renames else None)
                _count_children(rev_list, children, repo.head)
                ahead.flush()
                if error is None or not renames:
                    break
                notes.append(f"renames are not followed: git could not compare file contents ({error})")
            if error is not None:
                notes.append(f"history is incomplete: git log failed ({error})")
        builder.prehistory()
        rows = builder.rows()
    notes.extend(_dedupe(builder.notes))
    if repo.shallow:
        notes.append(_shallow_note(repo.shallow, builder.records))
    if vers.missing:
        notes.append(f"{len(vers.missing)} blob(s) are missing from this clone (a partial clone?): a version "
                     "held in one shows as 'unknown'; an evals.toml among them is skipped")
    result = {"key": key, "rows": {n: tuple(reversed(r)) for n, r in rows.items()}, "notes": tuple(notes)}
    if not vers.missing and error is None:
        line = builder.lines.get(repo.head, builder.last_line)
        more = {}
        if raw:
            more["log"] = b"".join(raw)
        _save_result(store, key, result["rows"], result["notes"], previous, **more,
                     versions=known if len(known) < 200_000 else {},
                     snapshot={"key": key, "line": line, "ever": builder.ever, "last_known": builder.last_known,
                               "vcur": {v[1]: known[v[1]] for v in (line.evals.values() if line else ())
                                        if v[1] in known}})
    return result, source


def _replay(root: Path, repo: _Repo, store: _Store, reader: BlobReader, known: dict, raw: list):
    """Rebuild from the per-commit log cached by earlier builds, asking git only for the
    commits it lacks. None when there is no such log or most of the history is new."""
    cached = store.get("log", bytes)
    if not cached:
        return None
    walk = _popen(root, "rev-list", "--reverse", "--date-order", "--parents", "HEAD")
    records = {r[0]: r for r in _parse_log(io.BytesIO(cached), repo.prefix)}
    out = walk.stdout.read()
    code, _message = _finish(walk)
    order = [line.split() for line in out.decode().splitlines()]
    missing = [row[0] for row in order if row[0] not in records]
    if code != 0 or not order or len(missing) * 2 > len(order):
        return None
    fresh: list[bytes] = []
    if missing:
        fetch = _popen(root, *_CFG, *[a for a in _LOG if a not in ("--reverse", "--date-order")],
                       "--no-walk=unsorted", "--stdin", "-M", stdin=True)
        fetch.stdin.write("".join(f"{sha}\n" for sha in missing).encode())
        fetch.stdin.close()
        for record in _parse_log(_Tee(fetch.stdout, fresh), repo.prefix):
            records[record[0]] = record
        code, _message = _finish(fetch)
        if code != 0 or any(sha not in records for sha in missing):
            return None
    children: dict[str, int] = {}
    for row in order:
        for parent in row[1:]:
            children[parent] = children.get(parent, 0) + 1
    children[repo.head] = children.get(repo.head, 0) + 1
    vers = _Versions(reader, known)
    builder = _Builder(FILENAME, reader, vers, _Tables(), children)
    ahead = _Lookahead(builder, reader, FILENAME)
    for row in order:
        ahead(records[row[0]])
    ahead.flush()
    if len(records) <= 1.5 * len(order):  # keep the log while old histories do not crowd it
        raw.append(cached)
        raw.extend(fresh)
    return builder, vers, None


def _count_children(proc: subprocess.Popen, children: dict, head: str) -> None:
    """Read `git rev-list --parents` once into child counts (HEAD keeps one, for the snapshot)."""
    if proc.stdout.closed:
        return
    out = proc.stdout.read()
    _finish(proc)
    get = children.get
    for line in out.split(b"\n"):
        for parent in line.split()[1:]:
            p = parent.decode()
            children[p] = get(p, 0) + 1
    children[head] = get(head, 0) + 1


def _incremental(root: Path, repo: _Repo, store: _Store, key: tuple, snap: dict, previous: dict,
                 log: subprocess.Popen | None = None) -> dict:

    old = snap["key"][0]
    records: list = []
    if _run_log(root, ["HEAD", f"^{old}"], repo.prefix, True, records.append, log) is not None:
        raise _NeedsFullBuild("the previous HEAD is gone")
    new = {r[0] for r in records}
    if not any(old in r[1] for r in records):
        raise _NeedsFullBuild("history was rewritten")
    children: dict[str, int] = {}
    for r in records:
        for p in r[1]:
            if p not in new and p != old:
                raise _NeedsFullBuild("new commits join older history")
            children[p] = children.get(p, 0) + 1
    children[repo.head] = children.get(repo.head, 0) + 1
    known = dict(snap["vcur"])
    with BlobReader(root) as reader:
        vers = _Versions(reader, known)
        builder = _Builder(FILENAME, reader, vers, _Tables(), children, start={**snap, "head": old})
        for record in records:
            builder.feed(record)
        builder.prehistory()
        fresh = builder.rows()
    if vers.missing:
        raise _NeedsFullBuild("blobs are missing")
    fresh = {name: tuple(reversed(items)) for name, items in fresh.items()}
    rows = dict(previous["rows"])
    for name, items in fresh.items():
        rows[name] = items + rows.get(name, ())
    notes = tuple(dict.fromkeys((*previous["notes"], *builder.notes)))
    line = builder.lines[repo.head]
    more = {"snapshot": {"key": key, "line": line, "ever": builder.ever, "last_known": builder.last_known,
                         "vcur": {v[1]: known[v[1]] for v in line.evals.values() if v[1] in known}}}
    if len(known) > len(snap["vcur"]):
        more["versions"] = {**(store.get("versions") or {}), **known}
    _save_result(store, key, rows, notes, previous, fresh, **more)
    return {"key": key, "rows": rows, "notes": notes}


class _Lookahead:
    """Feeds records to the builder a few commits late, asking for their evals.toml blobs early."""

    def __init__(self, builder: _Builder, reader: BlobReader, toml: str, depth: int = 96):
        self.builder, self.reader, self.toml, self.depth = builder, reader, toml, depth
        self.queue: deque = deque()
        self.count = 0

    def __call__(self, record: tuple) -> None:
        for ch in record[6] if record[7] else ():
            if ch[2] == self.toml and ch[4] and ch[4] not in self.builder.tables.by_blob:
                self.reader.request(ch[4])
                if len(self.reader._unsent) >= 8:
                    self.reader.send()
        self.queue.append(record)
        if len(self.queue) > self.depth:
            self.builder.feed(self.queue.popleft())
            self.count += 1
            if self.count % 64 == 0:
                self.builder.vers.drain()

    def flush(self) -> None:
        while self.queue:
            self.builder.feed(self.queue.popleft())


def _dedupe(notes: list[str], keep: int = 3) -> list[str]:
    unique = list(dict.fromkeys(notes))
    if len(unique) <= keep:
        return unique
    return [*unique[:keep], f"... and {len(unique) - keep} more like these"]


def _shallow_note(boundary: tuple[str, ...], records: list) -> str:
    dates = {r[0]: r[4][:10] for r in records if r[0] in boundary}
    where = ", ".join(f"{sha[:10]} ({dates[sha]})" if sha in dates else sha[:10] for sha in boundary[:3])
    return (f"this is a shallow clone: history stops at {where}; evals that existed then show as created "
            "there (run `git fetch --unshallow` for the full lineage)")


# -- team support ------------------------------------------------------------------------------


def config_email(root: Path) -> str | None:
    """`git config user.email` as seen from `root` (None when unset or not a repository)."""
    return _config(root, "user.email")


def config_name(root: Path) -> str | None:
    """`git config user.name` as seen from `root` (None when unset or not a repository)."""
    return _config(root, "user.name")


def _config(root: Path, key: str) -> str | None:
    try:
        out = git(root, "config", "--get", key, check=False)
    except GitError:
        return None
    return out.decode("utf-8", "replace").strip() or None


# -- runs support ------------------------------------------------------------------------------


def head_state(root: Path) -> tuple[str | None, bool]:
    """HEAD's sha (None without commits or a repository) and whether tracked files changed: one git call."""
    try:
        out = git(root, "status", "--porcelain=v2", "--branch", "--untracked-files=no", check=False)
    except GitError:
        return None, False
    sha, dirty = None, False
    for line in out.decode("utf-8", "replace").splitlines():
        if line.startswith("# branch.oid "):
            value = line[len("# branch.oid "):].strip()
            sha = None if value == "(initial)" else value
        elif line and not line.startswith("#"):
            dirty = True
    return sha, dirty


def merge_base(root: Path, a: str, b: str) -> str | None:
    """The best common ancestor of two revisions, or None when they share none."""
    out = git(root, "merge-base", a, b, check=False).strip()
    return out.decode() if out else None


MAIN_BRANCHES = ("main", "master")


def default_base(root: Path) -> tuple[str, str]:
    """The base a pull request would be compared with: (ref, why it was chosen).

    On a branch other than main (or master), the merge-base with it; otherwise HEAD~1.
    """
    info = head_info(root)
    if info.sha is None:
        raise GitError("the repository has no commits yet: there is nothing to compare with")
    for main in MAIN_BRANCHES:
        if info.branch == main:
            break
        try:
            rev_parse(root, main)
        except GitError:
            continue
        base = merge_base(root, main, "HEAD")
        if base:
            where = f"on {info.branch}" if info.branch else "with a detached HEAD"
            return base[:12], f"the merge-base of HEAD and {main} (you are {where})"
    try:
        rev_parse(root, "HEAD~1")
    except GitError:
        raise GitError("HEAD has no parent and there is no main branch to compare with; type a base ref") from None
    why = f"you are on {info.branch}" if info.branch in MAIN_BRANCHES else "there is no main branch"
    return "HEAD~1", f"the commit before HEAD ({why})"
