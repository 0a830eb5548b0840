"""Pattern facts about training and evaluation: NaN/divergence, seeds, curves, split sizes, set-up mistakes."""

from __future__ import annotations

import re

from app.diagnosis.textbase import LINK, PCT, Facts, N, hedged, negated, num, number_run
from app.diagnosis.textscan import Scan

__all__ = ["setup_facts", "training_facts"]

_I = re.IGNORECASE


def training_facts(scan: Scan, s: int, e: int, out: Facts) -> None:
    t, q = scan.masked, scan.quote(s, e)
    seg = t[s:e]
    issues = list(out.values.get("training_issues", []))
    if re.search(
        r"\b(?:loss|gradients?|weights?|outputs?)\b[^.;]{0,40}?\b(?:nan|inf|infinity)\b|\bnan\s+loss", seg, _I
    ):
        issues.append("nan_loss")
    if re.search(
        r"\bloss\b[^.;]{0,40}?\b(?:explod\w*|diverg\w*|blew up|blows up|shot up)|\b(?:training|optimi[sz]ation|"
        r"optimi[sz]er|model|run)\s+(?:\w+\s+)?diverg\w*|never recover\w*",
        seg,
        _I,
    ) and not negated(t, s, s + seg.lower().find("loss")):
        issues.append("divergence")
    if re.search(r"\bloss\b[^.;]{0,30}?\bspik\w*|\bspikes? in (?:the )?loss", seg, _I):
        issues.append("loss_spikes")
    if re.search(r"\bloss\b[^.;]{0,30}?\b(?:jump\w*|shoot\w*|shot|climb\w*|soar\w*)\s+(?:up\s+)?to\b", seg, _I):
        issues.append("loss_spikes")
    if re.search(
        r"\b(?:loss|accuracy|metric|score|training)\b[^.;]{0,30}?\b(?:oscillat\w*|fluctuat\w*|swing\w*|bounc\w*|"
        r"zig-?zag\w*)|\b(?:oscillat\w*|fluctuat\w*)\s+(?:\w+\s+){0,2}?(?:loss|accuracy)",
        seg,
        _I,
    ):
        issues.append("oscillation")
    if issues:
        out.put("training_issues", sorted(set(issues)), q)
    if re.search(r"\bepochs?\b|\bper epoch\b|\bsteps\b", seg, _I) and not re.search(r"\bseeds?\b", seg, _I):
        listed = number_run(seg)
        sp = re.search(
            r"\b(train\w*|val\w*|validation|dev|test)\b[^.;\d]{0,25}?\b(loss|accuracy|acc|auc|f1)\b", seg, _I
        )
        if len(listed) >= 3 and sp:
            split = (
                "train"
                if sp.group(1).lower().startswith("train")
                else "test"
                if sp.group(1).lower() == "test"
                else "validation"
            )
            metric = {"acc": "accuracy", "auc": "roc_auc"}.get(sp.group(2).lower(), sp.group(2).lower())
            vals = [
                float(mm.group(1)) / (100.0 if (mm.group(2) or float(mm.group(1)) > 1) and metric != "loss" else 1.0)
                for mm in listed
            ]
            out.put(f"curves.{split}_{metric}", vals, q, *[s + mm.start(1) for mm in listed])
    if re.search(r"\bseeds?\b|\bruns\b|\brestarts\b", seg, _I):
        listed = number_run(seg)
        if len(listed) >= 3 and "seed_scores" not in out.values:
            vals = [float(mm.group(1)) / (100.0 if (mm.group(2) or float(mm.group(1)) > 1) else 1.0) for mm in listed]
            out.put("seed_scores", vals, q, *[s + mm.start(1) for mm in listed])
        rng = re.compile(r"(?:from|between)\s+" + N + PCT + r"\s+(?:to|and)\s+" + N + PCT, _I)
        m = None if "seed_scores" in out.values else rng.search(t, s, e)
        pair = [
            x
            for x in re.finditer(N + PCT, seg)
            if not re.match(r"\s*(?:seeds?|runs?|times|epochs?)\b", seg[x.end() :], _I)
        ]
        if (
            not m
            and "seed_scores" not in out.values
            and len(pair) == 2
            and re.search(
                r"one run|next run|another run|each run|second run|different runs?|per seed|different seeds?|"
                r"except the (?:random )?seed|chang\w+ the (?:random )?seed|depending on the (?:random )?seed",
                seg,
                _I,
            )
        ):
            vals = [num(x, 1, 2) for x in pair]
            out.put("seed_scores", vals, q, *[s + x.start(1) for x in pair])
        if m:
            lo, hi = num(m, 1, 2), num(m, 3, 4)
            out.put("seed_scores", [min(lo, hi), max(lo, hi)], q, m.start(1), m.start(3))
        m = re.compile(r"(?:std|standard deviation|\bsd\b|±|\+/-)" + LINK + N + PCT, _I).search(t, s, e)
        if m:
            out.put("seed_std", num(m, 1, 2), q, m.start(1))
    m = re.compile(
        r"(test|validation|holdout|eval\w*)\s+(?:set|split|data)?(?:\s*(?:of|has|with|contains|containing|is|was|"
        r"had|only|just|about|around|=|:|n\s*=))*\s*(\d+)\s+(?:examples|samples|rows|records|images|cases|patients|"
        r"items|points|instances|observations|documents|users)",
        _I,
    ).search(t, s, e)
    m2 = re.compile(
        r"(\d+)\s+(test|validation|holdout)\s+(?:examples|samples|rows|records|images|cases|patients|items|"
        r"points|instances)",
        _I,
    ).search(t, s, e)
    m3 = re.compile(
        r"(\d+)[- ](?:row|example|sample|image|item|record|case|patient|point)s?\s+(test|validation|holdout)", _I
    ).search(t, s, e)
    for mm, ng, sg in ((m, 2, 1), (m2, 1, 2), (m3, 1, 2)):
        if mm:
            split = {"holdout": "validation"}.get(mm.group(sg).lower(), mm.group(sg).lower())
            split = "validation" if split.startswith("eval") else split
            out.put(f"split_sizes.{split}", int(mm.group(ng)), q, mm.start(ng))


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
