"""Low-level scanning of free text: identifiers, sentences, clauses, split/metric mentions and numbers.

The patterns on sentences they match:

>>> _BACKTICK.search("we added `days active` last week").group(1), _SNAKE.search("added days_active").group(0)
('days active', 'days_active')
>>> _SPLIT_RE.search("on the hold-out set").group(1), _METRIC_RE.search("its ROC AUC fell").group(1)
('hold-out', 'ROC AUC')
>>> _PROD_PHRASE.search("since the latest app release").group(0)
'since the latest app release'
>>> _NUM_RE.search("up 12 pp").group(1, 2), [m.start() for m in _SENT_RE.finditer("Acc 0.98. Test 0.6")]
(('12', 'pp'), [9])
>>> _CLAUSE_RE.search("val 0.9 but test 0.6").group(0), _COUNT_UNITS.match(" seeds").group(1)
(' but ', 'seeds')
>>> _COUNT_PREFIX.search("at epoch ") is not None, _ASSIGNED.search("max_depth=").group(1)
(True, 'max_depth')
>>> _STAT_PREFIX.search("the median of") is not None, HEDGES.search("I suspect leakage").group(0)
(True, 'suspect')
>>> NEGATIONS.search("there is no sign of ").group(0), PLACEHOLDER.search("added \u01920____ today").group(1)
('no sign of ', '0')
>>> _THOUSANDS.search("5,000 rows").group(0), _CURVE_ID.search("val_loss rose").group(1, 2)
('5,000', ('val', 'loss'))
>>> _RATIO_TAIL.match(": 99") is not None, _PAIR_AFTER.match("/20 split").group(1), _PAIR_BEFORE.search("80/").group(1)
(True, '20', '80')
>>> _SPLIT_JOIN.fullmatch(" set ") is not None, [f.search("half of the rows") is not None for f, _ in _FRACTION_WORDS]
(True, [False, False, False, False, True])
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.diagnosis.vocab import METRIC_ALIASES, SPLIT_ALIASES, canonical_metric, canonical_split

__all__ = ["HEDGES", "NEGATIONS", "PLACEHOLDER", "Mention", "Num", "Scan", "clauses_of", "find_numbers", "scan"]

_I = re.IGNORECASE

_TRANSLATE = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u00d7": "x",
        "\u2248": "~",
        "\u2212": "-",
        "\u00a0": " ",
    }
)
_BACKTICK = re.compile(r"`([^`\n]{1,80})`")
_SNAKE = re.compile(r"(?<![\w`])[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+(?![\w`])")
_SPLIT_WORDS = sorted(SPLIT_ALIASES, key=len, reverse=True)
# (not inside a dotted name: "redshells.train.utils" is a module, not the training split)
_SPLIT_RE = re.compile(r"(?<![\w-])(?<!\w\.)(" + "|".join(re.escape(w) for w in _SPLIT_WORDS) + r")(?![\w-])", _I)
_METRIC_WORDS = sorted({a for al in METRIC_ALIASES.values() for a in al} - {"ap", "loss"}, key=len, reverse=True)
_METRIC_RE = re.compile(
    r"(?<![\w-])(" + "|".join(re.escape(w) for w in _METRIC_WORDS) + r"|loss|performance|score|metric)(?![\w-])", _I
)
_PROD_PHRASE = re.compile(
    r"\b(?:after|since)\s+(?:the\s+)?(?:new\s+|recent\s+|latest\s+)?(?:[\w-]+\s+){0,2}?(?:rollout|roll-out|release|"
    r"launch|update|upgrade|migration|deployment|go-live)\b",
    re.IGNORECASE,
)
_NUM_RE = re.compile(r"(?<![\w.^])(\d+(?:\.\d+)?|\.\d+)(?:\s*(%|percent\b|per cent\b|pct\b|pp\b))?")  # not R^2
_SENT_RE = re.compile(r"(?<=[.!?;])\s+|\n+")
_CLAUSE_RE = re.compile(
    r",\s*|\s+-\s+|\s+/\s+|\s+(?:but|while|whereas|although|though|however|yet|vs\.?|versus|compared "
    r"(?:to|with)|against)\s+|\s*\(\s*|\s*\)\s*",
    _I,
)
_COUNT_UNITS = re.compile(
    r"\s*(?:(?:-|to)\s*\d+(?:\.\d+)?\s*)?-?\s*(?:(?:more|extra|additional|new|fewer|other)\s+)?"
    # the kind of a layer: "2 conv layers", "3 hidden layers"
    r"(?:(?:conv\w*|dense|hidden|lstm|gru|linear|residual|transformer|attention|recurrent|fully[- ]connected)\s+)?"
    r"(seeds?|epochs?|steps?|iterations?|folds?|rows?|examples?|samples?|records?|"
    r"recordings?|clips?|utterances?|speakers?|subjects?|participants?|documents?|sentences?|reviews?|videos?|scans?|"
    r"images?|photos?|pictures?|pics|points|files?|frames?|tweets?|queries|questions?|transactions?|sessions?|"
    r"ratings?|interactions?|days?|weeks?|months?|years?|hours?|minutes?|features?|columns?|classes|class\b|"
    r"annotators?|labell?ers?|layers?|trees?|users?|customers?|patients?|items?|k\b|x\b|m\b|b\b|million\b|"
    r"billion\b|parameters|params\b|weights\b|neurons|tokens|"
    # units of the set-up, never a quality value: "16-bit" audio, "16 kHz", "8 GB", "300 dpi", "30 fps", "3 channels"
    # (not seconds, cm, px or "bits per character": an error metric can be stated in those, unless written as an
    # adjective: "3-second windows")
    r"(?<=-)bit|[kmg]?hz|[kmgt]i?b\b|dpi|fps|channels?|cores?|gpus?|dimensions?|dims?|kbps|mbps|filters|kernels|"
    r"heads|blocks|d\b|"  # "1-D CNN", "3D scans": a dimension
    # a duration or size written as an adjective: "3-second windows", "10-minute bins", "5-pixel border"
    r"(?<=-)(?:seconds?|sec|ms|minutes?|min|hours?|hr|days?|weeks?|months?|years?|pixels?|px|cm|mm|km|meters?|"
    r"metres?|mile|word|token|character|sample|frame|point|step|fold|layer|way|class))\b",
    _I,
)
# "8% of training reviews", "5 % of the test images", "30% class 0": a share of the data, never a metric value
_SHARE_OF_DATA = re.compile(
    r"\s*(?:%|percent)?\s*of\s+(?:the\s+|all\s+|our\s+|my\s+|their\s+|this\s+|that\s+)?"
    r"(?:(?:train\w*|val\w*|valid\w*|test\w*|held-?out|"
    r"holdout)\s+)?(?:set\s+|data\s+)?(?:reviews|rows|samples|examples|images|records|items|cases|documents|texts|"
    r"sentences|files|pictures|transactions|users|customers|patients|labels|annotations|tweets|messages|"
    r"emails|photos|scans|videos|clips|data|data ?set|set)\b|"
    # "70% of them class 1 and 30% class 0", "12% are positives": a class's share of the data
    r"\s*(?:%|percent)?\s*(?:of\s+(?:them|these|those|it)\s+)?(?:(?:are|is|were|was)\s+)?(?:in\s+)?(?:class|label)\s*"
    r"[\w\"']|\s*(?:%|percent)?\s*(?:of\s+(?:them|these|those)\s+)?(?:are|were)\s+(?:positives?|negatives?)\b",
    re.IGNORECASE,
)
_COUNT_PREFIX = re.compile(
    r"(?:\b(?:epoch|step|seed|version|v|layer|top|k\s*=|n\s*=|batch size|lr|learning rate|"
    r"fold|iteration|round|day|week|month|year|dropout|weight decay|momentum|alpha|lambda|gamma|"
    r"max[ _]depth|depth|num[ _]leaves|n[ _]estimators|estimators|patience|warm-?up|temperature|"
    # a name with a number is a label, not a value: "class 1", "hospital 2", "figure 3", "stage 2"
    r"class|label|category|cluster|group|figure|fig\.|table|section|issue|phase|stage|part|type|rank|hospital|"
    r"site|sensor|camera|gpu|node|chapter|ch\.|page|line|cell|lesson|exercise|appendix|equation|eq\.|"
    r"python|cuda|ubuntu|release)|#)\s*[-:=]?\s*$",
    _I,
)
# a hyper-parameter or other named setting: "C=0.001", "max_depth=14" (masked as a feature), "p = 0.03"
_ASSIGNED = re.compile(r"([^\W\d][\w\u0192\u00b2^-]*)\s*=\s*$")
# a descriptive statistic of the data, not a score: "mean ~40", "median of 12"
_STAT_PREFIX = re.compile(
    r"\b(?:mean|median|average|avg|std|stdev|sd|variance)\s*(?:of|is|was|=|:|~|around|about)?\s*~?$", _I
)
# a masked identifier placeholder: "\u01920_____" (group 1: the identifier's index)
PLACEHOLDER = re.compile(r"\u0192(\d+)_*")
# a fraction word before "of" and the share it stands for: "half of the rows"
_FRACTION_WORDS = tuple(
    (re.compile(rf"\b{word}(?= of\b)", _I), pct)
    for word, pct in (
        ("three quarters", "75%"),
        ("two thirds", "67%"),
        ("a quarter", "25%"),
        ("a third", "33%"),
        ("half", "50%"),
    )
)
# a number with thousands separators: "5,000", "1,250.5", also in a list ("Hate 11,034, Extreme Hate 2,698")
_THOUSANDS = re.compile(r"(?<![\d.,])\d{1,3}(?:,\d{3})+(?!\d|,\d|\.\d)|(?<![\d.,])\d{1,3}(?:,\d{3})+(?=\.\d)")
# numbers that are names, not quantities: a version ("anomalib 2.2.0", "v1.13"), a date ("2020/03/03",
# "2024-05-01"), a clock time ("23:22:07"), a file's line ("utils.py:21"); their digits are masked so no reader takes
# them for a value or a share
_NOT_A_QUANTITY = re.compile(
    r"(?<![\w.])v?\d+\.\d+\.\d+(?:[.-]?\w+)*(?![\w.]*\d)|(?<![\w.])v\d+(?:\.\d+)+\b|"
    r"(?<![\d/.-])(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4})(?![\d/.-]*\d)|"
    r"(?<![\d:])\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?(?![\d:])|"
    # a file and line ("utils.py:21", "train.ipynb:3:7")
    r"\.(?:py|ipynb|js|ts|cpp|cc|cu|c|h|java|go|rs|rb|sh|ya?ml|json|r):\d+(?::\d+)?\b", re.IGNORECASE)
# a curve-style identifier that reads as two words: "val_loss", "train_accuracy"
_CURVE_ID = re.compile(r"\b(train|training|val|validation|test|dev)_(loss|accuracy|acc|auc|f1)\b", _I)
# right after a number, the second half of a ratio "1:99" (handled by the class-ratio pattern)
_RATIO_TAIL = re.compile(r":\s*\d")
# the other half of a split such as 80/20: after the number ("80/20") or before it ("80/ 20")
_PAIR_AFTER = re.compile(r"\s*/\s*(\d+)\b(?![.%])")
_PAIR_BEFORE = re.compile(r"(?<![.\d])(\d+)\s*/\s*$")
# between two split words that name one split: "out-of-time validation", "holdout test set"
_SPLIT_JOIN = re.compile(r"[\s-]*(?:set\s+|sample\s+)?", _I)
HEDGES = re.compile(
    r"\b(worr(y|ied|ies)|suspect\w*|maybe|might|could|possibl\w*|perhaps|wonder\w*|afraid|"
    r"concern\w*|not sure|unsure|whether|guess|hypothes\w*|potential(ly)?|risk of|seems?)\b|\?",
    _I,
)
NEGATIONS = re.compile(
    r"\b(no|not|never|without|ruled out|rule out|isn't|wasn't|aren't|no sign of|free of)\b"
    r"[\w\s-]{0,25}$",
    _I,
)


@dataclass(frozen=True)
class Num:
    """A number found in the text; ``value`` is already a fraction when written as a percentage."""

    value: float
    raw: str
    start: int
    end: int
    percent: bool
    count: bool  # followed by a count unit or preceded by an index word ("5 seeds", "epoch 3")


@dataclass(frozen=True)
class Mention:
    kind: str  # "split" | "metric" | "feature"
    name: str
    start: int
    end: int


@dataclass
class Scan:
    """The text prepared for extraction: identifiers masked (same length), so offsets match ``text``."""

    text: str  # normalised text, same length as the input
    masked: str  # identifiers replaced by F<i> placeholders of equal length
    features: list[str]  # identifier names by placeholder index
    feature_spans: list[tuple[int, int]]

    def quote(self, start: int, end: int) -> str:
        return " ".join(self.text[start:end].split())


def scan(text: str) -> Scan:
    """Normalise punctuation and mask backticked/snake_case identifiers as ``F<i>`` placeholders.

    >>> s = scan("Added `renewal_status_after_30d` and days_active.")
    >>> s.features, s.masked
    (['renewal_status_after_30d', 'days_active'], 'Added \u01920________________________ and \u01921_________.')
    """
    norm = text.translate(_TRANSLATE)
    masked = list(norm)
    features: list[str] = []
    spans: list[tuple[int, int]] = []

    def _mask(start: int, end: int, name: str) -> None:
        tag = f"\u0192{len(features)}"
        if end - start < len(tag) or any(c != o for c, o in zip(masked[start:end], norm[start:end])):
            return
        features.append(name)
        spans.append((start, end))
        masked[start:end] = list(tag.ljust(end - start, "_"))

    for m in _BACKTICK.finditer(norm):
        name = m.group(1).strip()
        if name and canonical_metric(name) not in METRIC_ALIASES:
            _mask(m.start(), m.end(), name)
    for m in _SNAKE.finditer("".join(masked)):
        name = m.group(0)
        head = name.split("_")[0].lower()
        if canonical_metric(name) in METRIC_ALIASES or head in SPLIT_ALIASES or PLACEHOLDER.fullmatch(name):
            continue
        _mask(m.start(), m.end(), name)
    masked_s = "".join(masked)
    # word fractions before "of": "half of the rows" -> "50%  of the rows" (same length)
    for fraction, pct in _FRACTION_WORDS:
        masked_s = fraction.sub(lambda m, p=pct: p.ljust(len(m.group(0))), masked_s)
    # versions, dates, clock times and file lines: digits masked ("2.2.0" -> "#.#.#", same length)
    masked_s = _NOT_A_QUANTITY.sub(lambda m: re.sub(r"\d", "#", m.group(0)), masked_s)
    # thousands separators: "5,000" -> "05000" (same length, same value) so offsets still match ``text``
    masked_s = _THOUSANDS.sub(lambda m: m.group(0).replace(",", "").rjust(len(m.group(0)), "0"), masked_s)
    # curve-style identifiers such as val_loss / train_accuracy read as words
    masked_s = _CURVE_ID.sub(lambda m: m.group(1) + " " + m.group(2), masked_s)
    return Scan(text=norm, masked=masked_s, features=features, feature_spans=spans)


def sentences_of(masked: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence; a period inside a number (0.98) does not end a sentence."""
    out, pos = [], 0
    for m in _SENT_RE.finditer(masked):
        if masked[pos : m.start()].strip():
            out.append((pos, m.start()))
        pos = m.end()
    if masked[pos:].strip():
        out.append((pos, len(masked)))
    return out


