"""`/api/v1/analyses`: request an analysis of an endpoint's stored window (202 + `Location`, or `?wait=true`),
read one, list them (cursor pages). Each is an analysis job, claimed and run once."""

from __future__ import annotations

import asyncio
import concurrent.futures
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from app.api.auth import require
from app.api.jsonout import json_response
from app.api.pagination import encode_cursor, int_cursor
from app.api.problems import problems
from app.api.routes.endpoints import by_id
from app.errors import NotFoundError
from app.storage.api_analyses import ApiAnalysis, get_analysis, list_analyses, request_analysis

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/analyses", tags=["analyses"])
AnalysisId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class AnalysisIn(BaseModel):
    """Which registered endpoint to analyse (its id in /api/v1/endpoints)."""

    model_config = ConfigDict(extra="forbid")
    endpoint_id: int = Field(ge=1, le=2**31 - 1)


class AnalysisOut(BaseModel):
    id: int
    endpoint_id: int
    endpoint: str
    status: str = Field(description="todo | doing | done (the analysis job's state)")
    requested_by: str
    requested_at: float
    outcome: str | None = Field(description="report | baseline_learned | waiting | not_learnable | failed")
    detail: str | None
    report_id: int | None
    finished_at: float | None
    attempts: int
    report: dict[str, Any] | None = Field(default=None, description="The report (as `mlfi analyze --json`), "
                                                                    "when the analysis wrote one")


class AnalysisPage(BaseModel):
    items: list[AnalysisOut]
    next_cursor: str | None


def _runner(request: Request) -> Any:
    from app.api.analysis_runner import AnalysisRunner

    state = request.app.state
    if getattr(state, "analysis_runner", None) is None:
        state.analysis_runner = AnalysisRunner(state.settings)
    return state.analysis_runner


def _out(request: Request, a: ApiAnalysis, *, with_report: bool) -> dict[str, Any]:
    d: dict[str, Any] = {**asdict(a), "report": None}
    if with_report and a.report_id is not None:
        from app.storage.read.reports import report_by_id

        rep = report_by_id(request.app.state.store.engine, a.report_id)
        d["report"] = rep.model_dump(mode="json") if rep is not None else None
    return d


@router.post("", status_code=202, response_model=AnalysisOut,
             responses={200: {"model": AnalysisOut, "description": "`wait=true` and the analysis finished in time"},
                        **problems(400, 401, 403, 404, 413, 422)})
async def post_analysis(body: AnalysisIn, request: Request, caller: Annotated[str, Depends(require("read"))],
                  wait: bool = False,
                  timeout_s: Annotated[float, Query(gt=0, le=300, description="how long `wait=true` waits")] = 60.0,
                  ) -> JSONResponse:
    """Analyse the endpoint's stored rolling window against its baseline (or learn its first baseline), as the
    watcher does. Answers 202 with `Location` at once; with `wait=true`, 200 once done (202 if it takes longer
    than `timeout_s`)."""
    store = request.app.state.store
    ep = await asyncio.to_thread(by_id, request, body.endpoint_id)
    job_id = await asyncio.to_thread(request_analysis, store.engine, ep.id, caller)
    fut = _runner(request).submit(job_id, ep.id)
    done = False
    if wait:
        try:
            await asyncio.wait_for(asyncio.wrap_future(fut), timeout=timeout_s)
            done = True
        except (TimeoutError, concurrent.futures.CancelledError):
            done = False
    a = await asyncio.to_thread(get_analysis, store.engine, job_id)
    assert a is not None
    done = done and a.status == "done"
    out = await asyncio.to_thread(_out, request, a, with_report=done)
    return json_response(out, status_code=200 if done else 202,
                         headers={"Location": f"/api/v1/analyses/{job_id}"})


@router.get("", response_model=AnalysisPage, responses=problems(400, 401, 403, 422))
def list_all(request: Request, _: Annotated[str, Depends(require("read"))],
             endpoint_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
             limit: Annotated[int, Query(ge=1, le=500)] = 100,
             cursor: Annotated[str | None, Query(max_length=1000)] = None) -> JSONResponse:
    """Requested analyses, newest first, one page at a time (without their reports)."""
    before = int_cursor(cursor)
    rows = list_analyses(request.app.state.store.engine, endpoint_id=endpoint_id, before_id=before, limit=limit + 1)
    page = rows[:limit]
    nxt = encode_cursor([page[-1].id]) if len(rows) > limit and page else None
    return json_response({"items": [_out(request, a, with_report=False) for a in page], "next_cursor": nxt})


@router.get("/{analysis_id}", response_model=AnalysisOut, responses=problems(401, 403, 404, 422))
def get_one(analysis_id: AnalysisId, request: Request, _: Annotated[str, Depends(require("read"))]) -> JSONResponse:
    """One requested analysis; once done, with its report (if it wrote one)."""
    a = get_analysis(request.app.state.store.engine, analysis_id)
    if a is None:
        raise NotFoundError(f"no analysis with id {analysis_id}")
    return json_response(_out(request, a, with_report=True))

