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
    """An endpoint cannot be reached or does not speak a protocol we know."""


class BaselineMissingError(MlfiError):
    """No stored baseline exists for the endpoint being analysed."""


class NotFoundError(MlfiError):
    """A referenced object (recommendation, endpoint, incident) does not exist."""


class ConflictError(MlfiError):
    """The operation conflicts with stored state (e.g. a recommendation already decided)."""


class AuditIntegrityError(MlfiError):
    """The audit log cannot be read or its hash chain is broken."""
