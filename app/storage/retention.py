"""Retention: delete raw samples and aggregates past their age, in small transactions; reclaim SQLite space.

Incidents, reports, recommendations, diagnoses and the audit log are never touched here. Raw rows
of an endpoint are deleted only below the time up to which its per-minute aggregates are written
(see :mod:`app.storage.aggregates`), so no minute is lost between the two.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, delete, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from app.storage import tables as t
from app.storage.aggregates import ROLLUP_LAG_S, rollup

__all__ = ["BATCH_ROWS", "LAST_PASS_KEY", "PRUNE_LOCK_KEY", "PruneResult", "checkpoint_wal", "incremental_vacuum",
           "last_pass", "prune_aggregates", "prune_pass", "prune_raw", "pruner_lock", "save_last_pass",
           "storage_status"]

LAST_PASS_KEY = "retention_last_pass"
PRUNE_LOCK_KEY = 0x6D6C6672   # "mlfr": PostgreSQL advisory lock held by the one pruner running a pass
BATCH_ROWS = 2000          # rows deleted per transaction: a writer waits at most one such batch


@dataclass
class PruneResult:
    """One pruning pass: minutes rolled up, raw rows and aggregate rows deleted, pages freed, seconds spent."""

    minutes_rolled_up: int = 0
    raw_deleted: int = 0
    aggregates_deleted: int = 0
    pages_freed: int = 0
    transactions: int = 0
    duration_s: float = 0.0
    skipped: list[int] = field(default_factory=list)     # endpoints whose rollup failed: raw rows kept

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("minutes_rolled_up", "raw_deleted", "aggregates_deleted",
                                              "pages_freed", "transactions", "duration_s", "skipped")}


def _delete_batches(engine: Engine, table: Any, key: Any, where: list[Any], batch: int) -> tuple[int, int]:
    """Delete matching rows ``batch`` at a time, one transaction each; returns (rows, transactions)."""
    total = txs = 0
    while True:
        with engine.begin() as conn:
            ids = select(key).where(*where).limit(batch).scalar_subquery()
            n = conn.execute(delete(table).where(*where, key.in_(ids))).rowcount or 0
        txs += 1
        total += n
        if n < batch:
            return total, txs


def prune_raw(engine: Engine, eid: int, before: float, *, batch: int = BATCH_ROWS) -> tuple[int, int]:
    """Delete one endpoint's raw samples older than ``before``; returns (rows, transactions)."""
    s = t.samples.c
    return _delete_batches(engine, t.samples, s.id, [s.endpoint_id == eid, s.ts < before], batch)


def prune_aggregates(engine: Engine, before: float, *, batch: int = BATCH_ROWS) -> tuple[int, int]:
    """Delete per-minute aggregates older than ``before`` (every endpoint); returns (rows, transactions)."""
    a = t.sample_aggregates.c
    total = txs = 0
    with engine.connect() as conn:
        ids = [int(r[0]) for r in conn.execute(select(a.endpoint_id).where(a.minute < before).distinct())]
    for eid in ids:
        n, k = _delete_batches(engine, t.sample_aggregates, a.minute, [a.endpoint_id == eid, a.minute < before],
                               batch)
        total, txs = total + n, txs + k
    return total, txs


def incremental_vacuum(engine: Engine, max_pages: int = 2000) -> int:
    """Return up to ``max_pages`` free pages to the file system (SQLite with auto_vacuum=INCREMENTAL).

    Returns the pages freed; 0 on other databases (they reclaim space themselves) or on a SQLite file
    created before incremental vacuum was enabled (its free pages are reused for new rows instead).
    """
    if engine.dialect.name != "sqlite":
        return 0
    with engine.connect() as conn:
        if int(conn.execute(text("PRAGMA auto_vacuum")).scalar() or 0) != 2:
            return 0
        before = int(conn.execute(text("PRAGMA freelist_count")).scalar() or 0)
        conn.commit()
        # executescript steps the pragma to completion (a cursor's execute frees one page per step)
        conn.connection.driver_connection.executescript(   # type: ignore[union-attr]
            f"PRAGMA incremental_vacuum({int(max_pages)});")
        after = int(conn.execute(text("PRAGMA freelist_count")).scalar() or 0)
    return max(0, before - after)


