"""`evals.toml` loading: a complete valid file, and every kind of mistake with its message."""

from __future__ import annotations

import datetime as dt
import os
import re
import textwrap
from pathlib import Path

import pytest

from evaltui.core.errors import EvaltuiError, Problem, RegistryError, UnknownEvalError
from evaltui.core.registry.model import (
    FILENAME,
    Absence,
    Eval,
    FailureMode,
    Model,
    Override,
    Person,
    Project,
    Registry,
    Rotation,
    find_root,
    load_registry,
    parse_registry,
)
from evaltui.core.registry.tomlpos import KeyLocator, render_key
from tests.conftest import DESIGN_ROTATION

FULL = (
    """\
[project]
name = "support-bot"
state_dir = ".evaltui"

[people.alice]
emails = ["alice@example.com"]

[people.bob]
emails = ["bob@example.com", "Bob@Users.Noreply.Github.com"]
name = "Bob B."

[people.carol]
emails = ["carol@example.com"]

[models.baseline]
predictions = "runs/baseline.jsonl"

[models.candidate]
callable = "app/model.py:answer"
params = { temperature = 0.0 }
description = "the app as deployed"

[models.cli]
command = ["python", "bot.py"]
timeout = 30

[evals.qa_accuracy]
description = "Exact-match accuracy on single-turn QA"
metric = "evals/qa.py:accuracy_at_1"
dataset = "data/qa.jsonl"
version_from = "evals/qa.py:accuracy_at_1"
covers = ["hallucination", "multi-hop"]
owner = "alice"
paths = ["prompts/qa/*.txt", "./prompts/shared.txt"]
params = { normalize = true }
threshold = 0.6

[evals.gsm8k]
version_from = "tasks/gsm8k.yaml#metadata.version"
paths = ["tasks/**"]

[evals.tone]
dataset = "data/tone.jsonl"
version = "2.0"
valid_for = "English replies"
why = "new rubric"

[failure_modes.hallucination]
description = "Invents facts absent from the source"
found = "2026-10-02 production incident"
case_tags = ["hallucination", "made-up"]

[failure_modes.multi-hop]
description = "Fails when the answer needs two facts"

"""
    + DESIGN_ROTATION
)

FILES = {
    "evals/qa.py": 'import evaltui\n\n@evaltui.version("1.1")\ndef accuracy_at_1(p, r):\n    return 0.0\n',
    "data/qa.jsonl": '{"id": "1", "input": "q", "reference": "a", "tags": ["hallucination"]}\n',
    "data/tone.jsonl": '{"id": "1", "input": "q", "reference": "a"}\n',
    "prompts/qa/system.txt": "You answer questions.\n",
    "prompts/qa/user.txt": "{question}\n",
    "prompts/shared.txt": "Be brief.\n",
    "tasks/gsm8k.yaml": "metadata:\n  version: 3.0\n",
    "tasks/extra/notes.md": "notes\n",
    "runs/baseline.jsonl": '{"id": "1", "output": "a"}\n',
    "app/model.py": "def answer(x):\n    return x\n",
    "bot.py": "print('hi')\n",
}


def make_repo(root: Path, toml: str, files: dict[str, str] | None = None) -> Path:
    """A repository in `root` with `evals.toml` and the given files."""
    root.mkdir(parents=True, exist_ok=True)
    for name, content in (FILES if files is None else files).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    (root / FILENAME).write_text(textwrap.dedent(toml), encoding="utf-8")
    return root


def problems_of(root: Path, toml: str, files: dict[str, str] | None = None) -> list[Problem]:
    return list(load_registry(make_repo(root, toml, files), strict=False).problems)


def only(problems: list[Problem], code: str) -> Problem:
    found = [p for p in problems if p.code == code]
    assert len(found) == 1, f"expected one {code!r} problem, got {[p.render() for p in problems]}"
    return found[0]


