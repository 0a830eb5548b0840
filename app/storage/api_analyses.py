"""Analyses requested over HTTP: each is a row of ``analysis_jobs`` (so it is claimed and run once, by the
service or, on PostgreSQL, by any watcher) plus an ``api_analyses`` row naming who asked and what came of it.

Portable SQL (SQLite and PostgreSQL): the job gets its own window number, far below the cadence windows
(>= 0) and the sequential alarms' windows (-epoch ms), so it never merges with a watcher's job.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Engine, and_, or_, select
from sqlalchemy.exc import IntegrityError

from app.storage import tables as t

__all__ = ["API_WINDOW_BASE", "MAX_ATTEMPTS", "ApiAnalysis", "claim_analysis", "finish_analysis", "get_analysis",
           "give_up_analyses", "list_analyses", "pending_analyses", "renew_analysis", "request_analysis"]

API_WINDOW_BASE = -(10**17)     # window_no = API_WINDOW_BASE - epoch microseconds (alarms: about -1.8e12)
MAX_ATTEMPTS = 3                # claims of one analysis before it is given up (a stated error, never silence)


@dataclass(frozen=True)
class ApiAnalysis:
    """One requested analysis: ``status`` is the job's (todo / doing / done); ``outcome`` once it finished."""

    id: int
    endpoint_id: int
    endpoint: str
    status: str
    requested_by: str
    requested_at: float
    outcome: str | None
    detail: str | None
    report_id: int | None
    finished_at: float | None
    attempts: int


def request_analysis(engine: Engine, endpoint_id: int, requested_by: str) -> int:
    """Queue an analysis of ``endpoint_id`` (a ``todo`` job); returns its id (the job's id)."""
    now = time.time()
    for bump in range(100):       # two requests in the same microsecond: the next window number
        window = API_WINDOW_BASE - int(now * 1e6) - bump
        try:
            with engine.begin() as conn:
                jid = int(conn.execute(t.analysis_jobs.insert().values(
                    endpoint_id=endpoint_id, window_no=window, status="todo", expires_at=0.0, fence=0, attempts=0,
                    created_at=now)).inserted_primary_key[0])
                conn.execute(t.api_analyses.insert().values(job_id=jid, endpoint_id=endpoint_id,
                                                            requested_by=requested_by, requested_at=now))
                return jid
        except IntegrityError:
            continue
    raise RuntimeError("no free analysis window number")   # unreachable in practice: 100 in one microsecond


def claim_analysis(engine: Engine, job_id: int, holder: int, ttl_s: float, *,
                   max_attempts: int = MAX_ATTEMPTS) -> int | None:
    """Claim job ``job_id`` if it is ``todo`` (or ``doing`` with an expired claim); its new fence, or None
    when another worker holds it or finished it."""
    j = t.analysis_jobs
    now = time.time()
    with engine.begin() as conn:
        n = conn.execute(j.update().where(and_(j.c.id == job_id, or_(
            j.c.status == "todo", and_(j.c.status == "doing", j.c.expires_at < now, j.c.attempts < max_attempts))))
            .values(status="doing", holder=holder, expires_at=now + ttl_s, fence=j.c.fence + 1,
                    attempts=j.c.attempts + 1)).rowcount
        if not n:
            return None
        return int(conn.execute(select(j.c.fence).where(j.c.id == job_id)).scalar_one())


def renew_analysis(engine: Engine, job_id: int, fence: int, ttl_s: float) -> bool:
    """Extend the claim with ``fence`` by ``ttl_s`` from now (the runner's heartbeat); False once it was lost."""
    j = t.analysis_jobs
    with engine.begin() as conn:
        return bool(conn.execute(j.update().where(and_(j.c.id == job_id, j.c.fence == fence, j.c.status == "doing"))
                                 .values(expires_at=time.time() + ttl_s)).rowcount)


