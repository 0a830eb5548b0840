"""`/api/v1/recommendations`: the list (cursor pages) and exactly-once approve/reject, the token as the actor."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from app.api.auth import require
from app.api.jsonout import json_response
from app.api.pagination import decode_cursor, encode_cursor
from app.api.problems import problems

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/recommendations", tags=["recommendations"])
Status = Literal["pending", "approved", "rejected", "executed", "superseded"]
RecId = Annotated[str, Path(min_length=1, max_length=128)]


class DecisionIn(BaseModel):
    """Why the decision is made (required, as `--reason` in the CLI)."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=4000)
    false_alarm: bool = Field(default=False, description="reject only: the detectors that fired become less sensitive")
    execute: bool = Field(default=True, description="approve only: run the configured executors right away")


class RecommendationPage(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None


@router.get("", response_model=RecommendationPage, responses=problems(400, 401, 403, 422))
def list_recommendations(request: Request, _: Annotated[str, Depends(require("read"))],
                         status: Status | None = None, endpoint: Annotated[str | None, Query(max_length=2048)] = None,
                         limit: Annotated[int, Query(ge=1, le=500)] = 100,
                         cursor: Annotated[str | None, Query(max_length=1000)] = None) -> JSONResponse:
    """Recommendations newest first, as `mlfi recommendations --json` lists them, one page at a time."""
    from app.governance import list_recommendations as listed

    after = decode_cursor(cursor, 2) if cursor else None
    if after is not None and not (isinstance(after[0], (int, float)) and isinstance(after[1], str)):
        after = decode_cursor("", 2)     # a well-formed cursor of the wrong shape: the same 400
    recs = listed(request.app.state.store, request.app.state.settings, status=status, endpoint=endpoint,
                  limit=limit + 1, after=tuple(after) if after else None)  # type: ignore[arg-type]
    page, more = recs[:limit], len(recs) > limit
    nxt = encode_cursor([page[-1].created_at, page[-1].id]) if more and page else None
    return json_response({"items": [r.model_dump() for r in page], "next_cursor": nxt})


@router.post("/{rec_id}/approve", responses=problems(400, 401, 403, 404, 409, 413, 422))
def approve(rec_id: RecId, body: DecisionIn, request: Request,
            caller: Annotated[str, Depends(require("approve"))]) -> JSONResponse:
    """Approve once (409 when already decided); the audit log records the token's name as the actor."""
    from app.governance import approve as approve_rec

    d = approve_rec(request.app.state.store, request.app.state.settings, rec_id, by=caller, reason=body.reason,
                    execute_now=body.execute)
    return json_response(d.model_dump())


@router.post("/{rec_id}/reject", responses=problems(400, 401, 403, 404, 409, 413, 422))
def reject(rec_id: RecId, body: DecisionIn, request: Request,
           caller: Annotated[str, Depends(require("approve"))]) -> JSONResponse:
    """Reject once (409 when already decided); the audit log records the token's name as the actor."""
    from app.governance import reject as reject_rec

    d = reject_rec(request.app.state.store, request.app.state.settings, rec_id, by=caller, reason=body.reason,
                   false_alarm=body.false_alarm)
    return json_response(d.model_dump())
