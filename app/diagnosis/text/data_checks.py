"""Data checks stated in the text: label errors, overlap, invalid/missing/duplicate rows, p-values, kappa, PSI.

Every pattern is a named :class:`Check` that carries a sentence it matches; the doctest of :data:`CHECKS` reads
each example, so a pattern that stops matching its own example fails the suite.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, NamedTuple

from app.diagnosis.text.fragments import LINK, PCT, Facts, N, features_in, negated, num
from app.diagnosis.text.scan import Scan, find_numbers, mentions_in

__all__ = ["AGREEMENT", "ANNOTATOR_AGREEMENT", "CHECKS", "DISAGREEMENT", "Check", "data_checks"]

_I = re.IGNORECASE

_ABOUT = r"(?:about\s+|around\s+|roughly\s+|nearly\s+|almost\s+|over\s+|~)?"
# between a share and what it counts: "12% of the labels are", "3% of rows have"
_SHARE_OF = r"\s+(?:of\s+(?:the\s+)?)?(?:[\w-]+\s+){0,3}?(?:are\s+|were\s+|is\s+|was\s+|have\s+|had\s+)?"
# a value that turns into NaN ("loss went from 0.7 to NaN", "epochs=30 gives the same nan") is a number that
# became non-finite, not a share of missing data: the words between may not say so
_SHARE_OF_MISSING = r"\s+(?:of\s+(?:the\s+)?)?(?:(?!(?:to|into|became|becomes|become|turn\w*|goes|went|gives?|gave|" \
    r"same|then|and|after)\b)[\w-]+\s+){0,3}?(?:are\s+|were\s+|is\s+|was\s+|have\s+|had\s+)?"
# a share written after what it counts: "... in about 7% of", "... make up 4% of"
_SHARE_AFTER = r"\s+" + _ABOUT + N + r"\s*(%|percent\b)\s+of\b"


class Check(NamedTuple):
    """One data-check pattern: the record field it fills, a sentence it matches, the number's groups."""

    name: str
    path: str
    pattern: re.Pattern[str]
    example: str
    value_group: int = 1
    percent_group: int | None = 2


def _check(name: str, path: str, regex: str, example: str, percent_group: int | None = 2) -> Check:
    return Check(name, path, re.compile(regex, _I), example, 1, percent_group)