def pending_analyses(engine: Engine, *, max_attempts: int = MAX_ATTEMPTS, limit: int = 100) -> list[tuple[int, int]]:
    """(job id, endpoint id) of requested analyses nobody runs: still ``todo`` (queued when a service stopped),
    or ``doing`` under a claim that expired (its process died); oldest first."""
    j = t.analysis_jobs
    q = (select(j.c.id, j.c.endpoint_id).where(and_(j.c.window_no < API_WINDOW_BASE, or_(
        j.c.status == "todo",
        and_(j.c.status == "doing", j.c.expires_at < time.time(), j.c.attempts < max_attempts))))
        .order_by(j.c.id).limit(limit))
    with engine.connect() as conn:
        return [(int(a), int(b)) for a, b in conn.execute(q)]


def give_up_analyses(engine: Engine, *, max_attempts: int = MAX_ATTEMPTS) -> int:
    """End with a stated error each requested analysis whose last of ``max_attempts`` claims expired (its
    runs kept dying); returns how many."""
    j = t.analysis_jobs
    with engine.connect() as conn:
        stuck = [(int(i), int(f), int(n)) for i, f, n in conn.execute(select(j.c.id, j.c.fence, j.c.attempts).where(
            and_(j.c.window_no < API_WINDOW_BASE, j.c.status == "doing", j.c.expires_at < time.time(),
                 j.c.attempts >= max_attempts)))]
    return sum(finish_analysis(engine, i, f, outcome="failed", detail=f"abandoned: {n} attempts did not finish")
               for i, f, n in stuck)


def finish_analysis(engine: Engine, job_id: int, fence: int, *, outcome: str, detail: str = "",
                    report_id: int | None = None) -> bool:
    """Record the outcome and mark the job done, if the claim with ``fence`` still owns it (one transaction)."""
    j, a = t.analysis_jobs, t.api_analyses
    with engine.begin() as conn:
        n = conn.execute(j.update().where(and_(j.c.id == job_id, j.c.fence == fence, j.c.status == "doing"))
                         .values(status="done", expires_at=0.0)).rowcount
        if not n:
            return False
        conn.execute(a.update().where(a.c.job_id == job_id).values(
            outcome=outcome, detail=detail[:4000], report_id=report_id, finished_at=time.time()))
    return True


def _query():  # type: ignore[no-untyped-def]
    j, a, e = t.analysis_jobs, t.api_analyses, t.endpoints
    return (select(a.c.job_id, a.c.endpoint_id, e.c.name, j.c.status, a.c.requested_by, a.c.requested_at,
                   a.c.outcome, a.c.detail, a.c.report_id, a.c.finished_at, j.c.attempts)
            .select_from(a.join(j, j.c.id == a.c.job_id).join(e, e.c.id == a.c.endpoint_id)))


def _row(r: tuple) -> ApiAnalysis:  # type: ignore[type-arg]
    return ApiAnalysis(int(r[0]), int(r[1]), str(r[2]), str(r[3]), str(r[4]), float(r[5]), r[6], r[7],
                       None if r[8] is None else int(r[8]), r[9], int(r[10]))


def get_analysis(engine: Engine, job_id: int) -> ApiAnalysis | None:
    with engine.connect() as conn:
        r = conn.execute(_query().where(t.api_analyses.c.job_id == job_id)).first()
    return _row(tuple(r)) if r is not None else None


def list_analyses(engine: Engine, *, endpoint_id: int | None = None, before_id: int | None = None,
                  limit: int = 100) -> list[ApiAnalysis]:
    """Requested analyses newest first; ``before_id`` continues a page (ids below it)."""
    a = t.api_analyses
    q = _query()
    if endpoint_id is not None:
        q = q.where(a.c.endpoint_id == endpoint_id)
    if before_id is not None:
        q = q.where(a.c.job_id < before_id)
    with engine.connect() as conn:
        return [_row(tuple(r)) for r in conn.execute(q.order_by(a.c.job_id.desc()).limit(limit))]
