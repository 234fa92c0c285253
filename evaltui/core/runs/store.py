"""Run records on disk: one JSON file per (eval, model) job in `state_dir/runs/`, listed and found.

The records themselves live in `record`, comparisons between two in `comparison`; both are
exported from here too, as every reader of the store wants them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from evaltui.core.fsutil import atomic_write
from evaltui.core.runs.comparison import Comparison, compare
from evaltui.core.runs.record import PASS_MARK, Provenance, RecordError, RunRecord, from_json

__all__ = [
    "PASS_MARK",
    "Comparison",
    "Listing",
    "Provenance",
    "RecordError",
    "RunRecord",
    "compare",
    "find",
    "from_json",
    "list_records",
    "load_record",
    "make_id",
    "runs_dir",
    "write_record",
]

_RESULTS_MARK = b', "results": {'  # always the last key, so a listing can skip the per-case part


def make_id(time: dt.datetime, eval: str, model: str, salt: str) -> str:
    """A sortable, file-name-safe id: UTC time, eval, model and a short hash of `salt`."""
    import hashlib

    utc = time.astimezone(dt.timezone.utc) if time.tzinfo else time
    digest = hashlib.sha256(f"{utc.isoformat()}|{eval}|{model}|{salt}".encode()).hexdigest()[:8]
    return f"{utc:%Y%m%dT%H%M%S}-{eval}-{model}-{digest}"


def runs_dir(state_dir: Path) -> Path:
    return Path(state_dir) / "runs"


def write_record(state_dir: Path, record: RunRecord, *, overwrite: bool = False) -> RunRecord:
    """Write the record atomically as `runs/<id>.json` and return it as written.

    An id already taken (two runs stamped with the same time) gets a numbered suffix rather
    than replacing the older record; `overwrite` replaces it instead (a job updating its
    own "running" record).
    """
    from dataclasses import replace

    folder = runs_dir(state_dir)
    taken, n = record.id, 1
    while not overwrite and (folder / f"{taken}.json").exists():
        n += 1
        taken = f"{record.id}-{n}"
    path = folder / f"{taken}.json"
    record = replace(record, id=taken, path=str(path))
    head = json.dumps(record.summary(), ensure_ascii=False)
    # Columns, not one object per case: a 100,000-case record encodes and parses ~5x faster.
    results = json.dumps(record.columns(), ensure_ascii=False)
    atomic_write(path, head[:-1] + _RESULTS_MARK.decode()[:-1] + results + "}\n")
    return record


def load_record(path: Path, *, results: bool = True) -> RunRecord:
    """Read one record; `results=False` skips the per-case columns (fast listing)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise RecordError(str(exc.strerror or exc)) from None
    try:
        if not results:
            cut = data.rfind(_RESULTS_MARK)
            obj = json.loads(data[:cut] + b"}") if cut > 0 else json.loads(data)
            obj.pop("results", None)
        else:
            obj = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RecordError(f"not valid JSON ({exc})") from None
    return from_json(obj, path=str(path), results=results)


@dataclass(frozen=True)
class Listing:
    """Records found in a runs directory (newest first) and a warning per file that was skipped."""

    records: tuple[RunRecord, ...]
    warnings: tuple[str, ...] = ()


def list_records(state_dir: Path, eval: str | None = None, *, results: bool = False) -> Listing:
    """Every readable record (optionally of one eval), newest first; unreadable files become warnings."""
    folder = runs_dir(state_dir)
    records, warnings = [], []
    paths = sorted(folder.glob("*.json")) if folder.is_dir() else []
    for path in paths:
        if path.name.startswith("."):
            continue  # an atomic write in progress
        if eval is not None and f"-{eval}-" not in path.name:
            continue  # ids carry the eval name: skip other evals without reading them
        try:
            record = load_record(path, results=results)
        except RecordError as exc:
            warnings.append(f"skipped unreadable run record {path.name}: {exc}")
            continue
        if eval is None or record.eval == eval:
            records.append(record)
    records.sort(key=lambda r: (r.time, r.id), reverse=True)
    return Listing(tuple(records), tuple(warnings))


def find(
    records: Iterable[RunRecord],
    *,
    eval: str | None = None,
    model: str | None = None,
    version: str | None = None,
    fingerprint: str | None = None,
    eval_files_sha256: str | None = None,
    ok_only: bool = True,
) -> RunRecord | None:
    """The newest record matching every given field (records are expected newest first)."""
    for r in records:
        if ok_only and not r.ok:
            continue
        if eval is not None and r.eval != eval:
            continue
        if model is not None and r.model != model:
            continue
        if version is not None and r.eval_version != version:
            continue
        if fingerprint is not None and r.fingerprint != fingerprint:
            continue
        if eval_files_sha256 is not None and r.eval_files_sha256 != eval_files_sha256:
            continue
        return r
    return None
