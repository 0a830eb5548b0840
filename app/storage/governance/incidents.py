"""Incident rows: the open incident of an endpoint, open / extend / close, report links, listings."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Connection, Engine, and_, func, select

from app.storage import tables as t

__all__ = [
    "Incident",
    "close_incident",
    "extend_incident",
    "get_incident",
    "healthy_reports_since",
    "insert_incident",
    "list_incidents",
    "open_incident",
    "recent_incidents",
    "set_report_links",
]


class Incident(BaseModel):
    """One incident: its root cause, features, the alert reports it groups, and how it ended."""

    id: int
    endpoint: str | None
    root_cause: str
    severity: str
    status: str
    opened_at: float
    updated_at: float
    resolved_at: float | None = None
    first_report_id: int | None = None
    last_report_id: int | None = None
    alert_count: int
    features: list[str] = Field(default_factory=list)
    summary: str | None = None
    outcome: str | None = None
    change_point_at: float | None = None          # estimated change point (sequential alarm), as opened_at
    detection_delay_samples: int | None = None    # samples between the change point and the alarm


def _incident(row: Any) -> Incident:
    d = dict(row)
    d.pop("endpoint_id", None)
    feats = json.loads(d.pop("features_json") or "[]")
    return Incident(**d, features=feats)


def _query() -> Any:
    i = t.incidents
    return select(i, t.endpoints.c.name.label("endpoint")).select_from(
        i.outerjoin(t.endpoints, t.endpoints.c.id == i.c.endpoint_id))


def open_incident(conn: Connection, endpoint_id: int) -> Incident | None:
    """The newest open incident of an endpoint, or None."""
    row = conn.execute(_query().where(and_(t.incidents.c.endpoint_id == endpoint_id, t.incidents.c.status == "open"))
                       .order_by(t.incidents.c.id.desc()).limit(1)).mappings().first()
    return _incident(row) if row else None


def get_incident(conn: Connection, incident_id: int) -> Incident | None:
    """One incident by id, or None."""
    row = conn.execute(_query().where(t.incidents.c.id == incident_id)).mappings().first()
    return _incident(row) if row else None


def list_incidents(engine: Engine, *, status: str | None = None, endpoint: str | None = None,
                   root_cause: str | None = None, limit: int = 500, before_id: int | None = None) -> list[Incident]:
    """Newest first, optionally filtered; ``before_id`` continues a page (ids below it)."""
    q = _query()
    if before_id is not None:
        q = q.where(t.incidents.c.id < before_id)
    if status:
        q = q.where(t.incidents.c.status == status)
    if endpoint:
        q = q.where(t.endpoints.c.name == endpoint)
    if root_cause:
        q = q.where(t.incidents.c.root_cause == root_cause)
    with engine.connect() as conn:
        return [_incident(r) for r in conn.execute(q.order_by(t.incidents.c.id.desc()).limit(limit)).mappings()]


def recent_incidents(conn: Connection, *, limit: int = 5000) -> list[Incident]:
    """The newest ``limit`` incidents of every endpoint (for similarity search)."""
    q = _query().order_by(t.incidents.c.id.desc()).limit(limit)
    return [_incident(row) for row in conn.execute(q).mappings()]


def healthy_reports_since(conn: Connection, endpoint_id: int, after_report_id: int) -> int:
    """Stored healthy (root cause ``none``) reports of an endpoint after a report id."""
    r = t.reports.c
    return int(conn.execute(select(func.count()).select_from(t.reports).where(and_(
        r.endpoint_id == endpoint_id, r.id > after_report_id, r.root_cause == "none"))).scalar_one())


def close_incident(conn: Connection, inc: Incident, now: float, outcome: str, note: str) -> None:
    """Resolve an incident with an outcome, appending ``note`` to its summary."""
    conn.execute(t.incidents.update().where(t.incidents.c.id == inc.id).values(
        status="resolved", resolved_at=now, updated_at=now, outcome=outcome,
        summary=((inc.summary or "") + f" {note}").strip()))


def extend_incident(conn: Connection, inc: Incident, now: float, *, severity: str, features: list[str],
                    root_cause: str | None = None) -> None:
    """One more alert on an open incident: count, severity, features (and a refined root cause)."""
    values: dict[str, Any] = {"updated_at": now, "alert_count": inc.alert_count + 1, "severity": severity,
                              "features_json": json.dumps(features)}
    if root_cause is not None:
        values["root_cause"] = root_cause
    conn.execute(t.incidents.update().where(t.incidents.c.id == inc.id).values(**values))


def insert_incident(conn: Connection, endpoint_id: int, *, root_cause: str, severity: str, now: float,
                    features: list[str], summary: str | None, change_point_at: float | None = None,
                    detection_delay_samples: int | None = None) -> int:
    """Open a new incident; returns its id."""
    res = conn.execute(t.incidents.insert().values(
        endpoint_id=endpoint_id, root_cause=root_cause, severity=severity, status="open", opened_at=now,
        updated_at=now, alert_count=1, features_json=json.dumps(features), summary=summary,
        change_point_at=change_point_at, detection_delay_samples=detection_delay_samples))
    return int(res.inserted_primary_key[0])  # type: ignore[index]


def set_report_links(conn: Connection, incident_id: int, **links: int) -> None:
    """Set ``first_report_id`` and/or ``last_report_id`` of an incident."""
    if links:
        conn.execute(t.incidents.update().where(t.incidents.c.id == incident_id).values(**links))