def line_of(toml: str, needle: str) -> int:
    """1-based line of the first line of `toml` containing `needle`."""
    for number, line in enumerate(textwrap.dedent(toml).splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in the document")


MINIMAL = """\
[evals.qa]
dataset = "data/qa.jsonl"
"""


# -- the valid file ------------------------------------------------------------------------


def test_full_file_loads_into_dataclasses(tmp_path):
    registry = load_registry(make_repo(tmp_path, FULL))

    assert isinstance(registry, Registry)
    assert registry.problems == ()
    assert registry.root == tmp_path.resolve()
    assert registry.path == tmp_path.resolve() / FILENAME
    assert registry.project == Project(name="support-bot", state_dir=".evaltui")
    assert registry.state_dir == tmp_path.resolve() / ".evaltui"

    assert registry.people["alice"] == Person("alice", ("alice@example.com",))
    assert registry.people["bob"].display_name == "Bob B."
    assert registry.member_for_email("bob@users.noreply.github.com") == "bob"
    assert registry.member_for_email("nobody@example.com") is None

    assert registry.models["baseline"] == Model("baseline", "predictions", predictions="runs/baseline.jsonl")
    candidate = registry.models["candidate"]
    assert (candidate.kind, candidate.callable, dict(candidate.params)) == (
        "callable",
        "app/model.py:answer",
        {"temperature": 0.0},
    )
    assert candidate.description == "the app as deployed"
    cli = registry.models["cli"]
    assert (cli.kind, cli.command, cli.timeout) == ("command", ("python", "bot.py"), 30)

    qa = registry.evals["qa_accuracy"]
    assert isinstance(qa, Eval)
    assert qa.metric == "evals/qa.py:accuracy_at_1"
    assert (qa.metric_file, qa.metric_function) == ("evals/qa.py", "accuracy_at_1")
    assert qa.dataset == "data/qa.jsonl"
    assert qa.version_file == "evals/qa.py"
    assert qa.version is None
    assert qa.covers == ("hallucination", "multi-hop")
    assert qa.owner == "alice"
    assert qa.paths == ("prompts/qa/*.txt", "prompts/shared.txt")  # "./" normalised away
    assert dict(qa.params) == {"normalize": True}
    assert qa.threshold == 0.6
    assert qa.line == line_of(FULL, "[evals.qa_accuracy]")
    assert qa.fixed_files == ("evals/qa.py", "data/qa.jsonl", "prompts/shared.txt")
    assert registry.eval_files("qa_accuracy") == (
        "data/qa.jsonl",
        "evals/qa.py",
        "prompts/qa/system.txt",
        "prompts/qa/user.txt",
        "prompts/shared.txt",
    )

    gsm = registry.evals["gsm8k"]
    assert gsm.version_from == "tasks/gsm8k.yaml#metadata.version"
    assert gsm.version_file == "tasks/gsm8k.yaml"
    assert registry.eval_files("gsm8k") == ("tasks/extra/notes.md", "tasks/gsm8k.yaml")

    tone = registry.evals["tone"]
    assert (tone.version, tone.valid_for, tone.why) == ("2.0", "English replies", "new rubric")

    assert registry.failure_modes["hallucination"] == FailureMode(
        "hallucination",
        "Invents facts absent from the source",
        "2026-10-02 production incident",
        ("hallucination", "made-up"),
    )
    assert registry.failure_modes["multi-hop"].case_tags == ("multi-hop",)  # default: its own name

    assert registry.rotation == Rotation(
        members=("alice", "bob", "carol"),
        cadence_days=14,
        start=dt.datetime(2026, 11, 2, 9, 0),
        timezone="Europe/Berlin",
        fresh_eyes=True,
        absences=(Absence("bob", dt.date(2026, 12, 21), dt.date(2027, 1, 3)),),
        overrides=(Override("carol", ("qa_*",), dt.date(2026, 12, 7), dt.date(2026, 12, 21), "conference cover"),),
    )


def test_registry_is_frozen(tmp_path):
    registry = load_registry(make_repo(tmp_path, FULL))
    with pytest.raises(TypeError):
        registry.evals["new"] = registry.evals["tone"]  # type: ignore[index]
    with pytest.raises(AttributeError):
        registry.evals["tone"].version = "9"  # type: ignore[misc]


def test_minimal_file_and_defaults(tmp_path):
    registry = load_registry(make_repo(tmp_path, MINIMAL))
    assert registry.problems == ()
    assert registry.project == Project()
    assert registry.rotation is None
    assert registry.evals["qa"].fixed_files == ("data/qa.jsonl",)


def test_unknown_eval_suggests(tmp_path):
    registry = load_registry(make_repo(tmp_path, FULL))
    with pytest.raises(UnknownEvalError, match=r"no eval named 'qa_acuracy'.*did you mean 'qa_accuracy'"):
        registry.eval("qa_acuracy")
    assert registry.eval("tone").name == "tone"


def test_find_root_walks_up(tmp_path):
    make_repo(tmp_path, MINIMAL)
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_root(deep) == tmp_path.resolve()
    elsewhere = tmp_path / "x"
    assert find_root(tmp_path / "a") == tmp_path.resolve()
    elsewhere.mkdir()
    (tmp_path / FILENAME).unlink()
    assert find_root(elsewhere) == elsewhere.resolve()


def test_byte_order_mark_is_accepted(tmp_path):
    make_repo(tmp_path, MINIMAL)
    (tmp_path / FILENAME).write_bytes(b"\xef\xbb\xbf" + MINIMAL.encode())
    assert "qa" in load_registry(tmp_path).evals


def test_check_files_false_ignores_the_working_tree(tmp_path):
    registry = parse_registry(FULL, tmp_path, check_files=False)  # no files exist at all
    assert registry.errors == ()
    assert registry.evals["qa_accuracy"].paths == ("prompts/qa/*.txt", "prompts/shared.txt")


# -- syntax and file errors -----------------------------------------------------------------


def test_toml_syntax_error_names_line_and_column(tmp_path):
    toml = FULL.replace('dataset = "data/qa.jsonl"', "dataset = data/qa.jsonl")
    with pytest.raises(RegistryError) as info:
        load_registry(make_repo(tmp_path, toml))
    line = line_of(toml, "dataset = data/qa.jsonl")
    (problem,) = info.value.problems
    assert (problem.code, problem.file, problem.line, problem.column) == ("toml-syntax", FILENAME, line, 11)
    message = str(info.value)
    assert message == (
        f"evals.toml:{line}:11: error: invalid TOML: invalid value (in: dataset = data/qa.jsonl); "
        'text needs quotes: dataset = "data/qa.jsonl"'
    )
    assert "\n" not in message


@pytest.mark.parametrize(
    ("toml", "line", "fragment"),
    [
        ('[evals.qa]\ndataset = "data/qa.jsonl\n', 2, "a string must end on the line where it starts"),
        ('[evals.qa]\ndataset = "data/qa.jsonl"\ndataset = "x"\n', 3, "already set"),
        ("[evals.qa]\nx = 1\n\n[evals.qa]\ny = 2\n", 4, "table [evals.qa] is declared twice"),
        ('[evals.qa]\ndescription = """never\nclosed\n', 2, "a string is not closed"),
        ('[evals.qa]\ncovers = ["a",\n  "b"\nx = 1\n', 4, "a list is not closed (in: x = 1); add the closing ]"),
        ('[evals.qa]\ncovers = ["a",\n  "b",\n', 2, 'a list is not closed (in: covers = ["a",); add the closing ]'),
        ("[evals.qa\n", 1, "a table header is not closed"),
        ("[evals.qa]\ncovers\n", 2, "expected 'key = value'"),
    ],
)
def test_toml_syntax_errors_are_located_and_explained(tmp_path, toml, line, fragment):
    problem = only(problems_of(tmp_path, toml, {}), "toml-syntax")
    assert problem.line == line, problem.render()
    assert fragment in problem.message
    assert problem.render().startswith(f"evals.toml:{line}")


def test_toml_only_a_newer_toml_reader_accepts_is_an_error_that_says_so(tmp_path):
    # tomlkit (used for positions) reads TOML 1.1; the registry reads TOML 1.0, as git history does.
    problem = only(problems_of(tmp_path, "[evals.qa]\nparams = { a = 1,\n  b = 2 }\n", {}), "toml-syntax")
    assert "(at line 2, column" in problem.message and "keep each inline table { ... } on one line" in problem.message


def test_missing_file(tmp_path):
    with pytest.raises(RegistryError) as info:
        load_registry(tmp_path)
    (problem,) = info.value.problems
    assert problem.code == "no-file"
    assert problem.file == str(tmp_path.resolve() / FILENAME)
    assert "no evals.toml in" in str(info.value) and "evaltui demo" in str(info.value)


def test_not_utf8(tmp_path):
    (tmp_path / FILENAME).write_bytes(b'[evals.qa]\ndataset = "caf\xe9"\n')
    with pytest.raises(RegistryError, match=r"evals.toml:2: error: not UTF-8 text \(byte 0xe9\)"):
        load_registry(tmp_path)


def test_unreadable_directory_in_place_of_file(tmp_path):
    (tmp_path / FILENAME).mkdir()
    with pytest.raises(RegistryError, match="cannot read evals.toml"):
        load_registry(tmp_path)


# -- schema errors ----------------------------------------------------------------------------

WRONG_TYPES = """\
[project]
state_dir = 3

[evals.qa]
dataset = "data/qa.jsonl"
threshold = "high"
covers = "hallucination"
params = [1, 2]
version = true

[failure_modes.hallucination]
case_tags = [1]
"""


def test_wrong_types_each_reported_with_key_line_and_expectation(tmp_path):
    problems = problems_of(tmp_path, WRONG_TYPES, {"data/qa.jsonl": "{}\n"})
    by_key = {p.key: p for p in problems}
    expectations = {
        "project.state_dir": (
            "state_dir = 3",
            'expected a directory inside the repository, e.g. ".evaltui", got an integer 3',
        ),
        "evals.qa.threshold": ("threshold", "expected a number, e.g. 0.6, got a string 'high'"),
        "evals.qa.params": ("params", "expected an inline table, e.g. { normalize = true }, got a list [1, 2]"),
        "evals.qa.version": ("version = true", 'expected a version string, e.g. version = "1.1", got a boolean True'),
        "failure_modes.hallucination.case_tags": (
            "case_tags",
            'expected a list of strings like case_tags = ["hallucination"], got a list [1]',
        ),
    }
    for key, (needle, message) in expectations.items():
        problem = by_key[key]
        assert problem.severity == "error"
        assert problem.message == message
        assert problem.file == FILENAME
        assert problem.line == line_of(WRONG_TYPES, needle)
        assert problem.column == 1
        assert problem.render() == f"evals.toml:{problem.line}:1: error [{key}]: {message}"
    # a single string where a list is expected is accepted as a one-item list
    assert "evals.qa.covers" not in by_key
    assert len([p for p in problems if p.severity == "error"]) == 5


def test_non_table_sections(tmp_path):
    toml = 'evals = 3\nrotation = "weekly"\n[models]\nbase = 1\n'
    problems = problems_of(tmp_path, toml, {})
    messages = {p.key: p.message for p in problems}
    assert messages["evals"] == "expected a table [evals], got an integer 3"
    assert messages["rotation"] == "expected a table [rotation], got a string 'weekly'"
    assert messages["models.base"] == "expected a table [models.base], got an integer 1"


def test_non_finite_numbers_are_rejected(tmp_path):
    toml = (
        '[evals.qa]\ndataset = "data/qa.jsonl"\nthreshold = nan\nversion = inf\n'
        '[models.m]\ncommand = ["x"]\ntimeout = inf\n'
    )
    problems = problems_of(tmp_path, toml, {"data/qa.jsonl": "{}\n"})
    assert {p.key for p in problems if p.severity == "error"} == {
        "evals.qa.threshold",
        "evals.qa.version",
        "models.m.timeout",
    }


def test_unknown_failure_mode_in_covers_suggests(tmp_path):
    toml = (
        MINIMAL + 'covers = ["multi-hop", "halucination"]\n\n[failure_modes.hallucination]\n[failure_modes.multi-hop]\n'
    )
    problem = only(problems_of(tmp_path, toml), "unknown-mode")
    assert problem.key == "evals.qa.covers[1]"
    assert problem.message == "unknown failure mode 'halucination'; did you mean 'hallucination'?"
    assert (problem.line, problem.column) == (3, 24)  # the element itself
    assert problem.eval == "qa"


def test_unknown_failure_mode_without_a_close_name_says_how_to_declare(tmp_path):
    problem = only(problems_of(tmp_path, MINIMAL + 'covers = ["toxicity"]\n'), "unknown-mode")
    assert problem.message == "unknown failure mode 'toxicity'; declare it as [failure_modes.toxicity]"


ROTATION = """\
[evals.qa]
dataset = "data/qa.jsonl"

[rotation]
members = ["alice", "bob"]
start = 2026-11-02T09:00:00
"""


def test_unknown_member_in_absence_and_override(tmp_path):
    toml = ROTATION + textwrap.dedent("""\
        [[rotation.absences]]
        member = "alice"
        start = 2026-12-01
        end = 2026-12-02

        [[rotation.absences]]
        member = "bbo"
        start = 2026-12-21
        end = 2027-01-03

        [[rotation.overrides]]
        member = "zed"
        evals = ["qa"]
        start = 2026-12-07
        end = 2026-12-21
        """)
    problems = [p for p in problems_of(tmp_path, toml) if p.code == "unknown-member"]
    absence, override = sorted(problems, key=lambda p: p.line)
    assert absence.key == "rotation.absences[1].member"
    assert absence.message == "unknown member 'bbo'; did you mean 'bob'?"
    assert absence.line == line_of(toml, 'member = "bbo"')
    assert override.key == "rotation.overrides[0].member"
    assert override.message == "unknown member 'zed'; expected one of: alice, bob"
    assert override.line == line_of(toml, 'member = "zed"')
    registry = load_registry(tmp_path, strict=False)
    assert registry.rotation is not None
    assert registry.rotation.absences == (Absence("alice", dt.date(2026, 12, 1), dt.date(2026, 12, 2)),)
    assert registry.rotation.overrides == ()


def test_unknown_owner_suggests(tmp_path):
    problem = only(
        problems_of(tmp_path, ROTATION.replace("[rotation]", 'owner = "alise"\n\n[rotation]')), "unknown-member"
    )
    assert (problem.key, problem.line) == ("evals.qa.owner", 4)
    assert problem.message == "unknown member 'alise'; did you mean 'alice'?"


@pytest.mark.parametrize(
    ("value", "got"),
    [
        ('"2 weeks"', "a string '2 weeks'"),
        ('"0w"', "a string '0w'"),
        ("14", "an integer 14"),
        ('"60w"', "a string '60w'"),
        ('"2m"', "a string '2m'"),
    ],
)
def test_bad_cadence(tmp_path, value, got):
    toml = ROTATION + f"cadence = {value}\n"
    problem = only(problems_of(tmp_path, toml), "schema")
    assert (problem.key, problem.line) == ("rotation.cadence", line_of(toml, "cadence"))
    assert problem.message == (f'expected a period of days or weeks like "2w" or "10d" (at most 366 days), got {got}')


@pytest.mark.parametrize(("value", "days"), [('"1w"', 7), ('"10d"', 10), ('" 3 w "', 21)])
def test_good_cadence(tmp_path, value, days):
    registry = load_registry(make_repo(tmp_path, ROTATION + f"cadence = {value}\n"))
    assert registry.rotation is not None and registry.rotation.cadence_days == days


@pytest.mark.parametrize("zone", ["Europe/Berln", "", "../etc/passwd", "Mars/Olympus_Mons", " UTC"])
def test_bad_timezone(tmp_path, zone):
    toml = ROTATION + f'timezone = "{zone}"\n'
    problem = only(problems_of(tmp_path, toml), "schema")
    assert (problem.key, problem.line) == ("rotation.timezone", line_of(toml, "timezone"))
    assert problem.message == (f'unknown time zone {zone!r}; expected an IANA name like "Europe/Berlin" or "UTC"')


def test_rotation_start_problems(tmp_path):
    offset = only(problems_of(tmp_path, ROTATION.replace("09:00:00", "09:00:00+01:00")), "schema")
    assert offset.key == "rotation.start" and "without offset" in offset.message
    quoted = only(problems_of(tmp_path, ROTATION.replace("2026-11-02T09:00:00", '"2026-11-02"')), "schema")
    assert quoted.message == ("expected a date-time like 2026-11-02T09:00:00 (no quotes), got a string '2026-11-02'")
    date_only = load_registry(make_repo(tmp_path, ROTATION.replace("2026-11-02T09:00:00", "2026-11-02")))
    assert date_only.rotation is not None and date_only.rotation.start == dt.datetime(2026, 11, 2, 9, 0)


def test_rotation_members_problems(tmp_path):
    empty = only(problems_of(tmp_path, ROTATION.replace('["alice", "bob"]', "[]")), "schema")
    assert empty.key == "rotation.members" and "at least one member" in empty.message
    twice = only(problems_of(tmp_path, ROTATION.replace('"bob"]', '"bob", "alice"]')), "schema")
    assert twice.message == "member 'alice' is listed twice"
    missing = only(problems_of(tmp_path, ROTATION.replace('members = ["alice", "bob"]\n', "")), "schema")
    assert missing.key == "rotation" and missing.message.startswith("missing 'members'")


def test_end_before_start(tmp_path):
    toml = ROTATION + '[[rotation.absences]]\nmember = "bob"\nstart = 2026-12-21\nend = 2026-12-01\n'
    problem = only(problems_of(tmp_path, toml), "schema")
    assert (problem.key, problem.line, problem.column) == ("rotation.absences[0].end", line_of(toml, "end ="), 1)
    assert problem.message == ("end 2026-12-01 is before start 2026-12-21; the end date must be on or after the start")


def test_absence_missing_dates_and_member(tmp_path):
    toml = ROTATION + '[[rotation.absences]]\nstart = "soon"\n'
    problems = problems_of(tmp_path, toml)
    messages = sorted(p.message for p in problems)
    assert messages == [
        "expected 'start' as a date like 2026-12-21 (no quotes); got a string 'soon'",
        "missing 'member', e.g. member = \"alice\"",
    ]


def test_override_pattern_matching_no_eval_warns(tmp_path):
    toml = ROTATION + (
        '[[rotation.overrides]]\nmember = "bob"\nevals = ["qa", "summ*"]\nstart = 2026-12-01\nend = 2026-12-02\n'
    )
    problem = only(problems_of(tmp_path, toml), "empty-override")
    assert problem.severity == "warning" and problem.message == "pattern 'summ*' matches no eval"


def test_model_with_two_kinds_or_none(tmp_path):
    toml = MINIMAL + (
        '[models.both]\npredictions = "runs/baseline.jsonl"\ncallable = "app/model.py:answer"\n'
        "[models.none]\ntimeout = 3\n"
    )
    problems = [p for p in problems_of(tmp_path, toml) if p.code == "schema"]
    both, none = sorted(problems, key=lambda p: p.line)
    assert (both.key, both.line) == ("models.both", line_of(toml, "[models.both]"))
    assert both.message.startswith("a model needs exactly one of 'predictions' (a JSONL file), 'callable'")
    assert both.message.endswith("; this one has predictions and callable")
    assert none.key == "models.none" and none.message.endswith("; this one has none")
    assert load_registry(tmp_path, strict=False).models == {}


def test_model_values(tmp_path):
    toml = MINIMAL + (
        '[models.a]\ncallable = "app/model.py"\n[models.b]\ncommand = []\n'
        '[models.c]\ncommand = "python bot.py"\ntimeout = -1\n'
    )
    problems = problems_of(tmp_path, toml)
    messages = {p.key: p.message for p in problems}
    assert messages["models.a.callable"] == (
        "expected 'file.py:function', e.g. \"evals/qa.py:accuracy\", got 'app/model.py'"
    )
    assert messages["models.b.command"].startswith("expected a non-empty list of strings, e.g. command = [")
    assert messages["models.c.timeout"] == "expected a positive number of seconds, e.g. 30, got -1"
    assert load_registry(tmp_path, strict=False).models["c"].command == ("python", "bot.py")


def test_eval_with_no_files(tmp_path):
    toml = '[evals.orphan]\ndescription = "nothing to track"\nversion = "1.0"\n'
    problem = only(problems_of(tmp_path, toml, {}), "schema")
    assert (problem.key, problem.line, problem.eval) == ("evals.orphan", 1, "orphan")
    assert problem.message.startswith(
        "an eval needs at least one file: give 'metric', 'dataset', 'version_from' or 'paths'"
    )


def test_version_and_version_from_both(tmp_path):
    toml = MINIMAL + 'version_from = "evals/qa.py:accuracy_at_1"\nversion = "1.0"\nwhy = "x"\n'
    problems = problems_of(tmp_path, toml)
    both = only(problems, "schema")
    assert (both.key, both.line) == ("evals.qa.version", 4)
    assert both.message == ("give either 'version' (inline) or 'version_from' (read from a file), not both")
    ignored = only(problems, "ignored-key")
    assert ignored.severity == "warning" and ignored.key == "evals.qa.why"


@pytest.mark.parametrize(
    "value",
    [
        "evals/qa.py",
        "evals/qa.py:",
        "evals/qa.txt:fn",
        "tasks/gsm8k.yaml#",
        "tasks/gsm8k.ini#a.b",
        "tasks/gsm8k.yaml#a..b",
    ],
)
def test_bad_version_from(tmp_path, value):
    problem = only(problems_of(tmp_path, MINIMAL + f'version_from = "{value}"\n'), "schema")
    assert problem.key == "evals.qa.version_from"
    assert problem.message.startswith("expected 'file.py:function'")
    assert problem.message.endswith(f"got {value!r}")


def test_inline_numeric_version_is_text(tmp_path):
    registry = load_registry(make_repo(tmp_path, MINIMAL + "version = 2\n"))
    assert registry.evals["qa"].version == "2"


def test_missing_files_and_directories(tmp_path):
    toml = '[evals.qa]\nmetric = "evals/gone.py:f"\ndataset = "data"\npaths = ["prompts/none.txt"]\n'
    problems = problems_of(tmp_path, toml)
    messages = {p.key: p.message for p in problems}
    assert messages["evals.qa.metric"] == "file 'evals/gone.py' does not exist"
    assert messages["evals.qa.dataset"].startswith("'data' is a directory; name a file, or use a glob")
    assert messages["evals.qa.paths[0]"] == "file 'prompts/none.txt' does not exist"
    # a missing file is kept: its history still matters
    assert load_registry(tmp_path, strict=False).evals["qa"].metric == "evals/gone.py:f"


# -- paths that leave the repository ---------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ('dataset = "../outside.jsonl"', "leaves the repository ('..' is not allowed)"),
        ('dataset = "data/../../outside.jsonl"', "leaves the repository ('..' is not allowed)"),
        ('dataset = "/etc/passwd"', "must be relative to the repository root"),
        ('dataset = "~/qa.jsonl"', "must be relative to the repository root"),
        ('metric = "../evals/qa.py:f"', "leaves the repository"),
        ('version_from = "../tasks/x.yaml#a.b"', "leaves the repository"),
        ('paths = ["../secrets/*.txt"]', "leaves the repository"),
        ('paths = ["/etc/*"]', "leaves the repository"),
    ],
)
def test_path_escape(tmp_path, line, fragment):
    repo = tmp_path / "repo"
    repo.mkdir()
    (tmp_path / "outside.jsonl").write_text("{}\n")
    toml = f"[evals.qa]\n{line}\n"
    problem = only(problems_of(repo, toml, {}), "path-escape")
    assert fragment in problem.message
    assert problem.line == 2
    registry = load_registry(repo, strict=False)
    assert registry.evals["qa"].fixed_files == ()  # an escaping path is never handed on
    assert registry.evals["qa"].globs == ()


