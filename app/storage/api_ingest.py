"""Posted prediction rows: one transaction with their idempotency record; late labels by prediction id."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, func, select
from sqlalchemy.exc import IntegrityError

from app.errors import InputError, NotFoundError
from app.storage import tables as t
from app.storage.ingest_progress import _insert_many

__all__ = ["IngestReceipt", "attach_labels", "insert_rows"]


@dataclass(frozen=True)
class IngestReceipt:
    """What a batch stored: its count and the ids of its rows, in request order; ``replayed`` for a repeat."""

    endpoint_id: int
    ingested: int
    prediction_ids: list[int]
    replayed: bool = False


def _replay(engine: Engine, endpoint_id: int, key: str, request_sha256: str) -> IngestReceipt | None:
    i = t.api_idempotency
    with engine.connect() as conn:
        row = conn.execute(select(i.c.request_sha256, i.c.receipt_json)
                           .where(and_(i.c.endpoint_id == endpoint_id, i.c.key == key))).first()
    if row is None:
        return None
    if row[0] != request_sha256:
        raise InputError("Idempotency-Key was used before with a different request: use a new key")
    return IngestReceipt(**{**json.loads(row[1]), "replayed": True})


def _insert_ids(conn: Connection, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> list[int]:
    """Insert ``rows`` and return their ids in row order.

    SQLite: the bulk executemany of `mlfi ingest`, then the ids from ``last_insert_rowid()``: the
    transaction holds the database's write lock from its first insert, so the rows got consecutive ids
    (checked: the id range holds exactly these rows). SQLAlchemy's id-returning insert would send one
    statement per row there (SQLite does not promise RETURNING order). Elsewhere (PostgreSQL, where
    concurrent writers interleave sequence values) the id-returning insert, batched by SQLAlchemy.
    """
    if conn.dialect.name == "sqlite":
        _insert_many(conn, columns, rows)
        last = int(conn.exec_driver_sql("SELECT last_insert_rowid()").scalar_one())
        first = last - len(rows) + 1
        held = conn.execute(select(func.count()).select_from(t.samples)
                            .where(t.samples.c.id.between(first, last))).scalar_one()
        if held != len(rows):     # never expected: the write lock makes the ids consecutive
            raise RuntimeError(f"inserted {len(rows)} rows but ids {first}..{last} hold {held}")
        return list(range(first, last + 1))
    stmt = t.samples.insert().returning(t.samples.c.id, sort_by_parameter_order=True)
    return [int(r[0]) for r in conn.execute(stmt, [dict(zip(columns, r)) for r in rows])]


def insert_rows(engine: Engine, endpoint_id: int, columns: tuple[str, ...], rows: list[tuple[Any, ...]], *,
                idempotency: tuple[str, str] | None = None) -> IngestReceipt:
    """Insert ``samples`` rows (values in ``columns`` order) and, under an idempotency key, the receipt, in
    ONE transaction: a repeat of the request (even a concurrent one) stores nothing and gets the receipt."""
    if idempotency is not None:
        old = _replay(engine, endpoint_id, *idempotency)
        if old is not None:
            return old
    try:
        with engine.begin() as conn:
            ids = _insert_ids(conn, columns, rows)
            receipt = IngestReceipt(endpoint_id, len(ids), ids)
            if idempotency is not None:
                body = {k: v for k, v in asdict(receipt).items() if k != "replayed"}
                conn.execute(t.api_idempotency.insert().values(
                    endpoint_id=endpoint_id, key=idempotency[0], request_sha256=idempotency[1],
                    receipt_json=json.dumps(body), created_at=time.time()))
    except IntegrityError:
        if idempotency is not None:
            again = _replay(engine, endpoint_id, *idempotency)   # a concurrent twin committed first
            if again is not None:
                return again
        with engine.connect() as conn:                           # or the endpoint was deleted meanwhile
            gone = conn.execute(select(t.endpoints.c.id).where(t.endpoints.c.id == endpoint_id)).first() is None
        if gone:
            raise NotFoundError(f"no endpoint with id {endpoint_id}") from None
        raise
    return receipt


def attach_labels(engine: Engine, endpoint_id: int, labels: list[tuple[int, str | None]]) -> int:
    """Set the label (and whether the prediction was correct) of stored predictions by id, in one transaction.

    Every id must be a prediction of this endpoint (NotFoundError naming the first that is not); returns
    the number of rows updated.
    """
    s = t.samples.c
    ids = [i for i, _ in labels]
    with engine.begin() as conn:
        found = {int(r[0]): r[1] for r in conn.execute(
            select(s.id, s.prediction).where(and_(s.endpoint_id == endpoint_id, s.id.in_(ids))))}
        missing = next((i for i in ids if i not in found), None)
        if missing is not None:
            raise NotFoundError(f"no prediction {missing} on this endpoint (raw rows may have been pruned)")
        params = [{"pid": i, "lab": lab, "ok": None if lab is None or found[i] is None else int(lab == found[i])}
                  for i, lab in labels]
        conn.execute(t.samples.update().where(s.id == bindparam("pid")).values(
            label=bindparam("lab"), correct=bindparam("ok")), params)
    return len(params)
