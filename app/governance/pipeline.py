"""`on_report`: attach ranked recommendations to a report, save it, track incidents, persist, audit."""

from __future__ import annotations

import time
from typing import Any

from loguru import logger

from app import alerting
from app.config import Settings
from app.errors import AuditIntegrityError
from app.governance import audit, notify
from app.governance.incidents import get_incident, link_report, open_incident, resolve_after_of, track
from app.governance.similar import preferences, record_outcomes, similar_incidents
from app.recommend.engine import default_rules, recommend
from app.recommend.facts import build_facts, fired_rules
from app.schemas import Report
from app.storage import Store
from app.storage.governance.recommendations import insert_recommendations, list_recommendations, stored_statuses
from app.storage.governance.tx import Tx, locked, reading

__all__ = ["on_report", "preview"]


def _safe_append(conn: Tx, settings: Settings, event: str, payload: dict[str, Any]) -> None:
    """Monitoring never stops because the audit log is damaged: warn (decisions will refuse)."""
    try:
        audit.append(conn, settings, event, "mlfi", payload)
    except AuditIntegrityError as exc:
        logger.warning(f"{event} not written to the audit log: {exc}")


def _recommend(conn: Tx, report: Report, scope: str, protocol: str | None, exclude: int | None) -> None:
    cause = report.rca.root_cause
    prefs = preferences(conn, cause, exclude_id=exclude)
    report.recommendations = recommend(report, scope=scope, protocol=protocol, preferences=prefs)
    feats = list(build_facts(report, protocol=protocol)["affected_features"])
    sims = similar_incidents(conn, root_cause=cause, features=feats, severity=report.rca.severity,
                             endpoint=report.endpoint, exclude_id=exclude)
    report.similar_incidents = [s.model_dump() for s in sims]  # type: ignore[attr-defined]
    report.fired_rules = [r.id for r in fired_rules(default_rules(), build_facts(report, protocol=protocol))]  # type: ignore[attr-defined]


def preview(store: Store, report: Report) -> Report:
    """Recommendations for ``report`` without writing anything (ids as they would be stored)."""
    if report.rca.root_cause == "none":
        report.recommendations = []
        return report
    ep = store.find_endpoint(report.endpoint)
    with reading(store) as conn:
        cur = open_incident(conn, ep.id) if ep is not None else None
        same = cur is not None and cur.root_cause == report.rca.root_cause
        scope = f"incident:{cur.id}" if same and cur else f"new:{report.rca.root_cause}"
        _recommend(conn, report, scope, ep.protocol if ep is not None else None, cur.id if same and cur else None)
    return report


