"""Version sources: decorators read with `ast`, keys in YAML/JSON/TOML, inline; the runtime marks."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import evaltui
from evaltui.core.errors import EvaltuiError, VersionSourceError
from evaltui.core.registry import versions
from evaltui.core.registry.model import Eval
from evaltui.core.registry.versions import VersionInfo, from_decorator, from_key, resolve, working_tree_reader


def src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def write(root: Path, name: str, content: str | bytes) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


# -- decorators ----------------------------------------------------------------------------

GOOD_DECORATORS = [
    (
        """
     from evaltui import version

     @version("1.1", valid_for="single-turn QA", why="multi-hop cases")
     def metric(predictions, references):
         return 1.0
     """,
        VersionInfo("1.1", "single-turn QA", "multi-hop cases", "decorator"),
    ),
    (
        """
     import evaltui

     @evaltui.version("2.0")
     def metric(p, r):
         return 1.0
     """,
        VersionInfo("2.0", None, None, "decorator"),
    ),
    (
        """
     from evaltui import eval

     @eval.version(version="3", why="new rubric", valid_for="English")
     def metric(p, r):
         return 1.0
     """,
        VersionInfo("3", "English", "new rubric", "decorator"),
    ),
    (
        """
     import evaltui

     @evaltui.version("1.2", "mixed", why="positional then keyword")
     async def metric(p, r):
         return 1.0
     """,
        VersionInfo("1.2", "mixed", "positional then keyword", "decorator"),
    ),
    (
        """
     import evaltui

     class Suite:
         @staticmethod
         @evaltui.version(
             "4.0b1",
             valid_for="a method in a class",
         )
         def metric(p, r):
             return 1.0
     """,
        VersionInfo("4.0b1", "a method in a class", None, "decorator"),
    ),
    (
        """
     import functools
     import evaltui

     @functools.lru_cache()
     @evaltui.scorer
     @evaltui.version(3.0)
     def metric(prediction, reference):
         return 1.0
     """,
        VersionInfo("3.0", None, None, "decorator"),
    ),
    (
        """
     import evaltui

     @evaltui.version(2, valid_for="implicit " "concatenation", why=None)
     def metric(p, r):
         return 1.0
     """,
        VersionInfo("2", "implicit concatenation", None, "decorator"),
    ),
    (
        """
     # -*- coding: utf-8 -*-
     import evaltui

     def metric(p, r):  # an undecorated function of the same name, nested deeper, is not it
         pass

     class Other:
         @evaltui.version("9")
         def metric(self):
             pass
     """,
        None,
    ),
]


@pytest.mark.parametrize(("code", "expected"), GOOD_DECORATORS[:-1])
def test_decorator_forms_on_text_and_bytes(code, expected):
    assert from_decorator(src(code), "metric", filename="evals/m.py") == expected
    assert from_decorator(src(code).encode(), "metric", filename="evals/m.py") == expected


def test_first_definition_is_the_top_level_one():
    with pytest.raises(VersionSourceError, match=r"^evals/m.py:4: 'metric' has no @version\(\.\.\.\) decorator"):
        from_decorator(src(GOOD_DECORATORS[-1][0]), "metric", filename="evals/m.py")


@pytest.mark.parametrize(("code", "expected"), GOOD_DECORATORS[:-1])
def test_decorator_forms_on_files_through_resolve(tmp_path, code, expected):
    write(tmp_path, "evals/m.py", src(code))
    ev = Eval(name="e", version_from="evals/m.py:metric")
    assert resolve(ev, working_tree_reader(tmp_path)) == expected


def test_runtime_and_static_reading_agree(tmp_path):
    """What the decorator sets when imported equals what `ast` reads without importing."""
    for i, (code, expected) in enumerate(GOOD_DECORATORS[:4]):
        path = write(tmp_path, f"mod{i}.py", src(code))
        spec = importlib.util.spec_from_file_location(f"evaltui_test_mod{i}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        fn = module.metric
        assert (fn.__evaltui_version__, fn.__evaltui_valid_for__, fn.__evaltui_why__) == (
            expected.version,
            expected.valid_for,
            expected.why,
        )


MALFORMED = [
    (
        """
     import evaltui
     VERSION = "1.0"

     @evaltui.version(VERSION)
     def metric(p, r): ...
     """,
        r"^evals/m.py:4: @version on 'metric': version must be a literal string or number \(it is read "
        r"without running the code\), got VERSION$",
    ),
    (
        """
     import evaltui
     @evaltui.version("1.0", why=f"{1}")
     def metric(p, r): ...
     """,
        r"^evals/m.py:2: @version on 'metric': why must be a literal string or number",
    ),
    (
        """
     import evaltui
     @evaltui.version(valid_for="QA")
     def metric(p, r): ...
     """,
        r"^evals/m.py:2: @version\(\.\.\.\) on 'metric' has no version; e.g. @evaltui.version\(\"1.1\"",
    ),
    (
        """
     import evaltui
     @evaltui.version("1", "a", "b", "c")
     def metric(p, r): ...
     """,
        r"^evals/m.py:2: @version on 'metric' takes at most 3 arguments \(version, valid_for, why\), got 4$",
    ),
    (
        """
     import evaltui
     @evaltui.version("1", reason="x")
     def metric(p, r): ...
     """,
        r"^evals/m.py:2: @version on 'metric': unexpected argument 'reason'; expected version, valid_for, why$",
    ),
    (
        """
     import evaltui
     @evaltui.version("1", version="2")
     def metric(p, r): ...
     """,
        r"^evals/m.py:2: @version on 'metric': 'version' is given twice$",
    ),
    (
        """
     import evaltui
     @evaltui.version("1", **META)
     def metric(p, r): ...
     """,
        r"^evals/m.py:2: @version on 'metric': \*\*arguments cannot be read",
    ),
    (
        """
     import evaltui
     @evaltui.version("1", valid_for=3)
     def metric(p, r): ...
     """,
        r"^evals/m.py:2: @version on 'metric': valid_for must be a string, got an integer$",
    ),
    (
        """
     import evaltui
     @evaltui.version(True)
     def metric(p, r): ...
     """,
        r"^evals/m.py:2: @version on 'metric': expected a version like \"1.1\", got the boolean True$",
    ),
    (
        """
     import evaltui
     @evaltui.version("  ")
     def metric(p, r): ...
     """,
        r"^evals/m.py:2: @version on 'metric': expected a version like \"1.1\", got an empty string$",
    ),
    (
        """
     import evaltui
     @evaltui.version
     def metric(p, r): ...
     """,
        r"^evals/m.py:2: @version on 'metric' needs its arguments, e.g. @evaltui.version\(",
    ),
    (
        """
     import evaltui
     @evaltui.version("1")
     @evaltui.version("2")
     def metric(p, r): ...
     """,
        r"^evals/m.py:3: 'metric' has more than one @version\(\.\.\.\) decorator; keep one$",
    ),
    (
        """
     import evaltui

     @evaltui.scorer
     def metric(p, r): ...
     """,
        r"^evals/m.py:4: 'metric' has no @version\(\.\.\.\) decorator; add one, e.g. @evaltui.version\(",
    ),
    (
        """
     import evaltui

     @evaltui.version("1")
     def metric(p, r)
         return 1
     """,
        r"^evals/m.py:4: cannot parse Python \((expected ':'|invalid syntax)\)$",
    ),
    (
        """
     import evaltui

     @evaltui.version("1")
     def metrics(p, r): ...
     """,
        r"^evals/m.py:4: no function 'metric'; did you mean 'metrics'\?$",
    ),
    (
        """
     def unrelated(): ...
     """,
        r"^evals/m.py: no function 'metric'$",
    ),
]


@pytest.mark.parametrize(("code", "pattern"), MALFORMED)
def test_malformed_decorators(code, pattern):
    for source in (src(code), src(code).encode()):
        with pytest.raises(VersionSourceError, match=pattern) as info:
            from_decorator(source, "metric", filename="evals/m.py")
        assert isinstance(info.value, EvaltuiError)
        assert "\n" not in str(info.value)


def test_malformed_decorator_on_a_file(tmp_path):
    write(tmp_path, "evals/m.py", src(MALFORMED[0][0]))
    with pytest.raises(VersionSourceError, match=r"^evals/m.py:4: @version on 'metric': version must be a literal"):
        resolve(Eval(name="e", version_from="evals/m.py:metric"), working_tree_reader(tmp_path))


def test_unparseable_bytes():
    with pytest.raises(VersionSourceError, match=r"^evals/m.py(:\d+)?: cannot parse Python"):
        from_decorator(b"def f():\n\x00\n", "f", filename="evals/m.py")
    with pytest.raises(VersionSourceError, match=r"^evals/m.py:1: cannot parse Python"):
        from_decorator(b"x = '\xff\xfe'\n", "f", filename="evals/m.py")


# -- keys in YAML, JSON and TOML files --------------------------------------------------------

YAML = """\
metadata:
  version: 3.0
  valid_for: grade-school maths
  why: fixed 12 wrong references
