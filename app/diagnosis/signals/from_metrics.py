"""Signals from reported metrics: per-split scores, gaps, chance-normalised skill, history jumps, class metrics."""

from __future__ import annotations

import math

import numpy as np

from app.diagnosis.record import ExperimentRecord
from app.diagnosis.signals.base import Signals, chance_level, choose_metric, metric_value
from app.diagnosis.vocab import ERROR_METRICS, RATE_ERRORS

__all__ = ["averaging_signals", "class_signals", "metric_signals"]


def _rel_gap(metric: str, train: float, held: float) -> float:
    """(held - train) / held; for perplexity on the cross-entropy it exponentiates (ln), the scale the other losses
    are on: a perplexity of 20 against 32 is a loss of 3.00 against 3.47, a 13 % gap, not 38 %."""
    if metric == "perplexity" and train >= 1.0 and held > 1.0:
        train, held = math.log(train), math.log(held)
    return (held - train) / held


def metric_signals(rec: ExperimentRecord, sig: Signals) -> None:
    metric = choose_metric(rec)
    if metric is None:
        return
    sig.set("metric_name", metric, "record")
    v = {s: metric_value(rec, s, metric) for s in ("train", "validation", "test", "production")}
    sig.set("n_splits_with_metric", sum(x[0] is not None for x in v.values()), "record")
    if v["validation"][0] is None and len(rec.seed_scores) >= 2 and metric not in ERROR_METRICS:
        v["validation"] = (float(np.mean(rec.seed_scores)), "mean of the per-seed validation scores")
    for split in ("train", "validation", "test"):
        curve = rec.curves.get(f"{split}_{metric}")
        if v[split][0] is None and curve and np.isfinite(curve[-1]):
            v[split] = (
                float(curve[-1]),
                rec.provenance.get(f"curves.{split}_{metric}", "record: curves") + " (last epoch)",
            )
    tr, va, te, pr = (v[s][0] for s in ("train", "validation", "test", "production"))
    src = {s: v[s][1] for s in v}
    if metric in ERROR_METRICS:
        for s in v:
            sig.set(f"error_{s}", v[s][0], src[s])
        if metric in RATE_ERRORS and tr is not None and all(x is None or x >= tr for x in (va, te)):
            # (a held-out error rate below the training one is augmentation or dropout at work, not a poor fit)
            sig.set("train_error_rate", tr, src["train"])
        if tr is not None and va is not None and va > 0:
            sig.set("rel_error_gap_train_val", _rel_gap(metric, tr, va), f"{src['train']}; {src['validation']}")
        held_e, held_es = (va, src["validation"]) if va is not None else (te, src["test"])
        if held_e is not None:
            sig.set("error_heldout", held_e, held_es)
        if tr is not None and held_e is not None and held_e > 0:
            sig.set("rel_error_gap_train_heldout", _rel_gap(metric, tr, held_e), f"{src['train']}; {held_es}")
        _baseline_signals(rec, sig, metric, tr, held_e, src["train"], held_es)
        off = [x for x in (va, te) if x is not None]
        if off and pr is not None and pr > 0:
            sig.set("rel_error_drop_production", (pr - float(np.mean(off))) / pr, src["production"])
        return
    for s in v:
        sig.set(f"score_{s}", v[s][0], src[s])
    held = va if va is not None else te
    held_src = src["validation"] if va is not None else src["test"]
    if tr is not None and va is not None:
        sig.set("gap_train_val", tr - va, f"{src['train']}; {src['validation']}")
    if tr is not None and held is not None:
        sig.set("gap_train_heldout", tr - held, f"{src['train']}; {held_src}")
    if va is not None and te is not None:
        sig.set("drop_val_test", va - te, f"{src['validation']}; {src['test']}")
        sig.set("offline_agreement", abs(va - te), f"{src['validation']}; {src['test']}")
    if tr is not None and te is not None:
        sig.set("test_minus_train", te - tr, f"{src['test']}; {src['train']}")
    if tr is not None and (va is not None or te is not None):
        best = max(x for x in (va, te) if x is not None)
        sig.set("heldout_minus_train", best - tr, f"{src['train']}; {held_src}")
    if va is not None and te is not None:
        sig.set("test_minus_validation", te - va, f"{src['test']}; {src['validation']}")
    off = [x for x in (va, te) if x is not None]
    if off:
        sig.set("heldout_best", max(off), held_src)
        if pr is not None:
            sig.set("drop_offline_production", float(np.mean(off)) - pr, f"{held_src}; {src['production']}")
    if rec.target_score is not None:
        tsrc = rec.provenance.get("target_score", "record: target_score")
        if tr is not None:
            sig.set("shortfall_train", rec.target_score - tr, f"{tsrc}; {src['train']}")
        if held is not None:
            sig.set("shortfall_heldout", rec.target_score - held, f"{tsrc}; {held_src}")
        sig.set("target_score", rec.target_score, tsrc)
    _baseline_signals(rec, sig, metric, tr, held, src["train"], held_src)
    chance = chance_level(rec, metric, sig)
    if chance is not None and chance < 1:
        sig.set("chance_level", chance, "class_distribution" if rec.majority_rate else "assumption")
        if tr is not None:
            sig.set("skill_train", (tr - chance) / (1 - chance), src["train"])
        if held is not None:
            sig.set("skill_heldout", (held - chance) / (1 - chance), held_src)
    for h in rec.history:
        before_prod = h.metrics.get("production", {}).get(metric)
        if (
            pr is not None
            and before_prod is not None
            and before_prod - pr > (sig.get("history_drop_production") or 0.0)
        ):
            sig.set("history_drop_production", before_prod - pr, f'{src["production"]}; history: "{h.change}"')
        for split in ("validation", "test"):
            cur = v[split][0]
            before = h.metrics.get(split, {}).get(metric, h.metrics.get(split, {}).get("score"))
            if cur is not None and before is not None:
                jump = cur - before
                if jump > (sig.get("history_jump") or 0.0):
                    sig.set("history_jump", jump, f'history: "{h.change}"')


