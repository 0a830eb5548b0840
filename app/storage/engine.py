"""Engine creation and schema upgrade. SQLite gets WAL + busy timeout; any SQLAlchemy URL works."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from loguru import logger
from sqlalchemy import Connection, Engine, create_engine, event, inspect, select, text
from sqlalchemy.exc import SQLAlchemyError

from app.errors import InputError
from app.storage import tables as t

__all__ = ["MIGRATIONS", "make_engine", "upgrade_schema"]

Bind = Engine | Connection
_PG_LOCK_KEY = 0x6D6C6669   # "mlfi": PostgreSQL advisory lock that serialises schema creation/upgrade


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA auto_vacuum=INCREMENTAL")   # takes effect on a new file only: retention frees pages
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")   # WAL+NORMAL: a committed txn survives a process kill
    cur.execute("PRAGMA busy_timeout=15000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def make_engine(url: str) -> Engine:
    """Create an engine for ``url``; SQLite connections are configured for WAL and concurrency."""
    try:
        if url.startswith("sqlite"):
            eng = create_engine(url, connect_args={"timeout": 15, "check_same_thread": False},
                                pool_pre_ping=False)
            event.listen(eng, "connect", _sqlite_pragmas)
        else:
            eng = create_engine(url, pool_pre_ping=True, future=True)
    except (SQLAlchemyError, ValueError, ImportError) as exc:
        hint = ""
        if isinstance(exc, ImportError) and url.startswith("postgresql"):
            hint = " (PostgreSQL needs its driver: pip install 'psycopg[binary]' and a postgresql+psycopg:// URL)"
        raise InputError(f"cannot open database URL: {type(exc).__name__}: {str(exc).splitlines()[0]}{hint}") from exc
    return eng


@contextmanager
def _tx(bind: Bind) -> Iterator[Connection]:
    """A transaction on an engine, or the caller's connection (already inside its transaction)."""
    if isinstance(bind, Connection):
        yield bind
    else:
        with bind.begin() as conn:
            yield conn


def _add_column_if_missing(table: str, column: str, ddl_type: str) -> Callable[[Bind], None]:
    def _do(bind: Bind) -> None:
        cols = {c["name"] for c in inspect(bind).get_columns(table)}
        if column not in cols:
            with _tx(bind) as conn:
                conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {ddl_type}"))
    return _do


# version 3: free-text columns are TEXT and endpoint names/URLs VARCHAR(2048). Only PostgreSQL (of the
# databases tested) enforces declared lengths, so only there do existing columns need widening.
_WIDENED = (("endpoints", "name", "VARCHAR(2048)"), ("endpoints", "label_column", "TEXT"),
            ("endpoints", "model_name", "TEXT"), ("samples", "prediction", "TEXT"), ("samples", "label", "TEXT"),
            ("recommendations", "decided_by", "TEXT"), ("audit_log", "actor", "TEXT"), ("diagnoses", "team", "TEXT"))


def _widen_columns(bind: Bind) -> None:
    with _tx(bind) as conn:
        if conn.dialect.name == "postgresql":
            for table, column, ddl_type in _WIDENED:
                conn.execute(text(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {ddl_type}"))


def _v2(bind: Bind) -> None:
    _add_column_if_missing("endpoints", "model_name", "VARCHAR(256)")(bind)
    _add_column_if_missing("reports", "incident_id", "INTEGER")(bind)


def _v4(bind: Bind) -> None:
    _add_column_if_missing("incidents", "change_point_at", "FLOAT")(bind)
    _add_column_if_missing("incidents", "detection_delay_samples", "INTEGER")(bind)


# version reached -> step that brings a database from (version - 1) to version
MIGRATIONS: dict[int, Callable[[Bind], None]] = {2: _v2, 3: _widen_columns, 4: _v4}


def _upgrade(bind: Bind) -> int:
    t.metadata.create_all(bind)
    with _tx(bind) as conn:
        row = conn.execute(select(t.meta.c.value).where(t.meta.c.key == "schema_version")).first()
        current = int(row[0]) if row else None
        if current is None:
            # brand-new database: tables were created at the newest version
            has_data = conn.execute(select(t.endpoints.c.id).limit(1)).first() is not None
            current = 1 if has_data else t.SCHEMA_VERSION
            conn.execute(t.meta.insert().values(key="schema_version", value=str(current)))
            conn.execute(t.meta.insert().values(key="created_at", value=str(time.time())))
    for version in range(current + 1, t.SCHEMA_VERSION + 1):
        logger.info(f"upgrading database schema to version {version}")
        MIGRATIONS[version](bind)
        with _tx(bind) as conn:
            conn.execute(t.meta.update().where(t.meta.c.key == "schema_version").values(value=str(version)))
    return t.SCHEMA_VERSION


def upgrade_schema(engine: Engine) -> int:
    """Create missing tables, then run migrations from the recorded version up to SCHEMA_VERSION.

    On PostgreSQL all of it is one transaction under an advisory lock: processes that start together
    on an empty database wait for each other instead of failing on each other's CREATE TABLE, and a
    failed upgrade leaves the schema as it was (DDL is transactional there).
    """
    try:
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
                return _upgrade(conn)
        return _upgrade(engine)
    except SQLAlchemyError as exc:
        raise InputError(f"database unusable: {str(exc).splitlines()[0]}") from exc
