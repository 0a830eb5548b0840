"""The database error callers outside storage may catch (keep the batch, retry, record the failure)."""

from sqlalchemy.exc import SQLAlchemyError as DatabaseError

__all__ = ["DatabaseError", "StaleClaimError"]


class StaleClaimError(RuntimeError):
    """A write carried a lease or job claim that another watcher has since taken over (fencing)."""