def test_symlink_leaving_the_repository(tmp_path):
    repo = tmp_path / "repo"
    (tmp_path / "secret.jsonl").write_text("{}\n")
    make_repo(repo, '[evals.qa]\ndataset = "data/qa.jsonl"\n', {})
    (repo / "data").mkdir()
    os.symlink(tmp_path / "secret.jsonl", repo / "data" / "qa.jsonl")
    problem = only(list(load_registry(repo, strict=False).problems), "path-escape")
    assert problem.message == (
        "path 'data/qa.jsonl' resolves outside the repository (through a symlink); point at a file inside it"
    )
    assert load_registry(repo, strict=False).evals["qa"].dataset is None


def test_symlinked_directory_leaving_the_repository(tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "qa.jsonl").write_text("{}\n")
    repo = make_repo(tmp_path / "repo", '[evals.qa]\ndataset = "data/qa.jsonl"\n', {})
    os.symlink(outside, repo / "data")
    assert only(list(load_registry(repo, strict=False).problems), "path-escape").key == "evals.qa.dataset"


def test_symlink_inside_the_repository_is_fine(tmp_path):
    repo = make_repo(tmp_path, '[evals.qa]\ndataset = "data/link.jsonl"\n', {"data/qa.jsonl": "{}\n"})
    os.symlink(repo / "data" / "qa.jsonl", repo / "data" / "link.jsonl")
    assert load_registry(repo).problems == ()


