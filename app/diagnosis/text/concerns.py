"""Concerns in the text: a category named (hedged or not), an observed symptom, or a complaint naming none."""

from __future__ import annotations

import re

from app.diagnosis.text.fragments import Facts, hedged, negated
from app.diagnosis.text.safeguards import describes_no_leak
from app.diagnosis.text.scan import Scan
from app.diagnosis.text.symptoms import DISCOVERY, SYMPTOMS
from app.diagnosis.text.training import VAL_LOSS_DIVERGES

__all__ = ["COMPLAINT", "CONCERN_PATTERNS", "complaint_facts", "concern_facts"]

_I = re.IGNORECASE

CONCERN_PATTERNS: dict[str, re.Pattern[str]] = {
    k: re.compile(v, _I)
    for k, v in {
        "data_leakage": r"\bleak\w*|contaminat\w*|look-?ahead",
        "overfitting": r"over-?fit\w*|memori[sz]\w*",
        "underfitting": r"under-?fit\w*|high bias|too simple",
        "class_imbalance": r"\bimbalanc\w*|\bunbalanced|skewed class\w*|rare class\w*",
        "data_drift": r"\bdrift\w*|distribution shift|dataset shift|covariate shift|concept shift|data shift",
        "label_noise": r"label noise|noisy labels?|mislabel\w*|annotation (?:errors?|noise)|wrong labels?",
        "data_quality": r"data quality|missing values?|corrupt\w*|dirty data|bad data|schema (?:errors?|changes?)",
        "training_instability": r"unstable|instabilit\w*|exploding gradients?|vanishing gradients?|"
        r"(?:not|never|didn'?t|doesn'?t|won'?t) converg\w*|non-?converg\w*",
        "evaluation_error": r"evaluation (?:bug|error|mistake)s?|wrong metric|metric bug|data snooping|"
        r"test set (?:is )?too small|test[- ]set reuse",
    }.items()
}
"""A category named in the text, hedged or not: "I worry about leakage", "it overfits" (one pattern per category)."""

# a concern whose match is itself a negation ("did not converge") is not negated by the words before it
_NEGATED_WORD = re.compile(r"(?:not|never|didn|doesn|won)", _I)
_TRAINING_SIGNAL = re.compile(r"\b(?:loss|gradients?)\b", _I)
_NAN_OR_NULL = re.compile(r"nan|null", _I)


def concern_facts(scan: Scan, s: int, e: int, out: Facts) -> None:
    """Categories named in one sentence (hedged or stated) and the symptoms observed (findings).

    >>> all(CONCERN_PATTERNS[c].search(x) for c, x in [("data_leakage", "I worry about leakage"),
    ...     ("overfitting", "it overfits"), ("underfitting", "the model is too simple"),
    ...     ("class_imbalance", "a heavily imbalanced dataset"), ("data_drift", "a covariate shift in March"),
    ...     ("label_noise", "we have noisy labels"), ("data_quality", "lots of missing values"),
    ...     ("training_instability", "the loss did not converge"), ("evaluation_error", "we found a metric bug")])
    True
    """
    seg = scan.masked[s:e]
    for cat, pat in CONCERN_PATTERNS.items():
        m = pat.search(seg)
        if not m:
            continue
        if not _NEGATED_WORD.match(m.group(0)) and negated(scan.masked, s, s + m.start()):
            continue
        if cat == "data_leakage" and describes_no_leak(seg):
            continue  # "the leak ... was fixed last week", "leakage happens when ...": no leak in this experiment
        is_hedged = hedged(seg)
        prev = out.concerns.get(cat)
        if prev is None or (prev["hedged"] and not is_hedged):
            found = not is_hedged and cat != "data_leakage" and bool(DISCOVERY.search(seg))
            out.concerns[cat] = {"hedged": is_hedged, "quote": scan.quote(s, e), "finding": found}
    if hedged(seg):
        return
    for cat, pat in SYMPTOMS.items():
        m = pat.search(seg)
        if not m or negated(scan.masked, s, s + m.start()):
            continue
        if (
            cat == "data_quality"
            and _TRAINING_SIGNAL.search(seg)
            and _NAN_OR_NULL.search(m.group(0))
        ):
            continue  # "loss goes to NaN" is a training failure, not missing data
        if cat == "training_instability" and m.group(0).lower().startswith("diverg") and VAL_LOSS_DIVERGES.search(seg):
            continue  # "the validation loss diverges": the held-out curve turning up (overfitting), not a blow-up
        out.concerns[cat] = {"hedged": False, "quote": scan.quote(s, e), "finding": True}


COMPLAINT = re.compile(
    r"\b(?:fail\w*|problems?|issues?|bad|poor\w*|wrong|broken|bug\w*|stuck|plateau\w*|"
    r"disappoint\w*|worse|underperform\w*|(?:does|did|do)\s*n[o']t\s+help|not\s+help\w*|"
    r"can'?t\s+(?:get|reach|exceed)|cannot\s+(?:get|reach|exceed)|terribl\w*|awful|horribl\w*|useless|"
    r"what(?:'s|\s+is)\s+going\s+on|what\s+went\s+wrong|(?:very|extremely|really|surprisingly)\s+"
    r"(?:low|poor|bad)\s+(?:on|for|in)\s+(?:the\s+)?(?:held[- ]out|validation|val|test|dev|unseen)|"
    r"(?:held[- ]out|validation|val|test|dev)\s+\w+\s+(?:\w+\s+)?(?:is|was|are|were)\s+"
    r"(?:very|extremely|really)\s+(?:low|poor|bad))\b",
    re.IGNORECASE,
)
"""A reported problem that names no category: "the model is broken", "more data did not help"."""


def complaint_facts(scan: Scan, s: int, e: int, out: Facts) -> None:
    """A reported problem naming no category: an 'unknown' concern (it only keeps the gate from CLEAR).

    >>> COMPLAINT.search("the model is broken").group(0), COMPLAINT.search("more data did not help").group(0)
    ('broken', 'did not help')
    >>> COMPLAINT.search("accuracy on the held-out images is very low. What is going on?").group(0)
    'held-out images is very low'
    >>> COMPLAINT.search("Training looks fine. What is going on?").group(0)
    'What is going on'
    >>> COMPLAINT.search("validation accuracy is very low").group(0), COMPLAINT.search("a very low loss") is None
    ('validation accuracy is very low', True)
    """
    m = COMPLAINT.search(scan.masked, s, e)
    if m and "unknown" not in out.concerns and not negated(scan.masked, s, m.start()):
        out.concerns["unknown"] = {"hedged": False, "quote": scan.quote(s, e)}
