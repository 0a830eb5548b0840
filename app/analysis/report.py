"""Assemble the contract's monitoring report from decided tests, the RCA and its explanation."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from app.analysis.estimated import estimated_performance
from app.detection.base import TestResult
from app.detection.drift import feature_results, rank_features, to_drift_result
from app.detection.suite import DetectionConfig, SuiteResult, WindowData
from app.rca.explain import explain
from app.rca.root_cause import root_cause
from app.schemas import Anomaly, DriftResult, FeatureAttribution, Metrics, Report

__all__ = ["MAX_FEATURE_ANOMALIES", "anomalies_of", "build_report", "drift_block"]

MAX_FEATURE_ANOMALIES = 10
_EXTRA_GROUPS = {"accuracy": "accuracy", "errors": "error_rate", "latency": "latency", "silent": "silent_failure",
                 "multivariate": "multivariate", "isolation_forest": "isolation_forest"}


def _dump(r: DriftResult) -> dict[str, Any]:
    return r.model_dump(mode="json")


def _headline(results: list[TestResult], method: str, missing: str) -> dict[str, Any]:
    if not results:
        return _dump(DriftResult(method=method, detail=missing))
    return _dump(to_drift_result(sorted(results, key=lambda r: (not r.drift_detected, r.p_adjusted or 1.0))))


def drift_block(suite: SuiteResult, config: DetectionConfig) -> dict[str, Any]:
    """The report's ``drift`` mapping: contract keys first, then every other test and a summary."""
    g = suite.groups
    per = feature_results(suite)
    drift: dict[str, Any] = {
        "confidence_distribution": _headline(g.get("confidence", []), "ks", "no confidence values in one window"),
        "prediction_distribution": _headline(g.get("predictions", []), "ks" if suite.task == "regression" else "chi2",
                                             "no predictions in one window"),
        "features": {name: _dump(to_drift_result(per[name])) for name in rank_features(per)},
    }
    for group, key in _EXTRA_GROUPS.items():
        if g.get(group):
            drift[key] = _dump(g[group][0].to_drift())
    corr = [r for r in g.get("accuracy", []) if r.method == "correlation_drop"]
    if corr:
        drift["prediction_label_correlation"] = _dump(corr[0].to_drift())
    if suite.task == "regression":
        drift["task"] = "regression"
    dq = g.get("data_quality", [])
    if dq or suite.plan.skipped:
        drift["data_quality"] = {
            "flagged": [{"column": r.name, "check": r.method.split(".")[-1], "detail": r.detail,
                         "effect_size": r.to_drift().effect_size, "p_value": r.to_drift().p_value}
                        for r in dq if r.drift_detected],
            "new_columns": [r.name for r in dq if r.method.endswith("new_column")],
            "checks_run": len(dq), "skipped_columns": dict(suite.plan.skipped)}
    drift["summary"] = {
        "alpha": suite.alpha, "n_tests": suite.n_tests,
        "correction": "Cauchy combination per variable, Benjamini-Hochberg within the outputs and inputs families "
                      "(alpha/2 each when both are present), effect-size floors",
        "numeric_tests": list(config.numeric_tests), "categorical_tests": list(config.categorical_tests),
        "flagged_tests": sorted({f"{r.method}:{r.name}" for r in suite.all if r.drift_detected}),
    }
    return drift


def _severity(r: TestResult) -> str:
    if r.method == "silent_failure":
        return "critical"
    s = r.strength
    return "high" if s >= 10 else "medium" if s >= 3 else "low"


def anomalies_of(suite: SuiteResult) -> list[Anomaly]:
    """One anomaly per flagged hypothesis (features: their headline test, at most 10 listed)."""
    out: list[Anomaly] = []
    per = feature_results(suite)
    flagged_feats = [n for n in rank_features(per) if any(t.drift_detected for t in per[n])]
    for group, results in suite.groups.items():
        if group == "features":
            continue
        for r in results:
            if r.drift_detected:
                label = r.name if group != "confidence" else f"confidence ({r.method})"
                out.append(Anomaly(detector=r.method, severity=_severity(r), message=f"{label}: {r.detail}",  # type: ignore[arg-type]
                                   value=r.to_drift().effect_size, threshold=r.effect_floor))
    for name in flagged_feats[:MAX_FEATURE_ANOMALIES]:
        r = next(t for t in per[name] if t.drift_detected)
        out.append(Anomaly(detector=r.method, severity=_severity(r), message=f"feature '{name}': {r.detail}",  # type: ignore[arg-type]
                           value=r.to_drift().effect_size, threshold=r.effect_floor))
    if len(flagged_feats) > MAX_FEATURE_ANOMALIES:
        rest = len(flagged_feats) - MAX_FEATURE_ANOMALIES
        out.append(Anomaly(detector="feature_drift", severity="low", value=float(rest), threshold=None,
                           message=f"and {rest} more drifted features (see drift.features)"))
    return out


def _quality_features(suite: SuiteResult, attributed: list[FeatureAttribution]) -> list[FeatureAttribution]:
    """For a data-quality verdict the responsible columns are the ones whose checks failed (missing, new,
    retyped, NaN, out of range), strongest first; a drift attribution follows only for a column whose own
    test was flagged, never for one that merely ranks high in a classifier (p = 1 is not evidence)."""
    bad: dict[str, FeatureAttribution] = {}
    for r in sorted((r for r in suite.groups.get("data_quality", []) if r.drift_detected),
                    key=lambda r: -(r.effect_size or 0.0)):
        if r.name not in bad:
            check = r.method.split(".")[-1].replace("_", " ")
            bad[r.name] = FeatureAttribution(name=r.name, score=round(float(r.effect_size or 1.0), 4),
                                             evidence=f"{check}: {r.detail}")
    flagged = {r.name for r in suite.groups.get("features", []) if r.drift_detected}
    return list(bad.values()) + [f for f in attributed if f.name in flagged and f.name not in bad]


def build_report(endpoint: str, suite: SuiteResult, ref: WindowData, cur: WindowData, *, metrics: Metrics,
                 baseline_metrics: Metrics | None, config: DetectionConfig, samples_collected: int,
                 baseline_version: int | None = None,
                 reference_pairs: tuple[np.ndarray, np.ndarray] | None = None) -> Report:
    """Everything together: drift, anomalies, root cause with features and segments, and the
    label-free accuracy estimate calibrated on ``reference_pairs`` (confidence, 1/0 correct)."""
    verdict = root_cause(suite, metrics, baseline_metrics)
    rca = verdict.rca
    if rca.root_cause != "none":
        feats, segs = explain(rca.root_cause, suite, ref, cur, seed=config.seed)
        if rca.root_cause == "data_quality":
            feats = _quality_features(suite, feats)
        rca = rca.model_copy(update={"features": feats, "segments": segs})
    return Report(endpoint=endpoint, metrics=metrics, drift=drift_block(suite, config), anomalies=anomalies_of(suite),
                  rca=rca, samples_collected=samples_collected, baseline_metrics=baseline_metrics,
                  baseline_version=baseline_version, created_at=time.time(), alert=rca.root_cause != "none",
                  estimated_performance=estimated_performance(reference_pairs, cur, suite, seed=config.seed))
