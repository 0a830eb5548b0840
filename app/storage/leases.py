"""Watcher registry and endpoint leases with fencing numbers.

Every watcher process has a row in ``watchers`` (heartbeat, endpoints held, probe rate). On PostgreSQL
the enabled endpoints are shared through ``leases``: a watcher claims free or expired leases with
``SELECT ... FOR UPDATE SKIP LOCKED`` (two watchers never wait on, nor take, the same row), each claim
adds one to the endpoint's fencing number, and a batch of samples is written only while the lease
still carries the number it was claimed with (checked under a row lock in the writing transaction).
Lease expiry uses the database's clock, so watchers on several machines agree on it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, delete, func, or_, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert

from app.storage import tables as t

__all__ = ["FORGET_AFTER_S", "FenceCheck", "beat_watcher", "claim", "db_now", "enabled_endpoint_count",
           "holders", "list_watchers", "live_watcher_count", "next_expiry_in", "register_watcher", "release", "renew",
           "share_counts", "stale_endpoints", "supports_leases"]

FORGET_AFTER_S = 86400.0   # rows of watchers silent this long are deleted when a new watcher registers


def supports_leases(engine: Engine) -> bool:
    """Leases (several watchers on one database) need PostgreSQL's row locks; SQLite keeps one watcher."""
    return engine.dialect.name == "postgresql"


def db_now() -> ColumnElement[Any]:
    """The database server's clock in epoch seconds (PostgreSQL)."""
    return func.extract("epoch", func.clock_timestamp())


# ---- watchers -------------------------------------------------------------------------------------
def register_watcher(engine: Engine, *, host: str, pid: int, started_at: float) -> int:
    """Insert this process's ``watchers`` row (and forget long-silent ones); returns its id."""
    now = time.time()
    with engine.begin() as conn:
        conn.execute(delete(t.watchers).where(t.watchers.c.last_beat < now - FORGET_AFTER_S))
        res = conn.execute(t.watchers.insert().values(host=host, pid=pid, started_at=started_at, last_beat=now,
                                                      status="running", endpoints_held=0))
        return int(res.inserted_primary_key[0])


def beat_watcher(engine: Engine, wid: int, *, status: str, held: int, probes_per_minute: float | None) -> None:
    with engine.begin() as conn:
        conn.execute(t.watchers.update().where(t.watchers.c.id == wid).values(
            last_beat=time.time(), status=status, endpoints_held=held, probes_per_minute=probes_per_minute))


def list_watchers(engine: Engine) -> list[dict[str, Any]]:
    """Every watcher row, newest first."""
    with engine.connect() as conn:
        rows = conn.execute(select(t.watchers).order_by(t.watchers.c.id.desc())).mappings().all()
    return [dict(r) for r in rows]


def _live(ttl_s: float) -> Any:
    """Watchers that say running and beat within ``ttl_s`` (the peers work is shared among).

    One still holding an expired lease is not counted: it stopped renewing (killed or paused), and its
    last heartbeat, written just after its last renewal, would otherwise keep it "live" for one more
    rebalance after its leases became free, which delays their takeover by a heartbeat."""
    w, le = t.watchers, t.leases
    lapsed = select(le.c.endpoint_id).where(le.c.holder == w.c.id, le.c.expires_at < db_now()).exists()
    return select(func.count()).select_from(w).where(w.c.status == "running",
                                                     w.c.last_beat >= time.time() - ttl_s, ~lapsed)


def _enabled() -> Any:
    return select(func.count()).select_from(t.endpoints).where(t.endpoints.c.enabled.is_(True),
                                                               t.endpoints.c.url.is_not(None))


def live_watcher_count(engine: Engine, ttl_s: float) -> int:
    with engine.connect() as conn:
        return int(conn.execute(_live(ttl_s)).scalar() or 0)


def enabled_endpoint_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(_enabled()).scalar() or 0)


def share_counts(engine: Engine, ttl_s: float) -> tuple[int, int, int]:
    """(probed enabled endpoints, live watchers, lapsed leases) in one round trip: what a fair share is
    computed from, and how many leases a dead or paused watcher left to take over (held, expired)."""
    le, ep = t.leases, t.endpoints
    lapsed = (select(func.count()).select_from(le).join(ep, ep.c.id == le.c.endpoint_id)
              .where(le.c.holder.is_not(None), le.c.expires_at < db_now(), ep.c.enabled.is_(True),
                     ep.c.url.is_not(None)))
    with engine.connect() as conn:
        n, w, x = conn.execute(select(_enabled().scalar_subquery(), _live(ttl_s).scalar_subquery(),
                                      lapsed.scalar_subquery())).one()
    return int(n or 0), int(w or 0), int(x or 0)


