"""Plain read functions over governance state, taking (store, settings, ...): for the CLI and dashboard."""

from __future__ import annotations

from app.config import Settings
from app.errors import InputError, NotFoundError
from app.governance import audit
from app.governance import incidents as inc
from app.governance.similar import SimilarIncident, similar_incidents
from app.storage import Store
from app.storage.governance import recommendations as repo
from app.storage.governance.tx import reading

__all__ = ["audit_entries", "list_incidents", "list_recommendations", "similar_to_incident", "verify_audit"]


def list_recommendations(store: Store, settings: Settings | None = None, *, status: str | None = None,
                         endpoint: str | None = None, incident_id: int | None = None,
                         limit: int = 500, after: tuple[float, str] | None = None) -> list[repo.RecommendationRecord]:
    """Stored recommendations, newest first (InputError for an unknown status)."""
    if status is not None and status not in repo.STATUSES:
        raise InputError(f"unknown status {status!r}: choose one of {', '.join(repo.STATUSES)}")
    return repo.list_recommendations(store.engine, status=status, endpoint=endpoint, incident_id=incident_id,
                                     limit=limit, after=after)


def list_incidents(store: Store, settings: Settings | None = None, *, status: str | None = None,
                   endpoint: str | None = None, limit: int = 500, before_id: int | None = None) -> list[inc.Incident]:
    """Incidents, newest first (InputError for an unknown status)."""
    if status is not None and status not in ("open", "resolved"):
        raise InputError(f"unknown incident status {status!r}: choose open or resolved")
    return inc.list_incidents(store.engine, status=status, endpoint=endpoint, limit=limit, before_id=before_id)


def similar_to_incident(store: Store, incident_id: int, *, limit: int = 5) -> list[SimilarIncident]:
    """Past incidents (any endpoint) most similar to incident ``incident_id``."""
    with reading(store) as conn:
        cur = inc.get_incident(conn, incident_id)
        if cur is None:
            raise NotFoundError(f"unknown incident id: {incident_id}")
        return similar_incidents(conn, root_cause=cur.root_cause, features=cur.features, severity=cur.severity,
                                 endpoint=cur.endpoint, exclude_id=cur.id, limit=limit)


def audit_entries(store: Store, settings: Settings | None = None, *, limit: int | None = None,
                  newest_first: bool = False, before_seq: int | None = None) -> list[audit.AuditEntry]:
    """Audit-log entries from the database (``before_seq``: only entries before it)."""
    return audit.entries(store, limit=limit, newest_first=newest_first, before_seq=before_seq)


def verify_audit(store: Store, settings: Settings,
                 extra: list[audit.cps.Checkpoint] | None = None) -> audit.VerifyResult:
    """Verify the hash chain of the database and of the jsonl mirror, that they agree, and the checkpoints."""
    return audit.verify(store, settings, extra)
