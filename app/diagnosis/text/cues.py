"""Word cues the number attribution reads: change words, gaps between a number and its split, reference models.

Each cue on an example:

>>> bool(PREP_GAP.match(" accuracy on the ")), bool(BLANK_GAP.match(" % "))
(True, True)
>>> POSITIVE_CLASS.search("fraud cases").group(0)
'fraud'
>>> bool(REF_BEFORE.search("the naive baseline is ")), bool(REF_AFTER.match(" for the previous model"))
(True, True)
>>> bool(CHANGE_BEFORE.search("up by ")), bool(SPLITS_JOINED.fullmatch(" and the "))
(True, True)
>>> TEMPORAL.search("on 2024 data").group(0)
'2024'
>>> bool(FROM.search("went from 0.9")), bool(TO.search("down to 0.7")), bool(NEGATED_BEFORE.search("did not "))
(True, True, True)
"""

from __future__ import annotations

import re

from app.diagnosis.text.fragments import POS

__all__ = [
    "AGREEMENT_BEFORE",
    "BLANK_GAP",
    "CHANGE_BEFORE",
    "ERROR_BEFORE",
    "FROM",
    "GAP_AFTER",
    "NEGATED_BEFORE",
    "POSITIVE_CLASS",
    "PREP_GAP",
    "QUALITATIVE",
    "REF_AFTER",
    "REF_BEFORE",
    "SETTING_BEFORE",
    "SPLITS_JOINED",
    "TEMPORAL",
    "TO",
]

_I = re.IGNORECASE

QUALITATIVE: list[tuple[str, str, re.Pattern[str]]] = [
    (d, mag, re.compile(p, _I))
    for d, mag, p in [
        (
            "drop",
            "large",
            (r"collaps\w*|plummet\w*|crash\w*|tank\w*|fell off a cliff|drop\w* sharply|much worse|far worse|"
            r"terrible|awful|near(?:ly)? (?:chance|random)|no better than (?:chance|random)|catastroph\w*|"
            r"fell apart|falls apart|nose-?dive\w*|"
            # an intensified comparative is a large drop in plain words: "way lower than expected", "far below"
            r"(?:much|way|far|a lot|significantly|dramatically|substantially|massively|hugely|considerably|vastly)\s+"
            r"(?:lower|poorer|below)\b"),
        ),
        (
            "rise",
            "large",
            r"jump\w*|soar\w*|skyrocket\w*|spik\w*|shot up|near(?:ly)? perfect|suspiciously high|too good",
        ),
        (
            "drop",
            "moderate",
            (r"drop\w*|\bfell\b|\bfall\w*|decreas\w*|declin\w*|degrad\w*|\bworse\b|\blower\b|"
            r"underperform\w*|deteriorat\w*|disappoint\w*|\bpoor\w*|suffer\w*|\bbad\b"),
        ),
        ("rise", "moderate", r"improv\w*|increas\w*|\bris(?:e|es|ing)\b|\brose\b|climb\w*|went up|goes up|\bhigher\b"),
    ]
]
PREP_GAP = re.compile(
    r"^[\s%]*(?:(?!and\b|or\b|but\b|than\b|vs\b|while\b)[\w-]+\s+){0,2}?(?:on|in|for|at|over|across|from)\s+"
    r"(?:the\s+)?$",
    _I,
)
BLANK_GAP = re.compile(r"^[\s%]*$")
# a reference model whose score is quoted next to the model's own: "the naive baseline is 205", "previous model (13.1)"
_REFERENCE_MODEL = (
    r"(?:baselines?|benchmark|na[i\u00ef]ve(?:\s+\w+)?|(?:previous|prior|old|older|last|existing|legacy|incumbent|"
    r"current production|current)\s+(?:[\w-]+(?:'s)?\s+)?(?:model|version|release|system|run|classifier|pipeline)|"
    r"champion(?:\s+model)?|majority[- ]class(?:\s+\w+)?|dummy(?:\s+\w+)?|random guess\w*|always predicting \w+|"
    # the model before this work, or another team's figure: "41 % for the base model", "the zero-shot checkpoint"
    r"(?:base|pre-?trained|original|untuned|vanilla|off-the-shelf|zero-shot|stock|reference|teacher|published|"
    r"paper'?s?|sota|state-of-the-art)\s+(?:model|checkpoint|version|system|network|classifier|results?|numbers?)|"
    r"(?:the\s+)?(?:[\w-]+\s+){0,2}team\s+(?:usually|typically|normally)\s+(?:gets?|sees?|reports?|reaches)|"
    # someone else's model: "the team's TF-IDF + logistic regression model", "the vendor's model"
    r"(?:team|vendor|competitor|other team|another team|third[- ]party|their|other|external)'?s?\s+"
    r"(?:[\w+-]+\s+){0,4}?(?:model|system|classifier|solution|baseline))"
)
REF_BEFORE = re.compile(
    _REFERENCE_MODEL + r"(?:\s*\(\w+\))?[\s:=(~]*(?:(?:is|was|of|at|gets?|got|scores?|scored|had|has|with|"
    r"around|about|roughly|only|just|sits at|reaches|reached|claims?|claimed|reports?|reported|achieves?|achieved)"
    r"\s+){0,3}[\s:=(~]*$",
    _I,
)
REF_AFTER = re.compile(r"^\s*%?\s*\)?\s*(?:for|from|of|by|with|is|was)?\s*(?:the\s+|a\s+|our\s+)?" + _REFERENCE_MODEL, _I)
POSITIVE_CLASS = re.compile(POS, _I)
# a negation just before a qualitative word: "did not drop"
NEGATED_BEFORE = re.compile(r"\b(?:not|n't|never|no)\s+(?:\w+\s+)?$", _I)
# a number written as a change, not a level: "up by 3", "+2", "-0.05", "by ~10%"
CHANGE_BEFORE = re.compile(r"(?:\bby|[+±-])\s*(?:~|about\s+|around\s+|roughly\s+|approximately\s+|nearly\s+|"
                           r"almost\s+|over\s+)?$")  # "raises testing accuracy by ~10%" is a change too