tasks:
  - name: first
    version: 2
  - name: second
    version: "1.10"
    why: renamed
numbers:
  1: one
dated:
  version: 2026-01-05
empty:
  version:
flag:
  version: yes
"""
JSON = '{"metadata": {"version": 1.5, "valid_for": "JSON", "why": 7}, "list": [{"version": "0.9"}]}'
TOML = '[metadata]\nversion = 2.0\nwhy = "toml why"\n[[tasks]]\nversion = 4\n'


@pytest.mark.parametrize(
    ("content", "suffix", "dotted", "expected"),
    [
        (
            YAML,
            ".yaml",
            "metadata.version",
            VersionInfo("3.0", "grade-school maths", "fixed 12 wrong references", "key"),
        ),
        (YAML, ".yml", "tasks.0.version", VersionInfo("2", None, None, "key")),
        (YAML, ".yaml", "tasks.1.version", VersionInfo("1.10", None, "renamed", "key")),
        (YAML, ".yaml", "numbers.1", VersionInfo("one", None, None, "key")),
        (YAML, ".yaml", "dated.version", VersionInfo("2026-01-05", None, None, "key")),
        (JSON, ".json", "metadata.version", VersionInfo("1.5", "JSON", None, "key")),  # a non-text why is ignored
        (JSON, ".json", "list.0.version", VersionInfo("0.9", None, None, "key")),
        (TOML, ".toml", "metadata.version", VersionInfo("2.0", None, "toml why", "key")),
        (TOML, ".toml", "tasks.0.version", VersionInfo("4", None, None, "key")),
    ],
)
def test_keys_on_text_bytes_and_files(tmp_path, content, suffix, dotted, expected):
    assert from_key(content, suffix, dotted, filename="f") == expected
    assert from_key(content.encode(), suffix, dotted, filename="f") == expected
    write(tmp_path, f"tasks/config{suffix}", content)
    ev = Eval(name="e", version_from=f"tasks/config{suffix}#{dotted}")
    assert resolve(ev, working_tree_reader(tmp_path)) == expected


@pytest.mark.parametrize(
    ("content", "suffix", "dotted", "message"),
    [
        (
            YAML,
            ".yaml",
            "metadata.versoin",
            "tasks/x.yaml: no key 'versoin' under metadata (keys there: version, valid_for, why); "
            "looking for 'metadata.versoin'",
        ),
        (
            YAML,
            ".yaml",
            "meta.version",
            "tasks/x.yaml: no key 'meta' under the top level (keys there: metadata, tasks, numbers, dated, empty, "
            "flag); looking for 'meta.version'",
        ),
        (
            YAML,
            ".yaml",
            "tasks.5.version",
            "tasks/x.yaml: tasks is a list of 2; '5' is not an index in it (looking for 'tasks.5.version')",
        ),
        (
            YAML,
            ".yaml",
            "tasks.first.version",
            "tasks/x.yaml: tasks is a list of 2; 'first' is not an index in it (looking for 'tasks.first.version')",
        ),
        (
            YAML,
            ".yaml",
            "metadata.version.major",
            "tasks/x.yaml: metadata.version is a number, not a table, so it has no key 'major' "
            "(looking for 'metadata.version.major')",
        ),
        (YAML, ".yaml", "empty.version", "tasks/x.yaml: 'empty.version' is empty; give it a version like \"1.1\""),
        (
            YAML,
            ".yaml",
            "flag.version",
            "tasks/x.yaml: 'flag.version': expected a version like \"1.1\", got the boolean True",
        ),
        (YAML, ".yaml", "metadata", "tasks/x.yaml: 'metadata': expected a version like \"1.1\", got a table"),
        (
            YAML,
            ".yaml",
            "metadata..version",
            "tasks/x.yaml: 'metadata..version' is not a dotted key; expected e.g. 'metadata.version'",
        ),
        ("a: [1,\n", ".yaml", "a", None),
        ('{"a": 1,}', ".json", "a", None),
        ("a = ", ".toml", "a", None),
        ("a: 2026-13-45\n", ".yaml", "a", None),
        ("a = 1", ".ini", "a", "tasks/x.ini: unsupported file type '.ini'; expected .yaml, .yml, .json or .toml"),
        ('{"v": NaN}', ".json", "v", "tasks/x.json: 'v': expected a version like \"1.1\", got nan"),
    ],
)
def test_key_problems(content, suffix, dotted, message):
    filename = f"tasks/x{suffix}"
    with pytest.raises(VersionSourceError) as info:
        from_key(content, suffix, dotted, filename=filename)
    if message is not None:
        assert str(info.value) == message
    assert str(info.value).startswith(filename)
    if suffix in (".yaml", ".json") and "cannot parse" in str(info.value) and "13-45" not in content:
        assert str(info.value).startswith(f"{filename}:")  # with the line the parser gives


def test_yaml_parse_error_names_its_line():
    with pytest.raises(VersionSourceError, match=r"^tasks/x.yaml:3: cannot parse YAML: mapping values are not "):
        from_key("a: 1\nb: 2\n  c: 3\nd: 4\n", ".yaml", "a", filename="tasks/x.yaml")
    with pytest.raises(VersionSourceError, match=r"^tasks/x.json:2: cannot parse JSON: "):
        from_key('{"a": 1,\n}', ".json", "a", filename="tasks/x.json")


# -- inline, missing files and the reader -------------------------------------------------------


def test_inline_version():
    ev = Eval(name="e", dataset="d.jsonl", version="2.0", valid_for="English", why="new rubric")
    assert resolve(ev, lambda path: None) == VersionInfo("2.0", "English", "new rubric", "inline")


def test_no_version_declared():
    assert resolve(Eval(name="e", dataset="d.jsonl"), lambda path: None) == VersionInfo(None, source="none")


def test_version_from_wins_over_inline(tmp_path):
    write(tmp_path, "v.json", '{"version": "5"}')
    ev = Eval(name="e", version_from="v.json#version", version="1")
    assert resolve(ev, working_tree_reader(tmp_path)).version == "5"


@pytest.mark.parametrize("spec", ["evals/gone.py:metric", "tasks/gone.yaml#a.b"])
def test_missing_file(tmp_path, spec):
    path = spec.split("#")[0].split(":")[0]
    with pytest.raises(VersionSourceError, match=rf"^{path}: file not found$"):
        resolve(Eval(name="e", version_from=spec), working_tree_reader(tmp_path))


def test_resolve_reads_blobs_through_any_reader():
    """Old commits are read from blobs: the reader is a function of a path, not the disk."""
    blobs = {
        "evals/m.py": b"import evaltui\n@evaltui.version('0.1')\ndef metric(p, r): ...\n",
        "tasks/t.yaml": b"meta:\n  version: 7\n",
    }
    assert resolve(Eval(name="a", version_from="evals/m.py:metric"), blobs.get).version == "0.1"
    assert resolve(Eval(name="b", version_from="tasks/t.yaml#meta.version"), blobs.get).version == "7"


def test_reader_never_leaves_the_working_tree(tmp_path):
    root = tmp_path / "repo"
    write(root, "inside.txt", "in")
    write(tmp_path, "outside.txt", "out")
    os.symlink(tmp_path / "outside.txt", root / "link.txt")
    read = working_tree_reader(root)
    assert read("inside.txt") == b"in"
    assert read("../outside.txt") is None
    assert read(str(tmp_path / "outside.txt")) is None
    assert read("link.txt") is None
    assert read("missing.txt") is None
    assert read(".") is None  # a directory
    assert read("bad\0name") is None
    # Folders: one that leaves the repository, one that stays inside it, and a link file in a good one.
    write(root, "tasks/t.yaml", "t")
    write(tmp_path, "elsewhere/t.yaml", "secret")
    os.symlink(tmp_path / "elsewhere", root / "away")
    os.symlink(root / "tasks", root / "alias")
    os.symlink(tmp_path / "elsewhere" / "t.yaml", root / "tasks" / "out.yaml")
    for _ in range(2):  # the second time from what the reader remembers of each folder
        assert read("tasks/t.yaml") == b"t" and read("alias/t.yaml") == b"t"
        assert read("away/t.yaml") is None and read("tasks/out.yaml") is None
        assert read("tasks/../../outside.txt") is None and read("tasks") is None


@pytest.mark.parametrize(
    ("value", "text"),
    [(3.0, "3.0"), (2, "2"), ("  1.1 ", "1.1"), (1.10, "1.1"), (1e-05, "1e-05"), ("v2", "v2")],
)
def test_normalise(value, text):
    assert versions.normalise(value) == text


@pytest.mark.parametrize("value", [True, float("inf"), "", None, [1], {"a": 1}])
def test_normalise_rejects(value):
    with pytest.raises(VersionSourceError, match=r"expected a version like \"1.1\""):
        versions.normalise(value)


# -- robustness -------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    content=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)),
    suffix=st.sampled_from([".py", ".yaml", ".json", ".toml"]),
    dotted=st.sampled_from(["a", "a.b", "0", "a.0.b", "version"]),
)
def test_any_content_gives_a_version_or_a_version_source_error(content, suffix, dotted):
    try:
        if suffix == ".py":
            info = from_decorator(content, "metric", filename="m.py")
        else:
            info = from_key(content, suffix, dotted, filename=f"x{suffix}")
    except VersionSourceError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert isinstance(info.version, str) and info.version


# -- the runtime decorators ---------------------------------------------------------------------


def test_version_decorator_marks_and_returns_the_same_function():
    def metric(predictions, references):
        return 0.5

    marked = evaltui.version("1.1", valid_for="QA", why="more cases")(metric)
    assert marked is metric
    assert (metric.__evaltui_version__, metric.__evaltui_valid_for__, metric.__evaltui_why__) == (
        "1.1",
        "QA",
        "more cases",
    )
    assert metric([], []) == 0.5


def test_version_decorator_keywords_numbers_and_async():
    @evaltui.version(version=3.0, why="w")
    async def metric(p, r):
        return 1.0

    assert metric.__evaltui_version__ == "3.0" and metric.__evaltui_why__ == "w"
    assert metric.__evaltui_valid_for__ is None
    assert asyncio.run(metric(1, 2)) == 1.0


def test_eval_namespace_import():
    from evaltui import eval

    @eval.version("2", valid_for="via eval")
    def metric(p, r):
        return 1

    @eval.scorer
    def exact(prediction, reference):
        return prediction == reference

    assert metric.__evaltui_version__ == "2" and metric.__evaltui_valid_for__ == "via eval"
    assert exact.__evaltui_scorer__ is True
    assert eval.version is evaltui.version and eval.scorer is evaltui.scorer
    assert "eval" not in evaltui.__all__  # `from evaltui import *` leaves the builtin alone


def test_scorer_bare_and_called():
    def exact(prediction, reference):
        return prediction == reference

    assert evaltui.scorer(exact) is exact
    assert exact.__evaltui_scorer__ is True and exact.__evaltui_aggregate__ is None

    def close(prediction, reference):
        return 1.0

    assert evaltui.scorer(aggregate=max)(close) is close
    assert close.__evaltui_aggregate__ is max


def test_version_decorator_without_arguments_is_a_clear_error():
    with pytest.raises(TypeError, match=r"needs a version, e\.g\. @evaltui\.version\(\"1\.1\""):

        @evaltui.version  # type: ignore[arg-type]
        def metric(p, r):
            return 1


def test_public_api():
    assert set(evaltui.__all__) == {"version", "scorer", "__version__"}
    assert evaltui.__version__.count(".") >= 1


# -- version sources as harnesses write them ---------------------------------------------------


def test_unknown_yaml_tags_are_read_as_plain_values_never_constructed():
    text = (
        "task: t\nprocess_docs: !function utils.process_docs\nfilters: !custom [1, 2]\n"
        "obj: !!python/object:os.system {cmd: x}\nmetadata:\n  version: 1.0\n"
    )
    assert from_key(text, ".yaml", "metadata.version", filename="t.yaml").version == "1.0"
    doc = versions.parse_structured(text, ".yaml")
    assert doc["process_docs"] == "utils.process_docs" and doc["filters"] == [1, 2] and doc["obj"] == {"cmd": "x"}


def _safe_constructor_reading(text: str):
    """`text` as PyYAML's safe constructor reads it, unknown tags as plain values (the reference)."""
    import yaml

    from evaltui.core.registry import structured

    class Reference(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # the parser ours is built on
        pass

    Reference.add_multi_constructor("", structured.construct_plain)  # the rule for unknown tags
    try:
        return repr(yaml.load(text, Loader=Reference))
    except (yaml.YAMLError, ValueError, TypeError) as exc:  # as `structured.parse` catches
        return f"error: {type(exc).__name__}"


TRICKY_YAML = [
    "a: &x [1, 2]\nb: *x\n",  # an alias gives the same list
    "base: &b {x: 1, y: 2}\nt:\n  <<: *b\n  y: 3\n",  # a merge key
    "- &a {x: 1}\n- *a\n- <<: [*a, {z: 0}]\n  y: 2\n",
    "a: &a\n  b: *a\n",  # a mapping inside itself
    "l: &l [1, *l]\n",
    "? [1]\n: 2\n",  # a key that cannot be a dict key
    "? {a: 1}\n: 2\n",
    "=: v\n",
    "!!set {a, b}\n",
    "x: !!omap [a: 1, b: 2]\ny: !!pairs [a: 1]\n",
    "a: !function f.g\nb: !custom {k: v}\nc: !seq [1, x]\nd: !!str 12\n",
    "t: 2001-12-14\nn: ~\nf: .inf\ny: yes\ni: 0x1f\nq: '1.0'\nv: 1.0\n",
    "1: one\n2.5: two\ntrue: three\nnull: four\n2001-12-14: five\n",
    "dup: 1\ndup: 2\n",
    "",
    "just text\n",
    "!!binary aGVsbG8=\n",
    "a: !!int nope\n",  # a constructor error
    "a: [\n",  # a parse error
]


@pytest.mark.parametrize("text", TRICKY_YAML)
def test_yaml_reads_as_the_safe_constructor_does(text):
    import yaml

    from evaltui.core.registry import structured

    try:
        ours = repr(yaml.load(text, Loader=structured.yaml_loader()))
    except (yaml.YAMLError, ValueError, TypeError) as exc:  # as `structured.parse` catches
        ours = f"error: {type(exc).__name__}"
    assert ours == _safe_constructor_reading(text)


def test_a_yaml_alias_is_the_same_object():
    from evaltui.core.registry import structured

    doc = versions.parse_structured("a: &x {k: [1]}\nb: *x\nc: [*x, *x]\n", ".yaml")
    assert doc["a"] is doc["b"] is doc["c"][0] is doc["c"][1]
    laughs = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi")
    )  # 9**9 strings if an alias were a copy
    top = structured.parse(laughs, "yaml")["i"]
    assert top[0] is top[8] and top[0][0] is top[8][8]


