"""Evaluation set-up stated in the text: test reuse, preprocessing before the split, group overlap, split kind.

Every pattern is named and carries (or shows in a doctest) a sentence it matches.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from app.diagnosis.text.fragments import Facts, hedged, negated
from app.diagnosis.text.safeguards import describes_no_leak, without_batch_shuffle
from app.diagnosis.text.scan import Scan

__all__ = [
    "BY_DESIGN",
    "RANDOM_SPLIT",
    "SETUP_CHECKS",
    "SPLIT_CALL",
    "TEMPORAL_DATA",
    "TEMPORAL_SPLIT",
    "TEST_POPULATION_DIFFERS",
    "SetupCheck",
    "setup_facts",
]

_I = re.IGNORECASE


class SetupCheck(NamedTuple):
    """One set-up mistake: its record field, the category a hedged mention raises, the pattern and an example.
    ``negations``: a stricter negation pattern, also searched inside the match (None: the shared one before it);
    ``unless``: a sentence it matches states no mistake."""

    name: str
    path: str
    category: str
    pattern: re.Pattern[str]
    example: str
    negations: re.Pattern[str] | None = None
    unless: re.Pattern[str] | None = None


def _setup_check(name: str, path: str, category: str, regex: str, example: str,
                 negations: re.Pattern[str] | None = None, unless: re.Pattern[str] | None = None) -> SetupCheck:
    return SetupCheck(name, path, category, re.compile(regex, _I), example, negations, unless)


_DATA_NOUNS = (
    r"(?:set|sets|split|fold|folds|data|dataset|images?|clips?|videos?|samples?|examples?|rows?|items?|windows?|"
    r"tweets?|documents?|texts?|sentences?|records?|recordings?|scans?|pairs?|cases?|instances?|utterances?|list|"
    r"files?|photos?|patches?|slides?|reads?|pool|corpus|batches)"
)
EVAL_ITEMS = (
    r"(?<![\w-])(?:test|testing|validation|val|dev|held[- ]?out|holdout|evaluation|eval)[\"'\u201d\u2019]?\s+"
    r"(?:(?!(?:on|in|at|with|of|to|for|from|against|is|are|was|were)\b)[\w-]+\s+){0,2}?" + _DATA_NOUNS + r"\b"
)
"""The evaluation items named as data ("the test clips", "my "test" images", "the held-out set"), never as a metric
("the test loss") and never "test" as a verb ("we test on images"). Validation data used *during* training (early
stopping, checkpoint selection) is normal, so only being *in* or *part of* the training data counts."""

BY_DESIGN = re.compile(
    r"cross[- ]?validat\w*|\bk[- ]?fold|\b\d+[- ]?fold|\bcv\b|other\s+(?:\w+\s+)?folds|"
    r"re-?(?:train|fit)\w*\s+(?:\w+\s+){0,3}?on\s+(?:all|the\s+(?:full|whole|entire|combined))|final\s+model", _I)
"""Evaluation items in training by design: cross-validation folds take turns, and the final model is refitted on
all the data after selection ("each validation fold is part of the training data in the other folds")."""
_NOT = re.compile(r"\b(?:not|never|no|none|neither|nor|zero|nothing)\b|n't\b", _I)
"""Negations of "the test images are (not) in the training set", inside the match or just before it."""

SETUP_CHECKS: tuple[SetupCheck, ...] = (
    _setup_check(
        "TEST_USED_FOR_TUNING",
        "evaluation.test_used_for_tuning",
        "evaluation_error",
        r"(?:tun\w+|select\w+|chose|chosen|choos\w+|pick\w*|optimi[sz]\w*|early[- ]stop\w*|calibrat\w+|"
        r"threshold\w*)"
        r"[^.;]{0,80}?\b(?:on|using|against|with|by|from|by looking at)\s+(?:the\s+|their\s+|its\s+|our\s+)?test\b|"
        r"test\s+set\s+(?:was\s+|is\s+)?"
        r"(?:also\s+)?used\s+(?:for|to|during)\s+(?:\w+\s+){0,2}?(?:tun|select|early|choos|pick|"
        r"threshold|model sel|hyper)|report\w*\s+(?:the\s+)?(?:cv|cross-validation|cross-validated|validation|"
        r"tuning)\s+score\s+as\s+(?:the\s+|a\s+)?test|no\s+(?:separate|held-out|untouched|independent)\s+test|"
        r"best\s+(?:\w+\s+)?test\s+(?:\w+\s+)?(?:of|out of|among|across|from)\s+(?:the\s+|all\s+)?(?:\d+|many|"
        r"several|dozens|hundreds)|(?:report\w*|pick\w*|kept|keep\w*|cho\w+|select\w*)\s+(?:the\s+)?best\s+"
        r"(?:[\w-]+\s+){0,3}?(?:on|by|according to)\s+(?:the\s+)?test\b|(?:nobody|no one|never|we didn'?t|did not)"
        r"\s+(?:\w+\s+)?h[oe]ld\s+out\b",
        "we tuned the threshold on the test set",
    ),
    _setup_check(
        "BALANCED_OFFLINE_SAMPLE",
        "evaluation.balanced_offline_sample",
        "evaluation_error",
        r"(?:evaluat\w+|test\w*|validat\w+|offline)[^.;]{0,40}?\bbalanced\s+(?:sample|set|subset|data|test)",
        "offline evaluation used a balanced sample",
    ),
    _setup_check(
        "PREPROCESSING_BEFORE_SPLIT",
        "evaluation.preprocessing_fit_on",
        "data_leakage",
        r"(?:scal\w*|normali[sz]\w*|standardi[sz]\w*|imput\w*|encod\w*|smote|over-?sampl\w*|under-?sampl\w*|"
        r"feature selection|select\w* features|pca|fit_transform|(?:fit|fitted|fitting|computed|trained)\b)"
        r"[^.;]{0,80}?\b(?:before\s+(?:the\s+)?(?:train[-/ ]test\s+)?(?:split\w*|cross-?validat\w*|cv\b|k-?fold)|"
        r"prior to (?:the\s+)?split\w*|(?:on|using|over|across)\s+(?:the\s+)?(?:whole|full|entire|complete|all(?:\s+of\s+"
        r"the)?)\s+(?:data|dataset|data set|table|corpus|sample|population|data ?frame|history)|(?:including|"
        r"incl\.?|together with|along with)\s+(?:the\s+)?(?:test|validation|holdout|val)\s*(?:fold|set|split|"
        r"rows|data)?s?\b|before\s+splitting|on\s+(?:both\s+)?(?:the\s+)?train(?:ing)?\s*"
        r"(?:\+|and|&)\s*test\w*(?:\s+(?:sets?|data))?\s+together|on\s+train\s*\+\s*test)|before\s+(?:the\s+)?"
        r"(?:\w+\s+)?split\w*[^.;]{0,40}?(?:scal|normali|standardi|imput|encod|smote|sampl|select)",
        "we scaled the features before the train/test split",
    ),
    _setup_check(
        "TARGET_IN_FEATURES",
        "evaluation.target_in_features",
        "data_leakage",
        r"(?:includ\w*|left|kept|added|used|feed\w*|fed|passed|put)\s+(?:\w+\s+){0,3}?(?:label|target|outcome|"
        r"ground[- ]truth)\s+(?:column|variable|field|itself)?[^.;]{0,40}?(?:in|as|into|among)\s+(?:the\s+)?"
        r"(?:features|inputs|predictors|feature set|model inputs?)",
        "we accidentally kept the label column in the features",
    ),
    _setup_check(
        "GROUP_OVERLAP",
        "evaluation.group_overlap",
        "data_leakage",
        r"(?:same|identical|overlapping)\s+(?:patients?|users?|customers?|subjects?|devices?|accounts?|sessions?|"
        r"speakers?|documents?|people|individuals|houses?|stores?)\s+(?:\w+\s+){0,4}?(?:in\s+)?both\s+(?:the\s+)?"
        r"(?:train|training)\w*\s+and\s+(?:the\s+)?(?:test|validation|val)|(?:patients?|users?|customers?|subjects?|"
        r"devices?|accounts?|speakers?)\s+(?:\w+\s+){0,2}?(?:appear|present|show up|land|end up|"
        r"occur)\w*\s+(?:\w+\s+){0,2}?in both|"
        r"(?:validation|val|test|holdout)\s+(?:\w+\s+){0,3}?(?:are|were|is|was)\s+(?:\w+\s+){0,2}?"
        r"(?:copies|duplicates|augmented versions|crops|near-duplicates|variants)\s+of\s+(?:the\s+)?train|"
        r"(?:scans|images|records|samples|rows|visits|sessions|documents|utterances|recordings|photos)\s+of\s+(?:the\s+"
        r"same|one|a single|each)\s+(?:patient|user|customer|subject|speaker|person|device|account)\s+"
        r"(?:\w+\s+){0,3}?"
        r"(?:in|across|into)\s+(?:both\s+)?(?:the\s+)?train\w*\s+and\s+(?:the\s+)?(?:test|validation|val)",
        "the same patients appear in both train and test",
    ),
    _setup_check(
        # the evaluation items themselves were trained on, whatever they are (clips, tweets, windows, images):
        # "the test clips are actually in the training list", "the test fold was part of the LSTM's training data",
        # "the test set is literally the training windows", "test images the teacher had been trained on"
        "EVAL_ITEMS_IN_TRAINING",
        "evaluation.group_overlap",
        "data_leakage",
        EVAL_ITEMS + r"(?:\s+(?:(?:were|was|are|is|had\s+been|have\s+been|has\s+been)\s+"
        r"(?:(?:actually|also|really|all|already|literally|mostly|largely|partly|in\s+fact)\s+){0,2}"
        r"(?:part\s+of|in|inside|included\s+in|contained\s+in|present\s+in)|(?:also\s+)?(?:appear\w*|"
        r"show\w*\s+up|end\w*\s+up)\s+(?:again\s+)?in)\s+(?:the\s+|its\s+|their\s+|our\s+|my\s+)?"
        r"(?:[\w'-]+\s+){0,2}?(?:pre-?)?train(?:ing)?\s+" + _DATA_NOUNS + r"\b|"
        r"\s+(?:is|was|are|were)\s+(?:just|actually|literally|exactly)\s+the\s+(?:same\s+)?"
        r"train(?:ing)?\s+(?:set|data|split|windows|images|rows|samples|examples|files)\b(?!['\u2019]s)"
        r"(?!\s+(?:from|of|for)\s+(?:the\s+|a\s+)?(?:next|following|previous|later|earlier|another|different))|"
        r"\s+(?:were|was|are|is)\s+(?:(?:actually|also|really|all|already|mostly|largely|partly)\s+)?"
        r"(?:images|samples|examples|items|ones|clips|videos|rows|records|documents|texts|photos|scans)\s+"
        r"(?:that\s+)?the\s+(?:model|network|net|teacher|classifier|checkpoint)\s+(?:had|has|was)\s+"
        r"(?:already\s+)?(?:been\s+)?(?:trained\s+on|fit\s+on))",
        "most of the test clips are actually in the training list",
        negations=_NOT, unless=BY_DESIGN,
    ),
)
"""The set-up mistakes in the order they are tried (their examples are read in setup_facts' doctest)."""

TEST_POPULATION_DIFFERS = re.compile(
    r"(?:test|holdout|hold-out|evaluation|external)\s+(?:set|data|cohort|split|sample)?\s*(?:was|is|were|are|"
    r"comes?|came)?\s*(?:drawn|collected|sampled|taken|recorded|gathered)?\s*(?:from|at|in)\s+(?:a\s+|an\s+)?"
    r"(?:different|another|new|separate|external|other|later)\s+(?:hospital|site|clinic|region|country|market|"
    r"population|time period|period|year|quarter|device|scanner|source|distribution|customer base|store|"
    r"city|vendor)|external validation|out-of-time|out of time|\boot\b",
    _I,
)
"""A test set from another population: "the test set was collected at a different hospital"."""

RANDOM_SPLIT = re.compile(r"random\w*\s+(?:\w+\s+){0,2}?split\w*|split\w*\s+(?:\w+\s+){0,3}?random\w*|"
                          r"shuffl\w+(?!\s*=\s*False)", _I)
"""A random split: "we used a random stratified split", "rows were shuffled"."""

SPLIT_CALL = re.compile(r"\brandom_split\(|\btrain_test_split\((?![^)]{0,200}shuffle\s*=\s*False)", _I)
"""A call that splits at random, read on the unmasked text: torch's ``random_split(``, scikit-learn's
``train_test_split(`` (it shuffles unless told ``shuffle=False``)."""

TEMPORAL_DATA = re.compile(
    r"time[- ]series|temporal|timestamp\w*|chronolog\w*|forecast\w*|over time|sequential|\bdates?\b|"
    r"daily|monthly|weekly|hourly|quarterly|yearly",
    _I,
)
"""Anywhere in the text, data ordered in time: "daily sales forecasting"."""

TEMPORAL_SPLIT = re.compile(r"(?:time-based|temporal|chronological|out-of-time|forward)\s+split", _I)
"""A split by time: "a chronological split"."""

_SHARE = re.compile(r"\d\s*%")


def setup_facts(scan: Scan, s: int, e: int, out: Facts, whole: str) -> None:
    """Set-up mistakes, a different test population and the kind of split, stated in one sentence.

    Each set-up check reads the example sentence it carries:

    >>> [c.name for c in SETUP_CHECKS if c.pattern.search(c.example)] == [c.name for c in SETUP_CHECKS]
    True
    >>> [p.search(x).group(0) for p, x in (
    ...     (TEST_POPULATION_DIFFERS, "the test set was collected at a different hospital"),
    ...     (RANDOM_SPLIT, "we used a random stratified split"), (TEMPORAL_DATA, "daily sales forecasting"),
    ...     (TEMPORAL_SPLIT, "a chronological split"))]
    ['test set was collected at a different hospital', 'random stratified split', 'daily', 'chronological split']
    >>> from app.diagnosis.text.scan import scan as scan_text
    >>> facts, sc = Facts(), scan_text("We tuned the threshold on the test set.")
    >>> setup_facts(sc, 0, len(sc.masked), facts, sc.masked)
    >>> facts.values
    {'evaluation.test_used_for_tuning': True}
    """
    masked, quote = scan.masked, scan.quote(s, e)
    seg = masked[s:e]
    is_hedged = hedged(seg)
    for check in SETUP_CHECKS:
        match = check.pattern.search(seg)
        if not match or negated(masked, s, s + match.start()):
            continue
        if check.negations is not None and (check.negations.search(match.group(0))
                                            or negated(masked, s, s + match.start(), check.negations)):
            continue  # "none of the test images are in the training set"
        if check.unless is not None and check.unless.search(seg):
            continue  # a fold in the other folds' training, by design
        if check.category == "data_leakage" and describes_no_leak(seg):
            continue  # a safeguard, the concept or a fixed leak: "each patient is in exactly one split"
        if check.path == "evaluation.group_overlap" and _SHARE.search(seg):
            continue  # a stated share of duplicated rows is read as train_test_overlap_fraction
        if is_hedged:
            out.concerns.setdefault(check.category, {"hedged": True, "quote": quote})
            continue
        if check.path == "evaluation.balanced_offline_sample":
            out.put(check.path, True, quote)
            continue
        out.put(check.path, "all" if check.path.endswith("fit_on") else True, quote)
    if TEST_POPULATION_DIFFERS.search(seg) and not is_hedged:
        out.put("evaluation.test_population_differs", True, quote)
    if (RANDOM_SPLIT.search(without_batch_shuffle(seg)) or SPLIT_CALL.search(scan.text, s, e)) \
            and TEMPORAL_DATA.search(whole):
        out.put("evaluation.split_strategy", "random", quote)
        out.put("evaluation.temporal_data", True, quote)
    elif TEMPORAL_SPLIT.search(seg):
        out.put("evaluation.split_strategy", "temporal", quote)
