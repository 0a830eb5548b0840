"""Database access for governance (recommendations, incidents, sensitivity) over ``store.engine``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Connection, Engine, and_, select

from app.errors import NotFoundError
from app.schemas import Recommendation, Report
from app.storage import tables as t

__all__ = [
    "STATUSES",
    "RecommendationRecord",
    "endpoint_id",
    "endpoint_name",
    "get_recommendation",
    "insert_recommendations",
    "list_recommendations",
    "load_report",
    "locked",
    "stored_statuses",
    "update_payload",
]

STATUSES = ("pending", "approved", "rejected", "executed", "superseded")


@contextmanager
def locked(engine: Engine) -> Iterator[Connection]:
    """A write transaction that holds the database write lock from its first statement.

    SQLite: ``BEGIN IMMEDIATE`` (waits on the busy timeout instead of failing on a stale read
    snapshot); PostgreSQL: an exclusive lock on ``audit_log``. This serialises audit appends and
    decisions across processes; the conditional UPDATE in decisions is what makes them exactly-once.
    """
    with engine.begin() as conn:
        dialect = conn.dialect.name
        if dialect == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif dialect == "postgresql":
            conn.exec_driver_sql("LOCK TABLE audit_log IN EXCLUSIVE MODE")
        yield conn


class RecommendationRecord(BaseModel):
    """A stored recommendation with its decision (what `mlfi recommendations --json` lists)."""

    id: str
    endpoint: str | None
    incident_id: int | None
    report_id: int | None
    rule_id: str | None
    rule_ids: list[str] = Field(default_factory=list)
    action: str
    action_type: str | None
    feature: str | None = None
    priority: str
    rationale: str | None
    knowledge_id: str | None
    status: str
    created_at: float
    decided_at: float | None = None
    decided_by: str | None = None
    reason: str | None = None
    false_alarm: bool = False
    outcome: dict[str, Any] | None = None
    executions: list[dict[str, Any]] = Field(default_factory=list)

    def to_recommendation(self) -> Recommendation:
        """The contract shape (id, action, priority, rationale, status, ...)."""
        return Recommendation.model_validate({
            "id": self.id, "action": self.action, "priority": self.priority, "rationale": self.rationale or "",
            "status": self.status, "action_type": self.action_type, "rule_id": self.rule_id,
            "knowledge_id": self.knowledge_id, "rule_ids": self.rule_ids, "feature": self.feature})


def _record(row: Any) -> RecommendationRecord:
    d = dict(row)
    extra = json.loads(d.pop("payload_json") or "{}")
    d.pop("endpoint_id", None)
    return RecommendationRecord(**d, rule_ids=extra.get("rule_ids", []), feature=extra.get("feature"),
                                false_alarm=bool(extra.get("false_alarm", False)), outcome=extra.get("outcome"),
                                executions=extra.get("executions", []))


def _rec_query() -> Any:
    r = t.recommendations
    return select(r, t.endpoints.c.name.label("endpoint")).select_from(
        r.outerjoin(t.endpoints, t.endpoints.c.id == r.c.endpoint_id))


def get_recommendation(conn: Connection, rec_id: str) -> RecommendationRecord:
    """One recommendation by id (NotFoundError naming the id)."""
    row = conn.execute(_rec_query().where(t.recommendations.c.id == rec_id)).mappings().first()
    if row is None:
        raise NotFoundError(f"unknown recommendation id: {rec_id}")
    return _record(row)


def list_recommendations(engine: Engine, *, status: str | None = None, endpoint: str | None = None,
                         incident_id: int | None = None, limit: int = 500) -> list[RecommendationRecord]:
    """Newest first; optionally filtered by status, endpoint name or incident."""
    r = t.recommendations
    q = _rec_query()
    if status is not None:
        q = q.where(r.c.status == status)
    if endpoint is not None:
        q = q.where(t.endpoints.c.name == endpoint)
    if incident_id is not None:
        q = q.where(r.c.incident_id == incident_id)
    q = q.order_by(r.c.created_at.desc(), r.c.id).limit(limit)
    with engine.connect() as conn:
        return [_record(row) for row in conn.execute(q).mappings()]


def _payload(r: Recommendation) -> dict[str, Any]:
    extra = r.model_extra or {}
    return {"rule_ids": extra.get("rule_ids", [r.rule_id]), "feature": extra.get("feature")}


def insert_recommendations(conn: Connection, recs: list[Recommendation], *, endpoint_id: int,
                           incident_id: int | None, report_id: int | None, now: float) -> list[str]:
    """Insert the recommendations not stored yet (same stable id = same action); returns the new ids.

    A stored one that is still ``pending`` is refreshed to this report's evidence (rationale,
    priority, rules, report id): the card an operator decides on shows the incident as it is now,
    not as it was at the first alert. Decided ones never change (the conditional ``WHERE status =
    'pending'``). The decision's audit entry records the priority and report it was made on.
    """
    if not recs:
        return []
    ids = [r.id for r in recs]
    rc = t.recommendations.c
    existing = {str(row.id): row for row in conn.execute(
        select(rc.id, rc.status, rc.payload_json).where(rc.id.in_(ids)))}
    new = [r for r in recs if r.id not in existing]
    for r in new:
        conn.execute(t.recommendations.insert().values(
            id=r.id, endpoint_id=endpoint_id, incident_id=incident_id, report_id=report_id, rule_id=r.rule_id,
            action=r.action, action_type=r.action_type, priority=r.priority, rationale=r.rationale,
            knowledge_id=r.knowledge_id, status="pending", created_at=now,
            payload_json=json.dumps(_payload(r), sort_keys=True)))
    for r in recs:
        row = existing.get(r.id)
        if row is None or row.status != "pending":
            continue
        payload = {**json.loads(row.payload_json or "{}"), **_payload(r), "refreshed_at": now}
        conn.execute(t.recommendations.update().where(and_(rc.id == r.id, rc.status == "pending")).values(
            report_id=report_id, rule_id=r.rule_id, priority=r.priority, rationale=r.rationale,
            knowledge_id=r.knowledge_id, payload_json=json.dumps(payload, sort_keys=True, default=str)))
    return [r.id for r in new]


def stored_statuses(conn: Connection, ids: list[str]) -> dict[str, str]:
    """Current status of those ids that are already stored."""
    if not ids:
        return {}
    rows = conn.execute(select(t.recommendations.c.id, t.recommendations.c.status)
                        .where(t.recommendations.c.id.in_(ids))).all()
    return {str(i): str(s) for i, s in rows}


def update_payload(conn: Connection, rec_id: str, **changes: Any) -> None:
    """Merge keys into a recommendation's JSON payload (``executions`` lists are appended to)."""
    raw = conn.execute(select(t.recommendations.c.payload_json).where(t.recommendations.c.id == rec_id)).scalar()
    payload = json.loads(raw or "{}")
    for k, v in changes.items():
        if k == "executions":
            payload.setdefault("executions", []).extend(v)
        else:
            payload[k] = v
    conn.execute(t.recommendations.update().where(t.recommendations.c.id == rec_id)
                 .values(payload_json=json.dumps(payload, sort_keys=True, default=str)))


def load_report(conn: Connection, report_id: int | None) -> Report | None:
    """A stored report by id, or None."""
    if report_id is None:
        return None
    raw = conn.execute(select(t.reports.c.report_json).where(t.reports.c.id == report_id)).scalar()
    if raw is None:
        return None
    rep = Report.model_validate_json(raw)
    rep.report_id = report_id
    return rep


def endpoint_id(conn: Connection, name: str) -> int | None:
    return conn.execute(select(t.endpoints.c.id).where(t.endpoints.c.name == name)).scalar()


def endpoint_name(conn: Connection, eid: int | None) -> str | None:
    if eid is None:
        return None
    return conn.execute(select(t.endpoints.c.name).where(t.endpoints.c.id == eid)).scalar()
