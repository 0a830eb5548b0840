"""Pattern facts in free text: class ratios, data checks, evaluation set-up, feature claims and concerns."""

from __future__ import annotations

import re

from dataclasses import dataclass, field
from typing import Any

from app.diagnosis.textscan import HEDGES, NEGATIONS, Scan

__all__ = ["CONCERN_PATTERNS", "Facts", "extract_facts"]

_I = re.IGNORECASE

N = r"(?<![\w.])(\d+(?:\.\d+)?|\.\d+)"
PCT = r"\s*(%|percent\b|per cent\b)?"
POS = (
    r"(?:positives?|positive (?:class|label|cases|examples)|minority(?: class)?|fraud\w*|churn\w*|default\w*|"
    r"events?|anomal\w+|spam|rare class|class 1|defects?|conversions?|clicks?|attacks?|failures?)"
)
LINK = r"\s*(?:is|are|was|were|of|at|=|:|around|about|roughly|approximately|~|only|just|only about)*\s*"
AI_SERVICE = re.compile(
    r"azure openai|azure ai\b|cognitive services|document intelligence|form recognizer|"
    r"custom vision|azure (?:ai )?(?:vision|language|speech) (?:service|api)|azure ai search|"
    r"openai service",
    _I,
)

CONCERN_PATTERNS: dict[str, re.Pattern[str]] = {
    k: re.compile(v, _I)
    for k, v in {
        "data_leakage": r"\bleak\w*|contaminat\w*|look-?ahead",
        "overfitting": r"over-?fit\w*|memori[sz]\w*",
        "underfitting": r"under-?fit\w*|high bias|too simple",
        "class_imbalance": r"\bimbalanc\w*|\bunbalanced|skewed class\w*|rare class\w*",
        "data_drift": r"\bdrift\w*|distribution shift|dataset shift|covariate shift|concept shift|data shift",
        "label_noise": r"label noise|noisy labels?|mislabel\w*|annotation (?:errors?|noise)|wrong labels?",
        "data_quality": r"data quality|missing values?|corrupt\w*|dirty data|bad data|schema (?:errors?|changes?)",
        "training_instability": r"unstable|instabilit\w*|exploding gradients?|vanishing gradients?|"
        r"(?:not|never|didn'?t|doesn'?t|won'?t) converg\w*|non-?converg\w*",
        "evaluation_error": r"evaluation (?:bug|error|mistake)s?|wrong metric|metric bug|data snooping|"
        r"test set (?:is )?too small|test[- ]set reuse",
    }.items()
}


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


def _num(m: re.Match[str], g: int, pct_group: int | None = None) -> float:
    v = float(m.group(g))
    pct = pct_group is not None and m.group(pct_group)
    return v / 100.0 if pct or v > 1 else v


_RUN = re.compile(
    r"(?<![\w.])(?:\d+(?:\.\d+)?|\.\d+)\s*%?(?:\s*(?:,|->|→|;|then|and|, and)\s*(?:\d+(?:\.\d+)?|\.\d+)\s*%?){2,}"
)


def _number_run(seg: str) -> list[re.Match[str]]:
    """The numbers of the first comma/arrow-separated run of three or more ("0.71, 0.84, 0.62")."""
    m = _RUN.search(seg)
    if not m:
        return []
    return [x for x in re.finditer(N + PCT, seg) if m.start() <= x.start() < m.end()]


def _hedged(sentence: str) -> bool:
    return bool(HEDGES.search(sentence))


def _negated(masked: str, s: int, start: int) -> bool:
    return bool(NEGATIONS.search(masked[max(s, start - 30) : start]))


def _features_in(scan: Scan, s: int, e: int) -> list[str]:
    return [scan.features[int(m.group(1))] for m in re.finditer(r"\u0192(\d+)_*", scan.masked[s:e])]


