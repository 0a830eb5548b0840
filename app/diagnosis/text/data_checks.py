"""Data checks stated in the text: label errors, overlap, invalid/missing/duplicate rows, p-values, kappa, PSI."""

from __future__ import annotations

import re
from typing import Any

from app.diagnosis.text.fragments import LINK, PCT, Facts, N, features_in, negated, num
from app.diagnosis.text.scan import Scan

__all__ = ["data_checks"]

_I = re.IGNORECASE

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
