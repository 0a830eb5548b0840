"""Pattern facts about the data: task and class ratios, and data checks (missing, duplicates, kappa, PSI ...)."""

from __future__ import annotations

import re
from typing import Any

from app.diagnosis.textbase import LINK, PCT, POS, Facts, N, features_in, negated, num
from app.diagnosis.textscan import Scan

__all__ = ["class_facts", "data_checks", "model_facts", "task_facts"]

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


_ABOUT = r"(?:about\s+|around\s+|roughly\s+|nearly\s+|almost\s+|over\s+|~)?"


def data_checks(scan: Scan, s: int, e: int, out: Facts) -> None:
    t, q = scan.masked, scan.quote(s, e)
    pre = r"\s+(?:of\s+(?:the\s+)?)?(?:[\w-]+\s+){0,3}?(?:are\s+|were\s+|is\s+|was\s+|have\s+|had\s+)?"
    table = [
        (
            "data_checks.label_error_rate",
            N + PCT + pre + r"(?:labels?\s+(?:are|were|is|was)?\s*)?"
            r"(?:wrong|incorrect|mislabel\w*|noisy|erroneous|flipped|label errors?|label noise)",
            1,
            2,
        ),
        (
            "data_checks.label_error_rate",
            r"(?:label\s+(?:error|noise)(?:\s+rate)?|mislabel\w*\s+rate)" + LINK + N + PCT,
            1,
            2,
        ),
        (
            "data_checks.train_test_overlap_fraction",
            N + PCT + r"\s+(?:of\s+(?:the\s+)?)?(?:test|validation|val|holdout|"
            r"eval)\w*\s+(?:[\w-]+\s+){0,2}?(?:also\s+)?(?:appear|are present|occur|exist|are duplicat|"
            r"overlap|are found|are (?:exact |near[- ]?)?duplicat|"
            r"show up|are in|are also in|are (?:exact |near[- ]?)?copies)\w*\s+(?:[\w-]+\s+){0,3}?(?:train|training)\b",
            1,
            2,
        ),
        (
            "data_checks.train_test_overlap_fraction",
            r"(?:overlap|duplicat\w*)\s+between\s+(?:the\s+)?(?:train|training)"
            r"\w*\s+and\s+(?:test|validation)\w*(?:\s+sets?)?" + LINK + N + PCT,
            1,
            2,
        ),
        (
            "data_checks.invalid_row_fraction",
            N + PCT + pre + r"(?:with\s+|contain\w*\s+)?(?:invalid|corrupt\w*|malformed|"
            r"out[- ]of[- ]range|negative\s+(?:ages?|values?|prices?|counts?|amounts?|quantit\w+|durations?)|"
            r"impossible|garbled|unparse?able|fail\w*\s+(?:the\s+)?(?:schema|"
            r"validation|range))",
            1,
            2,
        ),
        ("data_checks.duplicate_fraction", N + PCT + pre + r"(?:exact\s+|near\s+)?duplicat\w*", 1, 2),
        ("data_checks.missing_fraction", N + PCT + pre + r"(?:missing|null|nulls|nan|empty|blank)\b", 1, 2),
        (
            "data_checks.missing_fraction",
            N + PCT + pre + r"(?:(?:set to|filled with|coded as)\s+)?(?:-1|-999|9999|0|none|"
            r"n/?a|zero)?\s*(?:as\s+)?(?:an?\s+)?(?:placeholder|sentinel|default value|dummy value|filler)",
            1,
            2,
        ),
        (
            "data_checks.missing_fraction",
            r"(?:missing|null|nan|empty)(?:\s+values?)?(?:\s+rate)?\s+(?:in|for|on|of|is)"
            r"\s+(?:about\s+|around\s+|~|roughly\s+)?" + N + PCT,
            1,
            2,
        ),
        (
            "data_checks.missing_fraction",
            r"(?:missing|null|nulls|nan|empty|blank)\b(?:\s+values?)?[^.;%\d]{0,50}?\b(?:in|for|of|across|affects?|hits?)"
            r"\s+" + _ABOUT + N + r"\s*(%|percent\b)\s+of\b",
            1,
            2,
        ),
        (
            "data_checks.invalid_row_fraction",
            r"(?:invalid|corrupt\w*|malformed|garbage|garbled|broken|encoding|unparse?able|impossible|out[- ]of[- ]range)"
            r"\b[^.;%\d]{0,60}?\b(?:in|for|of|across|affects?|hits?)\s+" + _ABOUT + N + r"\s*(%|percent\b)\s+of\b",
            1,
            2,
        ),
        (
            "data_checks.duplicate_fraction",
            r"duplicat\w*[^.;%\d]{0,40}?\b(?:in|for|of|across|make up|are)\s+"
            + _ABOUT
            + N
            + r"\s*(%|percent\b)\s+of\b",
            1,
            2,
        ),
        (
            "data_checks.shift_p_value",
            r"(?:\bks\b|kolmogorov|chi-?sq\w*|chi2|\u03c72|mann-whitney|t-test|wasserstein|anderson|drift|shift|"
            r"distribution)[^.;]{0,50}?\bp(?:-?value)?\s*(?:<=?|=|of|:|is)\s*" + N,
            1,
            None,
        ),
        (
            "data_checks.annotator_agreement",
            r"(?:kappa|krippendorff'?s\s+alpha|inter-?(?:rater|annotator)\s+"
            r"reliability)[^;\d]{0,30}?" + N,
            1,
            None,
        ),
        ("data_checks.annotator_agreement", N + r"\s*(?:\(\s*)?(?:cohen'?s\s+|fleiss'?\s+)?kappa", 1, None),
        ("data_checks.psi", r"\b(?:psi|population stability index)\b[^;]{0,80}?" + N, 1, None),
        ("data_checks.ks", r"\b(?:ks|kolmogorov-smirnov)\b[^;]{0,60}?" + N, 1, None),
    ]
    for path, pat, g, pg in table:
        m = re.compile(pat, _I).search(t, s, e)
        if not m or m.start(g) in out.consumed or negated(t, s, m.start()):
            continue
        value: Any
        if path == "data_checks.shift_p_value":
            value = float(m.group(g))
            if value > 1 or (path in out.values and out.values[path] <= value):
                continue
        elif path == "data_checks.annotator_agreement":
            value = float(m.group(g))
            if not -1.0 <= value <= 1.0 or path in out.values:
                continue
        elif path in ("data_checks.psi", "data_checks.ks"):
            feats = features_in(scan, s, e)
            value = {**out.values.get(path, {}), (feats[0] if feats else "overall"): float(m.group(g))}
        else:
            value = num(m, g, pg)
            feats = features_in(scan, s, e)
            if path == "data_checks.missing_fraction" and feats:
                out.put(
                    "data_checks.missing_by_feature",
                    {**out.values.get("data_checks.missing_by_feature", {}), **{f: value for f in feats}},
                    q,
                )
            if path.endswith("_fraction") and path in out.values:
                value = max(value, out.values[path])
        out.put(path, value, q, m.start(g))
    m = re.compile(
        r"(?:inter-?annotator|inter-?rater|annotator|labell?er|rater)s?\s+(?:agreement|agree\w*)"
        r"(?:\s+on)?" + LINK + N + PCT,
        _I,
    ).search(t, s, e)
    dis = re.compile(r"\bdisagree\w*\b(?:\s+on)?(?:\s+about)?" + LINK + N + PCT, _I).search(t, s, e)
    if not m and dis and "data_checks.annotator_agreement" not in out.values:
        p_agree = 1.0 - num(dis, 1, 2)  # disagreement on 35% -> agreement 65% -> kappa 0.3
        out.put("data_checks.annotator_agreement", round(max(-1.0, (p_agree - 0.5) / 0.5), 4), q, dis.start(1))
        out.provenance["data_checks.annotator_agreement"] += " (disagreement rate converted to kappa, chance 0.5)"
    if not m and re.search(r"label|annotat|rater|radiologist|expert|crowd|review", scan.masked, _I):
        m = re.compile(r"\b(?:agree\w*|agreement)\b(?:\s+on)?(?:\s+only)?(?:\s+about)?" + LINK + N + PCT, _I).search(
            t, s, e
        )
    if m and "data_checks.annotator_agreement" not in out.values:
        p = num(m, 1, 2)  # raw percent agreement -> kappa with chance agreement 0.5
        out.put("data_checks.annotator_agreement", round(max(-1.0, (p - 0.5) / 0.5), 4), q, m.start(1))
        out.provenance["data_checks.annotator_agreement"] += " (percent agreement converted to kappa, chance 0.5)"