def clauses_of(masked: str, start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) of each clause of a sentence (split at commas, " / ", but, while, parentheses ...)."""
    out, pos = [], start
    for m in _CLAUSE_RE.finditer(masked, start, end):
        before = masked[max(start, m.start() - 1) : m.start()]
        after = masked[m.end() : m.end() + 1]
        if m.group(0).strip() == "," and before.isdigit() and after.isdigit():
            continue  # thousands separator
        if masked[pos : m.start()].strip():
            out.append((pos, m.start()))
        pos = m.end()
    if masked[pos:end].strip():
        out.append((pos, end))
    return out


def mentions_in(masked: str, start: int, end: int) -> list[Mention]:
    """Split, metric and feature mentions between ``start`` and ``end`` in text order."""
    found: list[Mention] = []
    seg = masked[start:end]
    for m in _SPLIT_RE.finditer(seg):
        found.append(Mention("split", SPLIT_ALIASES[m.group(1).lower()], start + m.start(), start + m.end()))
    for m in _PROD_PHRASE.finditer(seg):
        found.append(Mention("split", "production", start + m.start(), start + m.end()))
    for m in _METRIC_RE.finditer(seg):
        word = m.group(1).lower()
        name = "score" if word in ("performance", "score", "metric") else canonical_metric(word)
        found.append(Mention("metric", name, start + m.start(), start + m.end()))
    for m in PLACEHOLDER.finditer(seg):
        found.append(Mention("feature", m.group(1), start + m.start(), start + m.end()))
    found.sort(key=lambda x: x.start)
    # "out-of-time validation", "holdout test": the first (qualifying) split word names the split
    merged: list[Mention] = []
    for x in found:
        prev = merged[-1] if merged else None
        if (
            prev is not None
            and prev.kind == x.kind == "split"
            and _SPLIT_JOIN.fullmatch(masked[prev.end : x.start])
        ):
            merged[-1] = Mention("split", prev.name, prev.start, x.end)
            continue
        merged.append(x)
    return merged


# a row of counts ("legit   49430   20" in a confusion matrix, "fraud | 530 | 20", "mel [ 1 1 8 0 31 70 0]"): a label
# and integers only, bracketed or one of them above 100, so none of them can be a percentage score
_COUNT_ROW = re.compile(r"^[ \t|]*[A-Za-z_][\w ()'/.-]{0,40}?[ \t|:]+(?P<open>\[)?[ \t]*\d+(?:[ \t|,]+\d+){1,19}[ \t]*"
                        r"(?(open)\])[ \t|]*$")


_SCORE_LABEL = re.compile(r"acc|score|f1|auc|recall|precision|loss|error|folds?\b|cv\b|per[ _-]fold", re.IGNORECASE)


def _in_count_row(masked: str, pos: int) -> bool:
    """A row of counts: a label and whole numbers, bracketed ("mel [ 1 1 8 0 31 70 0]") or with a count above 100."""
    start, end = masked.rfind("\n", 0, pos) + 1, masked.find("\n", pos)
    line = masked[start : end if end >= 0 else len(masked)]
    row = _COUNT_ROW.match(line)
    if row and row.group("open") and _SCORE_LABEL.search(line[: line.find("[")]):
        return False  # "fold accuracies [ 81 79 84 ]": scores in brackets, not counts
    return bool(row) and (bool(row.group("open"))
                          or any(int(x) > 100 for x in re.findall(r"(?<![\w.])\d+(?![\w.])", line)))


_OF_COUNT = re.compile(r"\s*(?:out\s+)?of\s+(?:the\s+|all\s+|those\s+)?\d|\s*/\s*\d", re.IGNORECASE)
_FRACTION_BEFORE = re.compile(r"\d\s*/\s*$|\d\s+(?:out\s+)?of\s+(?:the\s+|all\s+|those\s+)?$")


_POSITION_BEFORE = re.compile(r"\b(?:first|last)[ -]$", re.IGNORECASE)
# what a position counts: "first 400 train / last 100 test", "the last 8 weeks"
_POSITION_UNIT = re.compile(r"\s*(?:train\w*|test\w*|val\w*|valid\w*|hold-?out|held-?out|"
                            r"for\s+(?:train|test|val)\w*)\b", re.IGNORECASE)


def find_numbers(masked: str, start: int = 0, end: int | None = None) -> list[Num]:
    """Numbers in every common form: 98%, 98 percent, 0.98, .98, 98 (values as fractions when percent).

    >>> [(n.value, n.percent, n.count) for n in find_numbers("val 98%, test .61, 5 seeds, 72 percent")]
    [(0.98, True, False), (0.61, False, False), (5.0, False, True), (0.72, True, False)]
    """
    end = len(masked) if end is None else end
    out = []
    for m in _NUM_RE.finditer(masked, start, end):
        raw = m.group(1)
        val = float(raw)
        pct = m.group(2) is not None
        if m.end() < len(masked) and masked[m.end()] == ":" and _RATIO_TAIL.match(masked[m.end() : m.end() + 3]):
            continue  # a ratio such as 1:99 is handled by the class-ratio pattern
        pair = _PAIR_AFTER.match(masked[m.end() : m.end() + 8]) if raw.isdigit() else None
        pair = (
            pair or _PAIR_BEFORE.search(masked[max(0, m.start() - 8) : m.start()])
            if raw.isdigit()
            else pair
        )
        if pair and float(pair.group(1)) + val == 100:
            continue  # 80/20 or 50/50: a split or class ratio, never a metric value
        count = (bool(_COUNT_UNITS.match(masked, m.end())) and not pct) or bool(_SHARE_OF_DATA.match(masked, m.end()))
        before = masked[max(0, m.start() - 24) : m.start()]
        if raw.isdigit() and not pct and (_OF_COUNT.match(masked, m.end()) or _FRACTION_BEFORE.search(before[-16:])):
            count = True  # "3 of the 36", "1/12", "714/750": counts and the terms of a fraction, not metric values
        count = count or bool(_COUNT_PREFIX.search(before[-16:])) or bool(_STAT_PREFIX.search(before))
        named = _ASSIGNED.search(before)
        if named and canonical_metric(named.group(1)) not in METRIC_ALIASES and not canonical_split(named.group(1)):
            count = True  # "C=0.001": a setting, never a metric value
        if not pct and val.is_integer() and 1900 <= val <= 2100:
            count = True  # a year
        if not pct and raw.isdigit() and _POSITION_BEFORE.search(before) and _POSITION_UNIT.match(masked, m.end()):
            count = True  # "first 400 train / last 100 test": rows by position, not a metric value
        if not pct and raw.isdigit() and "\n" in masked and _in_count_row(masked, m.start()):
            count = True
        out.append(
            Num(
                value=val / 100.0 if pct else val,
                raw=m.group(0),
                start=m.start(),
                end=m.end(),
                percent=pct,
                count=count,
            )
        )
    return out
