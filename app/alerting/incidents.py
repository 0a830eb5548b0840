"""Incident changes as Alertmanager alerts: opened, refined and extended incidents fire, closed ones resolve."""

from __future__ import annotations

import time
from typing import Any

from app.alerting.alertmanager import ALERTNAME, HOLD_MIN_S, AlertmanagerClient, configured, iso, runbook_url
from app.config import Settings
from app.schemas import Report
from app.storage import Store
from app.storage.governance.incidents import Incident, get_incident
from app.storage.governance.tx import reading

__all__ = ["CLIENT", "incident_alert", "notify_change"]

CLIENT = AlertmanagerClient()       # one per process: it holds the undelivered alerts


def incident_alert(inc: Incident, endpoint: str, *, resolved_at: float | None = None, hold_s: float = HOLD_MIN_S,
                   now: float | None = None, root_cause: str | None = None, severity: str | None = None,
                   outcome: str | None = None, runbook_base: str | None = None) -> dict[str, Any]:
    """One Alertmanager alert for ``inc``: firing until ``now + hold_s``, or resolved at ``resolved_at``.

    ``root_cause`` / ``severity`` override the incident's (the labels it carried before a refinement).
    """
    now = time.time() if now is None else now
    cause, sev = root_cause or inc.root_cause, severity or inc.severity
    starts = min(inc.opened_at, now)
    ends = max(resolved_at, starts) if resolved_at is not None else now + hold_s
    if resolved_at is None:
        summary = f"mlfi incident #{inc.id} on {endpoint}: {cause} ({sev})"
    else:
        summary = f"mlfi incident #{inc.id} on {endpoint} ({cause}) {outcome or 'resolved'}"
    return {
        "labels": {"alertname": ALERTNAME, "endpoint": endpoint, "severity": sev, "root_cause": cause},
        "annotations": {"summary": summary, "description": (inc.summary or f"{cause} detected")[:1000],
                        "runbook_url": runbook_url(cause, runbook_base), "incident_id": str(inc.id)},
        "startsAt": iso(starts), "endsAt": iso(ends),
    }


def notify_change(store: Store, settings: Settings, report: Report, change: Any) -> None:
    """Post the alerts an incident change implies (no-op without ``MLFI_ALERTMANAGER_URL``; never raises).

    The endpoint's open incident fires again on every report that touches it (opened, refined or
    extended: the refresh keeps it active); an incident closed by this report resolves; a refinement
    that changed root cause or severity resolves the alert with the old labels.
    """
    if not configured(settings):
        return
    try:
        _notify(store, settings, report, change)
    except Exception as exc:  # noqa: BLE001 - an alert never stops monitoring
        from loguru import logger

        logger.warning(f"alertmanager notification skipped: {type(exc).__name__}")


def _notify(store: Store, settings: Settings, report: Report, change: Any) -> None:
    now = time.time()
    hold = max(HOLD_MIN_S, 4.0 * settings.analysis_every_s)
    alerts: list[dict[str, Any]] = []
    closed = {inc_id: outcome for inc_id, outcome in change.closed}
    ids = [*closed, *([change.incident_id] if change.incident_id is not None else [])]
    with reading(store) as conn:
        incidents = {i: get_incident(conn, i) for i in dict.fromkeys(ids)}
    for inc_id, outcome in closed.items():
        inc = incidents.get(inc_id)
        if inc is not None:
            alerts.append(incident_alert(inc, report.endpoint, resolved_at=now, now=now, outcome=outcome,
                                         runbook_base=settings.runbook_base_url))
    cur = incidents.get(change.incident_id) if change.incident_id is not None else None
    if cur is not None and cur.status == "open":
        alerts.append(incident_alert(cur, report.endpoint, hold_s=hold, now=now, runbook_base=settings.runbook_base_url))
        refined = change.refined or {}
        old_cause = (refined.get("root_cause") or [None])[0]
        old_sev = (refined.get("severity") or [None])[0]
        if refined and (old_cause, old_sev) != (cur.root_cause, cur.severity):
            alerts.append(incident_alert(cur, report.endpoint, resolved_at=now, now=now, root_cause=old_cause,
                                         severity=old_sev, outcome="refined", runbook_base=settings.runbook_base_url))
    if alerts or CLIENT.pending:
        CLIENT.post(settings, alerts)
