"""The database error callers outside storage may catch (keep the batch, retry, record the failure)."""

from sqlalchemy.exc import SQLAlchemyError as DatabaseError

__all__ = ["DatabaseError"]
