"""Small lookups inside a governance transaction: endpoint id <-> name, a stored report by id."""

from __future__ import annotations

from sqlalchemy import Connection, select

from app.schemas import Report
from app.storage import tables as t

__all__ = ["endpoint_id", "endpoint_name", "load_report"]


def load_report(conn: Connection, report_id: int | None) -> Report | None:
    """A stored report by id, or None."""
    if report_id is None:
        return None
    raw = conn.execute(select(t.reports.c.report_json).where(t.reports.c.id == report_id)).scalar()
    if raw is None:
        return None
    rep = Report.model_validate_json(raw)
    rep.report_id = report_id
    return rep


def endpoint_id(conn: Connection, name: str) -> int | None:
    """The id of the endpoint called ``name``, or None."""
    return conn.execute(select(t.endpoints.c.id).where(t.endpoints.c.name == name)).scalar()


def endpoint_name(conn: Connection, eid: int | None) -> str | None:
    """The name of endpoint ``eid``, or None."""
    if eid is None:
        return None
    return conn.execute(select(t.endpoints.c.name).where(t.endpoints.c.id == eid)).scalar()