_yaml_scalars = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=8),
    st.sampled_from(["1", "1.0", "yes", "~", "null", "2001-12-14", "0x10", ".nan", "!function f.g", "*x", "&y"]),
)


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        _yaml_scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_yaml_scalars, inner, max_size=3),
        max_leaves=12,
    )
)
def test_generated_yaml_reads_as_the_safe_constructor_does(value):
    import yaml

    from evaltui.core.registry import structured

    def emit(v, indent=0):
        pad = "  " * indent
        if isinstance(v, dict):
            return (
                "".join(
                    f"{pad}{k}:\n{emit(x, indent + 1)}" if isinstance(x, (dict, list)) and x else f"{pad}{k}: {x}\n"
                    for k, x in v.items()
                )
                or f"{pad}{{}}\n"
            )
        if isinstance(v, list):
            return (
                "".join(
                    f"{pad}-\n{emit(x, indent + 1)}" if isinstance(x, (dict, list)) and x else f"{pad}- {x}\n"
                    for x in v
                )
                or f"{pad}[]\n"
            )
        return f"{pad}{v}\n"

    text = emit(value)
    try:
        ours = repr(yaml.load(text, Loader=structured.yaml_loader()))
    except (yaml.YAMLError, ValueError, TypeError) as exc:  # as `structured.parse` catches
        ours = f"error: {type(exc).__name__}"
    assert ours == _safe_constructor_reading(text)


