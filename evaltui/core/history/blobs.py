"""Blobs through one persistent `git cat-file --batch`, pipelined."""

from __future__ import annotations

from collections import deque
from pathlib import Path

from evaltui.core.history.gitcmd import Streamed, finish, stream, widen_pipe


class BlobReader:
    """One persistent `git cat-file --batch` process; requests are pipelined, answers kept by sha.

    `request` may be called many times before `get`. Answers come back in request order and
    are read on demand; no more requests than fit in the pipe are ever outstanding, so
    neither side can block the other. Missing objects come back as None.
    """

    _MAX_OUTSTANDING = 800  # at most 65 bytes each (SHA-256 names): inside a 64 KB pipe

    def __init__(self, root: Path):
        self.root = root
        self._proc: Streamed | None = None
        self._unsent: list[str] = []
        self._outstanding: deque[str] = deque()
        self._inflight: set[str] = set()  # the outstanding shas, for membership
        self._queued: set[str] = set()
        self._ready: dict[str, bytes | None] = {}

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, sha: str) -> None:
        """Ask for `sha`; it is sent with the next `send` (or `get`), and `get` collects it."""
        if sha not in self._queued and sha not in self._ready:
            self._queued.add(sha)
            self._unsent.append(sha)

    @property
    def unsent(self) -> int:
        """How many requests wait for the next `send`."""
        return len(self._unsent)

    def send(self) -> None:
        """Write the pending requests to git (draining answers first if too many are in flight)."""
        if not self._unsent:
            return
        if self._proc is None:
            self._proc = stream(self.root, "cat-file", "--batch", stdin=True)
            widen_pipe(self._proc.stdout)
        while self._unsent:
            room = self._MAX_OUTSTANDING - len(self._outstanding)
            if room <= 0:
                self._read_one()
                continue
            batch, self._unsent = self._unsent[:room], self._unsent[room:]
            try:
                self._proc.pipe_in.write("".join(f"{sha}\n" for sha in batch).encode())
                self._proc.pipe_in.flush()
            except OSError:
                for sha in batch + self._unsent:
                    self._queued.discard(sha)
                    self._ready[sha] = None
                self._unsent = []
                return
            self._outstanding.extend(batch)
            self._inflight.update(batch)

    def _read_one(self) -> None:
        if self._proc is None:  # not reached: nothing is outstanding before git is started
            raise RuntimeError("no `git cat-file` to read an answer from")
        sha = self._outstanding.popleft()
        self._queued.discard(sha)
        self._inflight.discard(sha)
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
            self._inflight.clear()
            return
        self._ready[sha] = data

    def arrived(self, sha: str) -> bool:
        """Whether `get(sha)` would return without waiting for git."""
        return sha in self._ready

    def get(self, sha: str, *, keep: bool = False) -> bytes | None:
        """The blob's bytes (None when missing); forgotten after unless `keep`."""
        if sha not in self._ready:
            if sha not in self._inflight:
                # Not yet sent: send it with whatever else waits. A sha already sent is only
                # waited for: the requests made since go out with the next batch, not now.
                self.request(sha)
                self.send()
            while sha not in self._ready and self._outstanding:
                self._read_one()
        return self._ready.get(sha) if keep else self._ready.pop(sha, None)

    def close(self) -> None:
        if self._proc is None:
            return
        try:
            finish(self._proc)
        except OSError:
            pass
        self._proc = None