def test_glob_match_that_is_a_symlink_out(tmp_path):
    (tmp_path / "secret.txt").write_text("s\n")
    repo = make_repo(tmp_path / "repo", '[evals.qa]\npaths = ["prompts/*.txt"]\n', {"prompts/a.txt": "a\n"})
    os.symlink(tmp_path / "secret.txt", repo / "prompts" / "b.txt")
    registry = load_registry(repo, strict=False)
    problem = only(list(registry.problems), "path-escape")
    assert problem.message == (
        "'prompts/b.txt' (matched by glob 'prompts/*.txt') is a symlink that leaves the repository"
    )
    assert problem.key == "evals.qa.paths[0]"
    assert registry.eval_files("qa") == ("prompts/a.txt",)  # never listed as the eval's file


def test_glob_below_a_symlinked_directory_out(tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "a.txt").write_text("a\n")
    repo = make_repo(tmp_path / "repo", '[evals.qa]\npaths = ["prompts/*.txt", "data/**"]\n', {"data/x.txt": "x"})
    os.symlink(outside, repo / "prompts")
    os.symlink(outside, repo / "data" / "linked")  # not walked into by '**'
    registry = load_registry(repo, strict=False)
    problem = only(list(registry.problems), "path-escape")
    assert problem.message.startswith("'prompts/a.txt' (matched by glob 'prompts/*.txt') is a symlink")
    assert registry.eval_files("qa") == ("data/x.txt",)