# a number that is an error rate named by no metric the vocabulary knows ("OOB error 21.47%", "class.error 0.19"):
# not a score (read as one, 21 % error became 21 % accuracy)
ERROR_BEFORE = re.compile(
    r"(?<!squared )(?<!absolute )(?<!word )(?<!character )(?<!percentage )(?<!mean )"
    r"\b(?:error|errors|error rate|misclassification(?: rate)?|class\.error|err)\s*"
    r"(?:of|is|was|were|=|:|\(|at|around|about|~)?\s*$",
    _I,
)
# a rate at which people (dis)agree, not a model's score: "they disagreed with the vendor's label on 21% of them, and
# with each other on only 4%" (unless a metric is named in between, or the model is the one that agrees)
AGREEMENT_BEFORE = re.compile(
    r"^(?![^.;]*\b(?:model|classifier|predictions?|network|detector|algorithm|system)\b[^.;]{0,40}\b(?:dis)?agree)"
    r".*\b(?:dis)?agree\w*\b(?![^.;]{0,80}\b(?:accuracy|precision|recall|f1|auc|score)\b)[^.;]{0,80}$", _I)
# a number given to a setting, not a score: "set `min_percent` to 0", "setting the dropout to 0.5"
SETTING_BEFORE = re.compile(
    r"(?<!test )(?<!validation )(?<!val )(?<!training )(?<!train )(?<!data )(?<!dev )(?<!held-out )(?<!holdout )"
    r"(?<!the )(?<!a )\b(?:set|sets|setting)\s+(?:the\s+)?[`'\"]?[\w.\u0192-]+[`'\"]?\s+to\s*$",
    _I,
)
# a number that is a difference, not a level: "a 10-20% train/val gap", "a 5 point difference"
GAP_AFTER = re.compile(
    r"^\s*(?:%|percent|points?|pp|pts)?\s*(?:[-–]\s*\d+(?:\.\d+)?\s*(?:%|percent|points?|pp|pts)?\s*)?"
    r"(?:(?:train(?:ing)?|val(?:idation)?|test|generali[sz]ation|accuracy|performance|[a-z]+/[a-z]+)\s+)?"
    r"(?:gap|difference)\b",
    _I,
)
# between two split words that share one number: "train and validation", "train / test"
SPLITS_JOINED = re.compile(r"\s*(?:[\w-]+\s+)?(?:and|or|&|/|,)\s*(?:the\s+)?", _I)
# a sentence about time, where "from 0.89 to 0.72" on no split is production: "on 2024 data", "over the last months"
TEMPORAL = re.compile(
    r"\b(?:19|20)\d\d\b|\bsince\b|\bover (?:the )?(?:last|past)\b|\bmonths?\b|\bweeks?\b|"
    r"\brecently\b|\bnowadays\b|\btoday\b|\bthis year\b",
    _I,
)
FROM = re.compile(r"\bfrom\b", _I)
TO = re.compile(r"\bto\b", _I)
