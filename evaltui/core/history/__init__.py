"""Git access and lineage: the only package that talks to git.

Git runs through GitPython: its `Repo` for discovery, HEAD, refs, merge-base and config (the
mailmap files), its `cat-file` object database for single reads and its command wrapper
(`gitcmd`) for the streamed log and the pipelined blob reader. GitPython is imported inside the
functions that need it, never on the way to the first screen.

Writing (for the demo builder and the tests, `write`) and small reads (a file at a revision, a
revision's sha, a tree exported to a directory, a diff: `reads`) live here next to the lineage
engine. The engine's public surface: `load_lineage`, `eval_log`, `versions_of`,
`since_last_bump`, `file_at`, `tree_files`, `diff_text` and `BlobReader`. Its modules follow
the order in which it works: find the repository (`repo`), stream the log (`logparse`) and feed
it on (`feed`), read evals.toml (`tables`, `defs`) and version blobs (`blobs`, `fastversions`),
replay over each commit's tree (`builder`, `treestate`), walk back from each registration
(`walkback`), make rows (`rows`), resolve identities
(`identities`), cache (`cache`); `engine` ties them together, choosing a full replay, a rebuild
(`rebuild`) or an incremental refresh (`incremental`), and `model` is what it returns.
"""

from __future__ import annotations

from evaltui.core.history.attempt import LineageAttempt, try_load_lineage
from evaltui.core.history.blobs import BlobReader
from evaltui.core.history.cache import SCHEMA
from evaltui.core.history.engine import load_lineage
from evaltui.core.history.fastversions import VersionReader
from evaltui.core.history.gitcmd import git
from evaltui.core.history.model import (
    KINDS,
    Authorship,
    Entry,
    Lineage,
    VersionSpan,
    eval_log,
    since_last_bump,
    versions_of,
)
from evaltui.core.history.reads import (
    MAIN_BRANCHES,
    FilePatch,
    HeadInfo,
    config_email,
    config_name,
    default_base,
    diff_names,
    diff_text,
    export_tree,
    file_at,
    head_info,
    head_state,
    is_repo,
    merge_base,
    registry_at,
    rev_parse,
    show_file,
    tree_files,
)
from evaltui.core.history.write import Identity, commit_all, init_repo, move

__all__ = [
    # running git and writing commits
    "git",
    "Identity",
    "init_repo",
    "commit_all",
    "move",
    # small reads
    "is_repo",
    "rev_parse",
    "show_file",
    "export_tree",
    "HeadInfo",
    "head_info",
    "diff_names",
    "registry_at",
    "file_at",
    "tree_files",
    "FilePatch",
    "diff_text",
    "config_email",
    "config_name",
    "head_state",
    "merge_base",
    "MAIN_BRANCHES",
    "default_base",
    # the lineage
    "KINDS",
    "Entry",
    "Authorship",
    "Lineage",
    "VersionSpan",
    "eval_log",
    "versions_of",
    "since_last_bump",
    "load_lineage",
    "BlobReader",
    "SCHEMA",
    "LineageAttempt",
    "try_load_lineage",
    # not public: the version readers' tests call it directly
    "VersionReader",
]
