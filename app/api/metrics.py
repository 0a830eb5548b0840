"""`GET /metrics`: Prometheus text exposition of mlfi's state (``read`` scope unless ``MLFI_METRICS_PUBLIC=1``)."""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials

from app.api.auth import _bearer, require
from app.api.problems import problems
from app.observability import exposition
from app.observability.collector import MlfiCollector

__all__ = ["router"]

router = APIRouter(tags=["observability"])
_lock = threading.Lock()
_read = require("read")


def _metrics_auth(request: Request,
                  credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> None:
    """The ``read`` scope, unless the operator made the metrics public (a Prometheus without a token file)."""
    if not request.app.state.settings.metrics_public:
        _read(request, credentials)


def _collector(request: Request) -> MlfiCollector:
    """One collector per application: it keeps the running sample counts between scrapes."""
    state = request.app.state
    with _lock:
        if getattr(state, "metrics_collector", None) is None:
            state.metrics_collector = MlfiCollector(state.store)
        return state.metrics_collector


@router.get("/metrics", response_class=Response, dependencies=[Depends(_metrics_auth)], responses={
    200: {"description": "Prometheus text exposition format 0.0.4",
          "content": {"text/plain": {"schema": {"type": "string"}}}}, **problems(401, 403)})
def metrics(request: Request) -> Response:
    """Every ``mlfi_`` metric: probes and outcomes, prediction latency, verdicts, incidents, recommendations,
    watcher heartbeat, build info."""
    body, content_type = exposition(_collector(request))
    return Response(content=body, media_type=content_type)