def test_glob_matching_nothing_is_a_warning(tmp_path):
    toml = '[evals.qa]\ndataset = "data/qa.jsonl"\npaths = ["prompts/*.md"]\n'
    registry = load_registry(make_repo(tmp_path, toml))  # strict: warnings do not raise
    (problem,) = registry.problems
    assert (problem.severity, problem.code, problem.key, problem.line) == (
        "warning",
        "empty-glob",
        "evals.qa.paths[0]",
        3,
    )
    assert problem.message == "glob 'prompts/*.md' matches no file"
    assert registry.errors == ()


def test_malformed_glob(tmp_path):
    problem = only(problems_of(tmp_path, MINIMAL + 'paths = ["prompts/[]x"]\n'), "schema")
    assert problem.message.startswith("malformed glob 'prompts/[]x'")


# -- warnings and collection -----------------------------------------------------------------


def test_unknown_keys_warn_with_suggestion(tmp_path):
    toml = '[evals.qa]\ndataset = "data/qa.jsonl"\ncovrs = []\nzzz = 1\n\n[rotatoin]\nmembers = ["a"]\n'
    registry = load_registry(make_repo(tmp_path, toml))  # warnings only: loads in strict mode
    warnings = {p.key: p for p in registry.problems}
    assert set(warnings) == {"evals.qa.covrs", "evals.qa.zzz", "rotatoin"}
    assert all(p.severity == "warning" and p.code == "unknown-key" for p in warnings.values())
    assert warnings["evals.qa.covrs"].message == "unknown key 'covrs'; did you mean 'covers'?"
    assert warnings["evals.qa.covrs"].line == 3
    assert warnings["rotatoin"].message == "unknown key 'rotatoin'; did you mean 'rotation'?"
    assert warnings["rotatoin"].line == 6
    assert warnings["evals.qa.zzz"].message.startswith("unknown key 'zzz' (expected one of: description, metric")


