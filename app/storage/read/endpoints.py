"""The overview read model: every endpoint with its sample count, open incidents and newest report row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, literal, select

from app.storage import tables as t
from app.storage.endpoints import Endpoint

__all__ = ["EndpointFacts", "LatestReport", "endpoint_facts"]


@dataclass(frozen=True)
class LatestReport:
    """The newest report row of an endpoint (its small metrics JSON, not the whole report)."""

    ts: float
    root_cause: str
    severity: str
    alert: bool
    metrics_json: str


@dataclass(frozen=True)
class EndpointFacts:
    """One endpoint (without its header values) with the counts the overview needs."""

    endpoint: Endpoint
    samples: int
    open_incidents: int
    latest: LatestReport | None


def _group_counts(conn: Any, stmt: Any) -> dict[int, tuple[int, ...]]:
    return {int(r[0]): tuple(int(x or 0) for x in r[1:]) for r in conn.execute(stmt)}


def endpoint_facts(engine: Engine, *, name: str | None = None) -> list[EndpointFacts]:
    """All endpoints (or the one called ``name``) by id, each with its counts and newest report.

    Cheap whatever the stored count: sample counts are one index-only ``COUNT ... GROUP BY``; the
    newest report is one grouped ``MAX(id)`` joined back to its row.
    """
    s, r, i, e = t.samples.c, t.reports.c, t.incidents.c, t.endpoints.c
    eq = select(t.endpoints).order_by(e.id)
    cq = select(s.endpoint_id, func.count()).group_by(s.endpoint_id)
    iq = select(i.endpoint_id, func.count()).where(i.status == "open").group_by(i.endpoint_id)
    nq = select(r.endpoint_id, func.max(r.id).label("rid")).group_by(r.endpoint_id)
    with engine.connect() as conn:
        if name is not None:
            found = conn.execute(select(e.id).where(e.name == name)).first()
            if found is None:
                return []
            eid = found[0]
            # one endpoint: a plain COUNT (no GROUP BY) is the cheapest index-only count
            cq = select(literal(eid).label("endpoint_id"), func.count()).select_from(t.samples).where(
                s.endpoint_id == eid)
            eq = eq.where(e.id == eid)
            iq, nq = iq.where(i.endpoint_id == eid), nq.where(r.endpoint_id == eid)
        eps = [Endpoint.from_row(x).without_secrets() for x in conn.execute(eq).mappings()]
        counts = _group_counts(conn, cq)
        open_inc = _group_counts(conn, iq)
        newest = nq.subquery()
        latest = {int(x.endpoint_id): LatestReport(ts=float(x.ts), root_cause=x.root_cause, severity=x.severity,
                                                   alert=bool(x.alert), metrics_json=x.metrics_json)
                  for x in conn.execute(select(r.endpoint_id, r.ts, r.root_cause, r.severity, r.alert, r.metrics_json)
                                        .join(newest, r.id == newest.c.rid))}
    return [EndpointFacts(endpoint=ep, samples=counts.get(ep.id, (0,))[0], open_incidents=open_inc.get(ep.id, (0,))[0],
                          latest=latest.get(ep.id))
            for ep in eps]
