"""Transactions for governance writes: `locked` holds the database write lock, `reading` is a plain read."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine

if TYPE_CHECKING:
    from app.storage.store import Store

__all__ = ["Tx", "dialect_of", "locked", "reading"]

Tx = Connection     # an open transaction handed to the storage functions; callers never look inside


def _engine(where: Store | Engine) -> Engine:
    return where if isinstance(where, Engine) else where.engine


@contextmanager
def locked(where: Store | Engine) -> Iterator[Tx]:
    """A write transaction that holds the database write lock from its first statement.

    SQLite: ``BEGIN IMMEDIATE`` (waits on the busy timeout instead of failing on a stale read
    snapshot); PostgreSQL: an exclusive lock on ``audit_log``. This serialises audit appends and
    decisions across processes; the conditional UPDATE in decisions is what makes them exactly-once.
    """
    with _engine(where).begin() as conn:
        dialect = conn.dialect.name
        if dialect == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif dialect == "postgresql":
            conn.exec_driver_sql("LOCK TABLE audit_log IN EXCLUSIVE MODE")
        yield conn


@contextmanager
def reading(where: Store | Engine) -> Iterator[Tx]:
    """A read-only connection (one snapshot per statement; nothing is written)."""
    with _engine(where).connect() as conn:
        yield conn


def dialect_of(tx: Tx) -> str:
    """The database dialect name of an open transaction (``sqlite``, ``postgresql``, ...)."""
    return str(tx.dialect.name)
