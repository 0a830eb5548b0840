"""Overview rows: every endpoint with its status, last verdict, open incidents and sample counts."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, literal, select

from app.storage import Store
from app.storage import tables as t
from app.views.status import STATUSES, endpoint_status

__all__ = ["EndpointSummary", "overview", "status_counts"]


@dataclass(frozen=True)
class EndpointSummary:
    """One row of the Overview page (no headers or other secrets)."""

    name: str
    url: str | None
    protocol: str | None
    enabled: bool
    interval_s: float
    status: str
    last_verdict: str | None
    last_severity: str | None
    last_report_at: float | None
    open_incidents: int
    samples: int
    error_rate: float | None   # of the newest analysed window (None before the first report)
    last_probe_at: float | None
    last_probe_status: str | None

    def as_row(self) -> dict[str, Any]:
        return asdict(self)


def _group_counts(conn: Any, stmt: Any) -> dict[int, tuple[int, ...]]:
    return {int(r[0]): tuple(int(x or 0) for x in r[1:]) for r in conn.execute(stmt)}


def overview(store: Store, *, name: str | None = None) -> list[EndpointSummary]:
    """Summaries of all endpoints (or of the one called ``name``), worst status first.

    Cheap whatever the stored count: sample counts are one index-only ``COUNT ... GROUP BY``; the
    verdict and error rate come from the newest report row of each endpoint (its small metrics JSON).
    """
    s, r, i, e = t.samples.c, t.reports.c, t.incidents.c, t.endpoints.c
    eq = select(t.endpoints).order_by(e.id)
    cq = select(s.endpoint_id, func.count()).group_by(s.endpoint_id)
    iq = select(i.endpoint_id, func.count()).where(i.status == "open").group_by(i.endpoint_id)
    nq = select(r.endpoint_id, func.max(r.id).label("rid")).group_by(r.endpoint_id)
    with store.engine.connect() as conn:
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
        eps = [dict(x) for x in conn.execute(eq).mappings()]
        counts = _group_counts(conn, cq)
        open_inc = _group_counts(conn, iq)
        newest = nq.subquery()
        latest = {int(x.endpoint_id): x for x in conn.execute(
            select(r.endpoint_id, r.ts, r.root_cause, r.severity, r.alert, r.metrics_json)
            .join(newest, r.id == newest.c.rid))}
    out = []
    for ep in eps:
        rep = latest.get(int(ep["id"]))
        n = counts.get(int(ep["id"]), (0,))[0]
        err = None if rep is None else json.loads(rep.metrics_json).get("error_rate")
        status = endpoint_status(enabled=bool(ep["enabled"]), last_status=ep.get("last_status"),
                                 consecutive_failures=ep.get("consecutive_failures"),
                                 latest_alert=None if rep is None else bool(rep.alert),
                                 latest_severity=None if rep is None else rep.severity)
        out.append(EndpointSummary(
            name=ep["name"], url=ep.get("url"), protocol=ep.get("protocol"), enabled=bool(ep["enabled"]),
            interval_s=float(ep.get("interval_s") or 0.0), status=status,
            last_verdict=None if rep is None else rep.root_cause, last_severity=None if rep is None else rep.severity,
            last_report_at=None if rep is None else float(rep.ts), open_incidents=open_inc.get(int(ep["id"]), (0,))[0],
            samples=n, error_rate=err, last_probe_at=ep.get("last_probe_at"), last_probe_status=ep.get("last_status")))
    out.sort(key=lambda e: (STATUSES.index(e.status), e.name))
    return out


def status_counts(rows: list[EndpointSummary]) -> dict[str, int]:
    """How many endpoints are in each status (every status present, zero when none).

    >>> status_counts([])["healthy"]
    0
    """
    out = {st: 0 for st in STATUSES}
    for row in rows:
        out[row.status] += 1
    return out