CHECKS: tuple[Check, ...] = (
    _check(
        "WRONG_LABEL_SHARE",
        "data_checks.label_error_rate",
        N + PCT + _SHARE_OF + r"(?:labels?\s+(?:are|were|is|was)?\s*)?"
        r"(?:wrong|incorrect|mislabel\w*|noisy(?!\s+(?!labels?\b|annotations?\b)[a-z])|erroneous|flipped|"
        r"label errors?|label noise)",  # "30 on the noisy test set" is a score on noisy audio, not noisy labels
        "an audit showed 12% of the labels are wrong",
    ),
    _check(
        "LABEL_ERROR_RATE",
        "data_checks.label_error_rate",
        r"(?:label\s+(?:error|noise)(?:\s+rate)?|mislabel\w*\s+rate)" + LINK + N + PCT,
        "the label noise rate is 8%",
    ),
    _check(
        "TEST_ROWS_IN_TRAIN",
        "data_checks.train_test_overlap_fraction",
        N + PCT + r"\s+(?:of\s+(?:the\s+)?)?(?:test|validation|val|holdout|"
        r"eval)\w*\s+(?:[\w-]+\s+){0,2}?(?:also\s+)?(?:appear|are present|occur|exist|are duplicat|"
        r"overlap|are found|are (?:exact |near[- ]?)?duplicat|"
        r"show up|are in|are also in|are (?:exact |near[- ]?)?copies)\w*\s+(?:[\w-]+\s+){0,3}?(?:train|training)\b",
        "3% of test rows also appear in training",
    ),
    _check(
        "TRAIN_TEST_OVERLAP",
        "data_checks.train_test_overlap_fraction",
        r"(?:overlap|duplicat\w*)\s+between\s+(?:the\s+)?(?:train|training)"
        r"\w*\s+and\s+(?:test|validation)\w*(?:\s+sets?)?" + LINK + N + PCT,
        "the overlap between train and test sets is 4%",
    ),
    _check(
        "INVALID_ROW_SHARE",
        "data_checks.invalid_row_fraction",
        N + PCT + _SHARE_OF + r"(?:with\s+|contain\w*\s+)?(?:invalid|corrupt\w*|malformed|"
        r"out[- ]of[- ]range|negative\s+(?:ages?|values?|prices?|counts?|amounts?|quantit\w+|durations?)|"
        r"impossible|garbled|unparse?able|fail\w*\s+(?:the\s+)?(?:schema|"
        r"validation|range))",
        "2% of rows have negative ages",
    ),
    _check(
        "DUPLICATE_SHARE",
        "data_checks.duplicate_fraction",
        N + PCT + _SHARE_OF + r"(?:exact\s+|near\s+)?duplicat\w*",
        "5% of rows are exact duplicates",
    ),
    _check(
        "MISSING_SHARE",
        "data_checks.missing_fraction",
        N + PCT + _SHARE_OF_MISSING + r"(?:missing|null|nulls|nan|empty|blank)\b",
        "30% of the incomes are missing",
    ),
    _check(
        "PLACEHOLDER_SHARE",
        "data_checks.missing_fraction",
        N + PCT + _SHARE_OF + r"(?:(?:set to|filled with|coded as)\s+)?(?:-1|-999|9999|0|none|"
        r"n/?a|zero)?\s*(?:as\s+)?(?:an?\s+)?(?:placeholder|sentinel|default value|dummy value|filler)",
        "10% of ages are set to -1 as a placeholder",
    ),
    _check(
        "MISSING_RATE",
        "data_checks.missing_fraction",
        r"(?:missing|null|nan|empty)(?:\s+values?)?(?:\s+rate)?\s+(?:in|for|on|of|is)"
        r"\s+(?:about\s+|around\s+|~|roughly\s+)?" + N + PCT,
        "the missing rate is about 12%",
    ),
    _check(
        "MISSING_AFFECTS_SHARE",
        "data_checks.missing_fraction",
        r"(?:missing|null|nulls|nan|empty|blank)\b(?:\s+values?)?[^.;%\d]{0,50}?\b(?:in|for|of|across|affects?|hits?)"
        + _SHARE_AFTER,
        "nulls affect about 7% of the records",
    ),
    _check(
        "INVALID_AFFECTS_SHARE",
        "data_checks.invalid_row_fraction",
        r"(?:invalid|corrupt\w*|malformed|garbage|garbled|broken|encoding|unparse?able|impossible|out[- ]of[- ]range)"
        r"\b[^.;%\d]{0,60}?\b(?:in|for|of|across|affects?|hits?)" + _SHARE_AFTER,
        "corrupt encoding hits 3% of the files",
    ),
    _check(
        "DUPLICATES_MAKE_UP",
        "data_checks.duplicate_fraction",
        r"duplicat\w*[^.;%\d]{0,40}?\b(?:in|for|of|across|make up|are)" + _SHARE_AFTER,
        "duplicates make up 4% of the rows",
    ),
    _check(
        "SHIFT_P_VALUE",
        "data_checks.shift_p_value",
        r"(?:\bks\b|kolmogorov|chi-?sq\w*|chi2|\u03c72|mann-whitney|t-test|wasserstein|anderson|drift|shift|"
        r"distribution)[^.;]{0,50}?\bp(?:-?value)?\s*(?:<=?|=|of|:|is)\s*" + N,
        "a KS test on age gives p = 0.003",
        percent_group=None,
    ),
    _check(
        "AGREEMENT_SCORE",
        "data_checks.annotator_agreement",
        r"(?:kappa|krippendorff'?s\s+alpha|inter-?(?:rater|annotator)\s+"
        r"reliability)[^;\d]{0,30}?" + N,
        "Krippendorff's alpha was 0.41",
        percent_group=None,
    ),
    _check(
        "KAPPA_AFTER_VALUE",
        "data_checks.annotator_agreement",
        N + r"\s*(?:\(\s*)?(?:cohen'?s\s+|fleiss'?\s+)?kappa",
        "the raters reached 0.35 Cohen's kappa",
        percent_group=None,
    ),
    _check(
        "PSI_VALUE",
        "data_checks.psi",
        r"\b(?:psi|population stability index)\b[^;]{0,80}?" + N,
        "the PSI of income is 0.31",
        percent_group=None,
    ),
    _check(
        "KS_VALUE",
        "data_checks.ks",
        r"\b(?:ks|kolmogorov-smirnov)\b[^;]{0,60}?" + N,
        "the KS statistic is 0.22",
        percent_group=None,
    ),
)
"""The data-check patterns in the order they are tried (their examples are read in data_checks' doctest)."""

ANNOTATOR_AGREEMENT = re.compile(
    r"(?:inter-?annotator|inter-?rater|annotator|labell?er|rater)s?\s+(?:agreement|agree\w*)"
    r"(?:\s+on)?" + LINK + N + PCT,
    _I,
)
"""Percent agreement of annotators: "inter-annotator agreement is 62%" (groups: value, percent)."""

