"""Approve / reject a recommendation: a name and a reason, exactly once, recorded in the audit log.

Exactly-once across processes: inside one locked transaction a conditional
``UPDATE ... SET status = :decision WHERE id = :id AND status = 'pending'`` either changes one row
(this caller decided) or none (someone else did first: ConflictError naming who and when). The
audit entry is written in the same transaction, so a decision without its audit entry cannot exist.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.config import Settings
from app.errors import ConflictError, InputError
from app.governance import audit
from app.governance.executors import ExecutionRun, Executor, execute
from app.governance.sensitivity import SensitivityChange, adapt, fired_detectors
from app.storage import Store
from app.storage.governance.lookups import endpoint_id, load_report
from app.storage.governance.recommendations import (
    RecommendationRecord,
    decide_pending,
    get_recommendation,
    update_payload,
)
from app.storage.governance.tx import locked, reading

__all__ = ["MAX_REASON", "Decision", "approve", "decide", "reject"]

MAX_REASON = 2000
MAX_NAME = 256


class Decision(BaseModel):
    """What a decision did: the updated recommendation, its audit entry, side effects."""

    recommendation: RecommendationRecord
    audit_seq: int
    false_alarm: bool = False
    sensitivity_changes: list[SensitivityChange] = Field(default_factory=list)
    executions: list[ExecutionRun] = Field(default_factory=list)
    message: str


def _iso(ts: float | None) -> str:
    if ts is None:
        return "an unknown time"
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _clean(by: str | None, reason: str | None) -> tuple[str, str]:
    by = (by or "").strip()
    reason = (reason or "").strip()
    if not by:
        raise InputError("--by NAME must not be empty")
    if len(by) > MAX_NAME or "\n" in by:
        raise InputError(f"--by NAME must be one line of at most {MAX_NAME} characters")
    if not reason:
        raise InputError("--reason TEXT must not be empty: say why")
    if len(reason) > MAX_REASON:
        raise InputError(f"--reason is too long ({len(reason)} characters, at most {MAX_REASON})")
    return by, reason


def _already(rec: RecommendationRecord) -> str:
    msg = f"recommendation {rec.id} is already {rec.status}"
    if rec.decided_by:
        msg += f" by {rec.decided_by}"
    if rec.status == "superseded":
        return msg + " (its incident was resolved); it can no longer be decided"
    return msg + f" at {_iso(rec.decided_at)}"


def decide(store: Store, settings: Settings, rec_id: str, *, decision: Literal["approved", "rejected"], by: str,
           reason: str, false_alarm: bool = False) -> Decision:
    """Record one decision exactly once (see module doc); adapts sensitivity; never executes anything."""
    if decision not in ("approved", "rejected"):
        raise InputError(f"unknown decision {decision!r}")
    by, reason = _clean(by, reason)
    rec_id = (rec_id or "").strip()
    if not rec_id:
        raise InputError("recommendation id must not be empty")
    now = time.time()
    with locked(store) as conn:
        audit.require_intact(conn, settings)
        if not decide_pending(conn, rec_id, decision=decision, by=by, now=now, reason=reason):
            raise ConflictError(_already(get_recommendation(conn, rec_id)))   # NotFoundError if unknown
        # only the explicit flag counts: reason text is free prose ("this is NOT a false alarm") and is never parsed
        fa = decision == "rejected" and bool(false_alarm)
        if fa:
            update_payload(conn, rec_id, false_alarm=True)
        rec = get_recommendation(conn, rec_id)
        entry = audit.append(conn, settings, decision, by, {
            "recommendation_id": rec.id, "endpoint": rec.endpoint, "incident_id": rec.incident_id,
            "report_id": rec.report_id, "action": rec.action, "action_type": rec.action_type,
            "priority": rec.priority, "rule_id": rec.rule_id, "rule_ids": rec.rule_ids,
            "knowledge_id": rec.knowledge_id, "reason": reason, "false_alarm": fa,
            **({"source": rec.source, "diagnosis_id": rec.diagnosis_id, "category": rec.category}
               if rec.source == "diagnosis" else {})}, now=now)
        changes: list[SensitivityChange] = []
        report = load_report(conn, rec.report_id)
        if report is not None and rec.endpoint and (fa or decision == "approved"):
            eid = endpoint_id(conn, rec.endpoint)
            if eid is not None:
                changes = adapt(conn, settings, endpoint=rec.endpoint, eid=int(eid),
                                detectors=fired_detectors(report), false_alarm=fa, actor=by,
                                recommendation_id=rec.id, reason=reason)
    verb = "approved" if decision == "approved" else ("rejected as a false alarm" if fa else "rejected")
    return Decision(recommendation=rec, audit_seq=entry.seq, false_alarm=fa, sensitivity_changes=changes,
                    message=f"{rec.id} {verb} by {by}: {rec.action}")


def approve(store: Store, settings: Settings, rec_id: str, *, by: str, reason: str, execute_now: bool = True,
            executors: list[Executor] | None = None) -> Decision:
    """Approve, then (by default) run the applicable executors once for this approved action."""
    d = decide(store, settings, rec_id, decision="approved", by=by, reason=reason)
    if not execute_now:
        return d
    runs = execute(store, settings, d.recommendation.id, actor=by.strip(), executors=executors)
    with reading(store) as conn:
        rec = get_recommendation(conn, d.recommendation.id)
    note = ("; no executor applies (configure MLFI_WEBHOOK_URL or MLFI_COMMAND_HOOK)" if not runs else
            "; " + "; ".join(f"{x.executor}: {'ok' if x.ok else 'FAILED'} ({x.detail})" for x in runs))
    return d.model_copy(update={"recommendation": rec, "executions": runs, "message": d.message + note})


def reject(store: Store, settings: Settings, rec_id: str, *, by: str, reason: str,
           false_alarm: bool = False) -> Decision:
    """Reject; ``false_alarm=True`` makes the detectors that fired less sensitive on that endpoint.

    Only the explicit flag counts; the reason text is never parsed ("this is not a false alarm").
    """
    return decide(store, settings, rec_id, decision="rejected", by=by, reason=reason, false_alarm=false_alarm)
