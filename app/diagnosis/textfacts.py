"""Pattern facts in free text: class ratios, data checks, evaluation set-up, feature claims and concerns."""

from __future__ import annotations

import re

from app.diagnosis.textbase import Facts, features_in, hedged, negated
from app.diagnosis.textchecks import class_facts, data_checks, model_facts, task_facts
from app.diagnosis.textscan import Scan
from app.diagnosis.textsetup import setup_facts, training_facts
from app.diagnosis.textsymptoms import DISCOVERY, SYMPTOMS

__all__ = ["CONCERN_PATTERNS", "Facts", "extract_facts"]

_I = re.IGNORECASE

AI_SERVICE = re.compile(
    r"azure openai|azure ai\b|cognitive services|document intelligence|form recognizer|"
    r"custom vision|azure (?:ai )?(?:vision|language|speech) (?:service|api)|azure ai search|"
    r"openai service",
    _I,
)

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


_FUTURE = re.compile(
    r"future|after the (?:outcome|event|label|fact|target|prediction|decision)|only (?:known|available|computed|"
    r"populated|recorded) after|post[- ](?:outcome|event|hoc|treatment|label)|target information|(?:leak|encod|contain|"
    r"includ|reveal|prox)\w*\s+(?:\w+\s+){0,3}?(?:the\s+)?(?:target|label|outcome|answer)|derived from the (?:target|"
    r"label|outcome)|computed (?:after|from the (?:target|label))|(?:not|un)\s*available (?:at|before) (?:prediction|"
    r"inference|scoring) time|"
    r"after (?:a|an|the) (?:\w+ ){0,2}?(?:happens|occurs|occurred|happened|is (?:known|observed|recorded|confirmed))|"
    r"(?:filled in|populated|updated|set|written)\s+(?:\w+\s+){0,4}?after\b",
    _I,
)
_ADDED = re.compile(
    r"(?:after|since|when|once|by)\s+(?:we\s+)?(?:adding|added|add|including|included|introducing|"
    r"introduced|engineering|engineered|using)\s+(?:the\s+|a\s+)?(?:new\s+)?(?:feature\s+|column\s+)?"
    r"\u0192(\d+)|(?:adding|added|including|introducing)\s+(?:the\s+)?(?:new\s+)?(?:feature\s+|column\s+)?\u0192(\d+)",
    _I,
)


def _feature_facts(scan: Scan, s: int, e: int, out: Facts) -> None:
    seg = scan.masked[s:e]
    feats = features_in(scan, s, e)
    if not feats and re.search(r"\b(?:the|this|that|new)\s+(?:feature|column|variable|field)\b|\bit\b", seg, _I):
        earlier = [i for i, (fs, _) in enumerate(scan.feature_spans) if fs < s]
        feats = [scan.features[earlier[-1]]] if earlier else []  # "the feature" refers to the last one named
    for m in _ADDED.finditer(seg):
        name = scan.features[int(m.group(1) or m.group(2))]
        out.feature_flags.setdefault(name, {})["added_recently"] = True
    if feats and re.search(
        r"\btop\s+(?:\w+\s+)?feature|most important|highest (?:feature\s+)?importance|dominat\w*|"
        r"strongest (?:feature|predictor)",
        seg,
        _I,
    ):
        for name in feats:
            out.feature_flags.setdefault(name, {})["dominant"] = True
    m = _FUTURE.search(seg)
    if m and feats and not negated(scan.masked, s, s + m.start()):
        for name in feats:
            flags = out.feature_flags.setdefault(name, {})
            if hedged(seg):
                flags["suspected_leak"] = True
            else:
                flags["available_at_prediction_time"] = False
            flags["description"] = scan.quote(s, e)


def _concern_facts(scan: Scan, s: int, e: int, out: Facts) -> None:
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


def _complaint(scan: Scan, s: int, e: int, out: Facts) -> None:
    """A reported problem naming no category: an 'unknown' concern (it only keeps the gate from CLEAR)."""
    m = _COMPLAINT.search(scan.masked, s, e)
    if m and "unknown" not in out.concerns and not negated(scan.masked, s, m.start()):
        out.concerns["unknown"] = {"hedged": False, "quote": scan.quote(s, e)}


def extract_facts(scan: Scan, sentences: list[tuple[int, int]]) -> Facts:
    """Run every pattern over every sentence; numbers used here are not read again as metric values."""
    out = Facts()
    for s, e in sentences:
        task_facts(scan, s, e, out)
        class_facts(scan, s, e, out)
        data_checks(scan, s, e, out)
        model_facts(scan, s, e, out)
        training_facts(scan, s, e, out)
        setup_facts(scan, s, e, out, scan.masked)
        _feature_facts(scan, s, e, out)
        _concern_facts(scan, s, e, out)
        _complaint(scan, s, e, out)
    if AI_SERVICE.search(scan.masked):
        out.values["platform"] = "azure_ai_service"
        out.provenance["platform"] = f'prompt: "{AI_SERVICE.search(scan.masked).group(0)}"'  # type: ignore[union-attr]
    return out
