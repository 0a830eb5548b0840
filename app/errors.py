"""Typed errors raised at the boundaries of the core; the CLI turns them into one line + exit 2."""

from __future__ import annotations

__all__ = [
    "LINE_MAX",
    "AuditIntegrityError",
    "BaselineMissingError",
    "ConflictError",
    "EndpointError",
    "InputError",
    "MlfiError",
    "NotFoundError",
    "one_line",
    "shown",
]

SHOWN_MAX = 80      # an echoed value is cut to this many characters
LINE_MAX = 300      # a whole error line is cut to this many characters


def shown(value: object, limit: int = SHOWN_MAX) -> str:
    """``value`` quoted for an error message, cut to ``limit`` characters with an ellipsis.

    >>> shown("abc"), shown("x" * 100)[-3:], len(shown("x" * 100))
    ("'abc'", "x…'", 83)
    """
    text = str(value)
    return repr(text if len(text) <= limit else text[:limit] + "…")


def one_line(message: str, limit: int = LINE_MAX) -> str:
    """The first line of ``message``, cut to ``limit`` characters (the CLI's last guard).

    >>> one_line("a\\nb"), len(one_line("y" * 1000))
    ('a', 300)
    """
    first = message.splitlines()[0] if message else ""
    return first if len(first) <= limit else first[: limit - 1] + "…"


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
