"""Training stated in the text: NaN loss, divergence, spikes, oscillation, curves, seed scores, split sizes."""

from __future__ import annotations

import re

from app.diagnosis.text.fragments import LINK, PCT, Facts, N, negated, num, number_run
from app.diagnosis.text.scan import Scan

__all__ = ["training_facts"]

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
