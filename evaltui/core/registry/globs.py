"""Repository-relative globs (`*`, `?`, `**`, `[abc]`), matched and expanded with wcmatch."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from evaltui.core import fsutil

# wcmatch is imported where a glob is first translated or walked: the app's start-up imports
# this module, and a registry without globs never needs the library.
# `*` and `?` stay inside one path segment, `**` spans segments, dot files match like any
# other, and braces or `!` patterns are plain characters, as evals.toml has always read them:
# wcmatch's GLOBSTAR | DOTGLOB. Walking adds NODIR (files only) and never enters git's directory.
_NEVER_WALKED = (".git", ".git/**", "**/.git", "**/.git/**")


@functools.lru_cache(maxsize=4096)
def glob_pattern(pattern: str) -> re.Pattern[str]:
    """The compiled regex of a repository-relative glob; `.match(path)` says whether `path` matches.

    The regex is wcmatch's translation of the glob: matching it directly is several times
    faster than a `WcMatcher`, which counts when the lineage tests every path of every commit.
    """
    from wcmatch import glob

    (regex,), _ = glob.translate(pattern, flags=glob.GLOBSTAR | glob.DOTGLOB)
    return re.compile(regex)


def malformed(pattern: str) -> bool:
    """Whether a `[` in `pattern` never closes within its path segment (`[]x`, `a[b`): almost surely a typo.

    wcmatch reads such a bracket as a literal character; the registry reports it instead, so
    a glob that silently matches nothing is caught where it is written.
    """
    for segment in pattern.split("/"):
        i = 0
        while i < len(segment):
            if segment[i] == "[":
                j = i + 1
                if j < len(segment) and segment[j] == "!":
                    j += 1
                if j < len(segment) and segment[j] == "]":  # a leading `]` is a member of the class
                    j += 1
                end = segment.find("]", j)
                if end == -1:
                    return True
                i = end
            i += 1
    return False


def glob_split(pattern: str) -> tuple[str, str]:
    """(the folders `pattern` names literally, the rest): `prompts/qa/*.txt` → (`prompts/qa`, `*.txt`).

    `expand_glob` lists files from the first folder only; the rest is matched below it.
    """
    from wcmatch import glob

    flags = glob.GLOBSTAR | glob.DOTGLOB | glob.NODIR
    segments = pattern.split("/")
    fixed = 0
    while fixed < len(segments) - 1 and not glob.is_magic(segments[fixed], flags=flags) and segments[fixed] != ".git":
        fixed += 1
    return "/".join(segments[:fixed]), "/".join(segments[fixed:])


def expand_glob(root: Path, pattern: str, cache: dict[str, list[str]] | None = None) -> list[str]:
    """Repository-relative paths of the files under `root` matching `pattern`, sorted.

    Never walks into `.git`, and `**` does not follow symlinked directories (a symlinked file
    is listed, for the caller to check). `cache` lets repeated globs share one answer.
    """
    if cache is not None and pattern in cache:
        return cache[pattern]
    from wcmatch import glob

    # The directories the pattern names literally (`prompts/qa/` of `prompts/qa/*.txt`) are
    # walked from, not searched for: wcmatch would otherwise list every directory on the way,
    # once per glob, which a registry with hundreds of globs over a large tree pays for.
    prefix, rest = glob_split(pattern)
    flags = glob.GLOBSTAR | glob.DOTGLOB | glob.NODIR
    try:
        walked = glob.glob(rest, flags=flags, root_dir=str(root / prefix), exclude=list(_NEVER_WALKED))
        found = sorted(f"{prefix}/{path}" if prefix else path for path in walked)
    except (OSError, ValueError):
        found = []
    if cache is not None:
        cache[pattern] = found
    return found


def inside_repo(root: Path, relative: str) -> bool:
    """Whether `root/relative` stays inside `root` with symlinks followed; odd names are never inside."""
    try:
        return fsutil.inside(root, relative) is not None
    except (OSError, ValueError):  # unencodable or over-long names cannot be inside anything
        return False
