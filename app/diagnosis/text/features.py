"""Feature claims in the text: added recently, dominant importance, known only after the prediction point."""

from __future__ import annotations

import re

from app.diagnosis.text.fragments import Facts, features_in, hedged, negated
from app.diagnosis.text.scan import Scan

__all__ = ["feature_facts"]

_I = re.IGNORECASE

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


def feature_facts(scan: Scan, s: int, e: int, out: Facts) -> None:
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
