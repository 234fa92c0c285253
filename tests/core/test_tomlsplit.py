"""The table-by-table reader of evals.toml equals tomllib: the same document, the same errors."""

from __future__ import annotations

import pytest

from evaltui.core.compat import tomllib
from evaltui.core.registry import tomlsplit

PLAIN = """\
# a registry
[project]
baseline = "abc"

[evals.a]
description = "lm-eval task a"
version_from = "t/_common_yaml#metadata.version"
version_format = "yaml"
paths = [
    "t/a.yaml",
    "t/utils.py",
]

[people.alice]
emails = ["alice@example.com"]

[evals."b.c"]  # quoted
threshold = 0.5
covers = ["x", "y"]
version = "1"
n = 3
big = 1e400
"""

VALID = [
    PLAIN,
    "",
    "[evals.a]\n",
    'title = "x"\n[evals.a]\nk = 1\n',
    PLAIN.replace("\n", "\r\n"),
    '[evals.a]\nparams = { normalize = true }\nk = "\\u00e9\\n"\n',
    '[evals.a]\nk = "tab\there"\n',  # a raw tab is TOML, not strict JSON
    '[evals.a]\npaths = [\n  "x",\n  # a comment\n  "y"\n]\n',
    '[evals.a]\npaths = [\n"x",\n"y"\n]\n',
    "[evals.a]\nd = 2026-01-02\nk = 'literal'\n",
    "[evals.a]\n[evals.a.params]\nx = 1\n",
    '[evals.a]\nk = """multi\n[evals.b]\nline"""\n',
    '[rotation]\nmembers = ["a"]\n[[rotation.absences]]\nmember = "a"\n[evals.z]\nk = 1\n',
    '[evals.a]\nk = 1\n[project]\nname = "late"\n[evals.b]\nk = 2\n',
    "evals.a.k = 1\n[project]\n",
    "[evals]\na = { k = 1 }\n",
    '[evals.a]\nk = "\\ud7ff"\n',
    "[evals.a]\nk = +1\nj = 1_000\nh = 0x10\n",
    '[evals.a]\nk = ["a",]\n',
    "[ evals . a ]  # spaced\nk = 1\n",
    '[evals."a.b"]\nk = 1\n',
    "[evals.a]\nk = [1, [2]]\n",
]

INVALID = [
    "[evals.a]\nk = 1\n[evals.a]\nk = 2\n",
    "[evals.a]\nk = 1\nk = 2\n",
    '[evals.a]\npaths = [\n"x"\n"y"\n]\n',  # no comma between the values
    '[evals.a]\nk = "\\/"\n',
    '[evals.a]\nk = "\\ud800"\n',
    '[evals.a]\nk = "del\x7f"\n',
    "[evals.a]\nk = 1 # bell \x07\n",
    "[evals.a]\nk = 1\r[evals.b]\n",
    "[evals.a]\nk = NaN\n",
    "[evals.a]\nk = null\n",
    "[evals.a]\nk = 1\n  [evals.a]\nj = 2\n",
    "[project]\nx = [\n[evals.a]\n]\n",
    "[evals.a] k = 1\n",
    "[evals.a]\n\u3000k = 1\n",
    "[project]\nname = 1\n[project]\n[evals.a]\nk = 1\n",
    "[evals.a]]\nk = 1\n",
    '[evals."a\\q"]\nk = 1\n',
    "[evals.a]\u3000\nk = 1\n",
]


@pytest.mark.parametrize("text", VALID)
def test_valid_documents_read_as_tomllib_reads_them(text: str) -> None:
    expected = tomllib.loads(text)
    got = tomlsplit.loads(text)
    assert got == expected
    assert list(got) == list(expected)  # the tables in the same order
    assert list(got.get("evals", {})) == list(expected.get("evals", {}))


@pytest.mark.parametrize("text", INVALID)
def test_invalid_documents_fail_as_in_tomllib(text: str) -> None:
    with pytest.raises(tomllib.TOMLDecodeError) as expected:
        tomllib.loads(text)
    with pytest.raises(tomllib.TOMLDecodeError) as got:
        tomlsplit.loads(text)
    assert str(got.value) == str(expected.value)


def test_the_last_documents_tables_are_recalled_by_their_text() -> None:
    text = PLAIN.replace('"b.c"', "b_c")  # a name to quote takes the whole-file parse
    doc = tomlsplit.loads(text)
    part = text.split("\n[")[2]
    assert part.startswith("evals.a]")
    assert tomlsplit.recall(part) == ("a", doc["evals"]["a"])
    assert tomlsplit.recall(part + "x = 1\n") is None


def test_the_lines_of_bare_eval_headers_come_with_the_split() -> None:
    text = PLAIN.replace('"b.c"]  # quoted', "b_c]")
    doc, lines = tomlsplit.loads_located(text)
    assert doc == tomllib.loads(text)
    numbered = enumerate(text.splitlines(), 1)
    assert lines == {line[len("[evals.") : -1]: n for n, line in numbered if line.startswith("[evals.")}
    assert lines == {"a": 5, "b_c": 17}
    whole = text + '[evals.c]\nk = """x"""\n'  # read by tomllib alone: no lines
    assert tomlsplit.loads_located(whole) == (tomllib.loads(whole), {})


def test_quoted_eval_names_without_escapes_are_read_table_by_table() -> None:
    # `adopt` quotes a task name with a dot in it; one such name must not send a registry of
    # thousands of tables to the whole-file parse.
    text = PLAIN + '\n[evals.\'lit d.e\']\nversion = "2"\n\n[evals."tab\tname"]\nversion = "3"\n'
    doc, lines = tomlsplit.loads_located(text)
    assert doc == tomllib.loads(text)
    numbered = {line: n for n, line in enumerate(text.split("\n"), 1)}
    assert lines == {
        "a": 5,
        "b.c": 17,
        "lit d.e": numbered["[evals.'lit d.e']"],
        "tab\tname": numbered['[evals."tab\tname"]'],
    }
    escaped = PLAIN + '\n[evals."x\\u0041"]\nversion = "1"\n'  # an escape: tomllib reads the name
    assert tomlsplit.loads_located(escaped) == (tomllib.loads(escaped), {})
    assert "xA" in tomllib.loads(escaped)["evals"]
