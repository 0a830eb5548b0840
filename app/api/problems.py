"""RFC 9457 problem details: one exception type, the handlers that render every error, their OpenAPI schema."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from loguru import logger
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import (
    AuditIntegrityError,
    BaselineMissingError,
    ConflictError,
    EndpointError,
    InputError,
    MlfiError,
    NotFoundError,
    one_line,
)

__all__ = ["MEDIA_TYPE", "Problem", "ProblemError", "install_handlers", "problem_response", "problems"]

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:mlfi:problem:"      # type URIs name the kind of problem; they are not links

# typed errors of the core -> (status, problem kind); the first match in this order wins
_MLFI_STATUS: tuple[tuple[type[MlfiError], int, str], ...] = (
    (NotFoundError, 404, "not-found"),
    (ConflictError, 409, "conflict"),
    (BaselineMissingError, 409, "baseline-missing"),
    (EndpointError, 502, "endpoint-unreachable"),
    (AuditIntegrityError, 500, "audit-integrity"),
    (InputError, 400, "bad-input"),
    (MlfiError, 400, "bad-input"),
)


class Problem(BaseModel):
    """An error response (RFC 9457). ``errors`` lists the invalid fields of a 422."""

    type: str = Field(description="URI naming the kind of problem (urn:mlfi:problem:...)")
    title: str
    status: int
    detail: str
    errors: list[dict[str, Any]] | None = None


class ProblemError(Exception):
    """Raised by routes and dependencies to answer with a problem document."""

    def __init__(self, status: int, detail: str, *, kind: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers
        self.kind = kind or _slug(status)


def _slug(status: int) -> str:
    """``404`` -> ``'not-found'``.

    >>> _slug(413), _slug(401)
    ('content-too-large', 'unauthorized')
    """
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return "error"
    if status == 413:
        phrase = "Content Too Large"    # RFC 9110's name
    return phrase.lower().replace(" ", "-")


def problem_response(status: int, detail: str, *, kind: str | None = None, headers: dict[str, str] | None = None,
                     errors: list[dict[str, Any]] | None = None) -> JSONResponse:
    title = "Content Too Large" if status == 413 else (HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error")
    body = Problem(type=TYPE_PREFIX + (kind or _slug(status)), title=title, status=status,
                   detail=one_line(detail), errors=errors).model_dump(exclude_none=True)
    return JSONResponse(body, status_code=status, headers=headers, media_type=MEDIA_TYPE)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Where and what, without echoing the input (it may be large or hold secrets)."""
    return [{"loc": [str(p) for p in e.get("loc", ())], "msg": one_line(str(e.get("msg", "")), 200),
             "type": str(e.get("type", ""))} for e in exc.errors()[:20]]


def install_handlers(app: FastAPI) -> None:
    """Every error becomes problem+json; an unexpected one is logged with its traceback and answered 500
    without it."""

    @app.exception_handler(ProblemError)
    async def _problem(_: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(exc.status, exc.detail, kind=exc.kind, headers=exc.headers)

    @app.exception_handler(MlfiError)
    async def _mlfi(_: Request, exc: MlfiError) -> JSONResponse:
        status, kind = next((s, k) for cls, s, k in _MLFI_STATUS if isinstance(exc, cls))
        if status >= 500:
            logger.opt(exception=exc).warning("request failed")
        return problem_response(status, str(exc) or type(exc).__name__, kind=kind)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        detail = f"{'.'.join(first['loc'])}: {first['msg']}" if first["loc"] else first["msg"]
        return problem_response(422, detail, kind="validation", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        return problem_response(exc.status_code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        logger.opt(exception=exc).error("unexpected error in a request")
        return problem_response(500, f"internal error ({type(exc).__name__}); details in the server log")


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries declaring problem+json bodies for ``statuses``."""
    return {s: {"description": _slug(s).replace("-", " ").capitalize(),
                "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
            for s in statuses}
