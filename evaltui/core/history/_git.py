"""Running git: one command and its output, or a process whose output is streamed."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from evaltui.core.errors import GitError
from evaltui.core.textsafe import clean


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


_NOGIT = {"GIT_NO_LAZY_FETCH": "1"}  # a partial clone must not fetch from the network while browsing


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


def _widen_pipe(stream) -> None:
    """Let git run up to a megabyte ahead of us (Linux; elsewhere the default pipe is fine)."""
    try:
        import fcntl

        fcntl.fcntl(stream.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError, ValueError):
        pass
