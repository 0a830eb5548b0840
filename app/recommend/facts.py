"""Facts of a report that recommendation rules test (and the rules that fire on them)."""

from __future__ import annotations

from typing import Any

from app.recommend.rules import Rule, RuleSet
from app.rules import fired
from app.schemas import Report

__all__ = ["build_facts", "drifted_features", "fired_rules", "incident_features"]


def drifted_features(report: Report) -> list[str]:
    """Names of features whose drift test fired, strongest effect first."""
    feats = report.drift.get("features") or {}
    rows = []
    for name, res in feats.items():
        d = res if isinstance(res, dict) else getattr(res, "model_dump", dict)()
        if d.get("drift_detected"):
            rows.append((-(d.get("effect_size") or 0.0), d.get("p_value") or 1.0, name))
    return [n for _, _, n in sorted(rows)]


def incident_features(report: Report) -> list[str]:
    """The features an incident is about: drifted ones (attribution order first); when no single
    feature drifted but the root cause is about inputs (a joint shift, data quality), the
    RCA-attributed ones; none otherwise (attribution without any input finding is noise)."""
    attributed = [f.name for f in report.rca.features]
    raw = drifted_features(report)
    drifted = [n for n in attributed if n in raw] + [n for n in raw if n not in attributed]
    if not drifted and report.rca.root_cause in ("feature_drift", "data_quality"):
        return attributed
    return drifted


def build_facts(report: Report, *, protocol: str | None = None) -> dict[str, Any]:
    """Flatten a report into the facts rules may test.

    ``metrics.X`` / ``baseline.X`` / ``delta.X`` (current - baseline) / ``error_share.KIND`` and
    ``root_cause``, ``severity``, ``causes`` (root cause + contributing), ``affected_features`` (see
    `incident_features`), ``attributed_features``, ``drifted_features``, ``n_drifted_features``, ``anomaly_detectors``, ``protocol``, ``alert``.

    >>> from app.schemas import Metrics, RCA
    >>> r = Report(endpoint="e", metrics=Metrics(accuracy=0.6, total_samples=10),
    ...            baseline_metrics=Metrics(accuracy=0.9), rca=RCA(root_cause="accuracy_drop", severity="high"))
    >>> f = build_facts(r)
    >>> f["root_cause"], round(f["delta"]["accuracy"], 2), f["causes"]
    ('accuracy_drop', -0.3, ['accuracy_drop'])
    """
    m = report.metrics.model_dump()
    b = report.baseline_metrics.model_dump() if report.baseline_metrics else {}
    delta = {k: v - b[k] for k, v in m.items()
             if isinstance(v, (int, float)) and isinstance(b.get(k), (int, float))}
    total = max(report.metrics.total_samples, 1)
    attributed = [f.name for f in report.rca.features]
    raw = drifted_features(report)
    drifted = [n for n in attributed if n in raw] + [n for n in raw if n not in attributed]  # attribution first
    affected = incident_features(report)
    return {
        "root_cause": report.rca.root_cause,
        "severity": report.rca.severity,
        "contributing": list(report.rca.contributing),
        "causes": list(dict.fromkeys([report.rca.root_cause, *report.rca.contributing])),
        "alert": report.alert,
        "protocol": protocol or getattr(report, "protocol", None),
        "metrics": m,
        "baseline": b,
        "delta": delta,
        "error_share": {k: c / total for k, c in report.metrics.error_kinds.items()},
        "labelled": report.metrics.labelled_samples > 0 or report.metrics.accuracy is not None,
        "affected_features": affected,
        "attributed_features": attributed,
        "drifted_features": drifted,
        "n_drifted_features": len(drifted),
        "anomaly_detectors": sorted({a.detector for a in report.anomalies}),
        "drift": report.drift,
    }


def fired_rules(ruleset: RuleSet, facts: dict[str, Any]) -> list[Rule]:
    """The rules whose ``when`` holds, in file order."""
    by_id = {r.id: r for r in ruleset.rules}
    return [by_id[i] for i in fired(ruleset.rules, facts)]
