"""A handoff brief as Markdown: a summary, a to-do list, then one section per eval changing hands."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from evaltui.core.errors import Problem
from evaltui.core.registry.model import Registry
from evaltui.core.team.ownership import local_time, zoned_text
from evaltui.core.textsafe import clean

if TYPE_CHECKING:
    from evaltui.core.history import Entry
    from evaltui.core.team.handoff import Brief, EvalBrief


def render_markdown(brief: Brief, registry: Registry) -> str:
    """The brief as markdown: a summary, a to-do list, then one section per eval."""
    when = zoned_text(registry, brief.at)
    n = len(brief.evals)
    out = [f"# Handoff brief for {brief.member}", ""]
    ends = sorted({b.until for b in brief.evals if b.until})
    until = f", until {zoned_text(registry, ends[0])}" if len(ends) == 1 else ""
    out.append(
        f"From **{when}** you own {n} more eval{'s' * (n != 1)}{until}. "
        "Here is what changed while someone else looked after "
        f"{'them' if n != 1 else 'it'}, and what needs you first."
    )
    out += ["", "## At a glance", ""]
    for b in brief.evals:
        flags = [
            f
            for f in (
                _count(len(b.problems), "open problem"),
                _count(len(b.silent), "unacknowledged silent change"),
                _count(len(b.gaps), "blind spot"),
                _count(len(b.notes), "open note"),
            )
            if f
        ]
        version = f" v{b.version}" if b.version else ""
        out.append(
            f"- **{b.eval}**{version} from {b.outgoing or 'nobody'}"
            + (f" — {', '.join(flags)}" if flags else " — nothing outstanding")
        )
    out += ["", "## Start here", ""]
    todo = _todo(brief)
    out += [f"{i}. {item}" for i, item in enumerate(todo, 1)] or [
        "Nothing urgent: no open problems, unacknowledged silent changes, blind spots or stale scores."
    ]
    for b in brief.evals:
        out += ["", *_section(b, registry)]
    if brief.keeps:
        out += ["", "## You also keep", ""]
        for a in brief.keeps:
            span = f" until {zoned_text(registry, a.end)}" if a.end else ""
            out.append(f"- {a.eval} ({a.reason}{span})")
            out += [f"  - {_problem(p)}" for p in brief.keep_problems if p.eval == a.eval]
    if brief.caveats:
        out += ["", "## Caveats", ""] + [f"- {clean(c, keep_newlines=False)}" for c in brief.caveats]
    return "\n".join(out) + "\n"


def _problem(p: Problem) -> str:
    return f"{p.severity} `{p.code}`: {clean(p.message, keep_newlines=False)}"


def _todo(brief: Brief) -> list[str]:
    items = []
    for away in brief.pinned_away:
        items.append(
            f"**{away.eval}** is pinned to {away.member}, who is away {away.start:%d %b} – "
            f"{away.end:%d %b %Y}: nobody looks after it then. Add a `[[rotation.overrides]]` for those "
            f"dates or move the pin."
        )
    for b in brief.evals:
        for p in b.problems:
            items.append(f"**{b.eval}**: {clean(p.message, keep_newlines=False)} (`{p.code}`)")
    for p in brief.keep_problems:
        items.append(f"**{p.eval}** (yours already): {clean(p.message, keep_newlines=False)} (`{p.code}`)")
    for b in brief.evals:
        for e in b.silent:
            items.append(
                f"Review the silent change to **{b.eval}** in `{e.commit[:8]}` "
                f'("{_subject(e)}"). If it does not change what the eval measures, acknowledge it: '
                f'`evaltui note {b.eval} "why it is harmless" --commit {e.commit[:12]} --kind non-semantic`; '
                "otherwise bump the version with a `why`."
            )
        for mode in b.gaps:
            items.append(
                f"**{b.eval}** claims to cover `{mode}` but has no case for it: "
                f"`evaltui add-case {b.eval} --input ... --reference ... --tag {mode}`."
            )
        stale = [r for r in b.scores if b.version and r.eval_version and r.eval_version != b.version]
        if stale and b.runnable:
            items.append(
                f"Run **{b.eval}** on the current version ({b.version}): the latest scores are for "
                f"{', '.join(sorted({r.eval_version for r in stale if r.eval_version}))}. `evaltui run {b.eval}`"
            )
        for note in b.notes:
            if note.kind in ("regression", "handoff"):
                items.append(
                    f'Read {note.author}\'s {note.kind} note on **{b.eval}**: "{clean(note.text, keep_newlines=False)}"'
                )
    never = [b.eval for b in brief.evals if b.runnable and not b.scores]
    if never:
        items.append(
            f"Get a baseline: {_names(never)} {'has' if len(never) == 1 else 'have'} no recorded runs. "
            f"`evaltui run {' '.join(never)}`"
        )
    return items


def _names(names: list[str]) -> str:
    bold = [f"**{n}**" for n in names]
    return bold[0] if len(bold) == 1 else ", ".join(bold[:-1]) + " and " + bold[-1]


def _section(b: EvalBrief, registry: Registry) -> list[str]:
    out = [f"## {b.eval}", ""]
    if b.description:
        out += [clean(b.description, keep_newlines=False), ""]
    version = b.version or (f"unreadable ({b.version_error})" if b.version_error else "none declared")
    out.append(
        f"- **Version:** {version}" + (f" — valid for {clean(b.valid_for, keep_newlines=False)}" if b.valid_for else "")
    )
    if b.covers:
        out.append(f"- **Covers:** {', '.join(b.covers)}")
    since = f" (theirs since {zoned_text(registry, b.since)})" if b.since else ""
    out.append(f"- **Handed over by:** {b.outgoing or 'nobody'}{since}")
    if b.reason == "cover":
        why = b.detail  # already says whom you cover for
    else:
        why = {"rotation": "your turn in the rotation", "override": "an override", "pin": "it is pinned to you"}.get(
            b.reason, b.reason
        ) + (f" ({b.detail})" if b.detail else "")
    out.append(f"- **Why you:** {why}" + (f"; you hand it on {zoned_text(registry, b.until)}" if b.until else ""))
    a = b.authorship
    if a is not None and a.creator:
        commits = sum(c for _, c in a.authors)
        out.append(
            f"- **Attachment:** created by {a.creator}; main author {a.main_author} "
            f"({a.main_share:.0%} of {commits} commit{'s' * (commits != 1)})"
        )
    label = f"since the previous handoff ({_date(registry, b.since)})" if b.since else "so far"
    out += ["", f"### Changes {label}", ""]
    if b.changes:
        for e in b.changes:
            out.append(_entry_line(e, registry))
    else:
        last = b.all_entries[0] if b.all_entries else None
        out.append(
            "No commits touched it."
            + (
                f" The last change was {_date(registry, last.date)}, "
                f"{clean(last.member or last.author, keep_newlines=False)}: "
                f'"{_subject(last)}".'
                if last
                else ""
            )
        )
    if b.problems:
        out += ["", "### Open problems", ""]
        out += [f"- {_problem(p)}" for p in b.problems]
    if b.silent:
        out += ["", "### Unacknowledged silent changes", ""]
        out += [_entry_line(e, registry) for e in b.silent]
    out += ["", "### Open notes", ""]
    if b.notes:
        for n in b.notes:
            on = f" on `{n.commit[:8]}`" if n.commit else (f" on v{n.version}" if n.version else "")
            out.append(
                f"- {_date(registry, n.time)} {clean(n.author, keep_newlines=False)} "
                f"({n.kind}{on}): {clean(n.text, keep_newlines=False)}"
            )
    else:
        out.append("None.")
    if b.coverage:
        out += ["", "### Coverage", ""]
        for c in b.coverage:
            if c.count is None:
                text = "declared; its cases live in another harness"
            elif not c.count:
                text = "**no case carries its tags: a blind spot**"
            else:
                text = (
                    f"{c.count} case{'s' * (c.count != 1)}"
                    + {
                        True: f"; {', '.join(c.failing_models)} fail{'s' * (len(c.failing_models) == 1)} some of them",
                        False: "; every model passes them all (too easy to tell models apart?)",
                        None: "; no per-case run results yet",
                    }[c.discriminates]
                )
            out.append(f"- `{c.mode}`: {text}")
    out += ["", "### Latest scores", ""]
    if b.scores:
        out += ["| model | score | eval version | when |", "| --- | --- | --- | --- |"]
        for r in b.scores:
            score = f"{r.aggregate:.3g}" if r.aggregate is not None else "?"
            stale = " (older version)" if b.version and r.eval_version and r.eval_version != b.version else ""
            out.append(
                f"| {clean(r.model, keep_newlines=False)} | {score} | {r.eval_version or '?'}{stale} | "
                f"{_date(registry, r.time) if r.time else '?'} |"
            )
    else:
        out.append("No recorded runs.")
    return out


def _entry_line(e: Entry, registry: Registry) -> str:
    change = e.kind
    if e.kind == "bump":
        change = f"bump {e.previous_version or '?'} → {e.version or '?'}"
    why = f" — why: {clean(e.why, keep_newlines=False)}" if e.why else (" — no `why` given" if e.kind == "bump" else "")
    who = clean(e.member or e.author, keep_newlines=False)
    return f'- {_date(registry, e.date)} `{e.commit[:8]}` **{change}** by {who}: "{_subject(e)}"{why}'


def _subject(e: Entry) -> str:
    return clean(e.subject, keep_newlines=False).replace('"', "'")


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'s' * (n != 1)}" if n else ""


def _date(registry: Registry, when: dt.datetime | None) -> str:
    return f"{local_time(registry, when):%Y-%m-%d}" if when else "?"
