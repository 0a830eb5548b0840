"""Storage: SQLAlchemy Core over SQLite (WAL) by default or any URL; the only code touching the database."""

from app.storage.endpoints import Endpoint
from app.storage.store import Store

__all__ = ["Endpoint", "Store"]
