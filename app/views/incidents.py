"""Incidents for the Investigation page: list, detail (root cause, attribution, segments) and similar ones."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from app.errors import NotFoundError
from app.schemas import Report
from app.storage import Store
from app.storage.governance.tx import reading
from app.storage.read.reports import report_by_id

__all__ = [
    "INCIDENT_COLUMNS",
    "IncidentDetail",
    "attribution_frame",
    "incident_detail",
    "list_incidents",
    "load_report",
    "similar_incidents",
]

INCIDENT_COLUMNS = ["id", "endpoint", "status", "root_cause", "severity", "opened_at", "updated_at", "resolved_at",
                    "alert_count", "summary", "outcome"]


def list_incidents(store: Store, *, endpoint: str | None = None, status: str | None = None,
                   limit: int = 500) -> pd.DataFrame:
    """Incidents (from ``app.governance``) with open ones first, then newest first."""
    from app.governance.incidents import list_incidents as gov_list

    rows = [i.model_dump() for i in gov_list(store.engine, status=status, endpoint=endpoint, limit=limit)]
    df = pd.DataFrame(rows, columns=INCIDENT_COLUMNS + ["features"])
    if not df.empty:
        df = df.assign(_open=df["status"] == "open").sort_values(["_open", "updated_at"], ascending=False)
        df = df.drop(columns="_open").reset_index(drop=True)
    return df


def load_report(store: Store, report_id: int) -> Report:
    """One stored report by id (NotFoundError when absent)."""
    rep = report_by_id(store.engine, report_id)
    if rep is None:
        raise NotFoundError(f"report {report_id} does not exist")
    return rep


@dataclass(frozen=True)
class IncidentDetail:
    """What the Investigation page shows about one incident."""

    incident: dict[str, Any]
    endpoint: str
    report: Report | None
    similar: list[dict[str, Any]] = field(default_factory=list)
    similar_source: str = "app.governance"


def incident_detail(store: Store, incident_id: int, *, similar_limit: int = 5) -> IncidentDetail:
    """The incident, its newest report (root cause, attribution, segments) and similar past incidents."""
    from app.governance.incidents import get_incident

    with reading(store) as conn:
        inc = get_incident(conn, incident_id)
    if inc is None:
        raise NotFoundError(f"incident {incident_id} does not exist")
    rid = inc.last_report_id or inc.first_report_id
    report = None
    if rid is not None:
        try:
            report = load_report(store, int(rid))
        except NotFoundError:
            report = None
    similar, source = similar_incidents(store, incident_id, limit=similar_limit)
    return IncidentDetail(incident=inc.model_dump(), endpoint=str(inc.endpoint), report=report, similar=similar,
                          similar_source=source)


def similar_incidents(store: Store, incident_id: int, *, limit: int = 5) -> tuple[list[dict[str, Any]], str]:
    """Similar past incidents (``app.governance.similar``: same cause, shared features, close severity).

    Returns ``(rows, source)``; rows carry the actions taken then and their outcome.
    """
    from app.governance.incidents import get_incident
    from app.governance.similar import similar_incidents as gov_similar

    with reading(store) as conn:
        inc = get_incident(conn, incident_id)
        if inc is None:
            return [], "app.governance"
        rows = gov_similar(conn, root_cause=inc.root_cause, features=inc.features, severity=inc.severity,
                           endpoint=inc.endpoint, exclude_id=inc.id, limit=limit)
    return [r.model_dump() for r in rows], "app.governance"


def attribution_frame(report: Report | None, *, top: int = 15) -> pd.DataFrame:
    """Feature attribution (SHAP on the domain classifier) as a frame sorted by score, largest first.

    >>> from app.schemas import RCA, FeatureAttribution, Metrics
    >>> rep = Report(endpoint="e", metrics=Metrics(), rca=RCA(features=[FeatureAttribution(name="a", score=0.2),
    ...              FeatureAttribution(name="b", score=0.7)]))
    >>> attribution_frame(rep)["feature"].tolist()
    ['b', 'a']
    """
    feats = [] if report is None else report.rca.features
    df = pd.DataFrame([{"feature": f.name, "score": float(f.score), "evidence": f.evidence} for f in feats],
                      columns=["feature", "score", "evidence"])
    return df.sort_values("score", ascending=False, key=abs).head(top).reset_index(drop=True)

