"""A tiny deterministic model for the example evals: a phrase table and a unit converter."""

from __future__ import annotations

import re

# (phrase that must appear in the lower-cased question, answer); the first match wins.
ANSWERS = [
    ("declares", "Evals are declared in evals.toml."),
    ("fails ci", "Run `evaltui check`; it exits 1 on errors."),
    ("without a version bump", "That is a silent change."),
    ("notes on evals", "In the state directory, in notes.jsonl."),
    ("merge driver", "The ours merge driver."),
    ("no eval covers", "A blind spot."),
    ("per-case", "Decorate it with @evaltui.scorer."),
    ("paired test", "McNemar's test for pass/fail, a paired bootstrap for scores."),
    ("rotation", "The cadence key."),
]

FACTORS = {
    ("km", "miles"): 0.621371,
    ("miles", "km"): 1.609344,
    ("kg", "pounds"): 2.204623,
    ("g", "ounces"): 0.035274,
    ("inches", "cm"): 2.54,
}
CONVERT = re.compile(r"convert (-?\d+(?:\.\d+)?) (\w+) to ([\w ]+?)\.?$")


def convert(value: float, source: str, target: str) -> float | None:
    if (source, target) in FACTORS:
        return value * FACTORS[(source, target)]
    if (source, target) == ("f", "c"):
        return (value - 32) * 5 / 9
    if (source, target) == ("c", "f"):
        return value * 9 / 5  # a known bug: the offset is missing (see the offset-units failure mode)
    if (source, target) == ("c", "k"):
        return value + 273.15
    return None


def answer(question: str, temperature: float = 0.0) -> str:
    """Answer one question; `temperature` is accepted like a real model's and ignored."""
    text = question.strip().lower()
    match = CONVERT.match(text)
    if match:
        value, source, target = float(match.group(1)), match.group(2), match.group(3)
        result = convert(value, source, target)
        return f"{result:.3f} {target}" if result is not None else f"I cannot convert {source} to {target}."
    for phrase, reply in ANSWERS:
        if phrase in text:
            return reply
    return "I don't know."
