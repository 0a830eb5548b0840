"""Incidents: consecutive alerts with one root cause on one endpoint, open -> resolved, with outcomes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.schemas import Report, severity_rank
from app.storage.governance.incidents import (
    Incident,
    close_incident,
    extend_incident,
    get_incident,
    healthy_reports_since,
    insert_incident,
    list_incidents,
    open_incident,
    set_report_links,
)
from app.storage.governance.tx import Tx

__all__ = [
    "EPISODES",
    "KEY_METRIC",
    "Incident",
    "IncidentChange",
    "get_incident",
    "link_report",
    "list_incidents",
    "metric_outcome",
    "open_incident",
    "resolve_after_of",
    "track",
]

# the metric whose return toward the baseline shows recovery, per root cause
KEY_METRIC: dict[str, str] = {
    "accuracy_drop": "accuracy",
    "confidence_drop": "avg_confidence",
    "latency_degradation": "latency_p95_ms",
    "error_spike": "error_rate",
    "silent_failure": "confidence_std",
    "data_quality": "error_rate",
    "feature_drift": "n_drifted_features",
    "prediction_drift": "avg_confidence",
}


@dataclass
class IncidentChange:
    """What `track` did for one report."""

    incident_id: int | None = None
    opened: bool = False
    closed: list[tuple[int, str]] = field(default_factory=list)   # (incident id, outcome)
    refined: dict[str, Any] | None = None       # root cause / severity changed in place (audited)


EPISODES = ("change", "ongoing", "recovered")


def resolve_after_of(settings: Any) -> int:
    """Healthy reports needed to resolve an incident (``incident_resolve_after`` setting, default 1)."""
    return max(1, int(getattr(settings, "incident_resolve_after", 1) or 1))


def _features(report: Report) -> list[str]:
    from app.recommend.facts import incident_features

    return incident_features(report)


def _refine(conn: Tx, cur: Incident, report: Report, now: float, change: IncidentChange) -> None:
    """Same change, new evidence: a more severe finding becomes the root cause; a weaker one (a short
    window's chance finding) only adds its features."""
    worse = severity_rank(report.rca.severity) > severity_rank(cur.severity)
    cause = report.rca.root_cause if worse else cur.root_cause      # the worst finding names the incident
    new_sev = report.rca.severity if worse else cur.severity
    feats = list(dict.fromkeys(cur.features + _features(report)))
    extend_incident(conn, cur, now, severity=new_sev, features=feats,
                    root_cause=cause if cause != cur.root_cause else None)
    if cause != cur.root_cause or new_sev != cur.severity:
        change.refined = {"incident_id": cur.id, "root_cause": [cur.root_cause, cause],
                          "severity": [cur.severity, new_sev]}
    change.incident_id = cur.id


def track(conn: Tx, endpoint_id: int, report: Report, now: float, *, resolve_after: int = 1,
          change_point: tuple[float, int] | None = None, episode: str | None = None) -> IncidentChange:
    """Open, extend, refine or resolve the endpoint's incident for a new (not yet saved) report.

    Without ``episode`` (no sequential monitor): same root cause as the open incident -> extend it;
    another root cause -> the open one is closed as ``superseded`` and a new one opens; a healthy
    report -> resolved as ``recovered`` once ``resolve_after`` healthy reports in a row arrived.

    ``episode`` is the watcher's sequential state: ``change`` (an alarm) or ``ongoing`` (the change
    is not over) -> one change, one incident: an alert opens it or refines the open one in place
    (root cause, worst severity; :attr:`IncidentChange.refined` says what changed, for the audit log),
    and a healthy windowed report does not resolve it (the sequential test has more power);
    ``recovered`` (every signal back at the baseline) -> the open incident resolves as ``recovered``
    and the report (a short window since the healing) opens nothing. ``change_point`` (time, detection delay in samples)
    is recorded on an incident this report opens. Run inside a `locked` transaction.
    """
    if episode is not None and episode not in EPISODES:
        raise ValueError(f"episode must be one of {EPISODES}, got {episode!r}")
    change = IncidentChange()
    cur = open_incident(conn, endpoint_id)
    cause = report.rca.root_cause
    if episode == "recovered":          # the sequential test decided; this report never opens an incident
        if cur is not None:
            close_incident(conn, cur, now, "recovered", "Recovered: the sequential tests are back at the baseline.")
            change.closed.append((cur.id, "recovered"))
            change.incident_id = cur.id
        return change
    if cause == "none":
        if cur is None:
            return change
        change.incident_id = cur.id
        if episode in ("change", "ongoing"):
            return change                       # the change is not over: the sequential test says so
        healthy = healthy_reports_since(conn, endpoint_id, cur.last_report_id or 0)
        if healthy + 1 >= resolve_after:
            close_incident(conn, cur, now, "recovered", f"Recovered after {int(healthy) + 1} healthy report(s).")
            change.closed.append((cur.id, "recovered"))
        return change
    feats = _features(report)
    if cur is not None and (cur.root_cause == cause or episode in ("change", "ongoing")):
        _refine(conn, cur, report, now, change)
        return change
    if cur is not None:
        close_incident(conn, cur, now, "superseded", f"Superseded by a {cause} alert.")
        change.closed.append((cur.id, "superseded"))
    change.incident_id = insert_incident(conn, endpoint_id, root_cause=cause, severity=report.rca.severity, now=now,
                                         features=feats, summary=report.rca.failure_reason,
                                         change_point_at=change_point[0] if change_point else None,
                                         detection_delay_samples=change_point[1] if change_point else None)
    change.opened = True
    return change


def link_report(conn: Tx, incident_id: int | None, report_id: int, *, alert: bool) -> None:
    """Record the report on its incident (first report, and last alert report)."""
    if incident_id is None:
        return
    inc = get_incident(conn, incident_id)
    if inc is None:
        return
    links: dict[str, int] = {}
    if inc.first_report_id is None:
        links["first_report_id"] = report_id
    if alert:
        links["last_report_id"] = report_id
    set_report_links(conn, incident_id, **links)


def _metric(report: Report, name: str, baseline: bool = False) -> float | None:
    if name == "n_drifted_features":
        if baseline:
            return 0.0
        from app.recommend.facts import drifted_features

        return float(len(drifted_features(report)))
    src = report.baseline_metrics if baseline else report.metrics
    val = getattr(src, name, None) if src is not None else None
    return float(val) if isinstance(val, (int, float)) else None


def metric_outcome(root_cause: str, before: Report | None, after: Report) -> dict[str, Any]:
    """Did the problem of ``root_cause`` go away between an alert report and a later report?

    ``recovered``: the later report no longer shows this root cause (neither as root cause nor as a
    contributing one) and its key metric closed at least half of its gap to the baseline. A healthy
    later report with unknown metrics counts as recovered; another failure with unknown metrics is
    ``unknown``; an unrelated new failure does not undo the recovery of this one.

    >>> from app.schemas import Metrics, RCA
    >>> bad = Report(endpoint="e", metrics=Metrics(accuracy=0.6), baseline_metrics=Metrics(accuracy=0.95),
    ...              rca=RCA(root_cause="accuracy_drop", severity="high"))
    >>> good = Report(endpoint="e", metrics=Metrics(accuracy=0.94), baseline_metrics=Metrics(accuracy=0.95))
    >>> slow = Report(endpoint="e", metrics=Metrics(accuracy=0.94), baseline_metrics=Metrics(accuracy=0.95),
    ...               rca=RCA(root_cause="latency_degradation", severity="high"))
    >>> [metric_outcome("accuracy_drop", bad, x)["result"] for x in (good, bad, slow)]
    ['recovered', 'not_recovered', 'recovered']
    >>> rb = Report(endpoint="e", metrics=Metrics(task="regression", mae=60.0),
    ...             baseline_metrics=Metrics(task="regression", mae=40.0), rca=RCA(root_cause="accuracy_drop"))
    >>> half = Report(endpoint="e", metrics=Metrics(task="regression", mae=55.0),
    ...               baseline_metrics=Metrics(task="regression", mae=40.0))
    >>> metric_outcome("accuracy_drop", rb, half)["result"]    # healthy verdict, but the error is still high
    'not_recovered'
    """
    name = KEY_METRIC.get(root_cause, "error_rate")
    tasks = (after.metrics.task, after.baseline_metrics.task if after.baseline_metrics else None)
    if name == "accuracy" and "regression" in tasks:
        name = "mae"                                # a regression's accuracy is its mean absolute error
    b4 = _metric(before, name) if before else None
    now = _metric(after, name)
    base = _metric(after, name, baseline=True)
    closer: bool | None = None
    if b4 is not None and now is not None and base is not None and abs(b4 - base) > 1e-9:
        closer = abs(now - base) <= 0.5 * abs(b4 - base)      # at least half of the gap closed
    still = root_cause == after.rca.root_cause or root_cause in after.rca.contributing
    if still or closer is False:
        result = "not_recovered"
    elif after.rca.root_cause == "none" or closer:
        result = "recovered"
    else:
        result = "unknown"
    return {"result": result, "metric": name, "before": b4, "after": now, "baseline": base,
            "after_root_cause": after.rca.root_cause, "after_report_id": after.report_id}
