"""Shared pieces of the free-text fact patterns: number and share sub-patterns, the Facts accumulator, helpers.

The sub-patterns on what they match (``N`` a number, ``PCT`` an optional percent sign, ``POS`` the positive
class, ``LINK`` the linking word between a name and its number):

>>> re.search(N + PCT, "recall .61 and 98 percent").group(1, 2)
('.61', None)
>>> re.search(N + PCT, "about 98 percent").group(1, 2)
('98', 'percent')
>>> re.search(POS, "the minority class is rare", re.I).group(0)
'minority class'
>>> re.search("rate" + LINK + N, "rate is 0.2").group(1)
'0.2'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from app.diagnosis.text.scan import HEDGES, NEGATIONS, PLACEHOLDER, Scan

__all__ = ["LINK", "PCT", "POS", "Facts", "N", "features_in", "hedged", "negated", "num", "number_run"]

_I = re.IGNORECASE

N = r"(?<![\w.])(\d+(?:\.\d+)?|\.\d+)"
PCT = r"\s*(%|percent\b|per cent\b)?"
POS = (
    r"(?:positives?|positive (?:class|label|cases|examples)|minority(?: class)?|fraud\w*|churn\w*|default\w*|"
    r"events?|anomal\w+|spam|rare class|class 1|defects?|conversions?|clicks?|attacks?|failures?)"
)
LINK = r"\s*(?:is|are|was|were|of|at|=|:|around|about|roughly|approximately|~|only|just|only about)*\s*"


@dataclass
class Facts:
    """What the patterns found: record fields (dotted paths), provenance quotes and consumed number spans."""

    values: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, str] = field(default_factory=dict)
    consumed: set[int] = field(default_factory=set)  # start offsets of numbers already used
    feature_flags: dict[str, dict[str, Any]] = field(default_factory=dict)
    concerns: dict[str, dict[str, Any]] = field(default_factory=dict)

    def put(self, path: str, value: Any, quote: str, *starts: int) -> None:
        self.values[path] = value
        self.provenance[path] = f'prompt: "{quote}"'
        self.consumed.update(starts)


def num(m: re.Match[str], g: int, pct_group: int | None = None) -> float:
    v = float(m.group(g))
    pct = pct_group is not None and m.group(pct_group)
    return v / 100.0 if pct or v > 1 else v


_NUMBER = re.compile(N + PCT)
_RUN = re.compile(
    r"(?<![\w.])(?:\d+(?:\.\d+)?|\.\d+)\s*%?(?:\s*(?:,|->|→|;|then|and|, and)\s*(?:\d+(?:\.\d+)?|\.\d+)\s*%?){2,}"
)


def number_run(seg: str) -> list[re.Match[str]]:
    """The numbers of the first comma/arrow-separated run of three or more ("0.71, 0.84, 0.62").

    >>> [m.group(1) for m in number_run("seeds gave 0.71, 0.84 -> 0.62; then 5")]
    ['0.71', '0.84', '0.62']
    """
    m = _RUN.search(seg)
    if not m:
        return []
    return [x for x in _NUMBER.finditer(seg) if m.start() <= x.start() < m.end()]


def hedged(sentence: str) -> bool:
    return bool(HEDGES.search(sentence))


def negated(masked: str, s: int, start: int, negations: re.Pattern[str] = NEGATIONS) -> bool:
    """A negation (``negations``) in the 30 characters before ``start``, within the sentence starting at ``s``."""
    return bool(negations.search(masked[max(s, start - 30) : start]))


def features_in(scan: Scan, s: int, e: int) -> list[str]:
    return [scan.features[int(m.group(1))] for m in PLACEHOLDER.finditer(scan.masked[s:e])]
