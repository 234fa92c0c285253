"""Paths and references in `evals.toml`: inside the repository, present, well formed."""

from __future__ import annotations

import os
import posixpath
import re
import stat
from collections.abc import Callable
from pathlib import Path

from evaltui.core.registry.globs import expand_glob, inside_repo, malformed
from evaltui.core.registry.records import KEY_SUFFIXES
from evaltui.core.registry.reporting import Reporter
from evaltui.core.registry.tomlpos import KeyPath

# A relative path that normalising leaves as it is: segments of these characters, none only dots.
_PLAIN_PATH = re.compile(r"\.*[A-Za-z0-9_\-][A-Za-z0-9_.\-]*(?:/\.*[A-Za-z0-9_\-][A-Za-z0-9_.\-]*)*")


class PathRules(Reporter):
    """Checks of file paths, globs and `file.py:function` / `file.yaml#key` references."""

    def path_value(self, value: str, key: KeyPath, eval: str | None = None) -> str | None:
        """`value` normalised when it is a usable repository path; escapes are errors (and None).

        A path that is merely missing is an error but is kept: its history still matters.
        """
        known = self.paths_ok.get(value)
        if known is not None:
            return known
        # Most values are already normal (`lm_eval/tasks/x/y.yaml`): one match instead of the checks.
        path = value if _PLAIN_PATH.fullmatch(value) else self.normal_path(value, key, eval)
        if path is None or not self.check_files:
            return path
        self.looked_at.add(path)
        mode = self.kind(path)
        if not self.folder_inside(path.rpartition("/")[0]) or (  # a normal path's folder, without dirname
            mode == stat.S_IFLNK and not inside_repo(self.root, path)
        ):
            self.error(
                key,
                f"path {value!r} resolves outside the repository (through a symlink); point at a file inside it",
                "path-escape",
                eval,
            )
            return None
        if mode == stat.S_IFLNK:
            try:
                mode = stat.S_IFMT(os.stat(self.root / path).st_mode)
            except (OSError, ValueError):
                mode = None
        if mode == stat.S_IFDIR:
            self.error(
                key,
                f"{value!r} is a directory; name a file, or use a glob in 'paths' such as \"{path}/**\"",
                "missing-file",
                eval,
            )
        elif mode != stat.S_IFREG:
            self.error(key, f"file {value!r} does not exist", "missing-file", eval)
        else:
            self.paths_ok[value] = path
        return path

    def normal_path(self, value: str, key: KeyPath, eval: str | None) -> str | None:
        """`value` normalised, or None (and an error) when it is empty, absolute or leaves the repository."""
        if not value.strip():
            self.error(
                key, 'expected a path relative to the repository, e.g. "data/qa.jsonl", got an empty string', eval=eval
            )
            return None
        if value.startswith(("/", "~", "\\")) or os.path.isabs(value) or re.match(r"^[A-Za-z]:", value):
            self.error(
                key,
                f'path {value!r} must be relative to the repository root, e.g. "data/qa.jsonl"',
                "path-escape",
                eval,
            )
            return None
        if ".." in value.replace("\\", "/").split("/"):
            self.error(key, f"path {value!r} leaves the repository ('..' is not allowed)", "path-escape", eval)
            return None
        path = posixpath.normpath(value)
        if "\0" in path:
            self.error(key, f"path {value!r} contains a NUL character", eval=eval)
            return None
        return path

    def kind(self, path: str) -> int | None:
        """The file type (`stat.S_IFREG`, `S_IFDIR`, `S_IFLNK`...) of a normal repository path, None when absent.

        A folder's second path asked about lists the folder once (a few thousand files in a
        few hundred folders in an adopted tree: one listing instead of an lstat per file); a
        folder asked about once, or a name its listing lacks (absent, or matched otherwise by
        a case-insensitive file system), costs one lstat.
        """
        folder, _, name = path.rpartition("/")
        entries = self.entries.get(folder)
        if entries is None:
            if folder in self.entries:
                entries = self.entries[folder] = self.listing(folder)
            else:
                self.entries[folder] = None
        entry = entries.get(name) if entries else None
        if entry is not None:
            try:
                if entry.is_symlink():
                    return stat.S_IFLNK
                if entry.is_dir(follow_symlinks=False):
                    return stat.S_IFDIR
                if entry.is_file(follow_symlinks=False):
                    return stat.S_IFREG
            except OSError:
                return None
            return 0  # a socket, a device, a pipe: neither a file nor a folder
        try:
            return stat.S_IFMT(os.lstat(os.path.join(self.root, path)).st_mode)
        except (OSError, ValueError):
            return None

    def glob_value(self, pattern: str, key: KeyPath, eval: str) -> str | None:
        """A glob in `paths`: inside the repository, well formed, matching something."""
        if pattern.startswith(("/", "~", "\\")) or Path(pattern).is_absolute() or ".." in pattern.split("/"):
            self.error(
                key,
                f'glob {pattern!r} leaves the repository; write it relative to the root, e.g. "prompts/qa/*.txt"',
                "path-escape",
                eval,
            )
            return None
        pattern = posixpath.normpath(pattern)
        if malformed(pattern):
            self.error(key, f'malformed glob {pattern!r}; use *, ?, ** and [abc], e.g. "prompts/**/*.txt"', eval=eval)
            return None
        if not self.check_files:
            return pattern
        matches = expand_glob(self.root, pattern, self.listings)
        for match in matches:
            if self.escapes(match):
                self.error(
                    key,
                    f"{match!r} (matched by glob {pattern!r}) is a symlink that leaves the repository",
                    "path-escape",
                    eval,
                )
        if not matches:
            self.problem("warning", "empty-glob", key, f"glob {pattern!r} matches no file", eval)
        return pattern

    def escapes(self, match: str) -> bool:
        """Whether a file found by a glob lies outside the repository (checks each directory once)."""
        if not self.folder_inside(posixpath.dirname(match)):
            return True
        return os.path.islink(self.root / match) and not inside_repo(self.root, match)

    def listing(self, folder: str) -> dict[str, os.DirEntry[str]]:
        """The entries of a repository folder by name; none when it cannot be listed."""
        try:
            with os.scandir(os.path.join(self.root, folder)) as found:
                return {entry.name: entry for entry in found}
        except (OSError, ValueError):
            return {}

    def folder_inside(self, folder: str) -> bool:
        """Whether a normal repository folder ("" for the root) stays inside the repository (each asked once)."""
        inside = self.folders_inside.get(folder)
        if inside is None:
            parent, _, name = folder.rpartition("/")
            # A real folder (not a symlink) in a folder that stays inside stays inside: its
            # kind is read from its parent's listing. Anything else is resolved in full.
            inside = self.folders_inside[folder] = (
                not folder
                or (name not in ("", ".", "..") and self.folder_inside(parent) and self.kind(folder) == stat.S_IFDIR)
                or inside_repo(self.root, folder)
            )
        return inside

    def function_ref(self, value: str, key: KeyPath, eval: str | None = None) -> str | None:
        """`file.py:function` with the file's path normalised; None (and an error) when it is not one."""
        return self.remembered(("metric", value), lambda: self.read_function_ref(value, key, eval))

    def remembered(self, memo: tuple[str | bool, ...], read: Callable[[], str | None]) -> str | None:
        """`read()`, given again for the same `memo` once it read a reference without a problem (the
        evals of one family share their metric and version file), as good paths are."""
        known = self.refs_ok.get(memo)
        if known is not None:
            return known
        problems = len(self.problems)
        ref = read()
        if ref and len(self.problems) == problems:
            self.refs_ok[memo] = ref
        return ref

    def read_function_ref(self, value: str, key: KeyPath, eval: str | None) -> str | None:
        file, sep, func = value.rpartition(":")
        if not sep or not file.endswith(".py") or not func.isidentifier():
            self.error(key, f"expected 'file.py:function', e.g. \"evals/qa.py:accuracy\", got {value!r}", eval=eval)
            return None
        path = self.path_value(file, key, eval=eval)
        return f"{path}:{func}" if path else None

    def version_ref(self, value: str, key: KeyPath, eval: str, declared: str | None = None) -> str | None:
        """`file.py:function` or `file.yaml#dotted.key` normalised; None (and an error) when it is neither.

        `declared` (a `version_format`) decides which files may have a key.
        """
        return self.remembered(
            ("version", value, bool(declared)), lambda: self.read_version_ref(value, key, eval, declared)
        )

    def read_version_ref(self, value: str, key: KeyPath, eval: str, declared: str | None) -> str | None:
        if "#" not in value:
            return self.function_ref(value, key, eval)
        file, _, dotted = value.partition("#")
        # A file without a suffix (lm-eval's `_default_template_yaml`) is sniffed; any other
        # suffix needs `version_format`.
        known = file.lower().endswith(KEY_SUFFIXES) or "." not in file.rsplit("/", 1)[-1].lstrip(".") or declared
        if not known or not dotted or "" in dotted.split("."):
            self.error(
                key,
                "expected 'file.py:function' or 'file.yaml#dotted.key' (.yaml, .yml, .json, .toml), "
                f'e.g. "tasks/gsm8k.yaml#metadata.version", got {value!r}',
                eval=eval,
            )
            return None
        path = self.path_value(file, key, eval=eval)
        return f"{path}#{dotted}" if path else None
