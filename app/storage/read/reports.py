"""Report read models: an evenly thinned set of an endpoint's reports, one report by id."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, select

from app.schemas import Report
from app.storage import tables as t

__all__ = ["report_by_id", "report_ts", "thinned_reports"]


def thinned_reports(engine: Engine, eid: int, *, since: float | None,
                    pick: Callable[[int], list[int]]) -> list[tuple[int, float, str]]:
    """(id, ts, report JSON) of the reports ``pick(count)`` chooses among the endpoint's reports in time order.

    Only ids and times are read for the whole range; the JSON is read for the chosen ones, in one snapshot.
    """
    r = t.reports.c
    q = select(r.id, r.ts).where(r.endpoint_id == eid)
    if since is not None:
        q = q.where(r.ts >= since)
    with engine.connect() as conn:
        index = conn.execute(q.order_by(r.ts, r.id)).all()
        chosen = [index[i] for i in pick(len(index))]
        ids = [int(c[0]) for c in chosen]
        raw = dict(conn.execute(select(r.id, r.report_json).where(r.id.in_(ids))).all()) if ids else {}
    return [(int(rid), float(ts), raw[rid]) for rid, ts in chosen]


def report_by_id(engine: Engine, report_id: int) -> Report | None:
    """One stored report (with its ``report_id``), or None."""
    with engine.connect() as conn:
        raw = conn.execute(select(t.reports.c.report_json).where(t.reports.c.id == report_id)).scalar()
    if raw is None:
        return None
    rep = Report.model_validate_json(raw)
    rep.report_id = report_id
    return rep


def report_ts(engine: Engine, report_id: int) -> float | None:
    """The stored time of a report (its sort key in ``list_reports``), or None."""
    with engine.connect() as conn:
        ts = conn.execute(select(t.reports.c.ts).where(t.reports.c.id == report_id)).scalar()
    return None if ts is None else float(ts)
