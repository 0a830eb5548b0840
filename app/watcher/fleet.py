"""Every watcher known to the database, and which one holds each endpoint (status, endpoint list, dashboard)."""

from __future__ import annotations

import socket
import time
from typing import Any

from app.config import Settings
from app.storage import Store
from app.storage import leases as L
from app.storage.errors import DatabaseError
from app.watcher.control import default_max_age, pid_alive

__all__ = ["endpoint_holders", "watcher_rows"]


def _alive(row: dict[str, Any], max_age_s: float, now: float) -> bool:
    if row.get("status") != "running" or now - float(row["last_beat"]) > max_age_s:
        return False
    return row.get("host") != socket.gethostname() or pid_alive(row.get("pid"))


def watcher_rows(settings: Settings, store: Store, *, now: float | None = None) -> list[dict[str, Any]]:
    """One entry per watcher process in the database, newest first (``[]`` on a database without the table).

    ``alive``: says running, beat within the liveness limit, and (on this host) its pid exists; a row
    that says running but is not alive was killed (``status`` ``died``).
    """
    now = time.time() if now is None else now
    try:
        rows = L.list_watchers(store.engine)
    except DatabaseError:          # an older database opened read-only: no watchers table yet
        return []
    max_age = max(default_max_age(settings), float(settings.lease_ttl_s))
    out = []
    for r in rows:
        alive = _alive(r, max_age, now)
        status = "died" if r["status"] == "running" and not alive else r["status"]
        out.append({"id": int(r["id"]), "host": r["host"], "pid": int(r["pid"]), "alive": alive, "status": status,
                    "endpoints": int(r["endpoints_held"] or 0) if alive else 0,
                    "heartbeat_age_s": round(max(0.0, now - float(r["last_beat"])), 3),
                    "probes_per_minute": r["probes_per_minute"] if alive else None,
                    "started_at": r["started_at"], "last_beat": r["last_beat"]})
    return out


def endpoint_holders(settings: Settings, store: Store, watchers: list[dict[str, Any]] | None = None,
                     ) -> dict[int, dict[str, Any]]:
    """Endpoint id -> the live watcher holding it (``id``, ``host``, ``pid``).

    On PostgreSQL from the unexpired leases; on SQLite the one live watcher holds every enabled endpoint.
    """
    ws = watchers if watchers is not None else watcher_rows(settings, store)
    live = {w["id"]: {"id": w["id"], "host": w["host"], "pid": w["pid"]} for w in ws if w["alive"]}
    if not live:
        return {}
    try:
        if L.supports_leases(store.engine):
            return {eid: live[wid] for eid, wid in L.holders(store.engine).items() if wid in live}
        one = next(iter(live.values()))
        return {ep.id: one for ep in store.list_endpoints(enabled_only=True) if ep.probed}
    except DatabaseError:
        return {}