@pytest.mark.parametrize(
    "text",
    ["metadata:\n  - version: 1.0\n", "metadata:\n  - other: 2\n  - version: 1.0\n", "metadata: [{version: 1.0}]\n"],
)
def test_list_form_metadata(text):
    assert from_key(text, ".yaml", "metadata.version", filename="t.yaml").version == "1.0"


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ("dataset_path: x\nmetadata:\n  version: 3\n", "yaml"),
        ('{"metadata": {"version": 3}}', "json"),
        ("[metadata]\nversion = 3\n", "toml"),
        ('# a comment\ntitle = "x"\n\n[metadata]\nversion = 3\n', "toml"),
    ],
)
def test_files_without_a_suffix_are_sniffed(tmp_path, text, fmt):
    from evaltui.core.registry import structured

    assert structured.sniff(text) == fmt
    write(tmp_path, "_template", text)
    ev = Eval(name="t", version_from="_template#metadata.version")
    assert resolve(ev, working_tree_reader(tmp_path)).version == "3"


def test_version_format_overrides_the_suffix(tmp_path):
    write(tmp_path, "v.cfg", "[metadata]\nversion = 4\n")
    read = working_tree_reader(tmp_path)
    with pytest.raises(VersionSourceError, match="unsupported file type '.cfg'"):
        resolve(Eval(name="t", version_from="v.cfg#metadata.version"), read)
    assert resolve(Eval(name="t", version_from="v.cfg#metadata.version", version_format="toml"), read).version == "4"