def on_report(store: Store, report: Report, settings: Settings, *, persist: bool = True,
              change_point: tuple[float, int] | None = None, episode: str | None = None) -> Report:
    """Attach ranked, de-duplicated recommendations (pending), save the report, update incidents.

    Consecutive alerts with one root cause extend the endpoint's open incident (same action = same
    recommendation id, so it is stored once and keeps its decision); healthy reports resolve it and
    record whether approved actions were followed by recovery. Returns the report with
    ``report_id``, ``incident_id``, ``recommendations`` (current statuses) and ``similar_incidents``.
    ``change_point`` (time, delay in samples) of a sequential alarm goes on an incident this opens;
    ``episode`` (the watcher's sequential state, see :func:`track`) keeps one change in one incident,
    refined in place (each refinement audited as ``incident_refined``).
    """
    if not persist:
        return preview(store, report)
    now = report.created_at or time.time()
    report.created_at = now
    ep = store.upsert_endpoint(report.endpoint)
    eid, protocol = ep.id, ep.protocol
    alert = report.rca.root_cause != "none"
    # ONE transaction: the incident change, the report, its links, recommendations and audit entries are
    # stored together or not at all. The analysis claim is checked first (a stale claim writes nothing) and
    # its job row stays locked until the commit, so no takeover can land between them (PostgreSQL jobs).
    with locked(store) as conn:
        store.check_guard(conn, f"incident update of {report.endpoint}")
        change = track(conn, eid, report, now, resolve_after=resolve_after_of(settings),
                       change_point=change_point, episode=episode)
        if alert and change.incident_id is not None:
            _recommend(conn, report, f"incident:{change.incident_id}", protocol, change.incident_id)
            known = stored_statuses(conn, [r.id for r in report.recommendations])
            for rec in report.recommendations:   # an earlier report of this incident may have been decided
                rec.status = known.get(rec.id, rec.status)  # type: ignore[assignment]
        else:
            report.recommendations = []
        report.incident_id = change.incident_id  # type: ignore[attr-defined]
        rid = store.save_report(report, incident_id=change.incident_id, conn=conn)
        for inc_id, outcome in change.closed:
            results = record_outcomes(conn, inc_id, report)
            _safe_append(conn, settings, "incident_closed", {
                "incident_id": inc_id, "endpoint": report.endpoint, "outcome": outcome, "report_id": rid,
                "closing_root_cause": report.rca.root_cause, "action_outcomes": results})
        if change.refined is not None:
            _safe_append(conn, settings, "incident_refined", {
                **change.refined, "endpoint": report.endpoint, "report_id": rid, "episode": episode})
        link_report(conn, change.incident_id, rid, alert=alert)
        new_ids = insert_recommendations(conn, report.recommendations, endpoint_id=eid,
                                         incident_id=change.incident_id, report_id=rid, now=now)
        if new_ids:
            _safe_append(conn, settings, "recommended", {
                "endpoint": report.endpoint, "incident_id": change.incident_id, "report_id": rid,
                "root_cause": report.rca.root_cause, "severity": report.rca.severity,
                "fired_rules": getattr(report, "fired_rules", []),
                "recommendations": [{"id": r.id, "action_type": r.action_type, "priority": r.priority,
                                     "rule_id": r.rule_id} for r in report.recommendations if r.id in new_ids]})
    if change.opened:
        logger.info(f"incident #{change.incident_id} opened on {report.endpoint}: {report.rca.root_cause}")
    _notify(store, settings, report, change, rid)
    alerting.notify_change(store, settings, report, change)    # Alertmanager (MLFI_ALERTMANAGER_URL)
    return report


def _notify(store: Store, settings: Settings, report: Report, change: Any, rid: int) -> None:
    """Tell people an incident opened or resolved (webhook); the delivery outcome goes to the audit log.

    An incident superseded by the one this report opens is named in that one message ("replaces #N").
    Without a configured webhook nothing is looked up.
    """
    if not notify.configured(settings) or not (change.opened or change.closed):
        return
    opened = change.opened and change.incident_id is not None
    replaced = [inc_id for inc_id, outcome in change.closed if outcome == "superseded"] if opened else []
    events = [("incident_resolved", inc_id, outcome) for inc_id, outcome in change.closed if inc_id not in replaced]
    if opened:
        events.append(("incident_opened", change.incident_id, None))
    for event, inc_id, outcome in events:
        incident, recs, replaces = None, None, None
        with reading(store) as conn:
            if event == "incident_resolved":
                incident = get_incident(conn, inc_id)
            else:
                replaces = [o for o in (get_incident(conn, i) for i in replaced) if o is not None]
        if event == "incident_resolved":
            recs = list_recommendations(store.engine, incident_id=inc_id)
        message = notify.incident_message(event, report, inc_id, report_id=rid, outcome=outcome, incident=incident,
                                          recommendations=recs, replaces=replaces)
        delivered, detail = notify.send(settings, message) or (False, "not sent")
        with locked(store) as conn:
            _safe_append(conn, settings, "notified", {"event": event, "incident_id": inc_id,
                                                       "endpoint": report.endpoint, "delivered": delivered,
                                                       "detail": detail})
