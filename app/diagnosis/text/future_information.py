"""A sentence that states, as a fact, that information from after the prediction time reaches the model (issue 13).

The second leakage mechanism the learned reader may ground (``app.diagnosis.learned.decide.grounding_sentence``),
beside shared evaluation and training items (``shared_items``): look-ahead. Write-ups tell it in many ways, and the
set-up checks know a few: "the backtest trains on data from later years and predicts earlier ones, so it uses
information you could not have had at the time", "the ranker learns from click-throughs in the future to predict the
past", "the model was peeking at the future", "a feature only populated after the customer churned".

The sentence must name the future reaching the model (seeing or peeking at the future, using / containing / filled
with future values, look-ahead bias, information that could not have been known or is not available at prediction
time, a value only filled in after the outcome), and the model's side (a feature, an input, training, a label, a
window ...), stated as a fact (``stated.states_fact``: no question, hedge, claim, plan, check, fix or safeguard),
without negating the leak. "We predict future prices", "a look-ahead window of 5 steps as the target" and "in the
future we will retrain monthly" name no future information in the model's inputs. Like the shared-items
sentence it is evidence only where the reader also reads leakage.
"""

from __future__ import annotations

import re

from app.diagnosis.text.safeguards import describes_no_leak
from app.diagnosis.text.stated import first_sentence, stated_part, states_fact

__all__ = ["future_information_sentence"]

_I = re.IGNORECASE
_FUTURE = re.compile(
    r"\b(?:(?:peek\w*|see|sees|seeing|saw|look\w*|cheat\w*)\s+(?:at\s+|into\s+)?the\s+future|from\s+the\s+future|"
    r"in\s+the\s+future\s+to\s+predict|(?:uses?|used|using|contains?|contained|includes?|included|leak\w*|"
    r"fill(?:s|ed)?\s+with|pull\w*|tak\w+\s+from|bak\w+\s+in\w*|sees?|saw)\s+(?:\w+\s+){0,2}?future\s+(?:values?|"
    r"data|information|prices?|rows?|observations?|events?|labels?|records?)|look-?ahead\s+(?:bias|leak\w*|data|"
    r"information|features?)|(?:could\s*(?:not|n't)|can\s*(?:not|'t)|cannot|would\s*(?:not|n't))\s+(?:have\s+)?"
    r"(?:had|know|known|be\s+known)|"
    r"(?:is|are|was|were)\s*(?:not|n't)\s+(?:yet\s+)?(?:known|available)\s+at\s+(?:prediction|inference|scoring|"
    r"forecast)\s+time|(?:only\s+(?:populated|filled(?:\s+in)?|known|available|recorded|set)|(?:populated|"
    r"filled(?:\s+in)?|recorded|set)\s+only)\s+after|"
    # filled in some time after the event: "is filled in by the billing team about a week after the patient goes home"
    r"(?:populated|filled(?:\s+in)?|entered|recorded|updated|coded|written|added)\s+(?:[\w-]+\s+){0,5}?"
    r"(?:(?:about|around|roughly|some|several|a\s+few|\d+)\s+)?(?:an?\s+)?(?:days?|weeks?|months?|hours?)\s+after\b|"
    r"(?:values?|data|information|rows?|prices?)\s+from\s+after\s+"
    r"(?:the\s+)?(?:prediction|forecast|scoring|cutoff|cut-off|decision|event|outcome)|"
    # "other users' interactions from months after that point are still in train"
    r"(?:interactions?|events?|records?|observations?|samples?|ratings?|clicks?|transactions?|purchases?)\s+from\s+"
    r"(?:(?:days|weeks|months|years)\s+)?(?:after|later\s+than)\s+(?:the\s+|that\s+|this\s+|each\s+)?"
    r"(?:prediction|forecast|scoring|cutoff|cut-off|decision|point|test\w*|moment)\b[^.;]{0,60}?\b(?:in|into|inside|"
    r"part\s+of|used\s+(?:in|for)|for)\s+(?:the\s+)?(?:train\w*|fit\w*)|"
    # "the training set still contains clicks logged after the test timestamp"
    r"train\w*\s+(?:set|data|split|rows|fold)\s+(?:still\s+|also\s+)?(?:contains?|includes?|has|holds?)\s+"
    r"[^.;]{0,40}?\b(?:logged|recorded|made|created|collected|dated|from)\s+(?:\w+\s+)?(?:after|later\s+than)\s+"
    r"(?:the\s+|each\s+|its\s+|their\s+)?(?:test\w*|cutoff|cut-off|prediction|forecast|scoring))", _I)
_MODEL_SIDE = re.compile(
    r"\b(?:feature\w*|input\w*|column\w*|train\w*|fit\w*|learn\w*|model\w*|encod\w*|lag\w*|window\w*|label\w*|"
    r"target\w*|backtest\w*)\b", _I)
_NOT = re.compile(r"\b(?:no|not|never|without)\b[\w\s-]{0,15}(?:leak|future|look-?ahead)|"
                  r"\b(?:no|not|never|without)\b[\w\s'-]{0,40}?\b(?:after|later\s+than)\b", _I)


def _states_future(sentence: str) -> bool:
    s = sentence.strip()
    m = _FUTURE.search(s)
    if not (m and _MODEL_SIDE.search(s)) or _NOT.search(s) or describes_no_leak(s):
        return False
    part = stated_part(s, m.end())  # what follows the stated clause does not take it back
    return states_fact(part[: m.start()] + " and " + part[m.end():])  # "could not have known" is the fact, not a hedge


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
    return first_sentence(text, _states_future)
