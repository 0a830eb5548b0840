"""`/api/v1/incidents`, `/api/v1/audit` and `/api/v1/audit/verify`: what `mlfi incidents | audit` print."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from app.api.auth import require
from app.api.jsonout import json_response
from app.api.pagination import encode_cursor, int_cursor
from app.api.problems import problems

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["governance"])


@router.get("/incidents", responses=problems(400, 401, 403, 422))
def incidents(request: Request, _: Annotated[str, Depends(require("read"))],
              status: Literal["open", "resolved"] | None = None,
              endpoint: Annotated[str | None, Query(max_length=2048)] = None,
              limit: Annotated[int, Query(ge=1, le=500)] = 100,
              cursor: Annotated[str | None, Query(max_length=1000)] = None) -> JSONResponse:
    """Incidents newest first (`mlfi incidents --json`), one page at a time (``next_cursor``)."""
    from app.governance import list_incidents

    rows = list_incidents(request.app.state.store, request.app.state.settings, status=status, endpoint=endpoint,
                          limit=limit + 1, before_id=int_cursor(cursor))
    page = rows[:limit]
    nxt = encode_cursor([page[-1].id]) if len(rows) > limit and page else None
    return json_response({"items": [i.model_dump() for i in page], "next_cursor": nxt})


@router.get("/audit", responses=problems(400, 401, 403, 422))
def audit_log(request: Request, _: Annotated[str, Depends(require("read"))],
              limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
              cursor: Annotated[str | None, Query(max_length=1000)] = None) -> JSONResponse:
    """The newest audit entries, oldest first (`mlfi audit --limit N --json`); ``next_cursor`` pages back to
    the older entries (each page oldest first)."""
    from app.governance import audit_entries

    items = audit_entries(request.app.state.store, request.app.state.settings, limit=limit + 1, newest_first=True,
                          before_seq=int_cursor(cursor))
    more, items = len(items) > limit, items[:limit]
    nxt = encode_cursor([items[-1].seq]) if more and items else None
    items.reverse()
    return json_response({"count": len(items), "entries": [e.model_dump() for e in items], "next_cursor": nxt})


@router.get("/audit/verify", responses=problems(401, 403))
def audit_verify(request: Request, _: Annotated[str, Depends(require("read"))]) -> JSONResponse:
    """Check the hash chain, the jsonl mirror and the checkpoints (`mlfi audit --verify --json`); ``ok``
    says whether the log is intact (200 either way: the check itself succeeded)."""
    from app.governance import verify_audit

    return json_response(verify_audit(request.app.state.store, request.app.state.settings).model_dump())