def _class_facts(scan: Scan, s: int, e: int, out: Facts) -> None:
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
            and not _negated(t, s, m.start())
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
            share = _num(m, g, 2)
            if 0 < share < 1:
                out.put("class_distribution", {"positive": share, "negative": 1 - share}, q, m.start(g))
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
            out.put(
                "class_distribution",
                {"minority": min(a, b) / (a + b), "majority": max(a, b) / (a + b)},
                q,
                m.start(1),
                m.start(3),
            )
            return
    m = re.compile(r"\b1\s+(?:in|out of)\s+(\d+)\b", _I).search(t, s, e)
    if m and float(m.group(1)) > 1:
        share = 1.0 / float(m.group(1))
        out.put("class_distribution", {"positive": share, "negative": 1 - share}, q, m.start(1))
        return
    m = re.search(r"\bbalanced\b", t[s:e], _I)
    if m and not _negated(t, s, s + m.start()) and re.search(r"class|label|dataset|data", t[s:e], _I):
        out.put("class_distribution", {"class_a": 0.5, "class_b": 0.5}, q)


def _task_facts(scan: Scan, s: int, e: int, out: Facts) -> None:
    m = re.compile(r"(?<![\w./:])(\d+)(?:[- ]class\b|\s+classes\b|[- ]way\s+classif)", _I).search(scan.masked, s, e)
    if m and "n_classes" not in out.values and int(m.group(1)) >= 2:
        n = int(m.group(1))
        out.put("n_classes", n, scan.quote(s, e), m.start(1))
        out.values["task"] = "binary_classification" if n == 2 else "multiclass_classification"
    elif re.search(r"\bbinary\b", scan.masked[s:e], _I) and "n_classes" not in out.values:
        out.put("n_classes", 2, scan.quote(s, e))
        out.values["task"] = "binary_classification"


def _data_checks(scan: Scan, s: int, e: int, out: Facts) -> None:
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
            r"overlap|are found|"
            r"show up|are in|are also in|are copies)\w*\s+(?:[\w-]+\s+){0,3}?(?:train|training)\b",
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
            r"out[- ]of[- ]range|negative|impossible|garbled|unparse?able|fail\w*\s+(?:the\s+)?(?:schema|"
            r"validation|range))",
            1,
            2,
        ),
        ("data_checks.duplicate_fraction", N + PCT + pre + r"(?:exact\s+|near\s+)?duplicat\w*", 1, 2),
        ("data_checks.missing_fraction", N + PCT + pre + r"(?:missing|null|nulls|nan|empty|blank)\b", 1, 2),
        (
            "data_checks.missing_fraction",
            r"(?:missing|null|nan|empty)(?:\s+values?)?(?:\s+rate)?\s+(?:in|for|on|of|is)"
            r"\s+(?:about\s+|around\s+|~|roughly\s+)?" + N + PCT,
            1,
            2,
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
        if not m or m.start(g) in out.consumed or _negated(t, s, m.start()):
            continue
        if path == "data_checks.annotator_agreement":
            value: Any = float(m.group(g))
            if not -1.0 <= value <= 1.0 or path in out.values:
                continue
        elif path in ("data_checks.psi", "data_checks.ks"):
            feats = _features_in(scan, s, e)
            value = {**out.values.get(path, {}), (feats[0] if feats else "overall"): float(m.group(g))}
        else:
            value = _num(m, g, pg)
            feats = _features_in(scan, s, e)
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
    if not m and re.search(r"label|annotat|rater|radiologist|expert|crowd|review", scan.masked, _I):
        m = re.compile(r"\b(?:agree\w*|agreement)\b(?:\s+on)?(?:\s+only)?(?:\s+about)?" + LINK + N + PCT, _I).search(
            t, s, e
        )
    if m and "data_checks.annotator_agreement" not in out.values:
        p = _num(m, 1, 2)  # raw percent agreement -> kappa with chance agreement 0.5
        out.put("data_checks.annotator_agreement", round(max(-1.0, (p - 0.5) / 0.5), 4), q, m.start(1))
        out.provenance["data_checks.annotator_agreement"] += " (percent agreement converted to kappa, chance 0.5)"


def _training_facts(scan: Scan, s: int, e: int, out: Facts) -> None:
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
    ) and not _negated(t, s, s + seg.lower().find("loss")):
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
        listed = _number_run(seg)
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
        listed = _number_run(seg)
        if len(listed) >= 3 and "seed_scores" not in out.values:
            vals = [float(mm.group(1)) / (100.0 if (mm.group(2) or float(mm.group(1)) > 1) else 1.0) for mm in listed]
            out.put("seed_scores", vals, q, *[s + mm.start(1) for mm in listed])
        rng = re.compile(r"(?:from|between)\s+" + N + PCT + r"\s+(?:to|and)\s+" + N + PCT, _I)
        m = None if "seed_scores" in out.values else rng.search(t, s, e)
        if m:
            lo, hi = _num(m, 1, 2), _num(m, 3, 4)
            out.put("seed_scores", [min(lo, hi), max(lo, hi)], q, m.start(1), m.start(3))
        m = re.compile(r"(?:std|standard deviation|\bsd\b|±|\+/-)" + LINK + N + PCT, _I).search(t, s, e)
        if m:
            out.put("seed_std", _num(m, 1, 2), q, m.start(1))
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
    for mm, ng, sg in ((m, 2, 1), (m2, 1, 2)):
        if mm:
            split = {"holdout": "validation"}.get(mm.group(sg).lower(), mm.group(sg).lower())
            split = "validation" if split.startswith("eval") else split
            out.put(f"split_sizes.{split}", int(mm.group(ng)), q, mm.start(ng))


