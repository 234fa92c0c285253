"""`adopt` on trees in the shapes the harnesses use: tables, files, versions, and a quiet first check."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import tomlkit
from hypothesis import given, settings
from hypothesis import strategies as st

from evaltui.core import history
from evaltui.core.checks.problems import check_repository
from evaltui.core.registry import adopt
from evaltui.core.registry.adopt.writer import merge, names_in, read_document, snippet, write
from evaltui.core.registry.model import FILENAME, load_registry
from evaltui.core.registry.overview import summarize
from evaltui.core.team.triage import triage
from tests.core.adopt_trees import ALL, INSPECT, LMEVAL, OPENAI


def adopted(root: Path, harness: str = "auto", only: str | None = None) -> dict[str, dict]:
    found = adopt.scan(root, ["."], harness, only, names_in(read_document(root / FILENAME)))
    return {a.name: a.table for a in found.adopted}


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_lm_eval_tasks_with_chains_functions_and_groups(tmp_path):
    tables = adopted(write_tree(tmp_path, LMEVAL), "lm-eval")
    assert sorted(tables) == ["arith_add", "arith_add-2", "arith_sub", "logic_and", "logic_or", "qa_old", "qa_plain"]
    base = "lm_eval/tasks/arith/"
    add = tables["arith_add"]
    # The version sits two includes deep; the chain and the !function module are the eval's files.
    assert add["version_from"] == f"{base}_common_yaml#metadata.version"
    assert add["version_format"] == "yaml"
    assert add["paths"] == [f"{base}arith_add.yaml", f"{base}_default_template_yaml", f"{base}utils.py"]
    assert tables["arith_add-2"]["paths"][0] == f"{base}variants/arith_add.yaml"
    assert tables["qa_plain"]["version_from"] == "lm_eval/tasks/qa/qa_plain.yaml#metadata.version"
    assert tables["qa_plain"]["paths"] == ["lm_eval/tasks/qa/metrics.py"]
    assert tables["qa_old"]["version_from"] == "lm_eval/tasks/qa/qa_old.yaml#metadata.version"
    assert tables["logic_and"]["version_from"] == "lm_eval/tasks/logic/_logic.yaml#task.0.metadata.version"
    assert tables["logic_or"]["version_from"] == "lm_eval/tasks/logic/_logic.yaml#metadata.version"


def test_inspect_tasks_are_read_with_ast(tmp_path):
    tables = adopted(write_tree(tmp_path, INSPECT), "inspect")
    module, data = "src/inspect_evals/gsm/gsm.py", "src/inspect_evals/gsm/data/gsm.jsonl"
    assert tables == {
        "gsm_small": {"description": "Inspect task gsm_small", "version_from": f"{module}:gsm_small", "paths": [data]},
        "gsm_plain": {"description": "Inspect task gsm_plain", "version": "0", "paths": [module, data]},
    }


def test_openai_registry_entries_carry_their_version_suffix(tmp_path):
    tables = adopted(write_tree(tmp_path, OPENAI), "openai-evals")
    assert {n: (t["version"], t["paths"]) for n, t in tables.items()} == {
        "match-x.dev.v0": ("0", ["evals/registry/evals/match.yaml", "evals/registry/data/match/old.jsonl"]),
        "match-x.dev.v1": ("1", ["evals/registry/evals/match.yaml", "evals/registry/data/match/samples.jsonl"]),
    }


def test_only_filters_by_name_or_file(tmp_path):
    write_tree(tmp_path, ALL)
    assert sorted(adopted(tmp_path, only="arith_*")) == ["arith_add", "arith_add-2", "arith_sub"]
    assert sorted(adopted(tmp_path, only="src/*")) == ["gsm_plain", "gsm_small"]


def test_function_tags_name_the_modules_that_are_there(tmp_path):
    from evaltui.core.registry.adopt.lmeval import function_modules

    write_tree(tmp_path, {"t/utils.py": "", "t/pkg/sub.py": "", "u/utils.py": ""})
    content = b"a: !function pkg.sub.fn\nb: !function utils.f\nc: !function gone.f\nd: !function utils.g\n"
    exists: dict = {}
    assert function_modules(content, "t/x.yaml", tmp_path, exists) == ["t/pkg/sub.py", "t/utils.py"]
    # What was found in one folder is not taken for another.
    assert function_modules(content, "u/y.yaml", tmp_path, exists) == ["u/utils.py"]
    assert function_modules(b"task: t\n", "t/x.yaml", tmp_path, exists) == []


_TEXT = st.text(alphabet=st.sampled_from("ab1 .\"\\-_/#'\n\t\x01\x7fé"), max_size=8)
_VALUE = st.one_of(_TEXT, st.lists(_TEXT, max_size=5), st.integers(-5, 5), st.booleans(), st.just(["a", 3]))


@settings(max_examples=300, deadline=None)
@given(name=_TEXT.filter(bool), values=st.dictionaries(_TEXT.filter(bool), _VALUE, max_size=4))
def test_a_table_is_written_as_tomlkit_writes_it(name, values):
    """`snippet` assembles the text itself; it must read as the table tomlkit would build."""
    table = tomlkit.table()
    for key, value in values.items():
        if isinstance(value, list):
            if not value:
                continue
            value = tomlkit.array().multiline(len(value) > 2)
            value.extend(values[key])
        table.add(key, value)
    evals = tomlkit.table(is_super_table=True)
    evals.add(name, table)
    doc = tomlkit.document()
    doc.add("evals", evals)
    assert snippet(name, values) == tomlkit.dumps(doc)


def test_the_scan_passes_over_hidden_tool_and_linked_folders(tmp_path):
    task = LMEVAL["lm_eval/tasks/qa/qa_plain.yaml"]
    write_tree(tmp_path, {"t/qa_plain.yaml": task, "t/.hidden/x.yaml": task, "t/node_modules/y.yaml": task})
    (tmp_path / "linked").symlink_to(tmp_path / "t", target_is_directory=True)
    (tmp_path / "t" / "link.yaml").symlink_to(tmp_path / "t" / "qa_plain.yaml")
    assert list(adopt.walk(tmp_path, ["."], (".yaml",))) == ["t/link.yaml", "t/qa_plain.yaml"]
    assert list(adopt.walk(tmp_path, ["linked", "t/qa_plain.yaml"], (".yaml",))) == [
        "linked/link.yaml",
        "linked/qa_plain.yaml",
        "t/qa_plain.yaml",
    ]


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("mmlu_abc", "mmlu_abc"),
        ("a.b-c", "a.b-c"),
        (" x ", "x"),
        ("a/b", "a_b"),
        ("-a.", "a"),
        (".", "eval"),
        ("abc\n", "abc"),
        ("ab-", "ab"),
        ("é", "_"),
        ("x y", "x_y"),
        ("", "eval"),
    ],
)
def test_a_harness_name_becomes_a_registry_name(raw, name):
    assert adopt.registry_name(raw) == name


def test_unknown_harness_is_a_clear_error(tmp_path):
    with pytest.raises(adopt.AdoptError, match="unknown harness 'lmeval'; expected auto, lm-eval"):
        adopt.scan(tmp_path, ["."], "lmeval")


def test_merge_keeps_what_is_there_and_adopting_twice_adds_nothing(tmp_path):
    write_tree(tmp_path, ALL)
    (tmp_path / FILENAME).write_text(
        '# our evals\n[project]\nname = "x"  # kept\n\n[evals.qa_plain]\n'
        'version = "9"  # hand-written\npaths = ["lm_eval/tasks/qa/qa_plain.yaml"]\n'
    )
    found = adopt.scan(tmp_path, ["."], taken=names_in(read_document(tmp_path / FILENAME)))
    assert "qa_plain" not in {a.name for a in found.adopted}
    merged = merge(tmp_path / FILENAME, found.adopted, "a" * 40)
    write(tmp_path / FILENAME, merged)
    text = (tmp_path / FILENAME).read_text()
    assert text.startswith('# our evals\n[project]\nname = "x"  # kept\nbaseline = "' + "a" * 40)
    assert 'version = "9"  # hand-written' in text
    assert '[evals."match-x.dev.v0"]' in text and "[evals.arith_add]" in merged.added
    assert "qa_plain" not in merged.added
    registry = load_registry(tmp_path)  # strict: no schema problem
    assert len(registry.evals) == len(found.adopted) + 1
    again = adopt.scan(tmp_path, ["."], taken=names_in(read_document(tmp_path / FILENAME)))
    assert again.adopted == []


@pytest.mark.parametrize(
    ("existing", "line"),
    [
        ("[project]\nx = {b = 1,}\n", 2),  # tomlkit takes the trailing comma; TOML does not
        ('x = {b = 1,}\n[evals.q]\nversion = "1"\n', 1),
    ],
)
def test_tables_that_would_make_evals_toml_invalid_are_not_written(tmp_path, existing, line):
    (tmp_path / FILENAME).write_text(existing)
    tables = [adopt.Adopted(name, "lm-eval", "a.yaml", {"version": "0"}) for name in ("a", "a.b")]
    with pytest.raises(adopt.AdoptError) as err:
        merge(tmp_path / FILENAME, tables, "b" * 40)
    assert str(err.value) == (
        f"{FILENAME}: adding the tables would make it invalid "
        f"(Invalid initial character for a key part (at line {line}, column 12)); nothing was written"
    )
    (tmp_path / FILENAME).write_text("evals.x = 1\n")
    merged = merge(tmp_path / FILENAME, tables, "b" * 40)
    assert merged.text.endswith('[evals.a]\nversion = "0"\n\n\n[evals."a.b"]\nversion = "0"\n')


AUTHOR = history.Identity("Ada", "ada@example.com")
START = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.timezone.utc)


def _history_then_adopt(make_repo) -> Path:
    """Years of history in the harness's own shapes, then `adopt` at HEAD, committed."""
    early = {k: v for k, v in ALL.items() if k != "lm_eval/tasks/qa/qa_old.yaml"}
    early["lm_eval/tasks/arith/_common_yaml"] = "output_type: generate_until\n"  # no version yet
    root = make_repo(early, message="Add tasks", author=AUTHOR, when=START)
    make_repo(
        {"lm_eval/tasks/arith/_common_yaml": ALL["lm_eval/tasks/arith/_common_yaml"]},
        root,
        message="Version the arith tasks",
        author=AUTHOR,
        when=START + dt.timedelta(days=30),
    )
    make_repo(
        {
            "lm_eval/tasks/arith/utils.py": ALL["lm_eval/tasks/arith/utils.py"] + "# tidy\n",
            "lm_eval/tasks/qa/qa_old.yaml": ALL["lm_eval/tasks/qa/qa_old.yaml"],
        },
        root,
        message="Tidy utils",
        author=AUTHOR,
        when=START + dt.timedelta(days=60),
    )
    make_repo(
        {
            "lm_eval/tasks/qa/metrics.py": ALL["lm_eval/tasks/qa/metrics.py"] + "# faster\n",
            "src/inspect_evals/gsm/data/gsm.jsonl": ALL["src/inspect_evals/gsm/data/gsm.jsonl"] * 2,
        },
        root,
        message="Speed up metrics",
        author=AUTHOR,
        when=START + dt.timedelta(days=90),
    )
    head = history.rev_parse(root, "HEAD")
    found = adopt.scan(root, ["."])
    write(root / FILENAME, merge(root / FILENAME, found.adopted, head))
    make_repo({}, root, message="Adopt evals", author=AUTHOR, when=START + dt.timedelta(days=120))
    return root