def test_invalid_names(tmp_path):
    problem = only(problems_of(tmp_path, '[evals."-bad name"]\ndataset = "data/qa.jsonl"\n'), "schema")
    assert problem.key == 'evals."-bad name"' and problem.message.startswith("invalid name '-bad name'")


FIVE_MISTAKES = """\
[evals.qa]
dataset = "data/missing.jsonl"
covers = ["halucination"]
threshold = "high"

[failure_modes.hallucination]

[rotation]
members = ["alice"]
cadence = "fortnightly"
timezone = "Mars/Base"
"""


def test_all_problems_are_collected_in_one_pass(tmp_path):
    problems = problems_of(tmp_path, FIVE_MISTAKES, {})
    errors = [p for p in problems if p.severity == "error"]
    assert [(p.line, p.key) for p in errors] == [
        (2, "evals.qa.dataset"),
        (3, "evals.qa.covers[0]"),
        (4, "evals.qa.threshold"),
        (10, "rotation.cadence"),
        (11, "rotation.timezone"),
    ]


def test_strict_mode_raises_with_every_problem(tmp_path):
    make_repo(tmp_path, FIVE_MISTAKES + "colour = 1\n", {})
    with pytest.raises(RegistryError) as info:
        load_registry(tmp_path)
    error = info.value
    assert isinstance(error, EvaltuiError)
    assert len(error.problems) == 6  # five errors and the warning
    assert len([p for p in error.problems if p.severity == "error"]) == 5
    lines = str(error).splitlines()
    assert len(lines) == 5  # the message lists the errors, one per line
    assert lines[0] == "evals.toml:2:1: error [evals.qa.dataset]: file 'data/missing.jsonl' does not exist"
    assert load_registry(tmp_path, strict=False).evals["qa"].dataset == "data/missing.jsonl"


