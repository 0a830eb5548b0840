"""Typed errors raised at the boundaries of the core; the CLI turns them into one line + exit 2."""

from __future__ import annotations

__all__ = [
    "MlfiError",
    "InputError",
    "EndpointError",
    "BaselineMissingError",
    "NotFoundError",
    "ConflictError",
    "AuditIntegrityError",
]


class MlfiError(Exception):
    """Root of every error mlfi raises on purpose."""

    exit_code = 2


class InputError(MlfiError):
    """The user gave input that cannot be used (bad file, bad flag value, missing column)."""


class EndpointError(MlfiError):
    """An endpoint cannot be reached or does not speak a protocol we know.

    ``kind`` is the probe fault behind it when one is known (``connection_error``, ``timeout``, ...), so a
    caller that records faults as data keeps the real kind.
    """

    def __init__(self, message: str = "", *, kind: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind


class BaselineMissingError(MlfiError):
    """No stored baseline exists for the endpoint being analysed."""


class NotFoundError(MlfiError):
    """A referenced object (recommendation, endpoint, incident) does not exist."""


class ConflictError(MlfiError):
    """The operation conflicts with stored state (e.g. a recommendation already decided)."""


class AuditIntegrityError(MlfiError):
    """The audit log cannot be read or its hash chain is broken."""
