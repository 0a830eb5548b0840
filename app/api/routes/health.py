"""`GET /health` (liveness), `GET /ready` (database + watcher heartbeat), `GET /version`."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app import __version__
from app.api.auth import require
from app.api.problems import MEDIA_TYPE, problems

__all__ = ["router"]

router = APIRouter(tags=["service"])


class Health(BaseModel):
    status: str
    version: str


class Ready(BaseModel):
    ready: bool
    database: str
    watcher_heartbeat_age_s: float | None
    watcher_status: str | None


class Version(BaseModel):
    version: str
    api: str


@router.get("/health", response_model=Health)
def health() -> dict[str, str]:
    """Liveness: the process answers. No auth."""
    return {"status": "ok", "version": __version__}


@router.get("/ready", response_model=Ready, responses={503: {"description": "database unreachable", "content": {
    MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}})
def ready(request: Request) -> Any:
    """Readiness: the database answers; the watcher's heartbeat age is reported (None: no watcher ran). No auth."""
    from app.api.problems import problem_response

    store = request.app.state.store
    try:
        beat = store.watcher_state()
    except Exception as exc:  # noqa: BLE001 - any database failure means "not ready"
        return problem_response(503, f"database unreachable ({type(exc).__name__})", kind="not-ready")
    last = beat.get("last_beat") if beat else None
    return JSONResponse({"ready": True, "database": "ok",
                         "watcher_heartbeat_age_s": round(time.time() - last, 3) if last else None,
                         "watcher_status": beat.get("status") if beat else None})


@router.get("/version", response_model=Version, responses=problems(401, 403))
def version(_: Annotated[str, Depends(require("read"))]) -> dict[str, str]:
    """The mlfi version and the API version."""
    return {"version": __version__, "api": "v1"}
