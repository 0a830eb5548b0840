"""Numbers -> named signals (gaps, chance-normalised skill, rates, curve shapes) that the rules read."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.diagnosis.measure import DatasetMeasurements
from app.diagnosis.record import ExperimentRecord
from app.diagnosis.vocab import BOUNDED_METRICS, ERROR_METRICS, FAILURE_CATEGORIES

__all__ = ["PREFERENCE", "Signals", "choose_metric", "compute_signals", "is_future_name", "wilson_halfwidth"]

PREFERENCE = (
    "roc_auc",
    "accuracy",
    "balanced_accuracy",
    "f1",
    "pr_auc",
    "score",
    "r2",
    "log_loss",
    "loss",
    "rmse",
    "mae",
    "mse",
    "mape",
    "precision",
    "recall",
)
_QUAL = {"large": 1.0, "moderate": 0.5, "small": 0.25}


@dataclass
class Signals:
    """Signal values (numbers, booleans, names) plus where each came from and the assumptions made."""

    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    assumptions: list[str] = field(default_factory=list)

    def set(self, name: str, value: Any, source: str) -> None:
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return
        self.values[name] = round(value, 6) if isinstance(value, float) else value
        self.sources[name] = source

    def get(self, name: str) -> Any:
        return self.values.get(name)


def wilson_halfwidth(p: float, n: int, z: float = 1.959964) -> float:
    """Half-width of the Wilson score interval for a proportion ``p`` measured on ``n`` items.

    >>> round(wilson_halfwidth(0.9, 50), 4), round(wilson_halfwidth(0.9, 5000), 4)
    (0.0851, 0.0083)
    """
    denom = 1 + z * z / n
    return float(z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom)


def is_future_name(name: str, patterns: list[str]) -> bool:
    """True when a column name describes a state after the prediction point.

    >>> pats = [r"(^|_)(after|post|future|next)(_|$)"]
    >>> is_future_name("renewal_status_after_30d", pats), is_future_name("days_active", pats)
    (True, False)
    """
    low = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower().replace("-", "_").replace(" ", "_")
    return any(re.search(p, low) for p in patterns)


def choose_metric(rec: ExperimentRecord) -> str | None:
    """The primary metric: the declared one, else the one reported on most splits (ties by PREFERENCE)."""
    if rec.primary_metric and any(rec.primary_metric in m for m in rec.metrics.values()):
        return rec.primary_metric
    counts: dict[str, int] = {}
    for per in rec.metrics.values():
        for m in per:
            if not m.startswith("minority_"):
                counts[m] = counts.get(m, 0) + 1
    for name in rec.curves:
        split, _, m = name.partition("_")
        if split in ("train", "validation", "test") and m and "loss" not in m and m not in rec.metrics.get(split, {}):
            counts[m] = counts.get(m, 0) + 1
    if not counts:
        return None
    has_named = any(m != "score" for m in counts)
    rank = {m: (i if m in PREFERENCE else len(PREFERENCE)) for i, m in enumerate(PREFERENCE)}
    best = max(
        counts,
        key=lambda m: (
            counts[m] + (counts.get("score", 0) if has_named and m in BOUNDED_METRICS and m != "score" else 0),
            -rank.get(m, len(PREFERENCE)),
            m,
        ),
    )
    return best


def _value(rec: ExperimentRecord, split: str, metric: str) -> tuple[float | None, str]:
    per = rec.metrics.get(split, {})
    if metric in per:
        return per[metric], rec.provenance.get(f"metrics.{split}.{metric}", f"record: metrics.{split}.{metric}")
    if metric in BOUNDED_METRICS and "score" in per:  # an unnamed percentage next to a named metric
        return per["score"], rec.provenance.get(
            f"metrics.{split}.score", "record"
        ) + f" (unnamed score read as {metric})"
    return None, ""


def _chance(rec: ExperimentRecord, metric: str, sig: Signals) -> float | None:
    if metric in ("roc_auc", "balanced_accuracy"):
        return 0.5
    if metric == "r2":
        return 0.0
    if metric in ("accuracy", "score", "f1"):
        if rec.majority_rate is not None and rec.minority_rate is not None:
            return rec.minority_rate if metric == "f1" and len(rec.class_distribution) == 2 else rec.majority_rate
        if rec.n_classes:
            return 1.0 / rec.n_classes
        sig.assumptions.append(f"no class distribution given: chance level of {metric} assumed 0.5 (balanced binary)")
        return 0.5
    if metric == "pr_auc" and rec.minority_rate is not None:
        return rec.minority_rate
    return None


def _metric_signals(rec: ExperimentRecord, sig: Signals) -> None:
    metric = choose_metric(rec)
    if metric is None:
        return
    sig.set("metric_name", metric, "record")
    v = {s: _value(rec, s, metric) for s in ("train", "validation", "test", "production")}
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
        if tr is not None and va is not None and va > 0:
            sig.set("rel_error_gap_train_val", (va - tr) / va, f"{src['train']}; {src['validation']}")
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
    chance = _chance(rec, metric, sig)
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


def _class_signals(rec: ExperimentRecord, sig: Signals) -> None:
    if rec.minority_rate is None:
        return
    src = rec.provenance.get("class_distribution", "record")
    for split in ("validation", "test", "production"):
        pr_auc = rec.metrics.get(split, {}).get("pr_auc")
        if pr_auc is not None and rec.minority_rate > 0:
            sig.set("pr_auc_lift", pr_auc / rec.minority_rate, rec.provenance.get(f"metrics.{split}.pr_auc", "record"))
            sig.set("pr_auc", pr_auc, rec.provenance.get(f"metrics.{split}.pr_auc", "record"))
            break
    sig.set("minority_rate", rec.minority_rate, src)
    sig.set("majority_rate", rec.majority_rate, src)
    for split in ("validation", "test", "production"):
        acc, asrc = _value(rec, split, "accuracy")
        if acc is not None and rec.majority_rate is not None:
            sig.set("acc_minus_majority", acc - rec.majority_rate, f"{asrc}; {src}")
            break
    for split in ("validation", "test", "production"):
        per = rec.metrics.get(split, {})
        vals = [per[m] for m in ("minority_recall", "minority_f1") if m in per]
        if not vals and rec.minority_rate <= 0.2:
            vals = [per[m] for m in ("recall", "f1") if m in per]
            if vals:
                sig.assumptions.append("recall/F1 of an imbalanced binary task read as the minority (positive) class")
        if vals:
            sig.set("minority_metric", min(vals), rec.provenance.get(f"metrics.{split}.minority_recall", "record"))
            break


def _curve_signals(rec: ExperimentRecord, sig: Signals) -> None:
    src = "record: training_issues/curves"
    losses = {k: np.asarray(v, dtype=float) for k, v in rec.curves.items() if "loss" in k and len(v)}
    if "nan_loss" in rec.training_issues or any(not np.isfinite(a).all() for a in losses.values()):
        sig.set("loss_nan", True, rec.provenance.get("training_issues", src))
    if "divergence" in rec.training_issues:
        sig.set("loss_divergence", 2.0, rec.provenance.get("training_issues", src))
    if "oscillation" in rec.training_issues:
        sig.set("loss_oscillation", True, rec.provenance.get("training_issues", src))
    if "loss_spikes" in rec.training_issues:
        sig.set("loss_spikes", 1, rec.provenance.get("training_issues", src))
    tr = losses.get("train_loss")
    if tr is not None and np.isfinite(tr).sum() >= 2:
        f = tr[np.isfinite(tr)]
        tsrc = rec.provenance.get("curves.train_loss", "record: curves.train_loss")
        if f.min() > 0:
            sig.set("loss_divergence", float(f[-1] / f.min()), tsrc)
        if len(f) >= 3:
            sig.set("loss_spikes", int(np.sum(f[1:] > 2.0 * f[:-1])), tsrc)
    va = losses.get("validation_loss")
    if va is not None and np.isfinite(va).sum() >= 3:
        f = va[np.isfinite(va)]
        i_min = int(np.argmin(f))
        train_falls = tr is None or len(tr) <= i_min or tr[-1] <= tr[min(i_min, len(tr) - 1)]
        if f[i_min] > 0 and train_falls:
            sig.set("val_loss_rise", float((f[-1] - f[i_min]) / f[i_min]), "record: curves.validation_loss")
    for name, series in rec.curves.items():
        if "loss" in name or name.startswith("train") or len(series) < 3:
            continue
        f = np.asarray(series, dtype=float)
        f = f[np.isfinite(f)]
        if len(f) >= 3 and f.max() > 0:
            drop = float((f.max() - f[-1]) / f.max())
            if drop > (sig.get("score_curve_drop") or 0.0):
                sig.set("score_curve_drop", drop, rec.provenance.get(f"curves.{name}", f"record: curves.{name}"))
    for ob in rec.observations:
        q = f'prompt: "{ob.quote}"' if ob.quote else "record: observations"
        mag = _QUAL[ob.magnitude]
        if ob.metric in ("loss", "log_loss") and ob.split == "validation" and ob.direction == "rise":
            sig.set("qual_val_loss_rising", True, q)
        elif ob.metric not in ("loss", "log_loss"):
            name = f"qual_{ob.direction}_{ob.split}"
            if mag > (sig.get(name) or 0.0):
                sig.set(name, mag, q)
    if rec.seed_scores and len(rec.seed_scores) >= 2:
        sig.set("seed_range", max(rec.seed_scores) - min(rec.seed_scores), rec.provenance.get("seed_scores", "record"))
        if len(rec.seed_scores) >= 3:
            sig.set("seed_std", float(np.std(rec.seed_scores, ddof=1)), "record: seed_scores")
    if rec.seed_std is not None:
        sig.set("seed_std", rec.seed_std, rec.provenance.get("seed_std", "record"))
    gap, spread = sig.get("gap_train_heldout"), sig.get("seed_range")
    if gap is not None and spread:
        sig.set("gap_over_seed_range", gap / spread, "derived: train-held-out gap / seed range")


def _data_signals(rec: ExperimentRecord, meas: DatasetMeasurements | None, sig: Signals) -> None:
    dc, p = rec.data_checks, rec.provenance
    miss = [x for x in [dc.missing_fraction, *dc.missing_by_feature.values()] if x is not None]
    if miss:
        sig.set("missing_max", max(miss), p.get("data_checks.missing_fraction", "record: data_checks"))
        worst = sorted(dc.missing_by_feature, key=lambda k: -dc.missing_by_feature[k])[:5]
        if worst:
            sig.set("missing_features", ", ".join(worst), "record")
    for name, val, key in (
        ("duplicate_fraction", dc.duplicate_fraction, "duplicate_fraction"),
        ("overlap_fraction", dc.train_test_overlap_fraction, "train_test_overlap_fraction"),
        ("invalid_fraction", dc.invalid_row_fraction, "invalid_row_fraction"),
        ("label_error_rate", dc.label_error_rate, "label_error_rate"),
        ("kappa", dc.annotator_agreement, "annotator_agreement"),
        ("shifted_fraction", dc.shifted_feature_fraction, "shifted_feature_fraction"),
    ):
        sig.set(name, val, p.get(f"data_checks.{key}", "record: data_checks"))
    for name, d in (("psi", dc.psi), ("ks", dc.ks)):
        if d:
            sig.set(f"{name}_max", max(d.values()), p.get(f"data_checks.{name}", "record: data_checks"))
            sig.set(f"{name}_features", ", ".join(sorted(d, key=lambda k: -d[k])[:5]), "record")
    ev = rec.evaluation
    sig.set("test_used_for_tuning", ev.test_used_for_tuning or None, p.get("evaluation.test_used_for_tuning", "record"))
    sig.set(
        "preprocessing_all",
        (ev.preprocessing_fit_on == "all") or None,
        p.get("evaluation.preprocessing_fit_on", "record"),
    )
    sig.set("group_overlap", ev.group_overlap or None, p.get("evaluation.group_overlap", "record"))
    sig.set("target_in_features", ev.target_in_features or None, p.get("evaluation.target_in_features", "record"))
    sig.set(
        "test_population_differs",
        ev.test_population_differs or None,
        p.get("evaluation.test_population_differs", "record"),
    )
    sig.set(
        "random_split_temporal",
        (ev.split_strategy == "random" and bool(ev.temporal_data)) or None,
        p.get("evaluation.split_strategy", "record"),
    )
    n = rec.split_sizes.get("test")
    if n:
        sig.set("test_n", n, p.get("split_sizes.test", "record"))
        score = sig.get("score_test")
        if score is not None:
            # p clipped to [0.1, 0.9]: near 0 or 1 the interval of a small sample is wider than its width at p
            sig.set(
                "test_ci_halfwidth",
                wilson_halfwidth(min(max(score, 0.1), 0.9), n),
                "Wilson 95% interval at the test score (clipped to [0.1, 0.9])",
            )
    if meas is not None:
        src = f"measured: {meas.train_csv} vs {meas.test_csv}"
        sig.set("n_leaking_columns", len(meas.leaking_columns), src)
        sig.set("leaking_columns", ", ".join(meas.leaking_columns), src)
        sig.set("leak_auc_max", meas.leak_power_max, src)
        sig.set("overlap_fraction", meas.overlap_fraction, src)
        sig.set("duplicate_fraction", meas.duplicate_fraction_train, src)
        sig.set("shifted_fraction", meas.shifted_fraction, src)
        sig.set("shifted_columns", ", ".join(meas.shifted_columns[:5]), src)
        sig.set("missing_max", meas.missing_max, src)
        sig.set(
            "missing_features", ", ".join(sorted(meas.missing_columns, key=lambda k: -meas.missing_columns[k])[:5]), src
        )


def _identifier_signals(
    rec: ExperimentRecord, meas: DatasetMeasurements | None, id_patterns: list[str], sig: Signals
) -> None:
    ids = [
        f.name
        for f in rec.features
        if is_future_name(f.name, id_patterns) and (f.dominant or (f.importance or 0) >= 0.3)
    ]
    src = rec.provenance.get("features", "record: features (importance)")
    if meas is not None:
        ids += [
            f.name
            for f in meas.features
            if is_future_name(f.name, id_patterns) and (f.power_train or 0) >= 0.75 and f.name not in ids
        ]
        src = f"measured: {meas.train_csv}" if not rec.features else src
    if ids:
        sig.set("n_identifier_predictive", len(ids), src)
        sig.set("identifier_features", ", ".join(ids), src)


def compute_signals(
    rec: ExperimentRecord,
    meas: DatasetMeasurements | None,
    future_patterns: list[str],
    id_patterns: list[str] | None = None,
) -> Signals:
    """Every signal the rules can read, each with its source (prompt quote, record field or measurement)."""
    sig = Signals()
    _metric_signals(rec, sig)
    _class_signals(rec, sig)
    _curve_signals(rec, sig)
    _data_signals(rec, meas, sig)
    _identifier_signals(rec, meas, id_patterns or [], sig)
    future = [
        f.name
        for f in rec.features
        if f.available_at_prediction_time is False
        or f.suspected_leak
        or (f.available_at_prediction_time is None and is_future_name(f.name, future_patterns))
    ]
    if meas is not None:
        future += [c for c in [s.name for s in meas.features] if is_future_name(c, future_patterns) and c not in future]
    recent = [f.name for f in rec.features if f.added_recently]
    if recent:
        sig.set("n_recent_features", len(recent), rec.provenance.get("features", "record: features"))
        sig.set("recent_features", ", ".join(recent), "record: features")
    if future:
        sig.set("n_future_features", len(future), "feature names and statements")
        sig.set("future_features", ", ".join(future), "feature names and statements")
    jump = (sig.get("history_jump") or 0) >= 0.10 or (sig.get("qual_rise_validation") or 0) >= 1.0
    leak_source = (
        (bool(recent) and jump)
        or bool(future)
        or bool(sig.get("n_leaking_columns"))
        or (sig.get("overlap_fraction") or 0) >= 0.05
        or bool(sig.get("group_overlap"))
        or bool(sig.get("target_in_features"))
        or bool(sig.get("preprocessing_all"))
        or bool(sig.get("random_split_temporal"))
    )
    sig.set("leak_source_identified", leak_source, "derived: any concrete leakage input")
    for c in rec.concerns:
        if c.category in FAILURE_CATEGORIES:
            sig.set(f"{'worry' if c.hedged else 'stated'}_{c.category}", True, f'prompt: "{c.quote}"')
    sig.set(
        "ai_service",
        bool(rec.platform and rec.platform.startswith("azure_ai")) or None,
        rec.provenance.get("platform", "record: platform"),
    )
    sig.set("fairness_given", bool(rec.fairness) or None, "record: fairness")
    return sig