CHAIN = {
    "tasks/sub/task.yaml": "include: ../_default_template_yaml\ntask: t\nfn: !function utils.f\n",
    "tasks/_default_template_yaml": "include: _common_yaml\ndataset_path: d\n",
    "tasks/_common_yaml": "metadata:\n  version: 2.0\n  why: new prompt\n",
}


def test_include_chain_two_deep_gives_the_version_and_the_file_holding_it(tmp_path):
    from evaltui.core.registry import chains

    for rel, text in CHAIN.items():
        write(tmp_path, rel, text)
    read = working_tree_reader(tmp_path)
    info = resolve(Eval(name="t", version_from="tasks/sub/task.yaml#metadata.version"), read)
    assert (info.version, info.why, info.file) == ("2.0", "new prompt", "tasks/_common_yaml")
    assert chains.include_chain(read, "tasks/sub/task.yaml") == tuple(CHAIN)
    # The nearest file wins: a version in the task itself overrides the template's.
    write(tmp_path, "tasks/sub/task.yaml", CHAIN["tasks/sub/task.yaml"] + "metadata:\n  version: 5\n")
    info = resolve(Eval(name="t", version_from="tasks/sub/task.yaml#metadata.version"), read)
    assert (info.version, info.file) == ("5", "tasks/sub/task.yaml")


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"a.yaml": "include: b.yaml\n", "b.yaml": "include: a.yaml\n"},
            r"^b.yaml: include 'a.yaml' makes a cycle \(a.yaml -> b.yaml -> a.yaml\)$",
        ),
        ({"a.yaml": "include: gone.yaml\n"}, r"^a.yaml: includes 'gone.yaml', which does not exist$"),
        ({"a.yaml": "include: ../../etc/passwd\n"}, r"leaves the repository"),
        (
            {"a.yaml": "include: b.yaml\nmetadata: {}\n", "b.yaml": "x: 1\n"},
            r"^a.yaml: no key 'version' under metadata .*\(nor in the files it includes: b.yaml\)$",
        ),
    ],
)
def test_include_chain_problems(tmp_path, files, message):
    for rel, text in files.items():
        write(tmp_path, rel, text)
    with pytest.raises(VersionSourceError, match=message):
        resolve(Eval(name="t", version_from="a.yaml#metadata.version"), working_tree_reader(tmp_path))


