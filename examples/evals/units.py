"""Unit conversion: is the first number in the answer within a relative tolerance? (a per-case scorer)"""

import math
import re

import evaltui

NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


@evaltui.scorer
def within_tolerance(prediction, reference, rel_tol=0.005, **params):
    """True when the first number in the prediction is within `rel_tol` of the reference."""
    match = NUMBER.search(prediction)
    if match is None:
        return False
    return math.isclose(float(match.group()), float(reference), rel_tol=rel_tol)
