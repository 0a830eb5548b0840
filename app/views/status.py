"""Endpoint status (healthy / warning / failing / unreachable / stopped / pending) and watcher liveness."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from app.config import Settings
from app.storage import Store
from app.watcher.control import is_alive

__all__ = [
    "STATUSES",
    "UNREACHABLE_AFTER",
    "UNREACHABLE_KINDS",
    "WatcherInfo",
    "endpoint_status",
    "heartbeat_alive",
    "watcher_info",
]

# worst first; "pending" = monitored but no verdict yet (no baseline / no analysis so far)
STATUSES = ("failing", "unreachable", "warning", "pending", "healthy", "stopped")
UNREACHABLE_KINDS = ("connection_error", "timeout")
UNREACHABLE_AFTER = 3  # consecutive failed probes before an endpoint counts as unreachable / failing


def endpoint_status(*, enabled: bool, last_status: str | None, consecutive_failures: int | None,
                    latest_alert: bool | None, latest_severity: str | None) -> str:
    """Status of one endpoint from its stored probe state and its latest report.

    Parameters
    ----------
    enabled : bool
        Whether monitoring is switched on for the endpoint.
    last_status : str or None
        ``"ok"`` or the error kind of the last probe.
    consecutive_failures : int or None
        Failed probes in a row.
    latest_alert, latest_severity : bool or None, str or None
        From the newest stored report (``None`` when there is none).

    Examples
    --------
    >>> endpoint_status(enabled=False, last_status="ok", consecutive_failures=0, latest_alert=True,
    ...                 latest_severity="high")
    'stopped'
    >>> endpoint_status(enabled=True, last_status="connection_error", consecutive_failures=5,
    ...                 latest_alert=False, latest_severity="none")
    'unreachable'
    >>> endpoint_status(enabled=True, last_status="http_error", consecutive_failures=4,
    ...                 latest_alert=False, latest_severity="none")
    'failing'
    >>> endpoint_status(enabled=True, last_status="ok", consecutive_failures=0, latest_alert=True,
    ...                 latest_severity="critical")
    'failing'
    >>> endpoint_status(enabled=True, last_status="ok", consecutive_failures=0, latest_alert=True,
    ...                 latest_severity="medium")
    'warning'
    >>> endpoint_status(enabled=True, last_status="timeout", consecutive_failures=1, latest_alert=False,
    ...                 latest_severity="none")
    'warning'
    >>> endpoint_status(enabled=True, last_status=None, consecutive_failures=0, latest_alert=None,
    ...                 latest_severity=None)
    'pending'
    >>> endpoint_status(enabled=True, last_status="ok", consecutive_failures=0, latest_alert=False,
    ...                 latest_severity="none")
    'healthy'
    """
    if not enabled:
        return "stopped"
    fails = int(consecutive_failures or 0)
    if fails >= UNREACHABLE_AFTER and last_status and last_status != "ok":
        return "unreachable" if last_status in UNREACHABLE_KINDS else "failing"
    if latest_alert and latest_severity in ("high", "critical"):
        return "failing"
    if latest_alert or fails > 0:
        return "warning"
    if latest_alert is None:
        return "pending"
    return "healthy"


def heartbeat_alive(state: dict[str, Any] | None, *, now: float, heartbeat_every_s: float) -> bool:
    """Whether a watcher heartbeat row describes a live watcher (recent beat, status running).

    >>> heartbeat_alive({"status": "running", "last_beat": 100.0}, now=104.0, heartbeat_every_s=2.0)
    True
    >>> heartbeat_alive({"status": "running", "last_beat": 100.0}, now=130.0, heartbeat_every_s=2.0)
    False
    >>> heartbeat_alive({"status": "stopped", "last_beat": 100.0}, now=100.5, heartbeat_every_s=2.0)
    False
    >>> heartbeat_alive(None, now=1.0, heartbeat_every_s=2.0)
    False
    """
    if not state or state.get("status") != "running" or state.get("last_beat") is None:
        return False
    return now - float(state["last_beat"]) <= max(5.0 * heartbeat_every_s, 10.0)


@dataclass(frozen=True)
class WatcherInfo:
    """What the dashboard shows about the background watcher (read from the database heartbeat)."""

    alive: bool
    status: str | None
    desired: str | None
    pid: int | None
    last_beat_age_s: float | None
    cycles: int | None
    started_at: float | None


def watcher_info(store: Store, settings: Settings, *, now: float | None = None) -> WatcherInfo:
    """Watcher state from the heartbeat row; liveness from ``app.watcher.control.is_alive``."""
    now = time.time() if now is None else now
    state = store.watcher_state()
    alive = bool(is_alive(store, settings))
    st = state or {}
    beat = st.get("last_beat")
    status = "died" if st.get("status") == "running" and not alive else st.get("status")   # killed, not stopped
    return WatcherInfo(alive=alive, status=status, desired=st.get("desired"), pid=st.get("pid"),
                       last_beat_age_s=None if beat is None else max(0.0, now - float(beat)),
                       cycles=st.get("cycles"), started_at=st.get("started_at"))

