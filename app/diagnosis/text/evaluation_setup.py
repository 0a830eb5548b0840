"""Evaluation set-up stated in the text: test reuse, preprocessing before the split, group overlap, split kind."""

from __future__ import annotations

import re

from app.diagnosis.text.fragments import Facts, hedged, negated
from app.diagnosis.text.scan import Scan

__all__ = ["setup_facts"]

_I = re.IGNORECASE


def setup_facts(scan: Scan, s: int, e: int, out: Facts, whole: str) -> None:
    t, q = scan.masked, scan.quote(s, e)
    seg = t[s:e]
    is_hedged = hedged(seg)
    checks = [
        (
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
        ),
        (
            "evaluation.balanced_offline_sample",
            "evaluation_error",
            r"(?:evaluat\w+|test\w*|validat\w+|offline)[^.;]{0,40}?\bbalanced\s+(?:sample|set|subset|data|test)",
        ),
        (
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
        ),
        (
            "evaluation.target_in_features",
            "data_leakage",
            r"(?:includ\w*|left|kept|added|used|feed\w*|fed|passed|put)\s+(?:\w+\s+){0,3}?(?:label|target|outcome|"
            r"ground[- ]truth)\s+(?:column|variable|field|itself)?[^.;]{0,40}?(?:in|as|into|among)\s+(?:the\s+)?"
            r"(?:features|inputs|predictors|feature set|model inputs?)",
        ),
        (
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
        ),
    ]
    for path, cat, pat in checks:
        m = re.search(pat, seg, _I)
        if not m or negated(t, s, s + m.start()):
            continue
        if path == "evaluation.group_overlap" and re.search(r"\d\s*%", seg):
            continue  # a stated share of duplicated rows is read as train_test_overlap_fraction
        if is_hedged:
            out.concerns.setdefault(cat, {"hedged": True, "quote": q})
            continue
        if path == "evaluation.balanced_offline_sample":
            out.put(path, True, q)
            continue
        out.put(path, "all" if path.endswith("fit_on") else True, q)
    if (
        re.search(
            r"(?:test|holdout|hold-out|evaluation|external)\s+(?:set|data|cohort|split|sample)?\s*(?:was|is|were|are|"
            r"comes?|came)?\s*(?:drawn|collected|sampled|taken|recorded|gathered)?\s*(?:from|at|in)\s+(?:a\s+|an\s+)?"
            r"(?:different|another|new|separate|external|other|later)\s+(?:hospital|site|clinic|region|country|market|"
            r"population|time period|period|year|quarter|device|scanner|source|distribution|customer base|store|"
            r"city|vendor)|external validation|out-of-time|out of time|\boot\b",
            seg,
            _I,
        )
        and not is_hedged
    ):
        out.put("evaluation.test_population_differs", True, q)
    if re.search(
        r"random\w*\s+(?:\w+\s+){0,2}?split\w*|split\w*\s+(?:\w+\s+){0,3}?random\w*|shuffl\w+", seg, _I
    ) and re.search(
        r"time[- ]series|temporal|timestamp\w*|chronolog\w*|forecast\w*|over time|sequential|\bdates?\b|"
        r"daily|monthly|weekly",
        whole,
        _I,
    ):
        out.put("evaluation.split_strategy", "random", q)
        out.put("evaluation.temporal_data", True, q)
    elif re.search(r"(?:time-based|temporal|chronological|out-of-time|forward)\s+split", seg, _I):
        out.put("evaluation.split_strategy", "temporal", q)
