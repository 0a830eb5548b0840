"""A sentence that states, as a fact, that information from after the prediction time reaches the model (issue 13).

The second leakage mechanism the learned reader may ground (``app.diagnosis.learned.decide.grounding_sentence``),
beside shared evaluation and training items (``shared_items``): look-ahead. Write-ups tell it in many ways, and the
set-up checks know a few: "the backtest trains on data from later years and predicts earlier ones, so it uses
information you could not have had at the time", "the ranker learns from click-throughs in the future to predict the
past", "the model was peeking at the future", "a feature only populated after the customer churned".

The sentence must name the future (future data or values, seeing or peeking at the future, look-ahead, information
that could not have been known or is not available at prediction time, a value only filled in after the outcome) and
the model's side (a feature, an input, training, a label, a window ...), stated as a fact: no negation of the leak, no
question, no condition or advice. "In the future we will retrain monthly" names no future data. Like the shared-items
sentence it is evidence only where the reader also reads leakage.
"""

from __future__ import annotations

import re

__all__ = ["future_information_sentence"]

_I = re.IGNORECASE
_FUTURE = re.compile(
    r"\b(?:from\s+the\s+future|future\s+(?:data|values?|information|prices?|rows?|observations?|events?|labels?|"
    r"records?|timestamps?|days?|dates?)|(?:see|sees|seeing|saw|peek\w*|look\w*)\s+(?:at\s+|into\s+)?the\s+future|"
    r"in\s+the\s+future\s+to\s+predict|look-?ahead|(?:could|would|can|will)\s*(?:not|n't|never)\s+(?:have\s+)?"
    r"(?:had|known|be\s+known|be\s+available)|not\s+(?:yet\s+)?(?:available|known)\s+at\s+(?:prediction|inference|"
    r"scoring|forecast)\s+time|only\s+(?:populated|filled|known|available|recorded)\s+after)", _I)
_MODEL_SIDE = re.compile(
    r"\b(?:feature\w*|input\w*|column\w*|train\w*|fit\w*|learn\w*|model\w*|encod\w*|lag\w*|window\w*|label\w*|"
    r"target\w*|backtest\w*)\b", _I)
_NOT = re.compile(r"\b(?:no|not|never|without)\b[\w\s-]{0,15}(?:leak|future|look-?ahead)", _I)
_UNSURE = re.compile(r"\b(?:should|must|whether|if)\b", _I)
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")


def _states_future(sentence: str) -> bool:
    s = sentence.strip()
    return bool(s and not s.endswith("?") and _FUTURE.search(s) and _MODEL_SIDE.search(s)
                and not _NOT.search(s) and not _UNSURE.search(s))


def future_information_sentence(text: str) -> str | None:
    """The first sentence of ``text`` that states information from after the prediction time reaches the model
    (module docstring), or None.

    >>> future_information_sentence("Monthly spend is a feature, so the model was peeking at the future.")
    'Monthly spend is a feature, so the model was peeking at the future.'
    >>> future_information_sentence("In the future we will retrain the model every month.") is None
    True
    >>> future_information_sentence("We checked: no future data leaks into the lag features.") is None
    True
    """
    for sentence in _SENTENCE.split(text or ""):
        if _states_future(sentence):
            return sentence.strip()
    return None
