"""Facts from a record's numbers across splits: the largest drop between any two splits, the lowest ROC AUC.

Splits are ordered train, validation, test, production (later is further from the data the model was fit on),
and every bounded higher-is-better metric given on two of them is compared, not only the primary one. A drop
measured from train is a generalisation gap, so ``max_heldout_drop`` leaves train out: it is the drop between
two held-out figures, or between offline and production, that the issue calls a collapse.
"""

from __future__ import annotations

from typing import Any

from app.diagnosis.record import ExperimentRecord
from app.diagnosis.vocab import BOUNDED_METRICS

__all__ = ["LARGE_DROP", "split_facts"]

ORDER = ("train", "validation", "test", "production")
LARGE_DROP = 0.15
"""A fall of this much (absolute, on a 0-1 metric) between two held-out splits is a collapse, never CLEAR."""


def split_facts(rec: ExperimentRecord) -> tuple[dict[str, Any], dict[str, str]]:
    """(facts, sources) from ``rec.metrics`` and its observations.

    >>> r = ExperimentRecord(metrics={"validation": {"f1": 0.97}, "production": {"f1": 0.41},
    ...                               "train": {"roc_auc": 0.28}})
    >>> split_facts(r)[0]
    {'max_split_drop': 0.56, 'max_heldout_drop': 0.56, 'auc_min': 0.28, 'drop_seen': True}
    """
    facts: dict[str, Any] = {}
    src: dict[str, str] = {}
    for key, skip_train in (("max_split_drop", False), ("max_heldout_drop", True)):
        best, where = 0.0, ""
        splits = [s for s in ORDER if s in rec.metrics and not (skip_train and s == "train")]
        for i, a in enumerate(splits):
            for b in splits[i + 1 :]:
                for m, va in rec.metrics[a].items():
                    vb = rec.metrics[b].get(m)
                    if m in BOUNDED_METRICS and vb is not None and 0 <= va <= 1 and 0 <= vb <= 1 and va - vb > best:
                        best, where = va - vb, f"record: metrics.{a}.{m} {va:g} -> metrics.{b}.{m} {vb:g}"
        if where:
            facts[key], src[key] = round(best, 6), where
    aucs = [(v, s) for s in ORDER for m, v in rec.metrics.get(s, {}).items() if "auc" in m and m != "pr_auc"]
    if aucs:
        v, s = min(aucs)
        facts["auc_min"], src["auc_min"] = v, f"record: metrics.{s} roc_auc {v:g}"
    drops = [o for o in rec.observations if o.direction == "drop" and o.split != "train"]
    if drops or facts.get("max_heldout_drop", 0.0) >= 0.05:
        facts["drop_seen"] = True
        src["drop_seen"] = drops[0].quote if drops and drops[0].quote else src.get("max_heldout_drop", "record")
    return facts, src
