"""Every signal family run over one record (and its measurements): the one entry point, compute_signals."""

from __future__ import annotations

from app.diagnosis.measure import DatasetMeasurements
from app.diagnosis.record import ExperimentRecord
from app.diagnosis.signals.base import Signals, is_future_name
from app.diagnosis.signals.from_data import curve_signals, data_signals, identifier_signals
from app.diagnosis.signals.from_metrics import averaging_signals, class_signals, metric_signals
from app.diagnosis.vocab import FAILURE_CATEGORIES

__all__ = ["compute_signals"]


def compute_signals(
    rec: ExperimentRecord,
    meas: DatasetMeasurements | None,
    future_patterns: list[str],
    id_patterns: list[str] | None = None,
) -> Signals:
    """Every signal the rules can read, each with its source (prompt quote, record field or measurement)."""
    sig = Signals()
    metric_signals(rec, sig)
    class_signals(rec, sig)
    averaging_signals(rec, sig)
    curve_signals(rec, sig)
    data_signals(rec, meas, sig)
    identifier_signals(rec, meas, id_patterns or [], sig)
    future = [
        f.name
        for f in rec.features
        if f.available_at_prediction_time is False
        or f.suspected_leak
        or (f.available_at_prediction_time is None and is_future_name(f.name, future_patterns))
    ]
    if meas is not None:
        future += [c for c in [s.name for s in meas.features] if is_future_name(c, future_patterns) and c not in future]
    stated_future = [f.name for f in rec.features if f.available_at_prediction_time is False]
    if stated_future:
        sig.set("n_stated_future", len(stated_future), rec.provenance.get("features", "record: features"))
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
            if c.finding and not c.hedged:
                sig.set(f"found_{c.category}", True, f'prompt: "{c.quote}"')
    sig.set(
        "ai_service",
        bool(rec.platform and rec.platform.startswith("azure_ai")) or None,
        rec.provenance.get("platform", "record: platform"),
    )
    sig.set("fairness_given", bool(rec.fairness) or None, "record: fairness")
    return sig