CHAIN_TREES = [
    {"a.yaml": "include: b.yaml\n", "b.yaml": "include: a.yaml\n"},
    {"a.yaml": "include: gone.yaml\n"},
    {"a.yaml": "include: ../../etc/passwd\n"},
    {"a.yaml": "include: b.yaml\nmetadata: {}\n", "b.yaml": "x: 1\n"},
    {"a.yaml": "include: b.yaml\n", "b.yaml": "metadata:\n  version: 2\n"},
    {"a.yaml": "include: [b.yaml, c.yaml]\n", "b.yaml": "include: d.yaml\n", "c.yaml": "include: d.yaml\n"},
    {"a.yaml": "include: [b.yaml, c.yaml]\n", "b.yaml": "metadata: {version: 1}\n", "c.yaml": "include: b.yaml\n"},
    {"a.yaml": "include: b.yaml\n", "b.yaml": "broken: [\n"},
    {"a.yaml": "include: [b.yaml, c.yaml]\n", "b.yaml": "metadata: {version: 1}\n", "c.yaml": "broken: [\n"},
    # Something `from_chain` refuses met before the file with the version: it never gets there.
    {"a.yaml": "include: [b.yaml, gone.yaml]\n", "b.yaml": "metadata: {version: 1}\n"},
    {"a.yaml": "include: [b.yaml, ../c.yaml]\n", "b.yaml": "metadata: {version: 1}\n"},
    {"a.yaml": "include: [b.yaml, c.yaml]\n", "b.yaml": "metadata: {version: 1}\n", "c.yaml": "include: a.yaml\n"},
    {"a.yaml": "include: b.yaml\n", "b.yaml": "metadata:\n  version: [1]\n"},
    {"a.yaml": "include: b.yaml\n", "b.yaml": ""},
    {"a.yaml": "include: b.yaml\n1: x\n", "b.yaml": "metadata:\n  - version: 3\n"},
    {"a.yaml": "include: b.yaml\nmetadata: 2\n", "b.yaml": "metadata:\n  version: 3\n"},
    {"a.yaml": "include: b.yaml\ntask:\n  - metadata: {version: 4}\n", "b.yaml": "metadata:\n  version: 3\n"},
    {"a.yaml": "include: b0.yaml\n", **{f"b{i}.yaml": f"include: b{i + 1}.yaml\n" for i in range(40)}},
    {"a.yaml": "include: b0.yaml\n", **{f"b{i}.yaml": f"include: b{i + 1}.yaml\n" for i in range(30)}}
    | {"b30.yaml": "metadata: {version: 7}\n"},
]


