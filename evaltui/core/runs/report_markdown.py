"""The pull-request report as Markdown, ready to paste into a pull request."""

from __future__ import annotations

from collections.abc import Sequence

from evaltui.core.formatting import points, score_text, signed, whole_percent
from evaltui.core.runs.report_model import EvalReport, Report
from evaltui.core.textsafe import clean, one_line

LIST_LIMIT = 10  # case ids shown per list in markdown

# The reviewer's question is "did the metric move, or did the system get worse?", so each changed
# eval leads with the two lines of the PR description: the baseline across the eval change
# ("Baseline: 67% → 61% (3 new hard cases)") and this PR's system across it ("This PR: 63% → 65%").


def _ids(ids: Sequence[str]) -> str:
    shown = ", ".join(f"`{clean(i, keep_newlines=False).replace('`', '')}`" for i in ids[:LIST_LIMIT])
    return shown + (f" and {len(ids) - LIST_LIMIT} more" if len(ids) > LIST_LIMIT else "")


def _p(p: float) -> str:
    if p >= 1.0:
        return "1.0"
    return f"{p:.2g}" if p >= 0.001 else "< 0.001"


def to_markdown(report: Report) -> str:
    """The report as Markdown, ready to paste into a pull request."""
    head = f"`{report.head_sha[:7]}`" if report.head_sha else "the working tree"
    base = f"`{report.base_sha[:7]}`"
    if not report.base_sha.startswith(report.base):
        base += f" ({clean(report.base, keep_newlines=False)})"
    out = [f"### Eval report: {base} → {head}", ""]
    if not report.evals:
        out.append("No runnable evals.")
    for row in report.evals:
        out += [*_eval_markdown(row, report.models), ""]
    tail = f"{report.ran} run{'s' * (report.ran != 1)} for this report, {report.reused} reused from recorded runs."
    if len(report.models) >= 2:
        tail += f" Baseline: {report.models[0]}; this PR: {report.models[1]}."
    out.append(f"<sub>evaltui: {tail}</sub>")
    for problem in report.failed:
        out.append(f"\n> failed: {one_line(problem, 200)}")
    return "\n".join(out).rstrip() + "\n"


def _role(i: int) -> str:
    return ("Baseline", "This PR")[i] if i < 2 else ""


def _lead(row: EvalReport, chosen: Sequence[str]) -> list[str]:
    """`- Baseline: 67% → 61% (3 new hard cases)` and `- This PR: 63% → 65%` for a changed eval."""
    lines = []
    for i, m in enumerate(chosen[:2]):
        b, h = row.scores.get(m, (None, None))
        extra = []
        if row.hard_added.get(m):
            n = row.hard_added[m]
            extra.append(f"{n} new hard case{'s' * (n != 1)}")
        lines.append(
            f"- {_role(i)}: {whole_percent(b)} → {whole_percent(h)}" + (f" ({', '.join(extra)})" if extra else "")
        )
    return lines


def _gate(row: EvalReport, chosen: Sequence[str]) -> str | None:
    """`- Threshold 0.6: baseline ✓ → ✓ · candidate ✓ → ✗ below` (✓ meets, ✗ below, – no score)."""
    if row.threshold is None:
        return None
    mark = {True: "✓", False: "✗", None: "–"}
    parts = []
    for m in chosen:
        b, h = row.passed(m)
        parts.append(f"{m} {mark[b]} → {mark[h]}" if row.changed else f"{m} {mark[h]}")
    failing = [m for m in chosen if row.passed(m)[1] is False]
    below = f" — below at head: {', '.join(failing)}" if failing else ""
    return f"- Threshold {row.threshold:g}: " + " · ".join(parts) + below


