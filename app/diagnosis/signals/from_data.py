"""Signals from curves, seeds, data checks, evaluation set-up, measurements and identifier columns."""

from __future__ import annotations

import numpy as np

from app.diagnosis.measure import DatasetMeasurements
from app.diagnosis.record import ExperimentRecord
from app.diagnosis.signals.base import QUAL, Signals, is_future_name, wilson_halfwidth

__all__ = ["curve_signals", "data_signals", "identifier_signals"]


def curve_signals(rec: ExperimentRecord, sig: Signals) -> None:
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
        mag = QUAL[ob.magnitude]
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


def data_signals(rec: ExperimentRecord, meas: DatasetMeasurements | None, sig: Signals) -> None:
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
        ("shift_p_value", dc.shift_p_value, "shift_p_value"),
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
    sig.set(
        "balanced_offline_sample",
        ev.balanced_offline_sample or None,
        p.get("evaluation.balanced_offline_sample", "record"),
    )
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
    sig.set("predicts_single_class", rec.predicts_single_class or None, p.get("predicts_single_class", "record"))
    stated = rec.intervals.get("test") or rec.intervals.get("validation")
    if stated:
        sig.set(
            "test_ci_halfwidth",
            (stated[1] - stated[0]) / 2,
            p.get("intervals.test", p.get("intervals.validation", "record: intervals")),
        )
    n = rec.split_sizes.get("test")
    if n:
        sig.set("test_n", n, p.get("split_sizes.test", "record"))
        score = sig.get("score_test")
        if score is not None and not stated:
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


def identifier_signals(
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
