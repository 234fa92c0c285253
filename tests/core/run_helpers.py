"""Real repositories for the runner, cache, store and report tests: files, commits, models that count calls."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterable
from pathlib import Path

from evaltui.core.history import Identity, commit_all, init_repo
from evaltui.core.registry.model import Registry, load_registry

ADA = Identity("Ada Lovelace", "ada@example.com")
T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.timezone.utc)
NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.timezone.utc)

MODEL_PY = """\
from pathlib import Path

LOG = Path(__file__).with_name("calls.log")


def answer(question, suffix=""):
    with LOG.open("a") as fh:
        fh.write(question + "\\n")
    if question == "boom":
        raise RuntimeError("model broke on purpose")
    return question.replace("q", "a") + suffix


def shout(question):
    return question.upper()
"""

BOT_PY = """\
import json
import os
import sys
import threading

value = json.load(sys.stdin)
params = json.loads(os.environ.get("EVALTUI_PARAMS", "{}"))
if value == "slow":
    threading.Event().wait()  # never answers: the caller's timeout kills it
if value == "garbage":
    sys.stdout.buffer.write(b"\\xff\\xfe\\x00 not text")
    sys.exit(0)
if value == "exit":
    sys.stderr.write("refusing this input\\n")
    sys.exit(3)
if value == "structured":
    print(json.dumps({"output": "a-structured"}))
    sys.exit(0)
print(value.replace("q", "a") + params.get("suffix", ""))
"""

EXACT_PY = """\
import evaltui

from evals.helpers import normalise


@evaltui.version("1.0", valid_for="toy questions", why="first version")
@evaltui.scorer
def exact(prediction, reference):
    if reference == "crash":
        raise ValueError("scorer cannot handle this reference")
    return normalise(prediction) == normalise(reference)
"""

HELPERS_PY = """\
def normalise(text):
    return text.strip()
"""


def toml_str(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def base_toml(extra: str = "") -> str:
    return f"""\
[project]
name = "toy"

[models.echo]
callable = "app/model.py:answer"

[models.shout]
callable = "app/model.py:shout"

[models.cmd]
command = [{toml_str(sys.executable)}, "bot.py"]
timeout = 1.5

[models.recorded]
predictions = "recorded.jsonl"

[evals.qa]
metric = "evals/qa.py:exact"
dataset = "data/qa.jsonl"
version_from = "evals/qa.py:exact"
threshold = 0.5
{extra}"""


def cases(rows: Iterable[tuple[str, str, str]]) -> str:
    return "".join(json.dumps({"id": i, "input": x, "reference": r, "tags": []}) + "\n" for i, x, r in rows)


QA_CASES = [(f"c{i}", f"q{i}", f"a{i}") for i in range(1, 7)]


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def make_repo(
    root: Path, files: dict[str, str] | None = None, *, toml: str | None = None, commit: str | None = "first"
) -> Path:
    """A repository with the toy eval, its models and `files` on top, committed when `commit` is given."""
    init_repo(root)
    write(
        root,
        {
            "evals.toml": toml if toml is not None else base_toml(),
            "app/model.py": MODEL_PY,
            "bot.py": BOT_PY,
            "evals/__init__.py": "",
            "evals/qa.py": EXACT_PY,
            "evals/helpers.py": HELPERS_PY,
            "data/qa.jsonl": cases(QA_CASES),
            "recorded.jsonl": "".join(json.dumps({"id": i, "output": r}) + "\n" for i, _, r in QA_CASES[:-1]),
            ".gitignore": ".evaltui/\napp/calls.log\n__pycache__/\n",
            **(files or {}),
        },
    )
    if commit:
        commit_all(root, commit, ADA, T0)
    return root


def registry(root: Path) -> Registry:
    return load_registry(root)


def calls(root: Path) -> list[str]:
    """The inputs the `echo` model was called with, in order."""
    log = root / "app" / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def leftovers(root: Path) -> list[str]:
    """Temporary files left in the runs directory (there must be none)."""
    folder = root / ".evaltui" / "runs"
    return sorted(p.name for p in folder.iterdir() if not p.name.endswith(".json")) if folder.exists() else []


def make_record(eval_name: str, when: str, version: str, ids, scores, errors=None, status="ok", eval_rev=None):
    """A run record with the given per-case results, as `evaltui run` would write it."""
    from evaltui.core.runs.store import RunRecord

    n = len(ids)
    return RunRecord(
        id=f"{eval_name}-{when}",
        time=dt.datetime.fromisoformat(when),
        run="r",
        commit=None,
        dirty=False,
        eval=eval_name,
        eval_version=version,
        eval_rev=eval_rev,
        eval_files_sha256="x",
        metric="m.py:f",
        metric_kind="scorer",
        dataset="d.jsonl",
        dataset_sha256="y",
        model="base",
        model_kind="predictions",
        fingerprint="f",
        status=status,
        error=None if status == "ok" else "boom",
        aggregate=(sum(scores) / n) if status == "ok" else None,
        threshold=None,
        n_cases=n,
        n_errors=sum(e is not None for e in (errors or [])),
        cache_hits=0,
        cache_misses=0,
        duration=0.1,
        ids=tuple(ids),
        scores=tuple(scores),
        errors=tuple(errors or [None] * n),
    )
