"""Free text -> experiment-record fields: numbers attributed to splits and metrics, plus pattern facts."""

from __future__ import annotations

import re
from typing import Any

from app.diagnosis.text.cues import (
    AGREEMENT_BEFORE,
    BLANK_GAP,
    CHANGE_BEFORE,
    ERROR_BEFORE,
    FROM,
    GAP_AFTER,
    NEGATED_BEFORE,
    POSITIVE_CLASS,
    PREP_GAP,
    QUALITATIVE,
    REF_AFTER,
    REF_BEFORE,
    SETTING_BEFORE,
    SPLITS_JOINED,
    TEMPORAL,
    TO,
)
from app.diagnosis.text.extract import extract_facts
from app.diagnosis.text.scan import (
    PLACEHOLDER,
    Mention,
    Num,
    Scan,
    clauses_of,
    find_numbers,
    mentions_in,
    scan,
    sentences_of,
)
from app.diagnosis.vocab import BOUNDED_METRICS

__all__ = ["UNNAMED_SPLIT", "parse_text"]

UNNAMED_SPLIT = " (no split named, read as a held-out score)"  # provenance suffix of a value given no split


def _following_split(masked: str, n: Num, splits: list[Mention], has_preceding: bool, num_first: bool) -> str | None:
    for sp in splits:
        if sp.start >= n.end and sp.start - n.end <= 28:
            gap = masked[n.end : sp.start]
            if PREP_GAP.match(gap) or ((num_first or not has_preceding) and BLANK_GAP.match(gap)):
                return sp.name
    return None


def _metric_for(masked: str, n: Num, metrics: list[Mention], carry: str | None, cs: int, ce: int) -> str:
    before = [m for m in metrics if m.end <= n.start]
    after = [m for m in metrics if m.start >= n.end and m.start - n.end <= 12]
    name = before[-1].name if before else after[0].name if after else carry or "score"
    if name in ("recall", "precision", "f1") and POSITIVE_CLASS.search(masked[cs:ce]):
        name = f"minority_{name}"
    return name


def _qualitative(seg: str) -> tuple[str, str] | None:
    """The direction and size of a change described in words, unless negated.

    >>> [(d, size) for d, size, p in QUALITATIVE if p.search("test accuracy plummeted")]
    [('drop', 'large')]
    >>> _qualitative("scores jumped"), _qualitative("it improved a bit"), _qualitative("it did not drop")
    (('rise', 'large'), ('rise', 'moderate'), None)
    >>> [_qualitative(x) for x in ("recall fell", "it collapsed")]
    [('drop', 'moderate'), ('drop', 'large')]
    """
    for direction, mag, pat in QUALITATIVE:
        m = pat.search(seg)
        if m and not NEGATED_BEFORE.search(seg[: m.start()]):
            return direction, mag
    return None


_OTHER_SOURCE = re.compile(
    r"\b(?:different|another|other|new|second|third|external|unseen|foreign|outside|partner)\b[^.;]{0,20}\b(?:labs?|"
    r"sites?|hospitals?|clinics?|centres?|centers?|countr(?:y|ies)|regions?|cameras?|devices?|scanners?|vendors?|markets?|"
    r"sensors?|plants?|factor(?:y|ies)|instruments?|platforms?|sequencers?|microphones?|cohorts?|populations?)\b",
    re.IGNORECASE)
"""Data from another place or device, in the sentence of a value that names no split."""
_CREDITED = re.compile(
    r"\b(?:labs?|sites?|teams?|groups?|vendors?|compan(?:y|ies)|authors?|hospitals?|papers?|stud(?:y|ies))\s+(?:\w+\s+)?"
    r"(?:reported|reports|published|publishes|claims?|claimed|achieved|achieves|got|gets|obtained|obtains|found)\b",
    re.IGNORECASE)
"""Another party's own figure ("a different lab reported an AUC of 0.80"): not this model's data from elsewhere."""
_OURS = re.compile(r"\b(?:our|my)\s+(?:model|classifier|network|system|detector|pipeline)\b|\bwith\s+(?:our|my)\b",
                   re.IGNORECASE)

