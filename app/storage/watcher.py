"""Watcher rows: heartbeat and desired state, batched sample writes with probe status, stats, report times."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, bindparam, func, select
from sqlalchemy.exc import IntegrityError

from app.schemas import Sample
from app.storage import tables as t
from app.storage.leases import FenceCheck, stale_endpoints
from app.storage.samples import SamplesMixin

__all__ = ["STATS_KEY", "ProbeStatus", "WatcherMixin", "last_report_times", "load_stats", "save_stats", "write_batch"]

STATS_KEY = "watcher_stats"


@dataclass(frozen=True)
class ProbeStatus:
    """The endpoint columns updated after a probe: when, how it went, consecutive failures."""

    endpoint_id: int
    ts: float
    status: str
    failures: int


def _insert(conn: Any, rows: list[dict[str, Any]], statuses: list[ProbeStatus],
            fence: FenceCheck | None = None) -> int:
    if fence is not None:      # leases: drop what this watcher no longer holds, in this transaction
        fence.refused = stale_endpoints(conn, fence, {r["endpoint_id"] for r in rows}
                                        | {s.endpoint_id for s in statuses})
        if fence.refused:
            rows = [r for r in rows if r["endpoint_id"] not in fence.refused]
            statuses = [s for s in statuses if s.endpoint_id not in fence.refused]
    if rows:
        conn.execute(t.samples.insert(), rows)
    if statuses:
        stmt = (t.endpoints.update().where(t.endpoints.c.id == bindparam("eid"))
                .values(last_probe_at=bindparam("ts"), last_status=bindparam("st"),
                        consecutive_failures=bindparam("nf")))
        conn.execute(stmt, [{"eid": s.endpoint_id, "ts": s.ts, "st": s.status, "nf": s.failures}
                            for s in statuses])
    return len(rows)


def write_batch(engine: Engine, samples: list[tuple[int, Sample]], statuses: list[ProbeStatus], *,
                keep_inputs: bool = True, fence: FenceCheck | None = None) -> int:
    """Write samples (with their endpoint ids) and probe statuses in ONE transaction; returns samples written.

    ``keep_inputs=False`` (``MLFI_STORE_INPUTS=none``) writes the samples without their feature values.

    With ``fence`` (PostgreSQL leases) the rows of endpoints whose lease moved on (another holder, a newer
    fencing number) are refused in the same transaction: their ids end up in ``fence.refused``.

    Samples of endpoints deleted meanwhile are dropped (not an error); any other database error
    propagates with nothing written, so the caller can keep the batch and retry.
    """
    if not samples and not statuses:
        return 0
    rows = [SamplesMixin.sample_row(eid, s, keep_inputs=keep_inputs) for eid, s in samples]
    try:
        with engine.begin() as conn:
            return _insert(conn, rows, statuses, fence)
    except IntegrityError:
        ids = {eid for eid, _ in samples} | {s.endpoint_id for s in statuses}
        with engine.begin() as conn:
            alive = {int(r[0]) for r in conn.execute(select(t.endpoints.c.id).where(t.endpoints.c.id.in_(ids)))}
            keep_rows = [r for r in rows if r["endpoint_id"] in alive]
            return _insert(conn, keep_rows, [s for s in statuses if s.endpoint_id in alive], fence)


def save_stats(engine: Engine, payload: dict[str, Any]) -> None:
    """Store the watcher's running totals (one JSON document in the ``meta`` table)."""
    raw = json.dumps(payload, default=str, separators=(",", ":"))
    with engine.begin() as conn:
        n = conn.execute(t.meta.update().where(t.meta.c.key == STATS_KEY).values(value=raw)).rowcount
        if not n:
            conn.execute(t.meta.insert().values(key=STATS_KEY, value=raw))


def load_stats(engine: Engine) -> dict[str, Any] | None:
    with engine.connect() as conn:
        raw = conn.execute(select(t.meta.c.value).where(t.meta.c.key == STATS_KEY)).scalar()
    return json.loads(raw) if raw else None


def last_report_times(engine: Engine) -> dict[int, float]:
    """Time of the newest stored report per endpoint id (one grouped, indexed query)."""
    with engine.connect() as conn:
        rows = conn.execute(select(t.reports.c.endpoint_id, func.max(t.reports.c.ts))
                            .group_by(t.reports.c.endpoint_id)).all()
    return {int(eid): float(ts) for eid, ts in rows if ts is not None}


class WatcherMixin:
    """Store methods over the singleton ``watcher`` row: heartbeat, state, desired state (control)."""

    engine: Engine

    def _write_watcher(self, insert: dict[str, Any], update: dict[str, Any]) -> None:
        """Insert the singleton watcher row or update it (a concurrent first insert is retried as an update)."""
        for attempt in (1, 2):
            try:
                with self.engine.begin() as conn:
                    row = conn.execute(select(t.watcher.c.id).where(t.watcher.c.id == 1)).first()
                    if row is None:
                        conn.execute(t.watcher.insert().values(id=1, **insert))
                    else:
                        conn.execute(t.watcher.update().where(t.watcher.c.id == 1).values(**update))
                return
            except IntegrityError:
                if attempt == 2:
                    raise

    def heartbeat(self, *, pid: int, status: str, host: str = "", started_at: float | None = None,
                  cycles: int | None = None) -> None:
        vals: dict[str, Any] = {"pid": pid, "status": status, "last_beat": time.time(), "host": host}
        if started_at is not None:
            vals["started_at"] = started_at
        if cycles is not None:
            vals["cycles"] = cycles
        self._write_watcher({"desired": "running", **vals}, vals)

    def watcher_state(self) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.watcher).where(t.watcher.c.id == 1)).mappings().first()
        return dict(row) if row else None

    def set_watcher_desired(self, desired: str) -> None:
        self._write_watcher({"desired": desired, "status": "stopped"}, {"desired": desired})
