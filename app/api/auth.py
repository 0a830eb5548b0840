"""Bearer-token auth as a FastAPI dependency: ``Depends(require("approve"))`` returns the caller's token name."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.api.problems import ProblemError
from app.api.tokens import SCOPES, check_token, grants
from app.storage.tokens import touch_token

__all__ = ["AUTH_PROBLEMS", "require"]

AUTH_PROBLEMS = (401, 403)
_TOUCH_EVERY_S = 60.0         # last_used_at is written at most this often per token (not a write per request)
_bearer = HTTPBearer(auto_error=False, description="A token from `mlfi tokens create`.")
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="mlfi"'}


def require(scope: str) -> Callable[..., str]:
    """A dependency that admits a request bearing an active token with ``scope`` (``admin`` implies all).

    401 (with ``WWW-Authenticate``) without a token or with an unknown or revoked one; 403 without the scope.
    """
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    def _dependency(request: Request,
                    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> str:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise ProblemError(401, "a bearer token is required (Authorization: Bearer TOKEN)", headers=_CHALLENGE)
        store = request.app.state.store
        row = check_token(store.engine, credentials.credentials)
        if row is None:
            raise ProblemError(401, "the bearer token is unknown or revoked", headers=_CHALLENGE)
        if not grants(row.scopes, scope):
            raise ProblemError(403, f"token {row.name!r} lacks the {scope!r} scope")
        now = time.time()
        if row.last_used_at is None or now - row.last_used_at > _TOUCH_EVERY_S:
            touch_token(store.engine, row.name, now)
        request.state.token_name, request.state.token_scopes = row.name, row.scopes
        return row.name

    _dependency.__name__ = f"require_{scope}"
    return _dependency
