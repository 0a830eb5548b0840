"""SQLite keeps one watcher: an exclusive lock file next to the database, held for the watcher's life.

The operating system drops the lock when the process ends, however it ends, so a dead watcher's
stale heartbeat never blocks a new start; a live one makes the second `mlfi watch` refuse with one line.
"""

from __future__ import annotations

import os
from typing import IO, Any

from app.errors import ConflictError
from app.storage import Store

__all__ = ["ONE_WATCHER_HINT", "refusal", "sqlite_watcher_lock"]

ONE_WATCHER_HINT = ("SQLite allows one watcher; to run several, keep the state on PostgreSQL "
                    "(MLFI_DATABASE_URL=postgresql+psycopg://...)")


def refusal(pid: Any) -> ConflictError:
    """The one line a second watcher on SQLite exits with (exit 2)."""
    who = f" (pid {pid})" if pid else ""
    return ConflictError(f"a watcher is already running on this SQLite database{who}: {ONE_WATCHER_HINT}, "
                         "or add endpoints to the running one with `mlfi endpoints add URL`")


def sqlite_watcher_lock(store: Store) -> IO[bytes] | None:
    """Take the watcher lock of a SQLite database file; returns the open lock file (keep it open).

    Returns None for other databases (and in-memory SQLite). Raises ConflictError when another
    process holds the lock.
    """
    url = store.engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    try:
        import fcntl
    except ImportError:        # not a POSIX system: the heartbeat check is all there is
        return None
    fh = open(f"{url.database}.watcher.lock", "a+b")   # noqa: SIM115 - held open for the watcher's life
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        st = store.watcher_state() or {}
        raise refusal(st.get("pid")) from None
    fh.seek(0)
    fh.truncate()
    fh.write(str(os.getpid()).encode())
    fh.flush()
    return fh