@pytest.mark.parametrize("files", CHAIN_TREES)
@pytest.mark.parametrize("dotted", ["metadata.version", "task.0.metadata.version", "1", "metadata..version"])
def test_one_walk_of_a_chain_finds_what_from_chain_finds(tmp_path, files, dotted):
    """`walk` gives `include_chain`'s files and `from_chain`'s version (None where it raises)."""
    from evaltui.core.registry import chains

    for rel, text in files.items():
        write(tmp_path, rel, text)
    docs = chains.Documents(working_tree_reader(tmp_path))
    chain = chains.walk(docs, "a.yaml")
    try:
        expected: VersionInfo | None = chains.from_chain(working_tree_reader(tmp_path), "a.yaml", dotted)
    except VersionSourceError:
        expected = None
    found = chain.version(docs, dotted)
    assert (found, found and found.file) == (expected, expected and expected.file)
    assert chain.files == chains.include_chain(working_tree_reader(tmp_path), "a.yaml")


def test_inspect_task_version_is_read_without_running_the_module():
    source = "from inspect_ai import Task, task\n\n@task\ndef t():\n    raise SystemExit\n    return Task(version=2)\n"
    info = from_decorator(source, "t", filename="t.py")
    assert (info.version, info.source) == ("2", "task")
    with pytest.raises(VersionSourceError, match="must be a literal"):
        from_decorator(source.replace("version=2", "version=V"), "t", filename="t.py")
    # A module-level constant, as inspect_evals writes it, is read too.
    constant = source.replace("version=2", "version=TASK_VERSION") + 'TASK_VERSION = "1.0.1"\n'
    assert from_decorator(constant, "t", filename="t.py").version == "1.0.1"


def test_version_format_in_the_schema_is_checked(tmp_path):
    from evaltui.core.registry.model import parse_registry

    write(tmp_path, "_t", "metadata:\n  version: 1\n")
    registry = parse_registry('[evals.t]\nversion_from = "_t#metadata.version"\nversion_format = "yml"\n', tmp_path)
    assert [(p.key, p.message) for p in registry.errors] == [
        (
            "evals.t.version_format",
            "expected one of 'yaml', 'json', 'toml' (how to read the version file), e.g. "
            "version_format = \"yaml\", got a string 'yml'",
        )
    ]
    ok = parse_registry(
        '[project]\nbaseline = "HEAD~2"\n[evals.t]\nversion_from = "_t#metadata.version"\nversion_format = "yaml"\n',
        tmp_path,
    )
    assert not ok.problems and ok.evals["t"].version_format == "yaml" and ok.project.baseline == "HEAD~2"


def test_history_reads_a_chain_at_each_commit_with_the_same_resolver(make_repo):
    """The history reader follows includes in the tree of the commit, and agrees with the working-tree reader."""
    from evaltui.core import history
    from evaltui.core.history.defs import def_from_table
    from evaltui.core.history.fastversions import VersionReader
    from evaltui.core.history.vkeys import BlobKey, FileSource

    root = make_repo(CHAIN)
    first = {
        line.split()[3]: line.split()[2] for line in history.git(root, "ls-tree", "-r", "HEAD").decode().splitlines()
    }
    make_repo({"tasks/_common_yaml": "metadata:\n  version: 2.1\n"}, root)
    second = {
        line.split()[3]: line.split()[2] for line in history.git(root, "ls-tree", "-r", "HEAD").decode().splitlines()
    }
    d = def_from_table({"version_from": "tasks/sub/task.yaml#metadata.version"})
    assert isinstance(d.vspec, FileSource)
    with history.BlobReader(root) as reader:
        vers = VersionReader(reader, {})
        k1, k2 = vers.key(d.vspec, first), vers.key(d.vspec, second)
        # The task file is the same; its template changed.
        assert isinstance(k1, BlobKey) and k1 != k2 and k1.blob == k2.blob and k1.chain
        for k in (k1, k2):
            vers.want(k, "tasks/sub/task.yaml")
        vers.fetch()
        assert vers.get(k1, "tasks/sub/task.yaml")[:3] == ("2.0", None, "new prompt")
        assert vers.get(k2, "tasks/sub/task.yaml")[:3] == ("2.1", None, None)
    listed = resolve(Eval(name="t", version_from="tasks/sub/task.yaml#metadata.version"), working_tree_reader(root))
    assert listed.version == "2.1"


