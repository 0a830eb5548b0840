"""Concerns in the text: a category named (hedged or not), an observed symptom, or a complaint naming none."""

from __future__ import annotations

import re

from app.diagnosis.text.fragments import Facts, hedged, negated
from app.diagnosis.text.scan import Scan
from app.diagnosis.text.symptoms import DISCOVERY, SYMPTOMS

__all__ = ["CONCERN_PATTERNS", "complaint_facts", "concern_facts"]

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


def concern_facts(scan: Scan, s: int, e: int, out: Facts) -> None:
    seg = scan.masked[s:e]
    for cat, pat in CONCERN_PATTERNS.items():
        m = pat.search(seg)
        if not m:
            continue
        if not re.match(r"(?:not|never|didn|doesn|won)", m.group(0), _I) and negated(scan.masked, s, s + m.start()):
            continue
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
            and re.search(r"\b(?:loss|gradients?)\b", seg, _I)
            and re.search(r"nan|null", m.group(0), _I)
        ):
            continue  # "loss goes to NaN" is a training failure, not missing data
        out.concerns[cat] = {"hedged": False, "quote": scan.quote(s, e), "finding": True}


_COMPLAINT = re.compile(
    r"\b(?:fail\w*|problems?|issues?|bad|poor\w*|wrong|broken|bug\w*|stuck|plateau\w*|"
    r"disappoint\w*|worse|underperform\w*|(?:does|did|do)\s*n[o']t\s+help|not\s+help\w*|"
    r"can'?t\s+(?:get|reach|exceed)|cannot\s+(?:get|reach|exceed))\b",
    re.IGNORECASE,
)


def complaint_facts(scan: Scan, s: int, e: int, out: Facts) -> None:
    """A reported problem naming no category: an 'unknown' concern (it only keeps the gate from CLEAR)."""
    m = _COMPLAINT.search(scan.masked, s, e)
    if m and "unknown" not in out.concerns and not negated(scan.masked, s, m.start()):
        out.concerns["unknown"] = {"hedged": False, "quote": scan.quote(s, e)}
