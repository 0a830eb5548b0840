"""API token rows: only a token's sha256 is stored; lookups by hash, revocation keeps the row (audit trail)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from app.errors import ConflictError, NotFoundError
from app.storage import tables as t

__all__ = ["TokenRow", "find_token", "insert_token", "list_tokens", "revoke_token", "touch_token"]


@dataclass(frozen=True)
class TokenRow:
    """A stored token without its secret: name, scopes, creation/revocation/last-use times."""

    name: str
    scopes: tuple[str, ...]
    created_at: float
    revoked_at: float | None
    last_used_at: float | None
    token_sha256: str

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _row(r: object) -> TokenRow:
    m = r._mapping  # type: ignore[attr-defined]
    return TokenRow(name=m["name"], scopes=tuple(s for s in m["scopes"].split(",") if s),
                    created_at=m["created_at"], revoked_at=m["revoked_at"], last_used_at=m["last_used_at"],
                    token_sha256=m["token_sha256"])


def insert_token(engine: Engine, name: str, scopes: tuple[str, ...], token_sha256: str) -> TokenRow:
    """Store a new token; a revoked token of the same name is replaced, an active one is a ConflictError."""
    now = time.time()
    with engine.begin() as conn:
        old = conn.execute(select(t.api_tokens.c.revoked_at).where(t.api_tokens.c.name == name)).first()
        if old is not None and old[0] is None:
            raise ConflictError(f"a token named {name!r} exists: revoke it first (mlfi tokens revoke {name})")
        if old is not None:
            conn.execute(t.api_tokens.delete().where(t.api_tokens.c.name == name))
        try:
            conn.execute(t.api_tokens.insert().values(name=name, scopes=",".join(scopes), token_sha256=token_sha256,
                                                      created_at=now))
        except IntegrityError as exc:   # another process created the same name at the same moment
            raise ConflictError(f"a token named {name!r} exists") from exc
    return TokenRow(name, scopes, now, None, None, token_sha256)


def list_tokens(engine: Engine) -> list[TokenRow]:
    with engine.connect() as conn:
        return [_row(r) for r in conn.execute(select(t.api_tokens).order_by(t.api_tokens.c.name))]


def find_token(engine: Engine, token_sha256: str) -> TokenRow | None:
    """The row whose hash is ``token_sha256`` (active or revoked), or None."""
    with engine.connect() as conn:
        r = conn.execute(select(t.api_tokens).where(t.api_tokens.c.token_sha256 == token_sha256)).first()
    return _row(r) if r is not None else None


def revoke_token(engine: Engine, name: str) -> bool:
    """Revoke the active token ``name``; False when it was already revoked. NotFoundError when unknown."""
    with engine.begin() as conn:
        r = conn.execute(select(t.api_tokens.c.revoked_at).where(t.api_tokens.c.name == name)).first()
        if r is None:
            raise NotFoundError(f"no token named {name!r}")
        if r[0] is not None:
            return False
        conn.execute(t.api_tokens.update().where(t.api_tokens.c.name == name).values(revoked_at=time.time()))
    return True


def touch_token(engine: Engine, name: str, at: float) -> None:
    """Record when a token was last used (at most once a minute per token is enough; the caller decides)."""
    with engine.begin() as conn:
        conn.execute(t.api_tokens.update().where(t.api_tokens.c.name == name).values(last_used_at=at))