def _baseline_signals(
    rec: ExperimentRecord, sig: Signals, metric: str, tr: float | None, held: float | None, tsrc: str, hsrc: str
) -> None:
    """Improvement over a quoted reference model: score difference, or relative error reduction for errors."""
    if rec.baseline_score is None:
        return
    base = rec.baseline_score
    if metric not in ERROR_METRICS and base > 1:
        base = base / 100.0  # "the baseline gets 50" next to accuracies written as fractions
    bsrc = rec.provenance.get("baseline_score", "record: baseline_score")
    sig.set("baseline_score", base, bsrc)
    for name, v, vsrc in (("train_over_baseline", tr, tsrc), ("heldout_over_baseline", held, hsrc)):
        if v is None:
            continue
        if metric in ERROR_METRICS:
            if base > 0:
                sig.set(name, (base - v) / base, f"{vsrc}; {bsrc}")
        else:
            sig.set(name, v - base, f"{vsrc}; {bsrc}")


def class_signals(rec: ExperimentRecord, sig: Signals) -> None:
    if rec.minority_rate is None:
        return
    src = rec.provenance.get("class_distribution", "record")
    for split in ("validation", "test", "production"):
        roc = rec.metrics.get(split, {}).get("roc_auc")
        if roc is not None:
            sig.set("roc_auc_heldout", roc, rec.provenance.get(f"metrics.{split}.roc_auc", f"record: metrics.{split}"))
            break
    for split in ("validation", "test", "production"):
        pr_auc = rec.metrics.get(split, {}).get("pr_auc")
        if pr_auc is not None and rec.minority_rate > 0:
            sig.set("pr_auc_lift", pr_auc / rec.minority_rate, rec.provenance.get(f"metrics.{split}.pr_auc", "record"))
            sig.set("pr_auc", pr_auc, rec.provenance.get(f"metrics.{split}.pr_auc", "record"))
            break
    sig.set("minority_rate", rec.minority_rate, src)
    sig.set("majority_rate", rec.majority_rate, src)
    for split in ("validation", "test", "production"):
        acc, asrc = metric_value(rec, split, "accuracy")
        if acc is not None and rec.majority_rate is not None:
            sig.set("acc_minus_majority", acc - rec.majority_rate, f"{asrc}; {src}")
            break
    per_train = rec.metrics.get("train", {})
    train_min = [per_train[m] for m in ("minority_recall", "minority_f1") if m in per_train]
    if not train_min and rec.minority_rate <= 0.2:
        train_min = [per_train[m] for m in ("recall", "f1") if m in per_train]
    if train_min:
        sig.set("minority_metric_train", min(train_min), rec.provenance.get("metrics.train.minority_recall", "record"))
    for split in ("validation", "test", "production"):
        per = rec.metrics.get(split, {})
        vals = [per[m] for m in ("minority_recall", "minority_f1") if m in per]
        if not vals and rec.minority_rate <= 0.2:
            vals = [per[m] for m in ("recall", "f1") if m in per]
            if vals:
                sig.assumptions.append("recall/F1 of an imbalanced binary task read as the minority (positive) class")
        if vals:
            sig.set("minority_metric", min(vals), rec.provenance.get(f"metrics.{split}.minority_recall", "record"))
            if train_min:
                sig.set("minority_gap_train_heldout", min(train_min) - min(vals), "record: minority-class metric")
            break


def averaging_signals(rec: ExperimentRecord, sig: Signals) -> None:
    """Class-averaged vs prevalence-weighted scores on one held-out split (macro vs micro F1, balanced vs plain
    accuracy): a large gap means the rare classes are handled far worse than the common ones."""
    for split in ("validation", "test", "production"):
        per = rec.metrics.get(split, {})
        pairs = [
            (a, b) for a, b in (("micro_f1", "macro_f1"), ("accuracy", "balanced_accuracy")) if a in per and b in per
        ]
        if pairs:
            a, b = pairs[0]
            sig.set("averaging_gap", per[a] - per[b], rec.provenance.get(f"metrics.{split}.{b}", "record"))
            break
    for split in ("validation", "test", "production"):
        bal = rec.metrics.get(split, {}).get("balanced_accuracy")
        if bal is not None:
            sig.set(
                "balanced_accuracy_heldout", bal, rec.provenance.get(f"metrics.{split}.balanced_accuracy", "record")
            )
            break
