"""Sensitivity rows: the multiplier per (endpoint, detector), set, delete and list."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, and_, select

from app.storage import tables as t

__all__ = ["delete_multipliers", "list_multipliers", "multipliers", "set_multiplier"]


def multipliers(conn: Connection, eid: int) -> dict[str, float]:
    """Detector -> stored multiplier of one endpoint."""
    rows = conn.execute(select(t.sensitivity.c.detector, t.sensitivity.c.multiplier)
                        .where(t.sensitivity.c.endpoint_id == eid)).all()
    return {str(d): float(m) for d, m in rows}


def set_multiplier(conn: Connection, eid: int, detector: str, multiplier: float, now: float, *, exists: bool) -> None:
    """Update the stored multiplier (``exists``) or insert it."""
    s = t.sensitivity
    if exists:
        conn.execute(s.update().where(and_(s.c.endpoint_id == eid, s.c.detector == detector))
                     .values(multiplier=multiplier, updated_at=now))
    else:
        conn.execute(s.insert().values(endpoint_id=eid, detector=detector, multiplier=multiplier, updated_at=now))


def delete_multipliers(conn: Connection, eid: int, detector: str | None = None) -> None:
    """Forget one detector's multiplier (or every one) of an endpoint."""
    q = t.sensitivity.delete().where(t.sensitivity.c.endpoint_id == eid)
    if detector is not None:
        q = q.where(t.sensitivity.c.detector == detector)
    conn.execute(q)


def list_multipliers(engine: Engine, endpoint: str | None = None) -> list[dict[str, Any]]:
    """Every stored multiplier (endpoint, detector, multiplier, updated_at), by endpoint then detector."""
    s, e = t.sensitivity, t.endpoints
    q = select(e.c.name.label("endpoint"), s.c.detector, s.c.multiplier, s.c.updated_at).select_from(
        s.join(e, e.c.id == s.c.endpoint_id)).order_by(e.c.name, s.c.detector)
    if endpoint is not None:
        q = q.where(e.c.name == endpoint)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]
