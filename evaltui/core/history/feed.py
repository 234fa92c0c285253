"""Feeding commit records to the builder: a few commits late, with their blobs asked for early, and child counts."""

from __future__ import annotations

from collections import deque
from pathlib import Path

from evaltui.core.history.blobs import BlobReader
from evaltui.core.history.builder import Builder
from evaltui.core.history.gitcmd import Streamed, finish, stream, widen_pipe
from evaltui.core.history.logparse import LogRecord


def start_parents(root: Path) -> Streamed:
    """Start `git rev-list --parents HEAD`, for `count_children`.

    It is read only once the log's first record has arrived; in a default 64 KB pipe its
    output (about 80 bytes a commit) would stall it after some 800 commits and leave the rest
    of the walk to be waited for then. A wider pipe lets it finish beside the log.
    """
    proc = stream(root, "rev-list", "--parents", "HEAD")
    widen_pipe(proc.stdout)
    return proc


def count_children(proc: Streamed, children: dict[str, int], head: str) -> None:
    """Read `git rev-list --parents` once into child counts (HEAD keeps one, for the snapshot)."""
    if proc.stdout.closed:
        return
    out = proc.stdout.read()
    finish(proc)
    get = children.get
    for line in out.split(b"\n"):
        for parent in line.split()[1:]:
            p = parent.decode()
            children[p] = get(p, 0) + 1
    children[head] = get(head, 0) + 1


class Lookahead:
    """Feeds records to the builder a few commits late, asking for their evals.toml blobs early."""

    # Requests go to `git cat-file` in batches, every SEND_EVERY records (or once MANY are
    # waiting): each write wakes git, which on a busy machine takes the CPU from the replay, so
    # a few large batches cost less than hundreds of small ones. The queue is deep enough
    # that a batch is answered long before its records are replayed.
    SEND_EVERY = 128
    MANY = 256

    def __init__(self, builder: Builder, reader: BlobReader, toml: str, depth: int = 384):
        self.builder, self.reader, self.toml, self.depth = builder, reader, toml, depth
        self.queue: deque[LogRecord] = deque()
        self.count = 0

    def __call__(self, record: LogRecord) -> None:
        builder = self.builder
        keyed = builder.keyed
        for ch in record.changes:
            blob = ch.new_blob
            if not blob:
                continue
            if ch.new == self.toml:
                if blob not in builder.tables.by_blob:
                    self.reader.request(blob)
            elif ch.new in keyed or (keyed and ch.kind == "A" and structured(ch.new)):
                # A structured version file (or a file it includes), or one that may become one as
                # its eval is registered: read for its includes when it is replayed.
                self.reader.request(blob)
            else:
                continue
            if self.reader.unsent >= self.MANY:
                self.reader.send()
        self.queue.append(record)
        if len(self.queue) > self.depth:
            self.builder.feed(self.queue.popleft())
            self.count += 1
            if self.count % self.SEND_EVERY == 0:
                self.reader.send()
            if self.count % 64 == 0:
                self.builder.vers.drain()

    def flush(self) -> None:
        self.reader.send()  # what the last records asked for, in one batch
        while self.queue:
            self.builder.feed(self.queue.popleft())


def structured(path: str) -> bool:
    """Whether `path` may hold a version key: YAML, JSON or TOML, or no suffix (lm-eval templates)."""
    name = path.rpartition("/")[2]
    suffix = name.rpartition(".")[2].lower() if "." in name[1:] else ""
    return suffix in ("", "yaml", "yml", "json", "toml")