# a line of a pasted training log ("epoch 5  train_loss 0.401 val_acc 0.772"): its values are points of a curve, so a
# later line restating a split's metric is the run going on, not a contradiction (the last line's value is kept)
_LOG_LINE = re.compile(r"^\W{0,3}(?:epoch|step|iter(?:ation)?|it|batch|round)\b\s*[:#=]?\s*\d+", re.IGNORECASE)


class _Builder:
    def __init__(self, sc: Scan) -> None:
        self.sc = sc
        self.metrics: dict[str, dict[str, float]] = {}
        self.prov: dict[str, str] = {}
        self.history: list[dict[str, Any]] = []
        self.observations: list[dict[str, Any]] = []
        self.conflicts: list[str] = []
        self.unassigned: list[tuple[str, Num, str]] = []
        self.curves: dict[str, list[float]] = {}
        self.baseline: tuple[float, str] | None = None

    def assign(self, split: str | None, metric: str, n: Num, quote: str) -> None:
        if metric in BOUNDED_METRICS and (n.value > 100 or (n.value > 1 and not n.raw.replace(".", "").isdigit())):
            return
        if metric == "perplexity" and n.value < 1:
            return  # a perplexity is at least 1: "ppl on the forum say 0.9 accuracy" names people, not a perplexity
        if split is None:
            self.unassigned.append((metric, n, quote))
            return
        value = n.value / 100.0 if (metric in BOUNDED_METRICS and n.value > 1) else n.value
        old = self.metrics.get(split, {}).get(metric)
        if old is not None and abs(old - value) > 1e-9 and not _LOG_LINE.match(quote):
            self.conflicts.append(f"{split} {metric} stated as both {old:g} and {value:g}; the later value is used")
        self.metrics.setdefault(split, {})[metric] = value
        self.prov[f"metrics.{split}.{metric}"] = f'prompt: "{quote}"'

    def finish_unassigned(self) -> None:
        for metric, n, quote in self.unassigned:
            if metric == "score":
                continue  # no split and no metric named: not a metric value ("8% of rows ...")
            if _CREDITED.search(quote) and not _OURS.search(quote):
                continue  # another party's own figure ("a different lab reported an AUC of 0.80")
            if _OTHER_SOURCE.search(quote) and metric not in self.metrics.get("production", {}):
                # "800 scans from a second hospital and AUC drops to 0.71": data from elsewhere, not validation
                self.assign("production", metric, n, quote)
                self.prov[f"metrics.production.{metric}"] += (" (no split named, data from another source: read as "
                                                              "production)")
                continue
            if metric not in self.metrics.get("validation", {}):
                self.assign("validation", metric, n, quote)
                self.prov[f"metrics.validation.{metric}"] += UNNAMED_SPLIT


_CALL_AFTER = re.compile(r"\(")
_KWARG_AFTER = re.compile(r"[ \t]*=(?!=)")
_ATTRIBUTE_BEFORE = re.compile(r"(?:\.|\bdef\s+|^[ \t]*(?:from\s+\S+\s+)?import\s+(?:[\w.]+\s*,\s*)*|^[ \t]*from\s+)$",
                               re.MULTILINE)
# calls whose keyword arguments name new columns or values: df.assign(days_after=...), dict(...), pd.DataFrame(...)
_COLUMN_MAKER = re.compile(r"\b(?:assign|dict|DataFrame|with_columns|eval|query|rename|Series)\s*\($")


def _code_names_only(sc: Scan, name: str) -> bool:
    """Every mention of ``name`` is code's own vocabulary, not a column: a call (``flow_from_directory(``), a
    keyword argument or an assignment (``target_size=(64, 64)``, ``df_rolled = ...``), or an attribute
    (``.predict_generator``). Such a name is not a model feature (session 18: ``target_size`` and ``label_list``
    were read as features, and as future information for their names)."""
    spans = [(a, b) for (a, b), n in zip(sc.feature_spans, sc.features, strict=True) if n == name]
    return bool(spans) and all(_CALL_AFTER.match(sc.text, b) or _keyword(sc.text, a, b)
                               or _ATTRIBUTE_BEFORE.search(sc.text[max(0, sc.text.rfind("\n", 0, a) + 1) : a])
                               or _call_argument(sc.text, a, b) for a, b in spans)


