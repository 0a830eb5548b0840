"""Engine creation and schema upgrade. SQLite gets WAL + busy timeout; any SQLAlchemy URL works."""

from __future__ import annotations

import time
from collections.abc import Callable

from loguru import logger
from sqlalchemy import Engine, create_engine, event, inspect, select, text
from sqlalchemy.exc import SQLAlchemyError

from app.errors import InputError
from app.storage import tables as t

__all__ = ["make_engine", "upgrade_schema", "MIGRATIONS"]


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
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
        raise InputError(f"cannot open database URL: {type(exc).__name__}: {str(exc).splitlines()[0]}") from exc
    return eng


def _add_column_if_missing(table: str, column: str, ddl_type: str) -> Callable[[Engine], None]:
    def _do(engine: Engine) -> None:
        cols = {c["name"] for c in inspect(engine).get_columns(table)}
        if column not in cols:
            with engine.begin() as conn:
                conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {ddl_type}"))
    return _do


# version reached -> step that brings a database from (version - 1) to version
MIGRATIONS: dict[int, Callable[[Engine], None]] = {
    2: lambda e: (_add_column_if_missing("endpoints", "model_name", "VARCHAR(256)")(e),
                  _add_column_if_missing("reports", "incident_id", "INTEGER")(e)) and None,
}


def upgrade_schema(engine: Engine) -> int:
    """Create missing tables, then run migrations from the recorded version up to SCHEMA_VERSION."""
    try:
        t.metadata.create_all(engine)
        with engine.begin() as conn:
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
            MIGRATIONS[version](engine)
            with engine.begin() as conn:
                conn.execute(t.meta.update().where(t.meta.c.key == "schema_version").values(value=str(version)))
        return t.SCHEMA_VERSION
    except SQLAlchemyError as exc:
        raise InputError(f"database unusable: {str(exc).splitlines()[0]}") from exc
