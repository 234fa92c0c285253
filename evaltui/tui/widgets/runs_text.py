"""How runs read on screen: scores, deltas, threshold gates, per-version trends and a comparison, as Rich text."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rich.text import Text

from evaltui.core.formatting import score_text
from evaltui.core.runs.store import Comparison, RunRecord
from evaltui.core.textsafe import clean

LIST_LIMIT = 12  # case ids shown per list of flips


def fmt_delta(a: float | None, b: float | None) -> str:
    """`b - a` in points when both are fractions, else as a plain difference."""
    if a is None or b is None:
        return "—"
    fraction = 0.0 <= a <= 1.0 and 0.0 <= b <= 1.0
    d = (b - a) * 100 if fraction else b - a
    return f"{'+' if d >= 0 else '−'}{abs(d):.1f}" + (" points" if fraction else "")


def colors(app) -> dict[str, str]:
    """Rich colours from the theme's variables (error, success, warning), so Text styles follow the theme."""
    variables = app.get_css_variables()
    return {k: variables.get(k, "default") for k in ("error", "success", "warning")}


def gate(record: RunRecord, c: dict[str, str]) -> Text:
    """Threshold pass/fail of a record, or why there is no score."""
    if not record.ok:
        return Text("failed", style=f"bold {c['error']}")
    if record.threshold is None:
        return Text("–", style="dim")
    if record.below_threshold:
        return Text(f"< {record.threshold:g}", style=f"bold {c['error']}")
    return Text(f"≥ {record.threshold:g}", style=c["success"])


def version_key(version: str | None) -> tuple:
    """Natural order of version labels ("1.10" after "1.9"); unknown versions first."""
    if version is None:
        return (0,)
    return (1, *[(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.\-+]", version)])


def trend(records: Sequence[RunRecord]) -> dict[str, list[tuple[str, float]]]:
    """Per model, (version, latest score of that version) in version order, from successful runs."""
    latest: dict[tuple[str, str | None], RunRecord] = {}
    for r in records:  # newest first: the first seen per (model, version) is its latest
        if r.ok and r.aggregate is not None:
            latest.setdefault((r.model, r.eval_version), r)
    out: dict[str, list[tuple[str, float]]] = {}
    for (model, version), r in sorted(latest.items(), key=lambda kv: (kv[0][0], version_key(kv[0][1]))):
        score = float(r.aggregate or 0.0)  # never None here: filtered above
        out.setdefault(model, []).append((clean(version or "?", keep_newlines=False), score))
    return out


def _ids(label: str, ids: Sequence[str], style: str = "") -> Text:
    text = Text.assemble((f"{label} ({len(ids)}): ", "bold"))
    if not ids:
        text.append("—", style="dim")
        return text
    text.append(", ".join(clean(i, keep_newlines=False) for i in ids[:LIST_LIMIT]), style=style)
    if len(ids) > LIST_LIMIT:
        text.append(f" and {len(ids) - LIST_LIMIT} more", style="dim")
    return text


def render_comparison(a: RunRecord, b: RunRecord, cmp: Comparison, c: dict[str, str]) -> Text:
    """The score delta and per-case changes from run A to run B, as plain Text (no markup parsed)."""
    lines = [_describe("A", a), _describe("B", b)]
    head = Text.assemble(("Δ ", "bold"), (fmt_delta(cmp.score_a, cmp.score_b), "bold"))
    if not cmp.per_case:
        head.append("  ·  per-case scores unavailable (aggregate metric): only the score delta", style="dim")
        lines.append(head)
    else:
        head.append(
            f"  ·  {cmp.common} common case{'s' * (cmp.common != 1)}  ·  "
            f"{len(cmp.to_fail)} to fail, {len(cmp.to_pass)} to pass, {len(cmp.changed)} changed"
        )
        lines += [head, _ids("to fail", cmp.to_fail, c["error"]), _ids("to pass", cmp.to_pass, c["success"])]
        if cmp.new_errors or cmp.fixed_errors:
            lines += [
                _ids("new errors", cmp.new_errors, c["error"]),
                _ids("errors fixed", cmp.fixed_errors, c["success"]),
            ]
    lines += [_ids("added in B", cmp.added), _ids("removed in B", cmp.removed)]
    return Text("\n").join(lines)


def _describe(tag: str, r: RunRecord) -> Text:
    return Text.assemble(
        (f"{tag}  ", "bold"),
        f"{when_text(r)}  v{clean(r.eval_version or '?', keep_newlines=False)}  ",
        (clean(r.model, keep_newlines=False), "bold"),
        f"  {score_text(r.aggregate)}  ",
        (r.id, "dim"),
    )


def when_text(r: RunRecord) -> str:
    """When a run started, in local time as people read it (records store UTC)."""
    return r.time.astimezone().strftime("%Y-%m-%d %H:%M")
