"""Overview rows: every endpoint with its status, last verdict, open incidents and sample counts."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import case, func, select

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
    errors: int
    last_probe_at: float | None
    last_probe_status: str | None

    def as_row(self) -> dict[str, Any]:
        return asdict(self)


def _group_counts(conn: Any, stmt: Any) -> dict[int, tuple[int, ...]]:
    return {int(r[0]): tuple(int(x or 0) for x in r[1:]) for r in conn.execute(stmt)}


def overview(store: Store) -> list[EndpointSummary]:
    """Summaries of all endpoints, worst status first, using a handful of grouped queries.

    Sample counts come from one ``GROUP BY`` over the indexed samples table; the latest verdict
    is read from the newest report row of each endpoint (no report JSON is parsed).
    """
    s, r, i = t.samples.c, t.reports.c, t.incidents.c
    with store.engine.connect() as conn:
        eps = [dict(x) for x in conn.execute(select(t.endpoints).order_by(t.endpoints.c.id)).mappings()]
        counts = _group_counts(conn, select(s.endpoint_id, func.count(),
                                            func.sum(case((s.error_kind.isnot(None), 1), else_=0)))
                               .group_by(s.endpoint_id))
        open_inc = _group_counts(conn, select(i.endpoint_id, func.count()).where(i.status == "open")
                                 .group_by(i.endpoint_id))
        newest = select(r.endpoint_id, func.max(r.id).label("rid")).group_by(r.endpoint_id).subquery()
        latest = {int(x.endpoint_id): x for x in conn.execute(
            select(r.endpoint_id, r.ts, r.root_cause, r.severity, r.alert).join(newest, r.id == newest.c.rid))}
    out = []
    for ep in eps:
        rep = latest.get(int(ep["id"]))
        n, errs = counts.get(int(ep["id"]), (0, 0))
        status = endpoint_status(enabled=bool(ep["enabled"]), last_status=ep.get("last_status"),
                                 consecutive_failures=ep.get("consecutive_failures"),
                                 latest_alert=None if rep is None else bool(rep.alert),
                                 latest_severity=None if rep is None else rep.severity)
        out.append(EndpointSummary(
            name=ep["name"], url=ep.get("url"), protocol=ep.get("protocol"), enabled=bool(ep["enabled"]),
            interval_s=float(ep.get("interval_s") or 0.0), status=status,
            last_verdict=None if rep is None else rep.root_cause, last_severity=None if rep is None else rep.severity,
            last_report_at=None if rep is None else float(rep.ts), open_incidents=open_inc.get(int(ep["id"]), (0,))[0],
            samples=n, errors=errs, last_probe_at=ep.get("last_probe_at"), last_probe_status=ep.get("last_status")))
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
