"""Adaptive alert sensitivity per (endpoint, detector): bounded, reversible, and audited.

A rejection marked as a false alarm multiplies the sensitivity multiplier of every detector that
fired in that report by ``STEP`` (capped at ``MAX_MULTIPLIER``); detection then uses
``alpha / m`` and ``effect_floor * m`` for that detector, so it needs stronger evidence. An approval
(a confirmed true alert) divides it by ``STEP`` again (never below 1). `reset` restores 1.0. Every
change is an audit-log entry (``sensitivity_changed`` / ``sensitivity_reset``).
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel

from app.config import Settings
from app.errors import InputError, NotFoundError
from app.governance import audit
from app.schemas import Report
from app.storage import Store
from app.storage.governance.lookups import endpoint_id
from app.storage.governance.sensitivity import delete_multipliers, list_multipliers, multipliers, set_multiplier
from app.storage.governance.tx import Tx, locked, reading

__all__ = [
    "MAX_MULTIPLIER",
    "STEP",
    "SensitivityChange",
    "adapt",
    "fired_detectors",
    "list_sensitivity",
    "next_multiplier",
    "reset",
    "sensitivity_for",
]

STEP = 1.5
MAX_MULTIPLIER = 4.0


class SensitivityChange(BaseModel):
    endpoint: str
    detector: str
    before: float
    after: float


def fired_detectors(report: Report) -> list[str]:
    """Names of the tests/detectors that raised something in ``report`` (drift methods, anomalies).

    >>> from app.schemas import Metrics, Anomaly
    >>> r = Report(endpoint="e", metrics=Metrics(), anomalies=[Anomaly(detector="error_rate", message="m")],
    ...            drift={"features": {"x": {"method": "ks", "drift_detected": True}},
    ...                   "confidence_distribution": {"method": "ks", "drift_detected": False}})
    >>> fired_detectors(r)
    ['error_rate', 'ks']
    >>> r.drift["behaviour"] = {"accuracy": {"method": "accuracy_drop", "drift_detected": True}}
    >>> fired_detectors(r)
    ['accuracy_drop', 'error_rate', 'ks']
    >>> r.drift["summary"] = {"flagged_tests": ["welch:mean radius", "domain_classifier:rows"]}
    >>> fired_detectors(r)
    ['accuracy_drop', 'domain_classifier', 'error_rate', 'ks', 'welch']
    """
    names = {a.detector for a in report.anomalies}

    def walk(node: Any) -> None:
        d = node.model_dump() if hasattr(node, "model_dump") else node
        if not isinstance(d, dict):
            return
        if "method" in d and "drift_detected" in d:       # one test result (maybe combining several tests)
            if d.get("drift_detected") and d.get("method"):
                names.add(str(d["method"]))
                for test, sub in (d.get("tests") or {}).items():
                    if isinstance(sub, dict) and sub.get("drift_detected"):
                        names.add(str(test))
            return
        for v in d.values():                               # a group of results (features, behaviour, ...)
            walk(v)

    walk(report.drift)
    summary = report.drift.get("summary")
    if isinstance(summary, dict):                          # "method:variable" of every test that fired
        names.update(str(x).split(":", 1)[0] for x in summary.get("flagged_tests") or [])
    return sorted(names)


def next_multiplier(current: float, *, false_alarm: bool) -> float:
    """One adaptation step, bounded to [1, MAX_MULTIPLIER].

    >>> next_multiplier(1.0, false_alarm=True), next_multiplier(3.0, false_alarm=True)
    (1.5, 4.0)
    >>> next_multiplier(1.5, false_alarm=False), next_multiplier(1.0, false_alarm=False)
    (1.0, 1.0)
    """
    m = current * STEP if false_alarm else current / STEP
    return round(min(MAX_MULTIPLIER, max(1.0, m)), 6)


def sensitivity_for(store: Store, endpoint_name: str) -> dict[str, float]:
    """Detector -> multiplier (>1 = less sensitive) for ``analyze_window``; {} when nothing adapted."""
    with reading(store) as conn:
        eid = endpoint_id(conn, endpoint_name)
        return {} if eid is None else multipliers(conn, eid)


def adapt(conn: Tx, settings: Settings, *, endpoint: str, eid: int, detectors: list[str], false_alarm: bool,
          actor: str, recommendation_id: str, reason: str) -> list[SensitivityChange]:
    """Step the multipliers of ``detectors`` inside the caller's locked transaction; audit the change."""
    cur = multipliers(conn, eid)
    changes: list[SensitivityChange] = []
    now = time.time()
    for det in detectors:
        before = cur.get(det, 1.0)
        after = next_multiplier(before, false_alarm=false_alarm)
        if after == before:
            continue
        set_multiplier(conn, eid, det, after, now, exists=det in cur)
        changes.append(SensitivityChange(endpoint=endpoint, detector=det, before=before, after=after))
    if changes:
        audit.append(conn, settings, "sensitivity_changed", actor, {
            "endpoint": endpoint, "recommendation_id": recommendation_id, "reason": reason,
            "cause": "false_alarm" if false_alarm else "confirmed_alert",
            "changes": [c.model_dump() for c in changes], "max_multiplier": MAX_MULTIPLIER, "step": STEP})
    return changes


def reset(store: Store, settings: Settings, endpoint: str, *, by: str, detector: str | None = None,
          reason: str = "reset") -> list[SensitivityChange]:
    """Restore multiplier 1.0 for one detector (or all) of an endpoint; audited. Returns what changed."""
    if not by or not by.strip():
        raise InputError("--by NAME is required to reset sensitivity")
    with locked(store) as conn:
        audit.require_intact(conn, settings)
        eid = endpoint_id(conn, endpoint)
        if eid is None:
            raise NotFoundError(f"unknown endpoint: {endpoint}")
        cur = multipliers(conn, eid)
        if detector is not None and detector not in cur:
            return []
        targets = [detector] if detector else sorted(cur)
        changes = [SensitivityChange(endpoint=endpoint, detector=d, before=cur[d], after=1.0) for d in targets]
        if not changes:
            return []
        delete_multipliers(conn, eid, detector)
        audit.append(conn, settings, "sensitivity_reset", by.strip(), {
            "endpoint": endpoint, "reason": reason, "changes": [c.model_dump() for c in changes]})
    return changes


def list_sensitivity(store: Store, endpoint: str | None = None) -> list[dict[str, Any]]:
    """Every adapted multiplier (endpoint, detector, multiplier, updated_at)."""
    return list_multipliers(store.engine, endpoint)