# ---- leases ---------------------------------------------------------------------------------------
def _ensure_rows(conn: Connection) -> None:
    """A (free) lease row for every enabled endpoint that has none yet."""
    missing = (select(t.endpoints.c.id, func.cast(None, t.leases.c.holder.type), 0.0, 0)
               .where(t.endpoints.c.enabled.is_(True),
                      ~select(t.leases.c.endpoint_id).where(t.leases.c.endpoint_id == t.endpoints.c.id).exists()))
    conn.execute(pg_insert(t.leases).from_select(["endpoint_id", "holder", "expires_at", "fence"], missing)
                 .on_conflict_do_nothing(index_elements=["endpoint_id"]))


def claim(engine: Engine, wid: int, limit: int, ttl_s: float) -> dict[int, int]:
    """Claim up to ``limit`` free or expired leases of enabled endpoints; returns endpoint id -> new fence."""
    if limit <= 0:
        return {}
    le = t.leases
    with engine.begin() as conn:
        _ensure_rows(conn)
        cand = (select(le.c.endpoint_id).join(t.endpoints, t.endpoints.c.id == le.c.endpoint_id)
                .where(t.endpoints.c.enabled.is_(True), t.endpoints.c.url.is_not(None),
                       or_(le.c.holder.is_(None), le.c.expires_at < db_now()))
                .order_by(le.c.endpoint_id).limit(limit)
                .with_for_update(skip_locked=True, of=le).cte("cand"))
        rows = conn.execute(le.update().where(le.c.endpoint_id == cand.c.endpoint_id)
                            .values(holder=wid, expires_at=db_now() + ttl_s, fence=le.c.fence + 1)
                            .returning(le.c.endpoint_id, le.c.fence)).all()
    return {int(e): int(f) for e, f in rows}


def renew(engine: Engine, wid: int, held: dict[int, int], ttl_s: float) -> dict[int, int]:
    """Extend the leases still held with the same fence; returns those kept (the others were taken over)."""
    if not held:
        return {}
    le = t.leases
    with engine.begin() as conn:
        rows = conn.execute(le.update().where(le.c.holder == wid,
                                              tuple_(le.c.endpoint_id, le.c.fence).in_(list(held.items())))
                            .values(expires_at=db_now() + ttl_s).returning(le.c.endpoint_id, le.c.fence)).all()
    return {int(e): int(f) for e, f in rows}


def release(engine: Engine, wid: int, endpoint_ids: list[int] | None = None) -> int:
    """Give leases back at once (all of this watcher's without ``endpoint_ids``); returns how many."""
    le = t.leases
    q = le.update().where(le.c.holder == wid)
    if endpoint_ids is not None:
        if not endpoint_ids:
            return 0
        q = q.where(le.c.endpoint_id.in_(endpoint_ids))
    with engine.begin() as conn:
        return int(conn.execute(q.values(holder=None, expires_at=0.0)).rowcount or 0)


def next_expiry_in(engine: Engine, wid: int) -> float | None:
    """Seconds until the first lease held by another watcher expires (None: none held). A live peer renews
    long before; a dead one's leases expire then, and waking at that moment takes them over at once."""
    le = t.leases
    with engine.connect() as conn:
        v = conn.execute(select(func.min(le.c.expires_at) - db_now()).where(     # unexpired only: a lapsed
            le.c.holder.is_not(None), le.c.holder != wid, le.c.expires_at >= db_now())).scalar()  # one never spins
    return None if v is None else max(0.0, float(v))


def holders(engine: Engine) -> dict[int, int]:
    """Endpoint id -> watcher id of every unexpired lease (PostgreSQL)."""
    le = t.leases
    with engine.connect() as conn:
        rows = conn.execute(select(le.c.endpoint_id, le.c.holder)
                            .where(le.c.holder.is_not(None), le.c.expires_at >= db_now())).all()
    return {int(e): int(h) for e, h in rows}


@dataclass
class FenceCheck:
    """What a fenced write carries: the writer's watcher id and the fence of each endpoint it writes for.
    ``refused`` collects the endpoint ids whose rows were dropped as stale by the last write."""

    holder: int
    fences: dict[int, int]
    refused: set[int] = field(default_factory=set)


def stale_endpoints(conn: Connection, check: FenceCheck, endpoint_ids: set[int]) -> set[int]:
    """Of ``endpoint_ids``, those whose lease is no longer ``check``'s (other holder or a newer fence).

    Runs inside the writing transaction and locks the lease rows (FOR SHARE): a concurrent claim waits
    until this write commits, so a write that passes the check cannot land after a takeover.
    """
    if not endpoint_ids:
        return set()
    le = t.leases
    rows = conn.execute(select(le.c.endpoint_id, le.c.holder, le.c.fence)
                        .where(le.c.endpoint_id.in_(sorted(endpoint_ids))).with_for_update(read=True)).all()
    current = {int(e) for e, h, f in rows if h == check.holder and int(f) == check.fences.get(int(e))}
    return set(endpoint_ids) - current
