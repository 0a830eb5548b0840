"""API tokens: names, scopes, generation and checking. Only the sha256 of a token is ever stored."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from app.errors import InputError
from app.storage.tokens import TokenRow, find_token, insert_token

__all__ = ["SCOPES", "check_token", "grants", "issue_token", "parse_name", "parse_scopes", "token_sha256"]

SCOPES = ("read", "ingest", "approve", "admin")
PREFIX = "mlfi_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")


def parse_name(name: str) -> str:
    """A token name: 1-64 letters, digits, ``_.@-`` (it is the audit actor, so it stays readable).

    >>> parse_name("ci-bot")
    'ci-bot'
    """
    if not _NAME.match(name or ""):
        raise InputError(f"bad token name {name[:40]!r}: use 1-64 letters, digits and _.@- (starting with a letter or digit)")
    return name


def parse_scopes(text: str) -> tuple[str, ...]:
    """``"read,ingest"`` -> ``('ingest', 'read')``; an unknown or empty scope is an InputError.

    >>> parse_scopes("read, admin,read")
    ('admin', 'read')
    """
    parts = {p.strip().lower() for p in (text or "").split(",") if p.strip()}
    bad = sorted(parts - set(SCOPES))
    if bad or not parts:
        raise InputError(f"bad scopes {text[:60]!r}: choose from {', '.join(SCOPES)} (comma-separated)")
    return tuple(sorted(parts))


def grants(scopes: tuple[str, ...], needed: str) -> bool:
    """``admin`` implies every scope.

    >>> grants(("admin",), "approve"), grants(("read",), "ingest"), grants(("read",), "read")
    (True, False, True)
    """
    return needed in scopes or "admin" in scopes


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def issue_token(engine: object, name: str, scopes: tuple[str, ...]) -> str:
    """Create and store a token (256 random bits); returns the secret, which is shown once and never stored."""
    token = PREFIX + secrets.token_urlsafe(32)
    insert_token(engine, parse_name(name), scopes, token_sha256(token))  # type: ignore[arg-type]
    return token


def check_token(engine: object, token: str) -> TokenRow | None:
    """The active token row for a presented bearer token, or None (unknown, malformed or revoked).

    The row is found by its hash (an index lookup on a sha256 reveals nothing about the secret through
    timing); the hashes are then compared once more in constant time.
    """
    if not token or len(token) > 200:
        return None
    digest = token_sha256(token)
    row = find_token(engine, digest)  # type: ignore[arg-type]
    if row is None or not row.active or not hmac.compare_digest(row.token_sha256, digest):
        return None
    return row
