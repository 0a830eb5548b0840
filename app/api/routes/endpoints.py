"""`/api/v1/endpoints`: list, read, create/update, delete (admin: the watcher probes what is registered);
headers are write-only; `.../reports` lists an endpoint's stored reports."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from app.api.auth import require
from app.api.jsonout import json_response
from app.api.pagination import decode_cursor, encode_cursor, int_cursor
from app.api.problems import problems
from app.errors import NotFoundError
from app.storage import Endpoint

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/endpoints", tags=["endpoints"])
EndpointId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class EndpointIn(BaseModel):
    """A probed endpoint, as `mlfi baseline URL` registers one; ``headers`` are stored and never returned."""

    model_config = ConfigDict(extra="forbid")
    url: str = Field(max_length=2048, description="http(s)://host[:port][/path]; also the endpoint's name")
    protocol: str | None = Field(default=None, max_length=64)
    headers: dict[str, Annotated[str, Field(max_length=4096)]] | None = Field(default=None, max_length=50)
    model_name: str | None = Field(default=None, max_length=256)
    interval_s: float | None = Field(default=None, ge=0.1, le=86_400)
    enabled: bool | None = None


def public(ep: Endpoint) -> dict[str, Any]:
    """An endpoint without its header values (the header names are shown, never the values)."""
    d = asdict(ep.without_secrets())
    d["headers"] = sorted(ep.headers)
    return d


def by_id(request: Request, endpoint_id: int) -> Endpoint:
    ep = next((e for e in request.app.state.store.list_endpoints() if e.id == endpoint_id), None)
    if ep is None:
        raise NotFoundError(f"no endpoint with id {endpoint_id}")
    return ep


Limit = Annotated[int, Query(ge=1, le=500)]
Cursor = Annotated[str | None, Query(max_length=1000)]


@router.get("", responses=problems(400, 401, 403, 422))
def list_endpoints(request: Request, _: Annotated[str, Depends(require("read"))], limit: Limit = 100,
                   cursor: Cursor = None) -> JSONResponse:
    """Registered endpoints by id, one page at a time (``next_cursor``)."""
    after = int_cursor(cursor) or 0
    rows = sorted((e for e in request.app.state.store.list_endpoints() if e.id > after), key=lambda e: e.id)
    page = rows[:limit]
    nxt = encode_cursor([page[-1].id]) if len(rows) > limit else None
    return json_response({"items": [public(e) for e in page], "next_cursor": nxt})


@router.get("/{endpoint_id}", responses=problems(401, 403, 404, 422))
def get_endpoint(endpoint_id: EndpointId, request: Request, _: Annotated[str, Depends(require("read"))]) -> JSONResponse:
    return json_response(public(by_id(request, endpoint_id)))


@router.put("", responses=problems(400, 401, 403, 413, 422))
def put_endpoint(body: EndpointIn, request: Request, _: Annotated[str, Depends(require("admin"))]) -> JSONResponse:
    """Create the endpoint named by its URL, or update the given fields (the watcher will probe it)."""
    from app.probing import check_protocol
    from app.probing.urls import check_url

    check_url(body.url)
    if body.protocol is not None:
        check_protocol(body.protocol)
    ep = request.app.state.store.upsert_endpoint(body.url, url=body.url, protocol=body.protocol, headers=body.headers,
                                                 model_name=body.model_name, interval_s=body.interval_s,
                                                 enabled=body.enabled)
    return json_response(public(ep))


@router.delete("/{endpoint_id}", responses=problems(401, 403, 404, 422))
def delete_endpoint(endpoint_id: EndpointId, request: Request,
                    _: Annotated[str, Depends(require("admin"))]) -> JSONResponse:
    """Delete the endpoint with its samples, reports, baselines index, incidents and recommendations."""
    ep = by_id(request, endpoint_id)
    request.app.state.store.delete_endpoint(ep.name)
    return json_response({"deleted": ep.id, "name": ep.name})


@router.get("/{endpoint_id}/reports", responses=problems(400, 401, 403, 404, 422))
def reports(endpoint_id: EndpointId, request: Request, _: Annotated[str, Depends(require("read"))],
            limit: Annotated[int, Query(ge=1, le=500)] = 20, alerts_only: bool = False,
            cursor: Cursor = None) -> JSONResponse:
    """Stored reports, newest first (each as `mlfi analyze --json` prints one), one page at a time."""
    from app.storage.read.reports import report_ts

    before = decode_cursor(cursor, 2) if cursor else None
    if before is not None and not (isinstance(before[0], (int, float)) and isinstance(before[1], int)
                                   and not isinstance(before[0], bool) and not isinstance(before[1], bool)):
        decode_cursor("", 2)            # a well-formed cursor of the wrong shape: the same 400
    ep = by_id(request, endpoint_id)
    store = request.app.state.store
    reps = store.list_reports(ep.name, limit=limit + 1, alerts_only=alerts_only,
                              before=(float(before[0]), int(before[1])) if before else None)
    page = reps[:limit]
    nxt = None
    if len(reps) > limit and page and page[-1].report_id is not None:
        nxt = encode_cursor([report_ts(store.engine, page[-1].report_id), page[-1].report_id])
    return json_response({"items": [r.model_dump(mode="json") for r in page], "next_cursor": nxt})


@router.get("/{endpoint_id}/baselines", responses=problems(400, 401, 403, 404, 422))
def baselines(endpoint_id: EndpointId, request: Request, _: Annotated[str, Depends(require("read"))],
              limit: Limit = 100, cursor: Cursor = None) -> JSONResponse:
    """The endpoint's baseline versions, oldest first, with the active one marked (no reference rows), one
    page at a time."""
    after = int_cursor(cursor) or 0
    ep = by_id(request, endpoint_id)
    rows = [r for r in request.app.state.store.baseline_versions(ep.name) if int(r["version"]) > after]
    page = rows[:limit]
    keep = ("version", "created_at", "n_samples", "active")
    nxt = encode_cursor([int(page[-1]["version"])]) if len(rows) > limit else None
    return json_response({"items": [{k: r[k] for k in keep} for r in page], "next_cursor": nxt})
