"""Task and class balance stated in the text: number of classes, positive share, class ratios and counts."""

from __future__ import annotations

import re

from app.diagnosis.text.fragments import LINK, PCT, POS, Facts, N, negated, num
from app.diagnosis.text.scan import Scan

__all__ = ["class_facts", "task_facts"]

_I = re.IGNORECASE


_SCALE = {"k": 1e3, "m": 1e6}


def _count(m: re.Match[str], value: int, unit: int) -> float:
    """A count written as ``150``, ``12k`` or ``2m`` (groups ``value`` and ``unit`` of ``m``)."""
    return float(m.group(value)) * _SCALE.get((m.group(unit) or "").lower(), 1.0)


def _put_two_classes(out: Facts, a: float, b: float, q: str, *at: int) -> None:
    """The class distribution of two stated class sizes (or ratio terms), as minority / majority shares."""
    out.put("class_distribution", {"minority": min(a, b) / (a + b), "majority": max(a, b) / (a + b)}, q, *at)


def class_facts(scan: Scan, s: int, e: int, out: Facts) -> None:
    t, q = scan.masked, scan.quote(s, e)
    pats = [
        re.compile(N + PCT + r"\s+(?:of\s+(?:the\s+)?(?:[\w-]+\s+){0,3}?)?(?:are\s+|is\s+|being\s+)?" + POS, _I),
        re.compile(
            POS + r"\s*(?:class\s*)?(?:rate|share|ratio|prevalence|proportion|frequency|base rate)?" + LINK + N + PCT,
            _I,
        ),
    ]
    if "class_distribution" in out.values:
        return
    for pat in pats:
        m = pat.search(t, s, e)
        if (
            m
            and not negated(t, s, m.start())
            and not (
                pat is pats[1]
                and re.search(
                    r"(?:recall|precision|f1|accuracy|auc|score)\s+(?:on|for|of|in)\s+(?:the\s+)?$",
                    t[max(s, m.start() - 30) : m.start()],
                    _I,
                )
            )
        ):
            g = 1
            share = num(m, g, 2)
            if 0 < share < 1:
                out.put("class_distribution", {"positive": share, "negative": 1 - share}, q, m.start(g))
                return
    m = re.compile(
        N + PCT + r"\s+(?:of\s+(?:the\s+)?(?:[\w-]+\s+){0,3}?)?(?:are\s+|is\s+)?(?:negatives?|negative class|"
        r"majority(?: class)?|legitimate|benign|normal)\b",
        _I,
    ).search(t, s, e)
    if m and not negated(t, s, m.start()):
        share = num(m, 1, 2)
        if 0.5 < share < 1:
            out.put("class_distribution", {"positive": 1 - share, "negative": share}, q, m.start(1))
            return
    m = re.compile(r"(?<![\d.:/])(\d+(?:\.\d+)?)\s*([:/])\s*(\d+(?:\.\d+)?)(?![\d:/])").search(t, s, e)
    ctx = t[s:e]
    if (
        m
        and m.group(2) == "/"
        and (
            re.match(r"\s*(?:\w+\s+)?(?:split|train|test|valid)", t[m.end() : m.end() + 20], _I)
            or not re.search(r"class", ctx, _I)
        )
    ):
        m = None  # 80/20 is a data split, not a class ratio
    if m and re.search(r"ratio|imbalanc|class|positive|negative|minority|majority", ctx, _I):
        a, b = float(m.group(1)), float(m.group(3))
        if a > 0 and b > 0:
            _put_two_classes(out, a, b, q, m.start(1), m.start(3))
            return
    m = re.compile(
        r"(?<![\w.])(\d+(?:\.\d+)?)\s*(k)?\s+(?:[\w-]+\s+){0,2}?"
        + POS
        + r"(?:\s+[\w-]+){0,2}?\s+(?:out of|of|in|among)\s+"
        r"(?:the\s+|a total of\s+|about\s+|~)?(\d+(?:\.\d+)?)\s*(k|m)?\b",
        _I,
    ).search(t, s, e)
    if m:
        a, b = _count(m, 1, 2), _count(m, 3, 4)
        if 0 < a < b:
            out.put("class_distribution", {"positive": a / b, "negative": 1 - a / b}, q, m.start(1), m.start(3))
            return
    m = re.compile(
        r"(?<![\w.])(\d+(?:\.\d+)?)\s*(k)?\s+(?:examples|samples|rows|instances|cases|images|records|documents|"
        r"utterances|items)\s+(?:vs\.?|versus|against|compared (?:to|with))\s+(?:~|about\s+|over\s+)?(\d+(?:\.\d+)?)\s*"
        r"(k|m)?\b",
        _I,
    ).search(t, s, e)
    if m and re.search(r"class|label|categor|intent|imbalanc", ctx, _I):
        a, b = _count(m, 1, 2), _count(m, 3, 4)
        if a > 0 and b > 0 and a != b:
            _put_two_classes(out, a, b, q, m.start(1), m.start(3))
            return
    m = re.compile(r"\b1\s+(?:in|out of)\s+(\d+)\b", _I).search(t, s, e)
    if m and float(m.group(1)) > 1:
        share = 1.0 / float(m.group(1))
        out.put("class_distribution", {"positive": share, "negative": 1 - share}, q, m.start(1))
        return
    m = re.search(r"\bbalanced\b", t[s:e], _I)
    if m and not negated(t, s, s + m.start()) and re.search(r"class|label|dataset|data", t[s:e], _I):
        out.put("class_distribution", {"class_a": 0.5, "class_b": 0.5}, q)


def task_facts(scan: Scan, s: int, e: int, out: Facts) -> None:
    m = re.compile(r"(?<![\w./:])(\d+)(?:[- ]class\b|\s+classes\b|[- ]way\s+classif)", _I).search(scan.masked, s, e)
    if m and "n_classes" not in out.values and int(m.group(1)) >= 2:
        n = int(m.group(1))
        out.put("n_classes", n, scan.quote(s, e), m.start(1))
        out.values["task"] = "binary_classification" if n == 2 else "multiclass_classification"
    elif re.search(r"\bbinary\b", scan.masked[s:e], _I) and "n_classes" not in out.values:
        out.put("n_classes", 2, scan.quote(s, e))
        out.values["task"] = "binary_classification"