def test_first_check_after_adopt_is_quiet_and_history_agrees_with_list(make_repo):
    root = _history_then_adopt(make_repo)
    registry = load_registry(root)
    problems = check_repository(registry)
    assert [p for p in problems if p.severity == "error"] == []
    assert [p.code for p in problems if p.code in ("silent-change", "bump-without-why", "bad-baseline")] == []
    lineage = history.load_lineage(registry)
    listed = {s.name: s.version.version for s in summarize(registry, datasets=False)}
    assert listed["arith_add"] == "2.0" and listed["qa_old"] == "0.0" and listed["gsm_small"] == "2"
    for name, version in listed.items():
        assert lineage.entries[name][0].version == version, name
    # The history from before the adoption is kept: arith_add's template chain went from no version to 2.0.
    kinds = [e.subject for e in lineage.entries["arith_add"]]
    assert "Tidy utils" in kinds and "Add tasks" in kinds
    # Nothing counts as changed since the baseline; no eval reads "changed today".
    statuses = triage(registry, lineage, START + dt.timedelta(days=121)).statuses
    assert all(s.last_change is None and s.silent == 0 for s in statuses.values())


def test_a_change_after_the_baseline_is_still_reported(make_repo):
    root = _history_then_adopt(make_repo)
    make_repo(
        {"lm_eval/tasks/arith/utils.py": "def process_docs(ds):\n    return ds[:10]\n"},
        root,
        message="Cut docs",
        author=AUTHOR,
        when=START + dt.timedelta(days=130),
    )
    registry = load_registry(root)
    silent = [p for p in check_repository(registry) if p.code == "silent-change"]
    assert sorted(p.eval for p in silent) == ["arith_add", "arith_add-2", "arith_sub"]
    assert all("the version stayed 2.0" in p.message for p in silent)
    lineage = history.load_lineage(registry)
    statuses = triage(registry, lineage, START + dt.timedelta(days=131)).statuses
    assert statuses["arith_sub"].last_change == START + dt.timedelta(days=130)
    assert statuses["qa_plain"].last_change is None


def test_an_unknown_baseline_is_a_warning_not_a_crash(make_repo):
    root = make_repo({"a.yaml": "task: a\nmetadata:\n  version: 1\n"})
    (root / FILENAME).write_text(
        '[project]\nbaseline = "nosuchrev"\n\n[evals.a]\nversion_from = "a.yaml#metadata.version"\n'
    )
    problems = check_repository(load_registry(root))
    bad = [p for p in problems if p.code == "bad-baseline"]
    assert len(bad) == 1 and "'nosuchrev' is not a commit of this repository" in bad[0].message
    assert not [p for p in problems if p.severity == "error"]
