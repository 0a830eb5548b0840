"""Task and class balance stated in the text: number of classes, positive share, class ratios and counts.

Each pattern is named after what it reads and shown on a sentence it matches. :func:`class_facts` tries them in
the order of :data:`_CLASS_READERS`; the first one that yields a share wins.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from app.diagnosis.text.fragments import LINK, PCT, POS, Facts, N, negated, num
from app.diagnosis.text.scan import Scan

__all__ = [
    "BALANCED",
    "BINARY",
    "COUNT_OF_TOTAL",
    "COUNT_VS_COUNT",
    "METRIC_ON_CLASS",
    "NEGATIVE_SHARE",
    "N_CLASSES",
    "ONE_IN_N",
    "POSITIVE_RATE",
    "POSITIVE_SHARE",
    "SPLIT_AFTER_RATIO",
    "TWO_TERM_RATIO",
    "class_facts",
    "task_facts",
]

_I = re.IGNORECASE

# -- the task ---------------------------------------------------------------------------------------------------

N_CLASSES = re.compile(r"(?<![\w./:])(\d+)(?:[- ]class\b|\s+classes\b|[- ]way\s+classif)", _I)
"""A class count: "a 3-class problem", "12 classes", "a 5-way classifier" (group 1: the count)."""

BINARY = re.compile(r"\bbinary\b", _I)
"""The word binary: "a binary churn model"."""

# -- the share of the positive (minority) class ----------------------------------------------------------------

_SOME_WORDS_OF = r"(?:of\s+(?:the\s+)?(?:[\w-]+\s+){0,3}?)?"

POSITIVE_SHARE = re.compile(N + PCT + r"\s+" + _SOME_WORDS_OF + r"(?:are\s+|is\s+|being\s+)?" + POS, _I)
"""A share followed by the positive class: "only 2% of the transactions are fraud" (groups: value, percent)."""

POSITIVE_RATE = re.compile(
    POS + r"\s*(?:class\s*)?(?:rate|share|ratio|prevalence|proportion|frequency|base rate)?" + LINK + N + PCT, _I
)
"""The positive class followed by its rate: "the fraud rate is 0.5%" (groups: value, percent)."""

METRIC_ON_CLASS = re.compile(r"(?:recall|precision|f1|accuracy|auc|score)\s+(?:on|for|of|in)\s+(?:the\s+)?$", _I)
"""A metric just before a positive-rate match, which makes its number a score: "recall on the " (minority ...)."""

NEGATIVE_SHARE = re.compile(
    N + PCT + r"\s+" + _SOME_WORDS_OF + r"(?:are\s+|is\s+)?(?:negatives?|negative class|"
    r"majority(?: class)?|legitimate|benign|normal)\b",
    _I,
)
"""A share followed by the negative (majority) class: "95% of the cases are benign" (groups: value, percent)."""

# -- two class sizes --------------------------------------------------------------------------------------------

TWO_TERM_RATIO = re.compile(r"(?<![\d.:/])(\d+(?:\.\d+)?)\s*([:/])\s*(\d+(?:\.\d+)?)(?![\d:/])")
"""A ratio of two terms, "1:99" or "80/20" (groups: first term, separator, second term)."""

SPLIT_AFTER_RATIO = re.compile(r"\s*(?:\w+\s+)?(?:split|train|test|valid)", _I)
"""Right after an "a/b" ratio, words that make it a data split: "80/20 train/test split" (matched at " train")."""

_CLASS_WORD = re.compile(r"class", _I)
_RATIO_CONTEXT = re.compile(r"ratio|imbalanc|class|positive|negative|minority|majority", _I)

_COUNT = r"(?<![\w.])(\d+(?:\.\d+)?)\s*(k)?"  # "150", "12k": groups value and thousands

COUNT_OF_TOTAL = re.compile(
    _COUNT + r"\s+(?:[\w-]+\s+){0,2}?" + POS + r"(?:\s+[\w-]+){0,2}?\s+(?:out of|of|in|among)\s+"
    r"(?:the\s+|a total of\s+|about\s+|~)?(\d+(?:\.\d+)?)\s*(k|m)?\b",
    _I,
)
"""A positive count out of a total: "150 fraud cases out of 10k" (groups: count, k, total, k/m)."""

COUNT_VS_COUNT = re.compile(
    _COUNT + r"\s+(?:examples|samples|rows|instances|cases|images|records|documents|"
    r"utterances|items)\s+(?:vs\.?|versus|against|compared (?:to|with))\s+(?:~|about\s+|over\s+)?(\d+(?:\.\d+)?)\s*"
    r"(k|m)?\b",
    _I,
)
"""Two class sizes side by side: "500 examples vs 20k" (groups: count, k, other count, k/m)."""

_COUNT_CONTEXT = re.compile(r"class|label|categor|intent|imbalanc", _I)

ONE_IN_N = re.compile(r"\b1\s+(?:in|out of)\s+(\d+)\b", _I)
"""One positive in N: "roughly 1 in 200 claims is fraudulent" (group 1: N)."""

BALANCED = re.compile(r"\bbalanced\b", _I)
"""The word balanced: "the classes are balanced"."""

_BALANCE_CONTEXT = re.compile(r"class|label|dataset|data", _I)
# balanced weights, accuracy or batches, or a subset of the classes: no statement of the class mix
_NOT_A_BALANCED_MIX = re.compile(
    r"\bbalanced[ _-](?:class[ _-])?(?:weights?|accuracy|sampl\w*|batch\w*|bagging|subsampl\w*|random forest|loss)\b|"
    r"\bclass_weight\b|\b(?:most (?:frequent|common)|top|largest|biggest|some|a few|several|first|main|major)\b"
    r"[^.;]{0,20}\bclasses\b", _I)

_SCALE = {"k": 1e3, "m": 1e6}


def task_facts(scan: Scan, s: int, e: int, out: Facts) -> None:
    """The number of classes and the task it implies.

    >>> N_CLASSES.search("we train a 3-class model").group(1), N_CLASSES.search("12 classes of defects").group(1)
    ('3', '12')
    >>> BINARY.search("a binary churn model").group(0)
    'binary'
    """
    m = N_CLASSES.search(scan.masked, s, e)
    if m and "n_classes" not in out.values and int(m.group(1)) >= 2:
        n = int(m.group(1))
        out.put("n_classes", n, scan.quote(s, e), m.start(1))
        out.values["task"] = "binary_classification" if n == 2 else "multiclass_classification"
    elif BINARY.search(scan.masked[s:e]) and "n_classes" not in out.values:
        out.put("n_classes", 2, scan.quote(s, e))
        out.values["task"] = "binary_classification"


def _count(match: re.Match[str], value: int, unit: int) -> float:
    """A count written as ``150``, ``12k`` or ``2m`` (groups ``value`` and ``unit`` of ``match``)."""
    return float(match.group(value)) * _SCALE.get((match.group(unit) or "").lower(), 1.0)


def _put_positive(out: Facts, share: float, quote: str, *at: int) -> None:
    out.put("class_distribution", {"positive": share, "negative": 1 - share}, quote, *at)


def _put_two_classes(out: Facts, a: float, b: float, quote: str, *at: int) -> None:
    """The class distribution of two stated class sizes (or ratio terms), as minority / majority shares."""
    out.put("class_distribution", {"minority": min(a, b) / (a + b), "majority": max(a, b) / (a + b)}, quote, *at)


def _positive_share(masked: str, start: int, end: int, quote: str, out: Facts) -> bool:
    """ "2% of the transactions are fraud", then "fraud rate is 0.5%" (unless a metric names that class).

    >>> POSITIVE_SHARE.search("only 2% of the transactions are fraud").group(0, 1, 2)
    ('2% of the transactions are fraud', '2', '%')
    >>> POSITIVE_RATE.search("the fraud rate is 0.5%").group(0, 1, 2)
    ('fraud rate is 0.5%', '0.5', '%')
    >>> bool(METRIC_ON_CLASS.search("recall on the "))
    True
    """
    for pattern in (POSITIVE_SHARE, POSITIVE_RATE):
        match = pattern.search(masked, start, end)
        if not match or negated(masked, start, match.start()):
            continue
        if pattern is POSITIVE_RATE and METRIC_ON_CLASS.search(masked[max(start, match.start() - 30) : match.start()]):
            continue  # "recall on the minority class is 0.31": a score, not a share
        share = num(match, 1, 2)
        if 0 < share < 1:
            _put_positive(out, share, quote, match.start(1))
            return True
    return False


def _negative_share(masked: str, start: int, end: int, quote: str, out: Facts) -> bool:
    """ "95% of the cases are benign": the positive share is the rest.

    >>> NEGATIVE_SHARE.search("95% of the cases are benign").group(0, 1)
    ('95% of the cases are benign', '95')
    """
    match = NEGATIVE_SHARE.search(masked, start, end)
    if match and not negated(masked, start, match.start()):
        share = num(match, 1, 2)
        if 0.5 < share < 1:
            out.put("class_distribution", {"positive": 1 - share, "negative": share}, quote, match.start(1))
            return True
    return False


def _ratio(masked: str, start: int, end: int, quote: str, out: Facts) -> bool:
    """ "a 1:99 class ratio"; an "80/20" is a class ratio only when no split follows and a class is named.

    >>> TWO_TERM_RATIO.search("a 1:99 class ratio").group(1, 2, 3)
    ('1', ':', '99')
    >>> bool(SPLIT_AFTER_RATIO.match(" train/test split"))
    True
    """
    match = TWO_TERM_RATIO.search(masked, start, end)
    sentence = masked[start:end]
    if (
        match
        and match.group(2) == "/"
        and (SPLIT_AFTER_RATIO.match(masked[match.end() : match.end() + 20]) or not _CLASS_WORD.search(sentence))
    ):
        return False  # 80/20 is a data split, not a class ratio
    if match and _RATIO_CONTEXT.search(sentence):
        a, b = float(match.group(1)), float(match.group(3))
        if a > 0 and b > 0:
            _put_two_classes(out, a, b, quote, match.start(1), match.start(3))
            return True
    return False


def _count_of_total(masked: str, start: int, end: int, quote: str, out: Facts) -> bool:
    """ "150 fraud cases out of 10k transactions".

    >>> COUNT_OF_TOTAL.search("150 fraud cases out of 10k transactions").group(1, 2, 3, 4)
    ('150', None, '10', 'k')
    """
    match = COUNT_OF_TOTAL.search(masked, start, end)
    if match:
        positives, total = _count(match, 1, 2), _count(match, 3, 4)
        if 0 < positives < total:
            _put_positive(out, positives / total, quote, match.start(1), match.start(3))
            return True
    return False


def _count_vs_count(masked: str, start: int, end: int, quote: str, out: Facts) -> bool:
    """ "500 examples vs 20k" when the sentence is about classes or labels.

    >>> COUNT_VS_COUNT.search("the rare label has 500 examples vs 20k").group(1, 2, 3, 4)
    ('500', None, '20', 'k')
    """
    match = COUNT_VS_COUNT.search(masked, start, end)
    if match and _COUNT_CONTEXT.search(masked[start:end]):
        a, b = _count(match, 1, 2), _count(match, 3, 4)
        if a > 0 and b > 0 and a != b:
            _put_two_classes(out, a, b, quote, match.start(1), match.start(3))
            return True
    return False


def _one_in_n(masked: str, start: int, end: int, quote: str, out: Facts) -> bool:
    """ "1 in 200 claims is fraudulent".

    >>> ONE_IN_N.search("roughly 1 in 200 claims is fraudulent").group(1)
    '200'
    """
    match = ONE_IN_N.search(masked, start, end)
    if match and float(match.group(1)) > 1:
        _put_positive(out, 1.0 / float(match.group(1)), quote, match.start(1))
        return True
    return False


def _balanced(masked: str, start: int, end: int, quote: str, out: Facts) -> bool:
    """ "the classes are balanced" (not "not balanced").

    >>> BALANCED.search("the classes are balanced").group(0)
    'balanced'
    """
    sentence = masked[start:end]
    match = BALANCED.search(sentence)
    if match and not negated(masked, start, start + match.start()) and _BALANCE_CONTEXT.search(sentence) \
            and not _NOT_A_BALANCED_MIX.search(sentence):
        named = N_CLASSES.search(sentence)
        n = int(named.group(1)) if named else int(out.values.get("n_classes") or 2)
        n = n if 2 <= n <= 1000 else 2
        out.put("class_distribution", {f"class_{i}": 1.0 / n for i in range(n)} if n > 2 else
                {"class_a": 0.5, "class_b": 0.5}, quote)
        return True
    return False


_CLASS_READERS: tuple[Callable[[str, int, int, str, Facts], bool], ...] = (
    _positive_share,
    _negative_share,
    _ratio,
    _count_of_total,
    _count_vs_count,
    _one_in_n,
    _balanced,
)


def class_facts(scan: Scan, s: int, e: int, out: Facts) -> None:
    """The class distribution stated in one sentence: the first reader of :data:`_CLASS_READERS` that finds one.

    >>> from app.diagnosis.text.scan import scan as scan_text
    >>> def read(sentence):
    ...     facts, sc = Facts(), scan_text(sentence)
    ...     class_facts(sc, 0, len(sc.masked), facts)
    ...     return facts.values.get("class_distribution")
    >>> read("Only 2% of the transactions are fraud.")
    {'positive': 0.02, 'negative': 0.98}
    >>> read("We used an 80/20 train/test split."), read("The class ratio is 1:4.")
    (None, {'minority': 0.2, 'majority': 0.8})
    """
    if "class_distribution" in out.values:
        return
    quote = scan.quote(s, e)
    for reader in _CLASS_READERS:
        if reader(scan.masked, s, e, quote, out):
            return
