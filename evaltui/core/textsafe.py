"""Untrusted text (git, datasets, user files) made safe to print and to show in the TUI."""

from __future__ import annotations

import re

# C0 and C1 controls except tab and newline; ESC sequences are removed whole first so a
# colour code does not leave its "[31m" tail behind.
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: str, *, keep_newlines: bool = True) -> str:
    """Strip ANSI escape sequences and control characters from `text`."""
    text = _CONTROL.sub("", _ANSI.sub("", text))
    return text if keep_newlines else text.replace("\n", " ").replace("\t", " ")


def one_line(text: str, width: int | None = None) -> str:
    """First line of `text`, cleaned, optionally cut to `width` with an ellipsis."""
    line = clean(text).strip().splitlines()[0] if text.strip() else ""
    if width is not None and len(line) > width:
        return line[: max(width - 1, 0)] + "…"
    return line