def _keyword(text: str, a: int, b: int) -> bool:
    """``text[a:b]`` is a keyword argument or an assigned variable (``target_size=(64, 64)``, ``df_rolled = ...``),
    unless the call makes columns (``df.assign(days_after_discharge=...)``)."""
    if not _KWARG_AFTER.match(text, b):
        return False
    opened = text.rfind("(", max(0, text.rfind("\n", 0, a)), a)
    return opened < 0 or ")" in text[opened:a] or not _COLUMN_MAKER.search(text[max(0, opened - 30) : opened + 1])


def _call_argument(text: str, a: int, b: int) -> bool:
    """``text[a:b]`` is a bare argument of a function call: ``f1_score(pred_list, label_list, ...)`` (a variable), not
    a parenthesised list in prose ("the top features (days_active, plan_type)"): the bracket follows a name."""
    line_start = text.rfind("\n", 0, a) + 1
    opened = text.rfind("(", line_start, a)
    if opened < 1 or ")" in text[opened:a] or not re.match(r"\s*[,)]", text[b:]):
        return False
    return (bool(re.match(r"[\w\]]", text[opened - 1]))
            and bool(re.fullmatch(r"[\w\s,.'\"\[\]=]*", text[opened + 1 : a])))


def _sentence(b: _Builder, s: int, e: int, consumed: set[int], carry: dict[str, Any]) -> None:
    sc, masked = b.sc, b.sc.masked
    quote = sc.quote(s, e)
    nums = [
        n
        for n in find_numbers(masked, s, e)
        if not n.count
        and n.start not in consumed
        and not CHANGE_BEFORE.search(masked[max(s, n.start - 18) : n.start])
        and not ERROR_BEFORE.search(masked[max(s, n.start - 30) : n.start])
        and not AGREEMENT_BEFORE.search(masked[max(s, n.start - 90) : n.start])
        and not GAP_AFTER.match(masked[n.end : n.end + 40])
        and not SETTING_BEFORE.search(masked[max(s, n.start - 50) : n.start])
    ]
    refs = [
        n
        for n in nums
        if REF_BEFORE.search(masked[max(s, n.start - 70) : n.start]) or REF_AFTER.match(masked[n.end : n.end + 40])
    ]
    if refs:
        if b.baseline is None:
            b.baseline = (refs[0].value, quote)
        nums = [n for n in nums if n not in refs]  # a reference model's score is not this model's
    ments = mentions_in(masked, s, e)
    splits = [m for m in ments if m.kind == "split"]
    metrics = [m for m in ments if m.kind == "metric"]
    names = [sp.name for sp in splits]
    if len(splits) >= 2 and len(set(names)) == len(names) == len(nums) and splits[-1].end <= nums[0].start:
        metric = metrics[0].name if metrics else carry.get("metric") or "score"  # "train and val acc: 0.62 and 0.60"
        for sp, n in zip(splits, nums):
            b.assign(sp.name, metric, n, quote)
        carry["metric"] = metric
        return
    joined = (
        len(nums) == 1
        and len(set(names)) >= 2
        and all(
            SPLITS_JOINED.fullmatch(masked[a.end : b.start])
            for a, b in zip(splits, splits[1:])
        )
    )
    if joined:  # "train and validation F1 are both 0.42", "70% on train or validation"
        metric = _metric_for(masked, nums[0], metrics, carry.get("metric"), s, e)
        for name in dict.fromkeys(names):
            b.assign(name, metric, nums[0], quote)
        carry["metric"] = metric
        return
    # "100% training accuracy and 81% validation accuracy": numbers written before their split
    num_first = (
        bool(nums)
        and any(sp.start >= nums[0].end and BLANK_GAP.match(masked[nums[0].end : sp.start]) for sp in splits)
        and not any(sp.end <= nums[0].start for sp in splits)
    )
    for cs, ce in clauses_of(masked, s, e):
        c_splits = [m for m in splits if cs <= m.start < ce]
        c_metrics = [m for m in metrics if cs <= m.start < ce]
        c_nums = [n for n in nums if cs <= n.start < ce]
        seg = masked[cs:ce]
        got: list[tuple[str | None, str, Num]] = []
        for n in c_nums:
            preceding = [sp for sp in c_splits if sp.end <= n.start]
            split = _following_split(masked, n, c_splits, bool(preceding), num_first)
            split = split or (preceding[-1].name if preceding else None)
            split = split or (c_splits[0].name if c_splits else carry.get("split"))
            metric = _metric_for(masked, n, c_metrics, carry.get("metric"), cs, ce)
            got.append((split, metric, n))
        temporal = TEMPORAL.search(masked[s:e])
        if len(got) >= 2 and temporal and all(g[0] is None for g in got) and FROM.search(seg):
            got = [("production", m, n) for _, m, n in got]  # "on 2024 data accuracy dropped from 0.89 to 0.72"
        if (
            len(got) >= 2
            and FROM.search(seg)
            and TO.search(seg)
            and got[0][:2] == got[1][:2]
            and got[0][0] is not None
        ):
            split, metric, before = got.pop(0)
            if metric in ("loss", "log_loss"):  # "loss went from 0.69 to 5.2": two points of a curve
                b.curves[f"{split}_loss"] = [before.value, got[0][2].value]
                b.prov[f"curves.{split}_loss"] = f'prompt: "{quote}"'
            feats = PLACEHOLDER.findall(masked[s:e])
            change = f"before adding {sc.features[int(feats[0])]}" if feats else "earlier run"
            b.history.append({"change": change, "metrics": {split: {metric: before.value}}})
        for split, metric, n in got:
            b.assign(split, metric, n, quote)
        qual = _qualitative(seg)
        if qual and c_splits:
            for sp in {m.name: m for m in c_splits}.values():
                if not any(g[0] == sp.name for g in got):
                    metric = c_metrics[0].name if c_metrics else None
                    b.observations.append(
                        {"split": sp.name, "metric": metric, "direction": qual[0], "magnitude": qual[1], "quote": quote}
                    )
        if c_splits:
            carry["split"] = c_splits[-1].name
        if c_metrics:
            carry["metric"] = (
                c_metrics[-1].name if c_metrics[-1].name != "score" or "metric" not in carry else carry["metric"]
            )


