"""Audit-log rows: read in order, the chain's tail, one insert, a count. The hashing lives in governance."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, func, select

from app.storage import tables as t
from app.storage.tables import no_nul

__all__ = ["audit_rows", "audit_tail", "count_audit", "has_audit_event", "insert_audit_row", "storable_actor"]


def audit_rows(conn: Connection, *, limit: int | None = None, newest_first: bool = False,
               before_seq: int | None = None) -> list[dict[str, Any]]:
    """Rows of ``audit_log`` (seq, ts, event, actor, payload_json, prev_hash, hash), oldest first by default;
    ``before_seq`` keeps the rows with a smaller seq (a page of the newest-first list)."""
    q = select(t.audit_log).order_by(t.audit_log.c.seq.desc() if newest_first else t.audit_log.c.seq)
    if before_seq is not None:
        q = q.where(t.audit_log.c.seq < before_seq)
    if limit is not None:
        q = q.limit(limit)
    return [dict(r) for r in conn.execute(q).mappings()]


def audit_tail(conn: Connection) -> tuple[int, str] | None:
    """(seq, hash) of the newest row, or None for an empty log."""
    row = conn.execute(select(t.audit_log.c.seq, t.audit_log.c.hash).order_by(t.audit_log.c.seq.desc())
                       .limit(1)).first()
    return (int(row[0]), str(row[1])) if row else None


def has_audit_event(conn: Connection, event: str) -> bool:
    """Whether any row has this ``event``."""
    return conn.execute(select(t.audit_log.c.seq).where(t.audit_log.c.event == event).limit(1)).first() is not None


def storable_actor(conn: Connection, actor: str) -> str:
    """``actor`` as this database stores it (PostgreSQL drops NUL characters): what must be hashed."""
    return no_nul(actor, conn.dialect.name)


def insert_audit_row(conn: Connection, *, seq: int, ts: float, event: str, actor: str | None, payload_json: str,
                     prev_hash: str, hash: str) -> None:
    """One row of the chain, inside the caller's locked transaction."""
    conn.execute(t.audit_log.insert().values(seq=seq, ts=ts, event=event, actor=actor, payload_json=payload_json,
                                             prev_hash=prev_hash, hash=hash))


def count_audit(engine: Engine) -> int:
    """Number of audit-log rows."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.audit_log)).scalar_one())