def _eval_markdown(row: EvalReport, chosen: Sequence[str]) -> list[str]:
    lines = []
    if row.changed:
        version = (
            f"{row.base_version or '—'} → {row.head_version or '—'}"
            if row.base_version != row.head_version
            else row.head_version or "—"
        )
        if not row.exists[0]:
            what = "(new)"
        elif not row.exists[1]:
            what = "(removed)"
        elif row.base_version == row.head_version:
            what = "(files changed without a version bump)"
        else:
            what = f"({one_line(row.why, 120)})" if row.why else "(no reason given)"
        lines.append(f"**Eval change: {row.eval} {version}** {what}")
        if len(chosen) >= 2:
            lines += _lead(row, chosen)
        parts = []
        for m in chosen:
            b, h = row.scores.get(m, (None, None))
            delta = points(b, h)
            parts.append(f"{m} {score_text(b)} → {score_text(h)}" + (f" ({delta})" if delta else ""))
        lines.append("- Exact: " + " · ".join(parts))
    else:
        parts = []
        first = row.scores.get(chosen[0], (None, None))[1] if chosen else None
        for i, m in enumerate(chosen):
            h = row.scores.get(m, (None, None))[1]
            delta = points(first, h) if i else None
            parts.append(f"{m}: {score_text(h)}" + (f" ({delta})" if delta else ""))
        lines.append(f"**{row.eval} {row.head_version or '—'}** (unchanged) — " + " · ".join(parts))
        if row.system_before is not None and len(chosen) >= 2:
            before, _ = row.system_before
            now = row.scores.get(chosen[1], (None, None))[1]
            if before is None:
                lines.append(
                    f"- This PR changes {chosen[1]}: no recorded run of it as it was at base on "
                    f"{row.eval} {row.head_version or ''}".rstrip()
                    + "; record one on the base branch "
                    f"(`evaltui run {row.eval} -m {chosen[1]}`) to see before → after"
                )
            else:
                delta = points(before, now)
                lines.append(
                    f"- This PR at the same eval version ({row.head_version or '—'}): "
                    f"{whole_percent(before)} → {whole_percent(now)}" + (f" ({delta} points)" if delta else "")
                )
    gate = _gate(row, chosen)
    if gate:
        lines.append(gate)
    if row.changed and (row.cases_added or row.cases_removed or row.cases_changed):
        lines.append(
            f"- Cases: {len(row.cases_added)} added, {len(row.cases_removed)} removed, {len(row.cases_changed)} changed"
        )
    if row.changed and row.exists == (True, True):
        for m in chosen:
            to_fail, to_pass = row.flips.get(m, ((), ()))
            if to_fail or to_pass:
                bits = [
                    f"{len(to_fail)} to fail" + (f" ({_ids(to_fail)})" if to_fail else ""),
                    f"{len(to_pass)} to pass" + (f" ({_ids(to_pass)})" if to_pass else ""),
                ]
                span = (
                    f"from {row.base_version} to {row.head_version}"
                    if row.base_version != row.head_version
                    else "from base to head"
                )
                lines.append(f"- Flips of {m} {span} on shared cases: " + ", ".join(bits))
    if row.test is not None and len(chosen) >= 2:
        t = row.test
        on = f" on {row.head_version}" if row.head_version else ""
        if t.kind == "mcnemar":
            lines.append(
                f"- {chosen[1]} vs {chosen[0]}{on}: {signed(t.mean_diff * 100)} points, exact McNemar "
                f"p = {_p(t.p_value)} ({t.worse} worse, {t.better} better of {t.n} paired cases)"
            )
        else:
            lines.append(
                f"- {chosen[1]} vs {chosen[0]}{on}: mean difference {signed(t.mean_diff, 3)}, "
                f"{(t.confidence or 0) * 100:.0f}% interval [{t.low:.3g}, {t.high:.3g}], paired bootstrap "
                f"p = {_p(t.p_value)} ({t.resamples} resamples, seed {t.seed}, {t.n} cases)"
            )
    for note in row.notes:
        lines.append(f"- Note: {one_line(note, 200)}")
    return lines