def _set_path(rec: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    cur = rec
    for p in parts[:-1]:
        cur = cur.setdefault(p, {})
    cur[parts[-1]] = value


def parse_text(text: str) -> dict[str, Any]:
    """Turn a data scientist's description into experiment-record fields (validated later by the schema).

    >>> r = parse_text("Train accuracy 99%, validation 71%. I worry about leakage.")
    >>> r["metrics"], [(c["category"], c["hedged"]) for c in r["concerns"]]
    ({'train': {'accuracy': 0.99}, 'validation': {'accuracy': 0.71}}, [('data_leakage', True)])
    """
    sc = scan(text)
    sents = sentences_of(sc.masked)
    facts = extract_facts(sc, sents)
    b = _Builder(sc)
    carry: dict[str, Any] = {}
    for s, e in sents:
        carry.pop("split", None)  # a split never carries across sentences; a metric may
        _sentence(b, s, e, facts.consumed, carry)
    b.finish_unassigned()
    rec: dict[str, Any] = {"notes": text.strip()}
    for path, value in facts.values.items():
        _set_path(rec, path, value)
    if b.metrics:
        rec["metrics"] = b.metrics
    if b.history:
        rec["history"] = b.history
    if b.baseline is not None:
        rec["baseline_score"] = b.baseline[0]
        rec.setdefault("provenance", {})
        facts.provenance["baseline_score"] = f'prompt: "{b.baseline[1]}"'
    if b.curves:
        rec["curves"] = {**b.curves, **rec.get("curves", {})}
    if b.observations:
        rec["observations"] = b.observations
    flags = facts.feature_flags
    # a feature a sentence says was removed ("found a leak (the x column ...) and removed it") is no input any more
    names = [n for n in dict.fromkeys(sc.features) if not flags.get(n, {}).get("removed")
             and (n in flags or not _code_names_only(sc, n))]
    if names:
        rec["features"] = [{"name": n, **{k: v for k, v in flags.get(n, {}).items() if k != "removed"}} for n in names]
    if facts.concerns:
        rec["concerns"] = [
            {
                "category": c,
                "hedged": v["hedged"],
                "quote": v["quote"],
                **({"finding": True} if v.get("finding") else {}),
            }
            for c, v in sorted(facts.concerns.items())
        ]
    rec["provenance"] = {**facts.provenance, **b.prov}
    if b.conflicts:
        rec["input_conflicts"] = b.conflicts
    return rec
