"""FAQ accuracy: does the answer contain the reference phrase? (an aggregate metric)"""

import evaltui


def normalise(text):
    return " ".join(text.lower().replace("`", "").split())


# The version lives next to the code it describes; evaltui reads it without importing this file.
@evaltui.version("1.0", valid_for="one-line questions about evaltui's concepts, in English")
def answer_accuracy(predictions, references):
    """Share of predictions that contain their reference phrase (case and spacing ignored)."""
    if not references:
        return 0.0
    hits = sum(normalise(ref) in normalise(pred) for pred, ref in zip(predictions, references))
    return hits / len(references)
