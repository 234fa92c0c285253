"""Running git through GitPython's command wrapper: one command and its output, or a streamed process."""

from __future__ import annotations

import _thread
import os
from pathlib import Path
from subprocess import PIPE
from typing import IO, TYPE_CHECKING, Any

from evaltui.core.errors import GitError
from evaltui.core.textsafe import clean

if TYPE_CHECKING:
    import git as gitpython


# Git must never ask for anything on a terminal, read the user's pager or differ by locale.
GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat", "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"}
# A partial clone must not fetch from the network while history is being browsed.
NO_LAZY_FETCH = {"GIT_NO_LAZY_FETCH": "1"}


def _wrapper(root: Path) -> gitpython.Git:
    import git as gitpython  # GitPython: imported by the history functions only, off the start-up path

    return gitpython.Git(str(root))


def git(
    root: Path, *args: str, input: bytes | None = None, env: dict[str, str] | None = None, check: bool = True
) -> bytes:
    """Run one git command in `root` and return its stdout; `GitError` on failure."""
    proc = stream(root, *args, stdin=input is not None, env=env, lazy_fetch=True)
    try:
        if input is not None:
            proc.pipe_in.write(input)
            proc.pipe_in.close()
        out = proc.stdout.read()
    except OSError:
        out = b""
    code, message = finish(proc)
    if check and code != 0:
        raise GitError(f"git {args[0]}: {message or f'exit {code}'}")
    return out


class Streamed:
    """A git process whose stdout is read as it comes; its messages are collected beside it.

    GitPython gives stderr a pipe; a pipe nobody reads while stdout is streaming could fill
    (rename-limit warnings, say) and stall git, so a thread drains it.
    """

    def __init__(self, proc: Any):
        self.proc = proc  # GitPython's AutoInterrupt: the process is ended if we drop it
        self.stdin: IO[bytes] | None = proc.proc.stdin
        self.stdout: IO[bytes] = proc.proc.stdout
        self.returncode: int | None = None
        self.message = ""
        self._errors: list[bytes] = []
        # A bare thread: `threading.Thread.start` waits until the new thread has run, which on a
        # busy machine costs milliseconds for each git started. The lock is held until git
        # closes its stderr.
        self._drained = _thread.allocate_lock()
        self._drained.acquire()
        _thread.start_new_thread(self._read_errors, (proc.proc.stderr,))

    @property
    def pipe_in(self) -> IO[bytes]:
        """git's stdin, for a process started with `stdin=True`."""
        if self.stdin is None:
            raise ValueError("git was started without a pipe to its stdin")
        return self.stdin

    def _read_errors(self, stream: IO[bytes]) -> None:
        try:
            for line in stream:
                self._errors.append(line)
                if len(self._errors) > 50:
                    del self._errors[:25]
        except (OSError, ValueError):
            pass
        finally:
            self._drained.release()

    def poll(self) -> int | None:
        return self.proc.proc.poll() if self.proc.proc is not None else self.returncode

    def kill(self) -> None:
        if self.proc.proc is not None:
            self.proc.proc.kill()


def stream(
    root: Path, *args: str, stdin: bool = False, env: dict[str, str] | None = None, lazy_fetch: bool = False
) -> Streamed:
    """Start `git ARGS` in `root` with stdout to be streamed (and stdin to write to, if asked)."""
    import git as gitpython

    full_env = {**os.environ, **GIT_ENV, **({} if lazy_fetch else NO_LAZY_FETCH), **(env or {})}
    try:
        proc = _wrapper(root).execute(["git", *args], as_process=True, istream=PIPE if stdin else None, env=full_env)
    except gitpython.GitCommandNotFound:
        raise GitError("git is not installed or not on PATH") from None
    return Streamed(proc)


def finish(proc: Streamed) -> tuple[int, str]:
    """Wait for a streamed git process; its exit code and last message line (cleaned). Idempotent."""
    if proc.returncode is not None:
        return proc.returncode, proc.message
    inner = proc.proc.proc
    for s in (proc.stdin, proc.stdout):
        if s is not None:
            try:
                s.close()
            except OSError:
                pass
    code = inner.wait() if inner is not None else (proc.proc.status or 0)
    with proc._drained:  # the drain has read all git said
        pass
    lines = b"".join(proc._errors).decode("utf-8", "replace").strip().splitlines()
    proc.message = clean(lines[-1]) if lines else ""
    proc.returncode = code
    if inner is not None and inner.stderr is not None:
        inner.stderr.close()
    proc.proc.proc = None  # nothing left for GitPython to end
    return code, proc.message


def widen_pipe(stream: IO[bytes]) -> None:
    """Let git run up to a megabyte ahead of us (Linux; elsewhere the default pipe is fine)."""
    try:
        import fcntl

        fcntl.fcntl(stream.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError, ValueError):
        pass
