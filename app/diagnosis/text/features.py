"""Feature claims in the text: added recently, dominant importance, known only after the prediction point."""

from __future__ import annotations

import re

from app.diagnosis.text.fragments import Facts, features_in, hedged, negated
from app.diagnosis.text.safeguards import REMOVED, describes_no_leak
from app.diagnosis.text.scan import Scan

__all__ = ["ADDED_FEATURE", "DOMINANT", "FEATURE_REFERENCE", "KNOWN_ONLY_AFTER", "feature_facts"]

_I = re.IGNORECASE

KNOWN_ONLY_AFTER = re.compile(
    r"future|after the (?:outcome|event|label|fact|target|prediction|decision)|only (?:known|available|computed|"
    r"populated|recorded) after|post[- ](?:outcome|event|hoc|treatment|label)|target information|(?:leak|encod|contain|"
    r"includ|reveal|prox)\w*\s+(?:\w+\s+){0,3}?(?:the\s+)?(?:target|label|outcome|answer)|derived from the (?:target|"
    r"label|outcome)|computed (?:after|from the (?:target|label))|(?:not|un)\s*available (?:at|before) (?:prediction|"
    r"inference|scoring) time|"
    r"after (?:a|an|the) (?:\w+ ){0,2}?(?:happens|occurs|occurred|happened|is (?:known|observed|recorded|confirmed))|"
    r"(?:filled in|populated|entered)\s+(?:\w+\s+){0,7}?after\b|(?:updated|set|written)\s+(?:\w+\s+){0,4}?after\b",
    _I,
)
"""A feature known only after the prediction point: "populated after the claim is settled", "future information"."""

ADDED_FEATURE = re.compile(
    r"(?:after|since|when|once|by)\s+(?:we\s+)?(?:adding|added|add|including|included|introducing|"
    r"introduced|engineering|engineered|using)\s+(?:the\s+|a\s+)?(?:new\s+)?(?:feature\s+|column\s+)?"
    r"\u0192(\d+)|(?:adding|added|including|introducing)\s+(?:the\s+)?(?:new\s+)?(?:feature\s+|column\s+)?\u0192(\d+)",
    _I,
)
"""A feature added recently (masked as a placeholder): "after adding \u01920___ accuracy jumped" (group 1 or 2)."""

FEATURE_REFERENCE = re.compile(r"\b(?:the|this|that|new)\s+(?:feature|column|variable|field)\b|\bit\b", _I)
"""A reference to the last feature named: "the new column", "it"."""

DOMINANT = re.compile(
    r"\btop\s+(?:\w+\s+)?feature|most important|highest (?:feature\s+)?importance|dominat\w*|"
    r"strongest (?:feature|predictor)",
    _I,
)
"""A feature that dominates the importances: "it is the top SHAP feature", "dominates the model"."""


def feature_facts(scan: Scan, s: int, e: int, out: Facts) -> None:
    """Flags per feature: added recently, dominant, or known only after the prediction (stated or suspected).

    >>> KNOWN_ONLY_AFTER.search("it is only populated after the claim is settled").group(0)
    'only populated after'
    >>> ADDED_FEATURE.search("after adding \u01920___ accuracy jumped").group(1)
    '0'
    >>> FEATURE_REFERENCE.search("the new column looks odd").group(0), DOMINANT.search("the top SHAP feature").group(0)
    ('new column', 'top SHAP feature')
    >>> from app.diagnosis.text.scan import scan as scan_text
    >>> facts, sc = Facts(), scan_text("After adding `days_to_renewal` it became the top feature; it is future data.")
    >>> feature_facts(sc, 0, len(sc.masked), facts)
    >>> flags = facts.feature_flags["days_to_renewal"]
    >>> flags["available_at_prediction_time"], sorted(flags)
    (False, ['added_recently', 'available_at_prediction_time', 'description', 'dominant'])
    """
    seg = scan.masked[s:e]
    feats = features_in(scan, s, e)
    if not feats and FEATURE_REFERENCE.search(seg):
        earlier = [i for i, (fs, _) in enumerate(scan.feature_spans) if fs < s]
        feats = [scan.features[earlier[-1]]] if earlier else []  # "the feature" refers to the last one named
    for added in ADDED_FEATURE.finditer(seg):
        name = scan.features[int(added.group(1) or added.group(2))]
        out.feature_flags.setdefault(name, {})["added_recently"] = True
    if feats and DOMINANT.search(seg):
        for name in feats:
            out.feature_flags.setdefault(name, {})["dominant"] = True
    if feats and REMOVED.search(seg) and describes_no_leak(seg):  # "... and removed it before these runs"
        for name in feats:
            out.feature_flags.setdefault(name, {})["removed"] = True
    after = KNOWN_ONLY_AFTER.search(seg)
    if after and feats and not negated(scan.masked, s, s + after.start()):
        for name in feats:
            flags = out.feature_flags.setdefault(name, {})
            if hedged(seg):
                flags["suspected_leak"] = True
            else:
                flags["available_at_prediction_time"] = False
            flags["description"] = scan.quote(s, e)
