"""What the text says about the model's scores and predictions: target score, stated intervals, one-class output."""

from __future__ import annotations

import re

from app.diagnosis.text.fragments import PCT, Facts, N, num
from app.diagnosis.text.scan import Scan

__all__ = ["model_facts"]

_I = re.IGNORECASE


def model_facts(scan: Scan, s: int, e: int, out: Facts) -> None:
    """Target score ("the business wanted 0.85"), stated intervals, single-class predictions."""
    t, q = scan.masked, scan.quote(s, e)
    m = re.compile(
        r"\b(?:wanted|wants|want|target(?:ed)?|goal|needs?|needed|required|requirement|expect\w*|aim\w*|"
        r"hoping for|promised)\b(?:\s+(?:of|is|was|=|:|at least|for|to reach|to hit|to get|an?|the))*\s*"
        r"(?:[a-z-]+\s+){0,2}?" + N + PCT,
        _I,
    ).search(t, s, e)
    if m and "target_score" not in out.values:
        out.put("target_score", num(m, 1, 2), q, m.start(1))
    m = re.compile(
        r"(?:\bci\b|confidence interval|bootstrap\w*|resampl\w*)[^.;]{0,70}?(?:from|between|\[|\()\s*"
        + N
        + PCT
        + r"\s*(?:to|and|,|-)\s*"
        + N
        + PCT,
        _I,
    ).search(t, s, e)
    if m:
        sp = re.search(r"\b(test|validation|val|holdout)\b", t[s:e], _I)
        split = {"val": "validation", "holdout": "test"}.get(sp.group(1).lower(), sp.group(1).lower()) if sp else "test"
        out.put(f"intervals.{split}", sorted([num(m, 1, 2), num(m, 3, 4)]), q, m.start(1), m.start(3))
    if re.search(
        r"(?:never|n[o']t|does not|do not|rarely|almost never|not once)\s+(?:\w+\s+){0,2}?predict\w*\s+(?:the\s+|a\s+|"
        r"any\s+)?(?:minority|positive|rare|class 1|fraud\w*|churn\w*|defaults?|\w+ class)|predicts?\s+(?:only|always)"
        r"\s+(?:the\s+)?(?:majority|negative|class 0|most common|same)|predicts?\s+the\s+majority\s+class\s+(?:every|"
        r"for every|always|all the)|all (?:the )?predictions (?:are |fall |land )?(?:in |into |as )?(?:the )?(?:negative|"
        r"majority|class 0|same)|"
        r"predicts?\s+(?:\w+\s+){0,2}?(?:for|to)\s+(?:basically\s+|almost\s+|nearly\s+|virtually\s+)?(?:everyone|"
        r"everybody|everything|every (?:row|case|sample|example|customer|user))|flags? (?:nothing|no one|none)|"
        r"never flags?|(?:predicts?|classif\w+|labels?)\s+(?:\w+\s+){0,2}?(?:everything|everyone|all (?:\w+\s+)?"
        r"(?:cases|samples|rows|examples|inputs))\s+as\s+(?:the\s+)?(?:negative|majority|normal|benign|legit\w*|no\b|not\b)",
        t[s:e],
        _I,
    ):
        out.put("predicts_single_class", True, q)
