"""Recommendation rows: insert, refresh, decide exactly once, claim for execution, payload and outcomes."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Connection, Engine, and_, or_, select

from app.errors import NotFoundError
from app.schemas import Recommendation
from app.storage import tables as t

__all__ = [
    "STATUSES",
    "RecommendationRecord",
    "approved_outcomes",
    "claim_for_execution",
    "decide_pending",
    "decided_actions",
    "get_recommendation",
    "insert_diagnosis_items",
    "insert_recommendations",
    "list_recommendations",
    "of_diagnosis",
    "of_incident",
    "stored_statuses",
    "supersede_pending",
    "update_payload",
]

STATUSES = ("pending", "approved", "rejected", "executed", "superseded")


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
    source: str = "monitoring"
    diagnosis_id: str | None = None
    category: str | None = None
    citation: dict[str, Any] | None = None

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
                                executions=extra.get("executions", []),
                                source=extra.get("source") or "monitoring", diagnosis_id=extra.get("diagnosis_id"),
                                category=extra.get("category"), citation=extra.get("citation"))


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
                         incident_id: int | None = None, limit: int = 500,
                         after: tuple[float, str] | None = None) -> list[RecommendationRecord]:
    """Newest first; optionally filtered by status, endpoint name or incident. ``after`` is the
    ``(created_at, id)`` of the last item of the previous page: the page starts after it."""
    r = t.recommendations
    q = _rec_query()
    if after is not None:
        q = q.where(or_(r.c.created_at < after[0], and_(r.c.created_at == after[0], r.c.id > after[1])))
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


def insert_diagnosis_items(conn: Connection, items: list[dict[str, Any]], *, now: float) -> list[str]:
    """Insert a diagnosis's queue items (no endpoint, no incident) as ``pending``; returns the ids new here.

    Each item holds the columns (``id``, ``action``, ``action_type``, ``priority``, ``rationale``,
    ``rule_id``, ``knowledge_id``) and ``payload`` (``source``, ``diagnosis_id``, ``category``,
    ``citation``). An id already stored is left as it is (a decision is never reopened).
    """
    if not items:
        return []
    rc = t.recommendations.c
    known = {str(i) for i in conn.execute(select(rc.id).where(rc.id.in_([i["id"] for i in items]))).scalars()}
    new = [i for i in items if i["id"] not in known]
    for i in new:
        conn.execute(t.recommendations.insert().values(
            id=i["id"], endpoint_id=None, incident_id=None, report_id=None, rule_id=i.get("rule_id"),
            action=i["action"], action_type=i.get("action_type"), priority=i["priority"],
            rationale=i.get("rationale"), knowledge_id=i.get("knowledge_id"), status="pending", created_at=now,
            payload_json=json.dumps(i.get("payload") or {}, sort_keys=True, default=str)))
    return [i["id"] for i in new]


def of_diagnosis(conn: Connection, diagnosis_id: str) -> list[RecommendationRecord]:
    """Every queue item a diagnosis put in (any status), in insertion order of their ids."""
    rows = conn.execute(_rec_query().where(t.recommendations.c.payload_json.like(f'%"diagnosis_id": "{diagnosis_id}"%'))
                        .order_by(t.recommendations.c.created_at, t.recommendations.c.id)).mappings()
    return [r for r in (_record(row) for row in rows) if r.diagnosis_id == diagnosis_id]


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


def decide_pending(conn: Connection, rec_id: str, *, decision: str, by: str, now: float, reason: str) -> bool:
    """``UPDATE ... WHERE status = 'pending'``: True when this caller decided (exactly one row changed)."""
    r = t.recommendations
    res = conn.execute(r.update().where(and_(r.c.id == rec_id, r.c.status == "pending"))
                       .values(status=decision, decided_by=by, decided_at=now, reason=reason))
    return res.rowcount == 1


def claim_for_execution(conn: Connection, rec_id: str) -> bool:
    """``approved -> executed`` conditionally: True when this caller claimed it (an action runs at most once)."""
    r = t.recommendations
    res = conn.execute(r.update().where(and_(r.c.id == rec_id, r.c.status == "approved")).values(status="executed"))
    return res.rowcount == 1


def supersede_pending(conn: Connection, rec_id: str) -> None:
    """A pending recommendation of a closed incident can no longer be approved."""
    r = t.recommendations
    conn.execute(r.update().where(and_(r.c.id == rec_id, r.c.status == "pending")).values(status="superseded"))


def of_incident(conn: Connection, incident_id: int) -> list[dict[str, Any]]:
    """id, action_type, status, decided_at and the parsed payload of every recommendation of an incident."""
    r = t.recommendations
    rows = conn.execute(select(r.c.id, r.c.action_type, r.c.status, r.c.decided_at, r.c.payload_json)
                        .where(r.c.incident_id == incident_id)).mappings().all()
    return [{**{k: row[k] for k in ("id", "action_type", "status", "decided_at")},
             "payload": json.loads(row["payload_json"] or "{}")} for row in rows]


def decided_actions(conn: Connection, incident_id: int) -> list[dict[str, Any]]:
    """The approved, executed or rejected actions of an incident, with the outcome recorded on each."""
    r = t.recommendations
    rows = conn.execute(select(r.c.id, r.c.action, r.c.action_type, r.c.status, r.c.decided_by, r.c.payload_json)
                        .where(and_(r.c.incident_id == incident_id,
                                    r.c.status.in_(("approved", "executed", "rejected"))))).mappings()
    out = []
    for row in rows:
        extra = json.loads(row["payload_json"] or "{}")
        oc = extra.get("outcome") or {}
        out.append({"id": row["id"], "action": row["action"], "action_type": row["action_type"],
                    "status": row["status"], "decided_by": row["decided_by"], "outcome": oc.get("result"),
                    "ran": bool(oc.get("ran", row["status"] == "executed"))})
    return out


def approved_outcomes(conn: Connection, root_cause: str) -> list[tuple[str | None, int, str | None, bool]]:
    """(action_type, incident id, outcome result, whether it ran) of every approved or executed action on a
    ``root_cause`` incident; ``ran`` is the outcome's flag (outcomes recorded before it: executed status)."""
    r, i = t.recommendations, t.incidents
    rows = conn.execute(select(r.c.action_type, r.c.incident_id, r.c.status, r.c.payload_json)
                        .select_from(r.join(i, i.c.id == r.c.incident_id))
                        .where(and_(i.c.root_cause == root_cause, r.c.status.in_(("approved", "executed"))))).all()
    out = []
    for action_type, inc_id, status, raw in rows:
        oc = json.loads(raw or "{}").get("outcome") or {}
        out.append((action_type, int(inc_id), oc.get("result"), bool(oc.get("ran", status == "executed"))))
    return out
