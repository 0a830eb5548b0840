"""Read-only access to a SQLite state directory the user cannot write (a read-only mount, another owner)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

__all__ = ["readonly_engine", "unwritable_sqlite_file"]


def unwritable_sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite ``url`` when it exists but this process cannot write it or its
    directory (where SQLite keeps its -wal/-shm files); else None.

    >>> unwritable_sqlite_file("postgresql://h/db") is None, unwritable_sqlite_file("sqlite:///:memory:") is None
    (True, True)
    """
    if not url.startswith("sqlite"):
        return None
    db = make_url(url).database
    if not db or db == ":memory:":
        return None
    p = Path(db)
    if not p.is_file():
        return None
    return None if os.access(p, os.W_OK) and os.access(p.parent, os.W_OK) else p


def _connect(path: Path) -> sqlite3.Connection:
    """``mode=ro``; when SQLite cannot open it so (a WAL database whose -shm file it may not create),
    ``immutable=1``: nobody can write this directory, so nothing changes under the reader."""
    uri = path.resolve().as_uri()
    try:
        con = sqlite3.connect(f"{uri}?mode=ro", uri=True, check_same_thread=False, timeout=15)
        con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return con
    except sqlite3.OperationalError:
        return sqlite3.connect(f"{uri}?immutable=1", uri=True, check_same_thread=False)


def readonly_engine(path: Path) -> Engine:
    """An engine whose connections read ``path`` and never write (schema upgrades are skipped)."""
    eng = create_engine("sqlite://", creator=lambda: _connect(path))

    @event.listens_for(eng, "connect")
    def _pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.execute("PRAGMA query_only=ON")

    return eng
