"""Analysis jobs on PostgreSQL: one row per (endpoint, window), claimed like a lease so each window is
analysed once by whichever watcher takes it, and a crashed worker's job is taken again after its TTL.

A job goes ``todo`` -> ``doing`` (claimed: holder, expiry, fence + 1, attempts + 1) -> ``done``. Only the
claim that still carries the job's current fence may finish it or write its report (`job_is_current`,
checked under a row lock in the report's transaction).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, and_, delete, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from app.storage import tables as t
from app.storage.api_analyses import API_WINDOW_BASE
from app.storage.leases import db_now

__all__ = ["ClaimedJob", "claim_jobs", "enqueue", "finish_job", "job_is_current", "prune_jobs", "window_of"]


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    endpoint_id: int
    window_no: int
    fence: int
    attempts: int


def window_of(now: float, every_s: float) -> int:
    """The analysis window a time falls in (windows are ``every_s`` long, counted from the epoch).

    >>> window_of(65.0, 30.0), window_of(89.9, 30.0)
    (2, 2)
    """
    return int(now // every_s)


def enqueue(engine: Engine, items: list[tuple[int, int]]) -> int:
    """Add a ``todo`` job per (endpoint id, window) not queued yet (another watcher may have); returns added."""
    if not items:
        return 0
    now = time.time()
    rows = [{"endpoint_id": e, "window_no": w, "status": "todo", "expires_at": 0.0, "fence": 0, "attempts": 0,
             "created_at": now} for e, w in sorted(set(items))]
    with engine.begin() as conn:
        res = conn.execute(pg_insert(t.analysis_jobs).values(rows)
                           .on_conflict_do_nothing(index_elements=["endpoint_id", "window_no"])
                           .returning(t.analysis_jobs.c.id))
        return len(res.all())


def claim_jobs(engine: Engine, holder: int, limit: int, ttl_s: float, *, max_attempts: int = 3) -> list[ClaimedJob]:
    """Claim up to ``limit`` jobs: ``todo`` ones, or ``doing`` ones whose claim expired (a crashed worker).
    Analyses requested over HTTP are left to the service, which records their outcome (app.api.analysis_runner)."""
    if limit <= 0:
        return []
    j = t.analysis_jobs
    with engine.begin() as conn:
        cand = (select(j.c.id).where(j.c.window_no > API_WINDOW_BASE,
                                     or_(j.c.status == "todo",
                                         and_(j.c.status == "doing", j.c.expires_at < db_now(),
                                              j.c.attempts < max_attempts)))
                .order_by(j.c.id).limit(limit).with_for_update(skip_locked=True).cte("cand"))
        rows = conn.execute(j.update().where(j.c.id == cand.c.id)
                            .values(status="doing", holder=holder, expires_at=db_now() + ttl_s,
                                    fence=j.c.fence + 1, attempts=j.c.attempts + 1)
                            .returning(j.c.id, j.c.endpoint_id, j.c.window_no, j.c.fence, j.c.attempts)).all()
    return [ClaimedJob(int(a), int(b), int(c), int(d), int(e)) for a, b, c, d, e in rows]


def job_is_current(conn: Connection, job_id: int, fence: int) -> bool:
    """True while the claim with ``fence`` still owns the job (locks the row until the transaction ends)."""
    j = t.analysis_jobs
    row = conn.execute(select(j.c.fence, j.c.status).where(j.c.id == job_id).with_for_update(read=True)).first()
    return row is not None and int(row[0]) == fence and row[1] == "doing"


def finish_job(engine: Engine, job_id: int, fence: int) -> bool:
    """Mark the job done if this claim still owns it; False when another worker took it over."""
    j = t.analysis_jobs
    with engine.begin() as conn:
        n = conn.execute(j.update().where(j.c.id == job_id, j.c.fence == fence, j.c.status == "doing")
                         .values(status="done", expires_at=0.0)).rowcount
    return bool(n)


def prune_jobs(engine: Engine, older_than_s: float = 86400.0) -> int:
    """Delete finished jobs older than ``older_than_s`` (their reports stay)."""
    j = t.analysis_jobs
    with engine.begin() as conn:
        return int(conn.execute(delete(j).where(j.c.status == "done",
                                                j.c.created_at < time.time() - older_than_s)).rowcount or 0)
