"""Learning from past failures: action outcomes, similar past incidents, preference for proven actions."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from app.governance.incidents import Incident, get_incident, metric_outcome
from app.recommend.engine import Preference
from app.schemas import Report, severity_rank
from app.storage.governance.incidents import recent_incidents
from app.storage.governance.lookups import load_report
from app.storage.governance.recommendations import (
    approved_outcomes,
    decided_actions,
    of_incident,
    supersede_pending,
    update_payload,
)
from app.storage.governance.tx import Tx

__all__ = ["SimilarIncident", "preferences", "record_outcomes", "similar_incidents", "similarity"]

W_CAUSE, W_FEATURES, W_SEVERITY = 0.5, 0.35, 0.15
# cut-off: the same root cause and at least some shared evidence (features, or none on either side) and
# close severity; a different root cause is never "similar" (two feature-less incidents of different causes
# used to score 0.5 and everything was listed)
MIN_SCORE = 0.7


def similarity(cause_a: str, feats_a: list[str], sev_a: str, cause_b: str, feats_b: list[str], sev_b: str) -> float:
    """0..1: same root cause (0.5) + Jaccard overlap of features (0.35) + closeness of severity (0.15).

    >>> similarity("feature_drift", ["a", "b"], "high", "feature_drift", ["a", "b"], "high")
    1.0
    >>> round(similarity("feature_drift", ["a", "b"], "high", "accuracy_drop", ["c"], "low"), 3)
    0.075
    """
    a, b = set(feats_a), set(feats_b)
    jac = 1.0 if not a and not b else len(a & b) / len(a | b)
    sev = 1.0 - abs(severity_rank(sev_a) - severity_rank(sev_b)) / 4.0
    return round(W_CAUSE * (cause_a == cause_b) + W_FEATURES * jac + W_SEVERITY * sev, 6)


class SimilarIncident(BaseModel):
    """A past incident like the current one, with what was done and whether it worked."""

    incident_id: int
    endpoint: str | None
    same_endpoint: bool
    root_cause: str
    severity: str
    features: list[str]
    status: str
    outcome: str | None
    opened_at: float
    score: float
    actions: list[dict[str, Any]] = Field(default_factory=list)


def similar_incidents(conn: Tx, *, root_cause: str, features: list[str], severity: str,
                      endpoint: str | None = None, exclude_id: int | None = None, limit: int = 5,
                      min_score: float = MIN_SCORE) -> list[SimilarIncident]:
    """Past incidents on any endpoint, most similar first (ties: same endpoint, then newest)."""
    found: list[tuple[float, bool, float, Incident]] = []
    for inc in recent_incidents(conn, limit=5000):
        if inc.id == exclude_id:
            continue
        if inc.root_cause != root_cause:
            continue
        s = similarity(root_cause, features, severity, inc.root_cause, inc.features, inc.severity)
        if s >= min_score:
            found.append((s, inc.endpoint == endpoint, inc.opened_at, inc))
    found.sort(key=lambda x: (-x[0], not x[1], -x[2]))
    return [SimilarIncident(incident_id=inc.id, endpoint=inc.endpoint, same_endpoint=same, root_cause=inc.root_cause,
                            severity=inc.severity, features=inc.features, status=inc.status, outcome=inc.outcome,
                            opened_at=inc.opened_at, score=s, actions=decided_actions(conn, inc.id))
            for s, same, _, inc in found[:limit]]


def preferences(conn: Tx, root_cause: str, *, exclude_id: int | None = None) -> dict[str, Preference]:
    """Per action type: how often an approved action was followed by recovery from this root cause."""
    tally: dict[str, tuple[int, int, list[int]]] = {}
    for action_type, inc_id, outcome, ran in approved_outcomes(conn, root_cause):
        # an approved action no executor ran gets no credit for a recovery it did not cause
        if outcome is None or not ran or inc_id == exclude_id or action_type is None:
            continue
        s, n, ids = tally.get(action_type, (0, 0, []))
        tally[action_type] = (s + (outcome == "recovered"), n + 1, ids + [int(inc_id)])
    out = {}
    for action_type, (s, n, ids) in tally.items():
        refs = ", ".join(f"#{x}" for x in sorted(set(ids))[:5])
        note = f"History: this action was followed by recovery in {s} of {n} past {root_cause} incident(s) ({refs})."
        out[action_type] = Preference(successes=s, trials=n, note=note, incident_ids=tuple(sorted(set(ids))))
    return out


def record_outcomes(conn: Tx, incident_id: int, after: Report) -> list[dict[str, Any]]:
    """When an incident closes: store on each approved action whether the key metric recovered after it.

    Only an action that actually ran (status ``executed`` with at least one successful executor run)
    is credited: the outcome carries ``ran``; an approved action no executor ran keeps the metric's
    ``result`` for the record but "followed by recovery" never counts it. Pending actions of the closed incident become ``superseded`` (they can no longer be approved).
    Returns one row per approved action (for the audit log).
    """
    inc = get_incident(conn, incident_id)
    if inc is None:
        return []
    before = load_report(conn, inc.last_report_id)
    results = []
    for row in of_incident(conn, incident_id):
        if row["status"] == "pending":
            supersede_pending(conn, row["id"])
            continue
        if row["status"] not in ("approved", "executed"):
            continue
        if row["payload"].get("outcome"):
            continue
        oc = metric_outcome(inc.root_cause, before, after)
        ran = row["status"] == "executed" and any(x.get("ok") for x in row["payload"].get("executions") or [])
        oc["ran"] = ran
        oc.update({"incident_id": incident_id, "decided_at": row["decided_at"]})
        update_payload(conn, row["id"], outcome=oc)
        results.append({"recommendation_id": row["id"], "action_type": row["action_type"], **oc})
    return results
