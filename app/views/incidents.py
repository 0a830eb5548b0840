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
    "alert_groups",
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
    df = pd.DataFrame(rows, columns=INCIDENT_COLUMNS + ["features", "change_point_at"])
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



def alert_groups(markers: pd.DataFrame, incidents: pd.DataFrame, *, now: float) -> list[tuple[dict[str, Any], pd.DataFrame]]:
    """Alerts grouped by the incident they belong to, newest incident first; alerts of no incident last.

    An alert belongs to the incident of the same root cause whose span (change point or opened_at,
    minus a minute of analysis lag, to resolution or ``now``) holds its time; failing that, any
    incident whose span holds it. The group dict has ``id`` (None for no incident), ``root_cause``,
    ``severity``, ``status``, ``start``, ``end``.

    >>> m = pd.DataFrame({"ts": [150.0, 500.0], "root_cause": ["accuracy_drop"] * 2, "severity": ["high"] * 2})
    >>> inc = pd.DataFrame({"id": [7], "root_cause": ["accuracy_drop"], "severity": ["high"], "status": ["resolved"],
    ...                     "opened_at": [140.0], "change_point_at": [None], "resolved_at": [300.0]})
    >>> [(g["id"], len(rows)) for g, rows in alert_groups(m, inc, now=600.0)]
    [(7, 1), (None, 1)]
    """
    if markers is None or markers.empty:
        return []
    spans = []
    if incidents is not None and not incidents.empty:
        for r in incidents.to_dict("records"):
            cp = r.get("change_point_at")
            start = float(cp) if cp is not None and pd.notna(cp) else float(r["opened_at"])
            end = float(r["resolved_at"]) if r.get("resolved_at") is not None and pd.notna(r["resolved_at"]) else now
            spans.append({"id": int(r["id"]), "root_cause": r["root_cause"], "severity": r["severity"],
                          "status": r["status"], "start": start, "end": end})
    owner: list[int | None] = []
    for ts, rc in zip(markers["ts"], markers["root_cause"]):
        inside = [g for g in spans if g["start"] - 60.0 <= float(ts) <= g["end"]]
        same = [g for g in inside if g["root_cause"] == rc]
        pick = (same or inside)
        owner.append(max(pick, key=lambda g: g["start"])["id"] if pick else None)
    m = markers.assign(_incident=owner)
    out = []
    for g in sorted(spans, key=lambda g: -g["start"]):
        rows = m[m["_incident"] == g["id"]]
        if not rows.empty:
            out.append((g, rows.drop(columns="_incident").sort_values("ts", ascending=False)))
    rest = m[m["_incident"].isna()]
    if not rest.empty:
        out.append(({"id": None, "root_cause": None, "severity": None, "status": None, "start": None, "end": None},
                    rest.drop(columns="_incident").sort_values("ts", ascending=False)))
    return out