# -- Eval.matches -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("paths", "path", "expected"),
    [
        (("prompts/qa/*.txt",), "prompts/qa/a.txt", True),
        (("prompts/qa/*.txt",), "prompts/qa/sub/a.txt", False),
        (("prompts/qa/*.txt",), "prompts/qa/a.md", False),
        (("prompts/**/*.txt",), "prompts/a.txt", True),
        (("prompts/**/*.txt",), "prompts/x/y/z.txt", True),
        (("prompts/**",), "prompts/x/y/z.md", True),
        (("prompts/**",), "other/prompts/x", False),
        (("**/*.yaml",), "tasks/deep/a.yaml", True),
        (("**/*.yaml",), "a.yaml", True),
        (("data/case?.jsonl",), "data/case1.jsonl", True),
        (("data/case?.jsonl",), "data/case10.jsonl", False),
        (("data/[ab].txt",), "data/b.txt", True),
        (("data/[ab].txt",), "data/c.txt", False),
        (("notes.md",), "notes.md", True),
        (("notes.md",), "other.md", False),
    ],
)
def test_eval_matches_globs(paths, path, expected):
    ev = Eval(name="e", metric="evals/m.py:f", dataset="data/d.jsonl", paths=paths)
    assert ev.matches(path) is expected
    assert ev.matches("evals/m.py") and ev.matches("data/d.jsonl")
    assert not ev.matches("evals/m.pyc")


def test_eval_matches_agrees_with_eval_files(tmp_path):
    registry = load_registry(make_repo(tmp_path, FULL))
    ev = registry.evals["gsm8k"]
    for path in registry.eval_files("gsm8k"):
        assert ev.matches(path)
    assert not ev.matches("data/qa.jsonl")


# -- robustness: whatever the file holds, the loader answers with problems -----------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
SCHEMA_KEYS = sorted(
    {
        "name",
        "state_dir",
        "emails",
        "predictions",
        "callable",
        "command",
        "params",
        "timeout",
        "description",
        "metric",
        "dataset",
        "version_from",
        "version",
        "valid_for",
        "why",
        "covers",
        "owner",
        "paths",
        "threshold",
        "found",
        "case_tags",
        "members",
        "cadence",
        "start",
        "end",
        "timezone",
        "fresh_eyes",
        "absences",
        "overrides",
        "member",
        "evals",
        "reason",
    }
)
PATHS = [
    "data/qa.jsonl",
    "data",
    "evals/qa.py:accuracy_at_1",
    "evals/qa.py:nope",
    "tasks/t.yaml#a.version",
    "../up",
    "/abs",
    "~/home",
    "out/link.txt",
    "prompts/*.txt",
    "prompts/**",
    "**/*.py",
    "[]",
    "a**b",
    "",
    ".",
    "./data/qa.jsonl",
    "data/qa.jsonl#",
    "x.py:",
    "2w",
    "0d",
    "Europe/Berlin",
    "Nowhere/Zone",
    "alice",
    "bob",
    "qa_*",
    "hallucination",
    "a\0b",
]
SCALARS = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
    st.sampled_from(PATHS),
    st.dates(),
    st.times(),
    st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30)),
    st.datetimes(
        timezones=st.just(dt.timezone.utc), min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30)
    ),
)
KEYS = st.one_of(st.sampled_from(SCHEMA_KEYS), TEXT.filter(bool))
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=12,
)
ENTRY = st.dictionaries(st.sampled_from(SCHEMA_KEYS), VALUES, max_size=8)
NAMES = st.one_of(st.sampled_from(["qa", "qa_2", "alice", "bob", "hallucination", "-x", "a b"]), TEXT.filter(bool))
SECTION = st.one_of(st.dictionaries(NAMES, st.one_of(ENTRY, VALUES), max_size=4), VALUES)
ROTATION_T = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "members": st.one_of(st.lists(st.sampled_from(["alice", "bob", "carol"]), max_size=4), VALUES),
            "cadence": st.one_of(st.sampled_from(["2w", "1d", "0w", "999w", "x"]), VALUES),
            "start": SCALARS,
            "timezone": st.one_of(st.sampled_from(["UTC", "Europe/Berlin", "X/Y"]), TEXT),
            "fresh_eyes": SCALARS,
            "absences": st.one_of(st.lists(ENTRY, max_size=3), VALUES),
            "overrides": st.one_of(st.lists(ENTRY, max_size=3), VALUES),
        },
    ),
    VALUES,
)
DOCUMENTS = st.fixed_dictionaries(
    {},
    optional={
        "project": st.one_of(ENTRY, VALUES),
        "people": SECTION,
        "models": SECTION,
        "evals": SECTION,
        "failure_modes": SECTION,
        "rotation": ROTATION_T,
        "extra": VALUES,
    },
)
LINES = st.lists(st.one_of(st.sampled_from(FULL.splitlines() + FIVE_MISTAKES.splitlines()), TEXT), max_size=30)


def fuzz_repo(root: Path) -> Path:
    """A repository with files, a directory and a symlink out, for documents to point at."""
    if not (root / "data").exists():
        make_repo(
            root,
            MINIMAL,
            {
                "data/qa.jsonl": "{}\n",
                "evals/qa.py": FILES["evals/qa.py"],
                "prompts/a.txt": "a\n",
                "tasks/t.yaml": "a:\n  version: 1\n",
            },
        )
        (root / "out").mkdir()
        os.symlink("/etc/hostname", root / "out" / "link.txt")
    return root


def assert_problems_are_printable(registry: Registry, text: str) -> None:
    for problem in registry.problems:
        rendered = problem.render()
        assert "\n" not in rendered and "\r" not in rendered
        if problem.line is not None:
            assert 1 <= problem.line <= max(text.count("\n"), 1) + 1


