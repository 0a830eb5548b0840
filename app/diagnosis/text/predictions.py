"""What the text says about the model's scores and predictions: target score, stated intervals, one-class output."""

from __future__ import annotations

import re

from app.diagnosis.text.fragments import PCT, Facts, N, num
from app.diagnosis.text.scan import Scan

__all__ = ["INTERVAL", "INTERVAL_SPLIT", "ONE_CLASS_OUTPUT", "TARGET_SCORE", "model_facts"]

_I = re.IGNORECASE


TARGET_SCORE = re.compile(
    r"\b(?:wanted|wants|want|target(?:ed)?|goal|needs?|needed|required|requirement|expect\w*|aim\w*|"
    r"hoping for|promised)\b(?:\s+(?:of|is|was|=|:|at least|for|to reach|to hit|to get|an?|the))*\s*"
    r"(?:[a-z-]+\s+){0,2}?" + N + PCT,
    _I,
)
"""The score the model had to reach: "the business wanted an AUC of 0.85" (groups: value, percent)."""

INTERVAL = re.compile(
    r"(?:\bci\b|confidence interval|bootstrap\w*|resampl\w*)[^.;]{0,70}?(?:from|between|\[|\()\s*"
    + N
    + PCT
    + r"\s*(?:to|and|,|-)\s*"
    + N
    + PCT,
    _I,
)
"""A stated interval: "the 95% CI runs from 0.71 to 0.79" (groups: low, percent, high, percent)."""

INTERVAL_SPLIT = re.compile(r"\b(test|validation|val|holdout)\b", _I)
"""The split an interval belongs to: "on the test set" (group 1)."""

ONE_CLASS_OUTPUT = re.compile(
    r"(?:never|n[o']t|does not|do not|rarely|almost never|not once)\s+(?:\w+\s+){0,2}?predict\w*\s+(?:the\s+|a\s+|"
    r"any\s+)?(?:minority|positive|rare|class 1|fraud\w*|churn\w*|defaults?|\w+ class)|predicts?\s+(?:only|always)"
    r"\s+(?:the\s+)?(?:majority|negative|class 0|most common|same)|predicts?\s+the\s+majority\s+class\s+(?:every|"
    r"for every|always|all the)|all (?:the )?predictions (?:are |fall |land )?(?:in |into |as )?(?:the )?(?:negative|"
    r"majority|class 0|same)|"
    r"predicts?\s+(?:\w+\s+){0,2}?(?:for|to)\s+(?:basically\s+|almost\s+|nearly\s+|virtually\s+)?(?:everyone|"
    r"everybody|everything|every (?:row|case|sample|example|customer|user))|flags? (?:nothing|no one|none)|"
    r"never flags?|(?:predicts?|classif\w+|labels?)\s+(?:\w+\s+){0,2}?(?:everything|everyone|all (?:\w+\s+)?"
    r"(?:cases|samples|rows|examples|inputs))\s+as\s+(?:the\s+)?(?:negative|majority|normal|benign|legit\w*|no\b|not\b)",
    _I,
)
"""A model that outputs one class: "it never predicts the minority class", "all predictions are negative"."""


def model_facts(scan: Scan, s: int, e: int, out: Facts) -> None:
    """Target score ("the business wanted 0.85"), stated intervals, single-class predictions.

    >>> TARGET_SCORE.search("the business wanted an AUC of 0.85").group(1)
    '0.85'
    >>> INTERVAL.search("the 95% CI runs from 0.71 to 0.79").group(1, 3)
    ('0.71', '0.79')
    >>> INTERVAL_SPLIT.search("the bootstrap CI on the val split").group(1)
    'val'
    >>> [ONE_CLASS_OUTPUT.search(x).group(0) for x in ("it never predicts the minority class",
    ...                                                "all predictions are negative")]
    ['never predicts the minority', 'all predictions are negative']
    """
    masked, quote = scan.masked, scan.quote(s, e)
    match = TARGET_SCORE.search(masked, s, e)
    if match and "target_score" not in out.values:
        out.put("target_score", num(match, 1, 2), quote, match.start(1))
    match = INTERVAL.search(masked, s, e)
    if match:
        named = INTERVAL_SPLIT.search(masked[s:e])
        split = named.group(1).lower() if named else "test"
        split = {"val": "validation", "holdout": "test"}.get(split, split)
        bounds = sorted([num(match, 1, 2), num(match, 3, 4)])
        out.put(f"intervals.{split}", bounds, quote, match.start(1), match.start(3))
    if ONE_CLASS_OUTPUT.search(masked[s:e]):
        out.put("predicts_single_class", True, quote)