DISAGREEMENT = re.compile(r"\bdisagree\w*\b(?:\s+on)?(?:\s+about)?" + LINK + N + PCT, _I)
"""A disagreement rate: "the two radiologists disagree on 35%" (groups: value, percent)."""

AGREEMENT = re.compile(r"\b(?:agree\w*|agreement)\b(?:\s+on)?(?:\s+only)?(?:\s+about)?" + LINK + N + PCT, _I)
"""Any agreement rate, read when the text is about labelling: "the experts agree on only 60%"."""

_LABELLING = re.compile(r"label|annotat|rater|radiologist|expert|crowd|review", _I)


MODEL_AGREEMENT = re.compile(
    r"^(?!.*\b(?:annotat\w*|raters?|inter-?rater|labell?ers?|labell?(?:ing|ed)|coders?|coded|reviewers?|"
    r"\w+ologists?|\w+ographers?|\w+icians?|experts?|crowd ?workers?|graders?|judges?|humans?|doctors?|nurses?|"
    r"two of us|(?:between|among) (?:us|the (?:two|three)|two|three))\b)"
    r".*\b(?:accuracy|no information rate|sensitivity|specificity|precision|recall|f1|auc|balanced accuracy|"
    r"mcnemar|pos pred value|confusion matri\w+|classifier|predictions?|predicted|reference)\b",
    re.IGNORECASE | re.DOTALL,
)
"""A kappa among a model's scores and no person in sight: the classifier's agreement with the reference (caret's
``confusionMatrix`` prints "Accuracy : 0.82 ... Kappa : 0.17"), not annotators agreeing with each other.

>>> [bool(MODEL_AGREEMENT.search(x)) for x in ("Accuracy 0.8177, No Information Rate 0.9669, Kappa 0.1729",
...     "two radiologists reached Cohen's kappa 0.41 on the reference labels", "the raters reached 0.35 kappa",
...     "two of us labelled the data; Cohen's kappa was 0.35 and the model's accuracy 0.8",
...     "the sonographers' kappa was 0.4 against the model's predictions")]
[True, False, False, False, False]
"""


def _check_value(check: Check, match: re.Match[str], scan: Scan, s: int, e: int, out: Facts, quote: str) -> Any:
    """The value a check's match gives, or None when it must not be recorded (out of range, weaker than known)."""
    path, g = check.path, check.value_group
    value: Any
    if path == "data_checks.shift_p_value":
        value = float(match.group(g))
        if value > 1 or (path in out.values and out.values[path] <= value):
            return None
    elif path == "data_checks.annotator_agreement":
        value = float(match.group(g))
        if not -1.0 <= value <= 1.0 or path in out.values or MODEL_AGREEMENT.search(scan.masked[s:e]):
            return None
    elif path in ("data_checks.psi", "data_checks.ks"):
        found = _per_feature(scan, s, match.start(g), e)
        out.consumed.update(pos for pos, _, _ in found)  # every statistic of the list, not only the first
        value = {**out.values.get(path, {}), **{feat: v for _, feat, v in found}}
    else:
        if check.name == "WRONG_LABEL_SHARE" and not _LABELLING.search(scan.masked, s, e):
            return None  # "am I reading the 96% wrong?": a share called wrong, with no label in the sentence
        if path.endswith("_fraction") and not (check.percent_group and match.group(check.percent_group)) and any(
                n.start == match.start(g) and n.count for n in find_numbers(scan.masked, s, e)):
            return None  # a bare count or index ("crashes before epoch 100 with NaN loss"), not a share
        value = num(match, g, check.percent_group)
        feats = features_in(scan, s, e)
        if path == "data_checks.missing_fraction" and feats:
            out.put(
                "data_checks.missing_by_feature",
                {**out.values.get("data_checks.missing_by_feature", {}), **{f: value for f in feats}},
                quote,
            )
        if path.endswith("_fraction") and path in out.values:
            value = max(value, out.values[path])
    return value


_STAT_VALUE = re.compile(N + r"(?![\d%])")


def _per_feature(scan: Scan, s: int, start: int, e: int) -> list[tuple[int, str, float]]:
    """(position, feature, value) of the drift statistic at ``start`` and of every one listed after it in the
    sentence (``s`` to ``e``), each on the feature named just before it ("PSI on `age` is 0.41 and on
    `num_credit_lines` 0.33": two values, each on its own feature; none named: "overall"), up to a model's score or a
    count.

    >>> from app.diagnosis.text.scan import scan as scan_text
    >>> sc = scan_text("Test AUC 0.78 and PSI on `age` is 0.41 and on `num_credit_lines` 0.33, validation AUC 0.7.")
    >>> [(feat, v) for _, feat, v in _per_feature(sc, 0, sc.masked.index("0.41"), len(sc.masked))]
    [('age', 0.41), ('num_credit_lines', 0.33)]
    """
    out: list[tuple[int, str, float]] = []
    prev = s
    for m in _STAT_VALUE.finditer(scan.masked, start, e):
        value = float(m.group(1))
        if out and (value > 10 or (m.group(1).isdigit() and value > 1)):
            break  # a count or another quantity: the list of statistics has ended
        if out and any(x.kind in ("metric", "split") for x in mentions_in(scan.masked, prev, m.start())):
            break  # "... and validation AUC 0.7": a model's score, not a statistic of the list
        feats = features_in(scan, prev, m.start())
        out.append((m.start(), feats[-1] if feats else "overall", value))
        prev = m.end()
    return out


