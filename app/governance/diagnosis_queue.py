"""A stored diagnosis feeds governance: its first-3-days actions and its deployment gate become pending items.

The items go into the same recommendation queue as the monitoring incidents' (``source: "diagnosis"``,
no endpoint, no incident) and are decided by the same ``approve`` / ``reject`` (exactly once, audited).
A ``BLOCKED_PENDING_HUMAN_REVIEW`` gate adds one more item, ``release_deployment_gate``: approving it
is the explicit, reasoned, audited release of the experiment; rejecting it keeps the block.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from loguru import logger
from pydantic import BaseModel

from app.config import Settings
from app.errors import AuditIntegrityError
from app.governance import audit
from app.storage import Store
from app.storage.governance.recommendations import RecommendationRecord, insert_diagnosis_items, of_diagnosis
from app.storage.governance.tx import locked, reading

__all__ = [
    "ACTION_TYPE",
    "BLOCKED",
    "GATE_ACTION_TYPE",
    "GateStatus",
    "enqueue",
    "file_diagnosis",
    "gate_status",
    "item_id",
    "items_of",
    "queue_of",
]

ACTION_TYPE = "diagnosis_action"
GATE_ACTION_TYPE = "release_deployment_gate"
BLOCKED = "BLOCKED_PENDING_HUMAN_REVIEW"
_PRIORITY = {BLOCKED: "HIGH", "REVIEW_RECOMMENDED": "MEDIUM", "CLEAR": "LOW"}
_MAX_ID = 64
_TAXONOMY_DOC = "taxonomy-ml-experiment-failures"   # its "Decision order" section states the gate rule


class GateStatus(BaseModel):
    """Where a diagnosis's deployment gate stands after the people's decisions."""

    diagnosis_id: str
    gate: str
    state: str            # blocked | released | kept_blocked | not_blocked | not_queued
    item_id: str | None = None
    decided_by: str | None = None
    reason: str | None = None
    decided_at: float | None = None


def item_id(diagnosis_id: str, suffix: str) -> str:
    """Stable id of one queue item of a diagnosis (hashed when the diagnosis id is unusually long).

    >>> item_id("dx-1a2b3c4d-5e6f7a8b", "r01"), item_id("dx-1a2b3c4d-5e6f7a8b", "gate")
    ('dx-1a2b3c4d-5e6f7a8b-r01', 'dx-1a2b3c4d-5e6f7a8b-gate')
    >>> len(item_id("x" * 200, "r01")) <= 64
    True
    """
    rid = f"{diagnosis_id}-{suffix}"
    if len(rid) <= _MAX_ID:
        return rid
    return f"dx-{hashlib.sha256(diagnosis_id.encode()).hexdigest()[:24]}-{suffix}"


def _cite(c: dict[str, Any] | None) -> dict[str, Any] | None:
    if not c:
        return None
    return {k: c.get(k) for k in ("doc_id", "title", "path", "section")}


def _experiment(payload: dict[str, Any]) -> str:
    inp = payload.get("input") or {}
    name = inp.get("title") or inp.get("experiment_id")
    return f"experiment '{name}'" if name else "the diagnosed experiment"


def items_of(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The queue items of one diagnosis payload: its 3-day actions, then (when blocked) the gate release."""
    did, cat, gate = payload["diagnosis_id"], payload["primary_category"], payload["deployment_gate"]
    sub = payload.get("subtype")
    label = f"{cat}/{sub}" if sub else cat
    base = {"source": "diagnosis", "diagnosis_id": did, "category": cat, "deployment_gate": gate}
    items = []
    for n, p in enumerate(payload["remediation_plan"]["3_day"], start=1):
        c = _cite(p.get("citation"))
        where = f" (cited: {c['path']} § {c['section']})" if c else ""
        items.append({
            "id": item_id(did, f"r{n:02d}"), "action": p["action"], "action_type": ACTION_TYPE,
            "priority": _PRIORITY.get(gate, "MEDIUM"), "rule_id": f"diagnosis:{p.get('origin', 'playbook')}",
            "knowledge_id": c["doc_id"] if c else None,
            "rationale": f"First-3-days action of diagnosis {did} ({label}, gate {gate}){where}.",
            "payload": {**base, "category": p.get("category") or cat, "origin": p.get("origin"), "citation": c,
                        "rule_ids": [f"diagnosis:{p.get('origin', 'playbook')}"]}})
    if gate == BLOCKED:
        cites = payload.get("citations") or []
        c = _cite(next((x for x in cites if x.get("doc_id") == _TAXONOMY_DOC), cites[0] if cites else None))
        items.append({
            "id": item_id(did, "gate"), "action_type": GATE_ACTION_TYPE, "priority": "HIGH",
            "action": (f"Release {_experiment(payload)} past its deployment gate (blocked pending human review; "
                       f"{label.replace('_', ' ').replace('/', ': ')})"),
            "rule_id": "diagnosis:deployment_gate", "knowledge_id": c["doc_id"] if c else None,
            "rationale": (f"Diagnosis {did} blocks deployment pending human review. Approving records the "
                          "release with your name and reason in the audit log; rejecting keeps it blocked."),
            "payload": {**base, "citation": c, "rule_ids": ["diagnosis:deployment_gate"]}})
    return items