@pytest.mark.parametrize(
    "source",
    [
        "task: t\nprocess_docs: !function utils.process_docs\nmetadata:\n  version: 1.0\n",
        "task: t\nmetadata:\n  - version: 1.0\n",
        "task: t\nmetadata:\n  version: 1.0\nbroken: [\n",
    ],
)
def test_history_and_list_read_the_same_version(tmp_path, source):
    """The history reader once said 1.0 where the list said `?`: both now use one resolver."""
    write(tmp_path, "t.yaml", source)
    try:
        listed = resolve(Eval(name="t", version_from="t.yaml#metadata.version"), working_tree_reader(tmp_path)).version
    except VersionSourceError:
        listed = None
    from evaltui.core.history.fastversions import VersionReader
    from evaltui.core.history.vkeys import KeySpec

    got = VersionReader(None, {}).parse(source.encode(), KeySpec("", "metadata.version"), "t.yaml")
    assert got[0] == listed
    assert (listed is None) == (source.endswith("[\n"))


def test_the_lineage_counts_an_include_chain_as_the_eval_files(make_repo, tmp_path):
    """A template edit is a change of every task that includes it; a version bump in it is a bump."""
    from evaltui.core.history import load_lineage
    from evaltui.core.registry.model import load_registry

    toml = (
        '[evals.t]\nversion_from = "tasks/sub/task.yaml#metadata.version"\n'
        '[evals.other]\nversion = "1"\nmetric = "other.py:score"\n'
    )
    root = make_repo(
        {**CHAIN, "evals.toml": toml, "other.py": "def score(p, r):\n    return 1\n"}, message="add the task"
    )
    make_repo(
        {"tasks/_default_template_yaml": "include: _common_yaml\ndataset_path: e\n"},
        root,
        message="another dataset in the template",
    )
    make_repo(
        {"tasks/_common_yaml": "metadata:\n  version: 2.1\n  why: fewer shots\n"},
        root,
        message="bump in the common file",
    )
    make_repo({"tasks/sub/task.yaml": "task: t\nmetadata:\n  version: 3\n"}, root, message="inline the template")
    make_repo({"tasks/_common_yaml": "metadata:\n  version: 9\n"}, root, message="no longer included")
    lineage = load_lineage(load_registry(root), cache_dir=tmp_path / "cache")
    got = [(e.subject, e.kind, e.previous_version, e.version, e.paths) for e in lineage.entries["t"]]
    assert got == [
        (
            "inline the template",
            "bump",
            "2.1",
            "3",
            ("tasks/_common_yaml", "tasks/_default_template_yaml", "tasks/sub/task.yaml"),
        ),
        ("bump in the common file", "bump", "2.0", "2.1", ("tasks/_common_yaml",)),
        ("another dataset in the template", "silent", "2.0", "2.0", ("tasks/_default_template_yaml",)),
        (
            "add the task",
            "created",
            None,
            "2.0",
            ("tasks/_common_yaml", "tasks/_default_template_yaml", "tasks/sub/task.yaml"),
        ),
    ]
    assert lineage.entries["t"][1].why == "fewer shots"
    assert [e.subject for e in lineage.entries["other"]] == ["add the task"]
    # The cached result and a rebuild say the same.
    again = load_lineage(load_registry(root), cache_dir=tmp_path / "cache")
    assert [(e.subject, e.kind, e.version) for e in again.entries["t"]] == [g[:2] + (g[3],) for g in got]


def test_a_chain_file_is_parsed_once_per_content_and_path():
    from evaltui.core.registry import chains

    first = chains.parse_file(b"metadata:\n  version: 3\n", "t/a.yaml", None)
    assert chains.parse_file(b"metadata:\n  version: 3\n", "t/a.yaml", None) is first
    assert chains.parse_file(b"metadata:\n  version: 3\n", "t/b.yaml", None) is not first  # errors name the file
    assert chains.parse_file(b"metadata:\n  version: 4\n", "t/a.yaml", None) == {"metadata": {"version": 4}}
    for _ in range(2):  # an error is kept too, and raised each time
        with pytest.raises(VersionSourceError, match=r"t/bad\.yaml:2: cannot parse YAML"):
            chains.parse_file(b"a: [\n", "t/bad.yaml", None)