def _setup_facts(scan: Scan, s: int, e: int, out: Facts, whole: str) -> None:
    t, q = scan.masked, scan.quote(s, e)
    seg = t[s:e]
    hedged = _hedged(seg)
    checks = [
        (
            "evaluation.test_used_for_tuning",
            "evaluation_error",
            r"(?:tun\w+|select\w+|chose|chosen|choos\w+|pick\w*|optimi[sz]\w*|early[- ]stop\w*|calibrat\w+|"
            r"threshold\w*)"
            r"[^.;]{0,80}?\b(?:on|using|against|with|by|from|by looking at)\s+(?:the\s+|their\s+|its\s+|our\s+)?test\b|"
            r"test\s+set\s+(?:was\s+|is\s+)?"
            r"(?:also\s+)?used\s+(?:for|to|during)\s+(?:\w+\s+){0,2}?(?:tun|select|early|choos|pick|"
            r"threshold|model sel|hyper)",
        ),
        (
            "evaluation.preprocessing_fit_on",
            "data_leakage",
            r"(?:scal\w*|normali[sz]\w*|standardi[sz]\w*|imput\w*|encod\w*|smote|over-?sampl\w*|under-?sampl\w*|"
            r"feature selection|select\w* features|pca|fit_transform|(?:fit|fitted|fitting|computed|trained)\b)"
            r"[^.;]{0,80}?\b(?:before\s+(?:the\s+)?(?:train[-/ ]test\s+)?(?:split\w*|cross-?validat\w*|cv\b|k-?fold)|"
            r"prior to (?:the\s+)?split\w*|(?:on|using|over)\s+(?:the\s+)?(?:whole|full|entire|complete|all(?:\s+of\s+"
            r"the)?)\s+(?:data|dataset|data set)|before\s+splitting|on\s+(?:both\s+)?(?:the\s+)?train(?:ing)?\s*"
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
            r"devices?|accounts?|speakers?)\s+(?:\w+\s+){0,2}?(?:appear|present|show up|"
            r"occur)\w*\s+(?:\w+\s+){0,2}?in both|"
            r"(?:validation|val|test|holdout)\s+(?:\w+\s+){0,3}?(?:are|were|is|was)\s+(?:\w+\s+){0,2}?"
            r"(?:copies|duplicates|augmented versions|crops|near-duplicates|variants)\s+of\s+(?:the\s+)?train",
        ),
    ]
    for path, cat, pat in checks:
        m = re.search(pat, seg, _I)
        if not m or _negated(t, s, s + m.start()):
            continue
        if path == "evaluation.group_overlap" and re.search(r"\d\s*%", seg):
            continue  # a stated share of duplicated rows is read as train_test_overlap_fraction
        if hedged:
            out.concerns.setdefault(cat, {"hedged": True, "quote": q})
            continue
        out.put(path, "all" if path.endswith("fit_on") else True, q)
    if (
        re.search(
            r"(?:test|holdout|hold-out|evaluation|external)\s+(?:set|data|cohort|split|sample)?\s*(?:was|is|were|are|"
            r"comes?|came)?\s*(?:drawn|collected|sampled|taken|recorded|gathered)?\s*(?:from|at|in)\s+(?:a\s+|an\s+)?"
            r"(?:different|another|new|separate|external|other|later)\s+(?:hospital|site|clinic|region|country|market|"
            r"population|time period|period|year|quarter|device|scanner|source|distribution|customer base|store|"
            r"city|vendor)|external validation",
            seg,
            _I,
        )
        and not hedged
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


_FUTURE = re.compile(
    r"future|after the (?:outcome|event|label|fact|target|prediction|decision)|only (?:known|available|computed|"
    r"populated|recorded) after|post[- ](?:outcome|event|hoc|treatment|label)|target information|(?:leak|encod|contain|"
    r"includ|reveal|prox)\w*\s+(?:\w+\s+){0,3}?(?:the\s+)?(?:target|label|outcome|answer)|derived from the (?:target|"
    r"label|outcome)|computed (?:after|from the (?:target|label))|(?:not|un)\s*available (?:at|before) (?:prediction|"
    r"inference|scoring) time",
    _I,
)
_ADDED = re.compile(
    r"(?:after|since|when|once|by)\s+(?:we\s+)?(?:adding|added|add|including|included|introducing|"
    r"introduced|engineering|engineered|using)\s+(?:the\s+|a\s+)?(?:new\s+)?(?:feature\s+|column\s+)?"
    r"\u0192(\d+)|(?:adding|added|including|introducing)\s+(?:the\s+)?(?:new\s+)?(?:feature\s+|column\s+)?\u0192(\d+)",
    _I,
)


def _feature_facts(scan: Scan, s: int, e: int, out: Facts) -> None:
    seg = scan.masked[s:e]
    feats = _features_in(scan, s, e)
    if not feats and re.search(r"\b(?:the|this|that|new)\s+(?:feature|column|variable|field)\b|\bit\b", seg, _I):
        earlier = [i for i, (fs, _) in enumerate(scan.feature_spans) if fs < s]
        feats = [scan.features[earlier[-1]]] if earlier else []  # "the feature" refers to the last one named
    for m in _ADDED.finditer(seg):
        name = scan.features[int(m.group(1) or m.group(2))]
        out.feature_flags.setdefault(name, {})["added_recently"] = True
    if feats and re.search(
        r"\btop\s+(?:\w+\s+)?feature|most important|highest (?:feature\s+)?importance|dominat\w*|"
        r"strongest (?:feature|predictor)",
        seg,
        _I,
    ):
        for name in feats:
            out.feature_flags.setdefault(name, {})["dominant"] = True
    m = _FUTURE.search(seg)
    if m and feats and not _negated(scan.masked, s, s + m.start()):
        for name in feats:
            flags = out.feature_flags.setdefault(name, {})
            if _hedged(seg):
                flags["suspected_leak"] = True
            else:
                flags["available_at_prediction_time"] = False
            flags["description"] = scan.quote(s, e)


def _concern_facts(scan: Scan, s: int, e: int, out: Facts) -> None:
    seg = scan.masked[s:e]
    for cat, pat in CONCERN_PATTERNS.items():
        m = pat.search(seg)
        if not m:
            continue
        if not re.match(r"(?:not|never|didn|doesn|won)", m.group(0), _I) and _negated(scan.masked, s, s + m.start()):
            continue
        hedged = _hedged(seg)
        prev = out.concerns.get(cat)
        if prev is None or (prev["hedged"] and not hedged):
            out.concerns[cat] = {"hedged": hedged, "quote": scan.quote(s, e)}


def extract_facts(scan: Scan, sentences: list[tuple[int, int]]) -> Facts:
    """Run every pattern over every sentence; numbers used here are not read again as metric values."""
    out = Facts()
    for s, e in sentences:
        _task_facts(scan, s, e, out)
        _class_facts(scan, s, e, out)
        _data_checks(scan, s, e, out)
        _training_facts(scan, s, e, out)
        _setup_facts(scan, s, e, out, scan.masked)
        _feature_facts(scan, s, e, out)
        _concern_facts(scan, s, e, out)
    if AI_SERVICE.search(scan.masked):
        out.values["platform"] = "azure_ai_service"
        out.provenance["platform"] = f'prompt: "{AI_SERVICE.search(scan.masked).group(0)}"'  # type: ignore[union-attr]
    return out