@lru_cache(maxsize=8)
def _labelling_in(masked: str) -> bool:
    """Whether the whole text talks about labelling (searched once per text, not once per sentence)."""
    return _LABELLING.search(masked) is not None


def _agreement(scan: Scan, s: int, e: int, out: Facts, quote: str) -> None:
    """Percent agreement (or disagreement) of annotators, converted to a kappa with chance agreement 0.5.

    >>> ANNOTATOR_AGREEMENT.search("inter-annotator agreement is 62%").group(1, 2)
    ('62', '%')
    >>> DISAGREEMENT.search("the two radiologists disagree on 35%").group(1)
    '35'
    >>> AGREEMENT.search("the experts agree on only 60%").group(1)
    '60'
    """
    masked = scan.masked
    match = ANNOTATOR_AGREEMENT.search(masked, s, e)
    disagreement = DISAGREEMENT.search(masked, s, e)
    if not match and disagreement and "data_checks.annotator_agreement" not in out.values:
        p_agree = 1.0 - num(disagreement, 1, 2)  # disagreement on 35% -> agreement 65% -> kappa 0.3
        kappa = round(max(-1.0, (p_agree - 0.5) / 0.5), 4)
        out.put("data_checks.annotator_agreement", kappa, quote, disagreement.start(1))
        out.provenance["data_checks.annotator_agreement"] += " (disagreement rate converted to kappa, chance 0.5)"
    if not match and _labelling_in(masked):
        match = AGREEMENT.search(masked, s, e)
    if match and "data_checks.annotator_agreement" not in out.values:
        p = num(match, 1, 2)  # raw percent agreement -> kappa with chance agreement 0.5
        out.put("data_checks.annotator_agreement", round(max(-1.0, (p - 0.5) / 0.5), 4), quote, match.start(1))
        out.provenance["data_checks.annotator_agreement"] += " (percent agreement converted to kappa, chance 0.5)"


def data_checks(scan: Scan, s: int, e: int, out: Facts) -> None:
    """Every check of :data:`CHECKS` over one sentence, then annotator agreement.

    Each check reads the example sentence it carries:

    >>> [(c.name, c.pattern.search(c.example).group(c.value_group)) for c in CHECKS]  # doctest: +NORMALIZE_WHITESPACE
    [('WRONG_LABEL_SHARE', '12'), ('LABEL_ERROR_RATE', '8'), ('TEST_ROWS_IN_TRAIN', '3'),
     ('TRAIN_TEST_OVERLAP', '4'), ('INVALID_ROW_SHARE', '2'), ('DUPLICATE_SHARE', '5'), ('MISSING_SHARE', '30'),
     ('PLACEHOLDER_SHARE', '10'), ('MISSING_RATE', '12'), ('MISSING_AFFECTS_SHARE', '7'),
     ('INVALID_AFFECTS_SHARE', '3'), ('DUPLICATES_MAKE_UP', '4'), ('SHIFT_P_VALUE', '0.003'),
     ('AGREEMENT_SCORE', '0.41'), ('KAPPA_AFTER_VALUE', '0.35'), ('PSI_VALUE', '0.31'), ('KS_VALUE', '0.22')]

    >>> from app.diagnosis.text.scan import scan as scan_text
    >>> facts, sc = Facts(), scan_text("12% of the labels are wrong and the PSI of `income` is 0.31.")
    >>> data_checks(sc, 0, len(sc.masked), facts)
    >>> facts.values
    {'data_checks.label_error_rate': 0.12, 'data_checks.psi': {'income': 0.31}}
    """
    masked, quote = scan.masked, scan.quote(s, e)
    for check in CHECKS:
        match = check.pattern.search(masked, s, e)
        if not match or match.start(check.value_group) in out.consumed or negated(masked, s, match.start()):
            continue
        value = _check_value(check, match, scan, s, e, out, quote)
        if value is not None:
            out.put(check.path, value, quote, match.start(check.value_group))
    _agreement(scan, s, e, out, quote)
