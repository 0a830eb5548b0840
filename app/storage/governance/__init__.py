"""Governance rows: recommendations, incidents, audit log, sensitivity, and the locked transaction."""

from app.storage.governance.tx import Tx, locked, reading

__all__ = ["Tx", "locked", "reading"]
