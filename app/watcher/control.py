"""Start, stop and inspect the background watcher through the database (heartbeat + desired state)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from app.config import REPO_ROOT, Settings
from app.errors import MlfiError
from app.storage import Store

__all__ = [
    "WATCHER_LOG_NAME",
    "default_max_age",
    "is_alive",
    "pid_alive",
    "start_background",
    "stop_background",
    "watcher_status",
]

WATCHER_LOG_NAME = "watcher.out"


def pid_alive(pid: int | None) -> bool:
    """True when a process with this pid exists on this host and is not a zombie."""
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _looks_like_watcher(pid: int) -> bool:
    """Guard against pid reuse: only signal a process whose command line is an mlfi watcher."""
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True   # no /proc (not Linux): trust the heartbeat
    words = [c.decode(errors="replace") for c in cmd if c]
    return "watch" in words and any(w == "app" or w.endswith("mlfi") for w in words)


def default_max_age(settings: Settings) -> float:
    """How old a heartbeat may be for the watcher to count as alive."""
    return 3.0 * settings.heartbeat_every_s + 5.0


def is_alive(store: Store, max_age_s: float | Settings | None = None) -> bool:
    """True when the heartbeat says running, is recent, and (on this host) its pid is alive."""
    if isinstance(max_age_s, Settings):
        max_age_s = default_max_age(max_age_s)
    max_age = 11.0 if max_age_s is None else float(max_age_s)
    st = store.watcher_state()
    if not st or st.get("status") != "running" or st.get("last_beat") is None:
        return False
    if time.time() - float(st["last_beat"]) > max_age:
        return False
    if st.get("host") and st["host"] != socket.gethostname():
        return True   # another machine: the heartbeat age is all we can check
    return pid_alive(st.get("pid"))


def died_status(stored: str | None, alive: bool) -> str | None:
    """The watcher's status as shown: ``died`` when the heartbeat row still says running but the process is
    gone (killed, crashed: a clean stop writes ``stopped``); else the stored status. Its last heartbeat is
    when it died.

    >>> died_status("running", False), died_status("running", True), died_status("stopped", False)
    ('died', 'running', 'stopped')
    """
    return "died" if stored == "running" and not alive else stored


def watcher_status(settings: Settings, store: Store) -> dict[str, Any]:
    """Heartbeat, desired state, liveness and the running totals (for `mlfi watcher status --json`)."""
    from app.storage.leases import supports_leases
    from app.storage.watcher import load_stats
    from app.watcher.fleet import watcher_rows

    st = store.watcher_state() or {}
    beat = st.get("last_beat")
    eps = store.list_endpoints()
    watchers = watcher_rows(settings, store)
    # several watchers (PostgreSQL) share the singleton heartbeat row: any live one makes the service alive
    alive = is_alive(store, settings) or any(w["alive"] for w in watchers)
    return {
        "alive": alive,
        "pid": st.get("pid"),
        "host": st.get("host"),
        "status": died_status(st.get("status"), alive) or "never_started",
        "died_at": beat if died_status(st.get("status"), alive) == "died" else None,
        "desired": st.get("desired"),
        "started_at": st.get("started_at"),
        "last_beat": beat,
        "heartbeat_age_s": None if beat is None else round(time.time() - float(beat), 3),
        "cycles": st.get("cycles"),
        "endpoints_total": len(eps),
        "endpoints_enabled": sum(1 for e in eps if e.enabled),
        "stats": load_stats(store.engine),
        "log": str(settings.log_dir / WATCHER_LOG_NAME),
        "mode": "leases" if supports_leases(store.engine) else "single",
        "lease_ttl_s": settings.lease_ttl_s,
        "watchers": watchers,
    }


def _child_env(settings: Settings) -> dict[str, str]:
    """The caller's environment plus this Settings object, so the child sees the same configuration."""
    env = dict(os.environ)
    for name, value in settings.model_dump().items():
        if value is not None and isinstance(value, (str, int, float, bool, Path)):
            env[f"MLFI_{name.upper()}"] = str(value)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def start_background(settings: Settings, *, wait_s: float = 15.0) -> int:
    """Spawn ``python -m app watch`` detached (own session, output to the state log dir); returns its pid.

    Records desired=running. When a live watcher exists its pid is returned and nothing is spawned.
    With ``wait_s`` > 0, waits for the first heartbeat and raises MlfiError if the child died.
    """
    settings.ensure_dirs()
    store = Store.from_settings(settings)
    try:
        st = store.watcher_state()
        if is_alive(store, settings) and st:
            return int(st["pid"])
        store.set_watcher_desired("running")
        log = settings.log_dir / WATCHER_LOG_NAME
        # sh starts the watcher in the background and exits: the watcher is re-parented (no zombie here)
        script = 'log="$1"; shift; "$@" >>"$log" 2>&1 </dev/null & echo $!'
        cmd = ["/bin/sh", "-c", script, "sh", str(log), sys.executable, "-m", "app", "watch"]
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, env=_child_env(settings),
                                 start_new_session=True, timeout=30, check=True)
            pid = int(out.stdout.strip().splitlines()[-1])
        except (OSError, subprocess.SubprocessError, ValueError, IndexError) as exc:
            raise MlfiError(f"could not start the watcher: {type(exc).__name__}: {exc}") from exc
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            st = store.watcher_state() or {}
            if st.get("pid") == pid and st.get("status") == "running":
                return pid
            if not pid_alive(pid):
                tail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
                raise MlfiError(f"the watcher exited at start: {tail[0] if tail else 'see ' + str(log)}")
            time.sleep(0.2)
        return pid
    finally:
        store.dispose()


def stop_background(settings: Settings, store: Store | None = None, *, timeout_s: float = 20.0) -> bool:
    """Set desired=stopped and SIGTERM the watcher from the heartbeat; True once it has stopped."""
    own = store is None
    st_store = store or Store.from_settings(settings)
    try:
        st_store.set_watcher_desired("stopped")
        st = st_store.watcher_state() or {}
        pid = st.get("pid")
        local = not st.get("host") or st.get("host") == socket.gethostname()
        if not pid or not local:
            return not is_alive(st_store, settings)
        if st.get("status") == "running" and pid_alive(pid) and _looks_like_watcher(int(pid)):
            try:
                os.kill(int(pid), signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                return True
            time.sleep(0.1)
        return not pid_alive(pid)
    finally:
        if own:
            st_store.dispose()
