"""Notes on evals, commits and versions, kept in `state_dir/notes.jsonl` and merged by union."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evaltui.core import fsutil
from evaltui.core.errors import EvaltuiError, Problem

if TYPE_CHECKING:
    from evaltui.core.registry.model import Registry

FILENAME = "notes.jsonl"
KINDS = ("note", "expected-shift", "regression", "blind-spot", "non-semantic", "handoff")
KIND_HELP = {
    "note": "a remark on the eval",
    "expected-shift": "a score moved and that was intended (new cases, a stricter metric)",
    "regression": "a score moved the wrong way and it is a real problem",
    "blind-spot": "something the eval does not test but should",
    "non-semantic": "a change that does not alter what the eval measures (acknowledges a silent change)",
    "handoff": "something the next owner must know",
}
ATTRIBUTE = "merge=union"
LOCK_TIMEOUT = 30.0


class NoteError(EvaltuiError):
    """A note could not be made: unknown kind, empty text, or the notes file is locked."""


@dataclass(frozen=True)
class Note:
    """One annotation: on an eval, optionally on one of its commits or versions."""

    id: str
    eval: str
    kind: str
    author: str
    time: dt.datetime  # aware
    text: str
    commit: str | None = None
    version: str | None = None
    line: int | None = None  # where it sits in notes.jsonl, when read from it

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "eval": self.eval,
            "commit": self.commit,
            "version": self.version,
            "kind": self.kind,
            "author": self.author,
            "time": self.time.isoformat(),
            "text": self.text,
        }


@dataclass(frozen=True)
class NotesFile:
    """Every readable note in the file, oldest first, and a problem for each line that is not one."""

    notes: tuple[Note, ...] = ()
    problems: tuple[Problem, ...] = ()

    def for_eval(self, name: str) -> tuple[Note, ...]:
        return tuple(n for n in self.notes if n.eval == name)


def notes_path(state_dir: Path) -> Path:
    return Path(state_dir) / FILENAME


def make_note(
    eval: str,
    text: str,
    *,
    kind: str = "note",
    author: str,
    time: dt.datetime,
    commit: str | None = None,
    version: str | None = None,
) -> Note:
    """A validated note; its id is derived from its content, so the same note made twice is one note."""
    if kind not in KINDS:
        raise NoteError(f"unknown note kind {kind!r}; expected one of: {', '.join(KINDS)}")
    if not text.strip():
        raise NoteError("a note needs some text")
    if time.tzinfo is None:
        raise NoteError("a note's time must carry its time zone")
    payload = json.dumps([eval, commit, version, kind, author, time.isoformat(), text], ensure_ascii=False)
    note_id = hashlib.sha256(payload.encode("utf-8")).hexdigest()[:12]
    return Note(
        id=note_id,
        eval=eval,
        kind=kind,
        author=author,
        time=time,
        text=text.strip(),
        commit=commit or None,
        version=None if version is None else str(version),
    )


def parse_notes(text: str, filename: str = FILENAME) -> NotesFile:
    """Parse the notes file; a bad line becomes a problem naming its line number, never an exception."""
    notes: list[Note] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for lineno, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            note = _note_from(json.loads(raw), lineno)
        except (ValueError, TypeError, KeyError, EvaltuiError) as exc:
            problems.append(
                Problem(
                    "warning", "note-malformed", f"unreadable note skipped: {_reason(exc)}", file=filename, line=lineno
                )
            )
            continue
        # A union merge can keep the same line from both sides; one copy is enough.
        if note.id in seen:
            continue
        seen.add(note.id)
        notes.append(note)
    return NotesFile(tuple(notes), tuple(problems))


def read_notes(state_dir: Path, root: Path | None = None) -> NotesFile:
    """The notes in `state_dir/notes.jsonl` (none when the file does not exist yet)."""
    path = notes_path(state_dir)
    name = _display(path, root)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return NotesFile()
    except OSError as exc:
        return NotesFile((), (Problem("warning", "notes-unreadable", f"cannot read notes: {exc}", file=name),))
    return parse_notes(text, name)


def append_note(root: Path, state_dir: Path, note: Note) -> Path:
    """Append `note` under a file lock, and make sure git merges the notes file by union."""
    path = notes_path(state_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(note.to_json(), ensure_ascii=False, sort_keys=False) + "\n"
    from filelock import FileLock, Timeout  # only to write: reading notes (every `check`) needs no lock

    try:
        with FileLock(str(_lock_path(state_dir)), timeout=LOCK_TIMEOUT):
            _ensure_union_merge(Path(root), path)
            # One write of whole lines, with a newline first if an earlier writer (or an editor)
            # left the last line unterminated, so a line is never glued to another.
            prefix = ""
            if path.exists() and path.stat().st_size:
                with open(path, "rb") as fh:
                    fh.seek(-1, os.SEEK_END)
                    prefix = "" if fh.read(1) == b"\n" else "\n"
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(prefix + line)
                fh.flush()
                os.fsync(fh.fileno())
    except Timeout:
        raise NoteError(f"{path}: another evaltui is writing notes; try again") from None
    return path


def acknowledged_commits(notes: NotesFile | Iterable[Note]) -> set[str]:
    """Commits that a `non-semantic` note acknowledges: their silent changes are not problems."""
    items = notes.notes if isinstance(notes, NotesFile) else notes
    return {n.commit for n in items if n.kind == "non-semantic" and n.commit}


def is_acknowledged(commit: str, acknowledged: set[str]) -> bool:
    """Whether `commit` (full sha) is acknowledged, also by an abbreviated sha in a hand-written note."""
    return commit in acknowledged or any(len(a) >= 7 and commit.startswith(a) for a in acknowledged)


def saved_message(note: Note) -> str:
    """What to tell the user once `note` is written: "Note saved on qa", "Regression note saved on qa on 1a2b3c4d"."""
    what = "Note" if note.kind == "note" else f"{note.kind.capitalize()} note"
    on = f" on {note.commit[:8]}" if note.commit else (f" on version {note.version}" if note.version else "")
    return f"{what} saved on {note.eval}{on}"


def default_author(registry: Registry, email: str | None, name: str | None) -> str:
    """The [people] member whose e-mail is `email`, else the git user name, else "unknown"."""
    if email:
        member = registry.member_for_email(email)
        if member:
            return member
    return (name or "").strip() or (email or "").strip() or "unknown"


def _ensure_union_merge(root: Path, notes_file: Path) -> None:
    pattern = notes_file.relative_to(root).as_posix() if notes_file.is_relative_to(root) else notes_file.name
    attributes = root / ".gitattributes"
    text = attributes.read_text(encoding="utf-8") if attributes.exists() else ""
    for existing in text.splitlines():
        fields = existing.split()
        if fields and fields[0].lstrip("/") == pattern and ATTRIBUTE in fields[1:]:
            return
    if text and not text.endswith("\n"):
        text += "\n"
    fsutil.atomic_write(attributes, text + f"{pattern} {ATTRIBUTE}\n")


def _lock_path(state_dir: Path) -> Path:
    # The lock sits in the ignored cache directory so it never shows up as an untracked file.
    return fsutil.cache_dir(state_dir) / "notes.lock"


def _note_from(data: object, lineno: int) -> Note:
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    for key in ("eval", "kind", "text", "time"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise ValueError(f"missing or empty {key!r}")
    if data["kind"] not in KINDS:
        raise ValueError(f"unknown kind {data['kind']!r}")
    time = dt.datetime.fromisoformat(data["time"].replace("Z", "+00:00"))
    if time.tzinfo is None:
        time = time.replace(tzinfo=dt.timezone.utc)
    commit = data.get("commit")
    version = data.get("version")
    author = data.get("author")
    note = make_note(
        data["eval"],
        data["text"],
        kind=data["kind"],
        author=str(author or "unknown"),
        time=time,
        commit=commit if isinstance(commit, str) else None,
        version=None if version is None else str(version),
    )
    note_id = data.get("id")
    return replace(note, id=note_id if isinstance(note_id, str) and note_id else note.id, line=lineno)


def _reason(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"not JSON ({exc.msg} at column {exc.colno})"
    if isinstance(exc, NoteError):
        return str(exc)
    if isinstance(exc, KeyError):
        return f"missing {exc}"
    return str(exc) or type(exc).__name__


def _display(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return path.resolve().relative_to(Path(root).resolve()).as_posix()
        except ValueError:
            pass
    return str(path)