def enqueue(store: Store, settings: Settings, payload: dict[str, Any], *, now: float | None = None) -> list[str]:
    """Insert the items of a stored diagnosis as ``pending`` and audit it once (``recommended``); returns new ids."""
    items = items_of(payload)
    now = time.time() if now is None else now
    with locked(store) as conn:
        new = insert_diagnosis_items(conn, items, now=now)
        if new:
            try:
                audit.append(conn, settings, "recommended", "mlfi", {
                    "source": "diagnosis", "diagnosis_id": payload["diagnosis_id"],
                    "primary_category": payload["primary_category"], "deployment_gate": payload["deployment_gate"],
                    "payload_hash": payload.get("payload_hash"),
                    "recommendations": [{"id": i["id"], "action_type": i["action_type"], "priority": i["priority"],
                                         "rule_id": i["rule_id"]} for i in items if i["id"] in new]}, now=now)
            except AuditIntegrityError as exc:   # same as monitoring: decisions will refuse until it is repaired
                logger.warning(f"diagnosis {payload['diagnosis_id']} queued but not audited: {exc}")
    return new


def file_diagnosis(store: Store, settings: Settings, payload: dict[str, Any], *, team: str | None = None) -> list[str]:
    """Store a diagnosis and queue its items; ``payload["queued_recommendations"]`` names them (not hashed)."""
    payload["queued_recommendations"] = [i["id"] for i in items_of(payload)]
    store.save_diagnosis(payload, team=team)
    enqueue(store, settings, payload)
    return list(payload["queued_recommendations"])


def queue_of(store: Store, diagnosis_id: str) -> list[RecommendationRecord]:
    """Every queue item of one diagnosis, any status (3-day actions in plan order, then the gate)."""
    with reading(store) as conn:
        recs = of_diagnosis(conn, diagnosis_id)
    return sorted(recs, key=lambda r: (r.action_type == GATE_ACTION_TYPE, r.id))


def gate_status(store: Store, diagnosis_id: str, gate: str) -> GateStatus:
    """``blocked`` until someone approves the release (``released``) or rejects it (``kept_blocked``)."""
    if gate != BLOCKED:
        return GateStatus(diagnosis_id=diagnosis_id, gate=gate, state="not_blocked")
    rel = next((r for r in queue_of(store, diagnosis_id) if r.action_type == GATE_ACTION_TYPE), None)
    if rel is None:
        return GateStatus(diagnosis_id=diagnosis_id, gate=gate, state="not_queued")
    state = {"approved": "released", "executed": "released", "rejected": "kept_blocked"}.get(rel.status, "blocked")
    return GateStatus(diagnosis_id=diagnosis_id, gate=gate, state=state, item_id=rel.id, decided_by=rel.decided_by,
                      reason=rel.reason, decided_at=rel.decided_at)