def toml_text(document: dict) -> str:
    import tomlkit

    return tomlkit.dumps(document)


@FUZZ
@given(
    text=st.one_of(
        st.text(max_size=300), LINES.map("\n".join), st.text(alphabet="[]{}\"'=.,#\n\\ abu1\t\r", max_size=80)
    )
)
def test_arbitrary_text_only_gives_problems(tmp_path, text):
    root = fuzz_repo(tmp_path)
    registry = parse_registry(text, root)
    assert_problems_are_printable(registry, text)
    KeyLocator(text).find(("evals", "qa", "dataset"))  # also usable on text that is not TOML
    (root / FILENAME).write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load_registry(root, strict=True)
    except RegistryError as exc:
        assert exc.problems and str(exc)


@FUZZ
@given(document=DOCUMENTS)
def test_arbitrary_documents_only_give_problems(tmp_path, document):
    root = fuzz_repo(tmp_path)
    text = toml_text(document)
    for check_files in (True, False):
        registry = parse_registry(text, root, check_files=check_files)
        assert_problems_are_printable(registry, text)
        for ev in registry.evals.values():  # whatever loaded is usable
            ev.matches("data/qa.jsonl")
            if check_files:
                registry.eval_files(ev.name)
    (root / FILENAME).write_text(text, encoding="utf-8")
    try:
        load_registry(root)
    except EvaltuiError as exc:
        assert isinstance(exc, RegistryError) and exc.problems


def _walk(node, path=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, key)
            yield from _walk(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield (*path, index)
            yield from _walk(value, (*path, index))


@FUZZ
@given(document=DOCUMENTS)
def test_locator_finds_every_key_of_any_document(document):
    from evaltui.core.registry.schema import tomllib  # tomli below Python 3.11

    text = toml_text(document)
    locator = KeyLocator(text)
    lines = text.split("\n")
    for path in _walk(tomllib.loads(text)):
        line, col = locator.find(path)
        assert line is not None, path
        last = path[-1]
        if isinstance(last, str) and re.fullmatch(r"[A-Za-z0-9_-]+", last) and locator.find(path[:-1]) != (line, col):
            at = lines[line - 1][col - 1 :]
            assert at.startswith(last) or at.startswith("["), (path, line, col)


TRICKY = '''\
title = "x" # [not.a.table]
notes = """
[evals.fake]
dataset = "nope"
"""
nested = [
  ["a", "b"],
  ["c"]
]

[evals.qa]
params = { normalize = true, deep = { k = 1 } }
"dotted.name".inner = 2
site . "a b" = 3

[[rotation.absences]]
member = "a"

[[rotation.absences]]
member = "b"
[rotation.absences.extra]
when = 1

[[fruits]]
[[fruits.varieties]]
name = "red"
[[fruits]]
[[fruits.varieties]]
name = "green"
[[fruits.varieties]]
name = "blue"
'''


@pytest.mark.parametrize(
    ("key", "where"),
    [
        (("title",), (1, 1)),
        (("notes",), (2, 1)),
        (("evals", "fake"), (11, 1)),  # its text inside the multi-line string is not a table
        (("nested", 1, 0), (8, 4)),
        (("evals", "qa"), (11, 1)),
        (("evals", "qa", "params", "normalize"), (12, 12)),
        (("evals", "qa", "params", "deep", "k"), (12, 39)),
        (("evals", "qa", "dotted.name", "inner"), (13, 1)),
        (("evals", "qa", "site", "a b"), (14, 1)),
        (("rotation", "absences", 1, "member"), (20, 1)),
        (("rotation", "absences", 1, "extra", "when"), (22, 1)),
        (("rotation", "absences", 0, "missing"), (16, 1)),  # nearest enclosing table
        (("fruits", 1, "varieties", 1, "name"), (31, 1)),
        (("fruits", 0, "varieties", 0, "name"), (26, 1)),
    ],
)
def test_locator_positions(key, where):
    assert KeyLocator(TRICKY).find(key) == where


def test_render_key_quotes_and_escapes():
    assert render_key(("rotation", "absences", 0, "member")) == "rotation.absences[0].member"
    assert render_key(("evals", "a b", "x")) == 'evals."a b".x'
    assert render_key(("people", 'q"\n')) == 'people."q\\"\\n"'


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_each_eval_knows_the_line_of_its_table(tmp_path, newline):
    text = newline.join(
        [
            "# header comment",
            "[project]",
            'name = "x"',
            "",
            "[evals.first]  # the first one",
            'version = "1"',
            'paths = ["a.txt"]',
            "",
            "  [evals.indented]",
            'version = "1"',
            'paths = ["a.txt"]',
            '[evals."quoted.name"]',
            'version = "1"',
            'paths = ["a.txt"]',
            "",
        ]
    )
    registry = parse_registry(text, tmp_path, check_files=False)
    assert {name: ev.line for name, ev in registry.evals.items()} == {"first": 5, "indented": 9, "quoted.name": 12}


def test_quoted_eval_names_have_their_lines_without_the_full_locator(tmp_path):
    from evaltui.core.registry.schema import SchemaReader

    text = '[project]\nname = "x"\n\n[evals."task-1.1"]\nversion = "1"\npaths = ["a.txt"]\n\n'
    text += "[evals.'b.2']\nversion = \"1\"\npaths = [\"a.txt\"]\ndescription = '''\nlong\n'''\n"
    reader = SchemaReader(text, tmp_path, "evals.toml", False)  # the multi-line string: tomllib reads it
    registry = reader.run()
    assert {name: ev.line for name, ev in registry.evals.items()} == {"task-1.1": 4, "b.2": 8}
    assert reader._locator is None  # found by the header scan: the file was not mapped key by key