def checkpoint_wal(engine: Engine) -> None:
    """Fold SQLite's WAL back into the database file and truncate it (used by the benchmark to measure size)."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))


def prune_pass(engine: Engine, now: float, *, raw_retention_s: float | None, aggregate_retention_s: float,
               lag_s: float = ROLLUP_LAG_S, batch: int = BATCH_ROWS) -> PruneResult:
    """Roll up, then prune raw rows (``raw_retention_s=None`` keeps them) and aggregates; then vacuum a little."""
    t0 = time.perf_counter()
    res = PruneResult()
    done = rollup(engine, now, lag_s=lag_s)
    res.minutes_rolled_up = sum(r.minutes for r in done.values())
    with engine.connect() as conn:
        ids = [int(r[0]) for r in conn.execute(select(t.endpoints.c.id))]
    res.skipped = [eid for eid in ids if eid not in done]
    if raw_retention_s is not None:
        for eid, r in done.items():
            n, k = prune_raw(engine, eid, min(now - raw_retention_s, r.until), batch=batch)
            res.raw_deleted, res.transactions = res.raw_deleted + n, res.transactions + k
    n, k = prune_aggregates(engine, now - aggregate_retention_s, batch=batch)
    res.aggregates_deleted, res.transactions = n, res.transactions + k
    res.pages_freed = incremental_vacuum(engine)
    res.duration_s = time.perf_counter() - t0
    return res


@contextmanager
def pruner_lock(engine: Engine) -> Iterator[bool]:
    """True while this process may run a pruning pass: on PostgreSQL a session advisory lock held on its own
    connection for the whole pass (several watchers: the others get False and skip this minute; a crashed
    holder's lock ends with its connection); SQLite has one watcher (its file lock), so always True."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    with engine.connect() as conn:
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": PRUNE_LOCK_KEY}).scalar())
        conn.commit()
        try:
            yield got
        finally:
            if got:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PRUNE_LOCK_KEY})
                conn.commit()


def _table_bytes(engine: Engine) -> dict[str, int]:
    if engine.dialect.name != "sqlite":
        return {}
    try:
        with engine.connect() as conn:
            return {str(n): int(b) for n, b in conn.execute(text("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"))}
    except SQLAlchemyError:     # SQLite built without the dbstat table
        return {}


def storage_status(engine: Engine) -> dict[str, Any]:
    """Rows and bytes per table (bytes on SQLite, indexes listed under their own names), oldest raw sample
    and oldest aggregate (epoch seconds, None when empty)."""
    tables: dict[str, dict[str, int | None]] = {}
    with engine.connect() as conn:
        for name, table in t.metadata.tables.items():
            tables[name] = {"rows": int(conn.execute(select(func.count()).select_from(table)).scalar_one())}
        oldest_raw = conn.execute(select(func.min(t.samples.c.ts))).scalar()
        oldest_agg = conn.execute(select(func.min(t.sample_aggregates.c.minute))).scalar()
        with_inputs = conn.execute(select(func.count()).select_from(t.samples)
                                   .where(t.samples.c.inputs_json.isnot(None))).scalar_one()
    sizes = _table_bytes(engine)
    for name, info in tables.items():
        info["bytes"] = sizes.get(name)
    indexes = {n: b for n, b in sizes.items() if n not in tables}
    return {"tables": tables, "index_bytes": indexes, "total_bytes": sum(sizes.values()) if sizes else None,
            "oldest_raw_sample": oldest_raw, "oldest_aggregate": oldest_agg, "samples_with_inputs": int(with_inputs),
            "last_pass": last_pass(engine)}


def save_last_pass(engine: Engine, payload: dict[str, Any]) -> None:
    """Record the newest pruning pass (one JSON document in ``meta``), for ``storage_status``."""
    raw = json.dumps(payload, default=str, separators=(",", ":"))
    with engine.begin() as conn:
        if not conn.execute(t.meta.update().where(t.meta.c.key == LAST_PASS_KEY).values(value=raw)).rowcount:
            conn.execute(t.meta.insert().values(key=LAST_PASS_KEY, value=raw))


def last_pass(engine: Engine) -> dict[str, Any] | None:
    with engine.connect() as conn:
        raw = conn.execute(select(t.meta.c.value).where(t.meta.c.key == LAST_PASS_KEY)).scalar()
    return json.loads(raw) if raw else None
