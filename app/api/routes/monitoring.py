"""The original routes: `POST /monitoring/analyze` (the report of `mlfi analyze`) and `POST /monitoring/prediction`."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.api.auth import require
from app.api.jsonout import json_response
from app.api.problems import ProblemError, problems
from app.api.tokens import grants

__all__ = ["PredictionIn", "router"]

router = APIRouter(prefix="/monitoring", tags=["monitoring"])
Scalar = str | float | int | bool | None
MAX_ANALYZE_SAMPLES = 10_000


class AnalyzeIn(BaseModel):
    """What `mlfi analyze URL` takes on its command line."""

    model_config = ConfigDict(extra="forbid")
    prediction_url: str = Field(max_length=2048, description="The endpoint URL (its name in mlfi).")
    protocol: str | None = Field(default=None, max_length=64)
    samples: int = Field(default=150, ge=1, le=MAX_ANALYZE_SAMPLES)
    model_name: str | None = Field(default=None, max_length=256)
    probe_set: str | None = Field(default=None, max_length=4096,
                                  description="Server-side CSV path of probes: needs the admin scope.")
    label_column: str | None = Field(default=None, max_length=256)


class PredictionIn(BaseModel):
    """One logged prediction, as a row of `mlfi ingest` holds it."""

    model_config = ConfigDict(extra="forbid")
    endpoint: str = Field(min_length=1, max_length=2048)
    features: dict[str, Scalar] = Field(max_length=10_000)
    prediction: str | float | int | bool
    confidence: float | None = Field(default=None, ge=0, le=1)
    label: str | float | int | bool | None = None
    latency_ms: float | None = Field(default=None, ge=0, le=1e9)
    timestamp: float | str | None = Field(default=None, description="Epoch seconds or an ISO 8601 time.")

    @field_validator("timestamp")
    @classmethod
    def _epoch(cls, v: float | str | None) -> float | None:
        if isinstance(v, str):
            try:
                when = datetime.fromisoformat(v.strip())
            except ValueError:
                raise ValueError("expected epoch seconds or an ISO 8601 time") from None
            return when.timestamp()
        return v

    def record(self) -> Any:
        from app.analysis.ingest_records import PredictionRecord

        return PredictionRecord(features=self.features, prediction=self.prediction, confidence=self.confidence,
                                label=self.label, latency_ms=self.latency_ms,
                                timestamp=self.timestamp if not isinstance(self.timestamp, str) else None)


class PredictionStored(BaseModel):
    endpoint: str
    prediction_id: int
    total_samples: int


@router.post("/analyze", responses=problems(400, 401, 403, 404, 409, 413, 422, 502),
             response_description="The report, as `mlfi analyze --json` prints it.")
def analyze(body: AnalyzeIn, request: Request, caller: Annotated[str, Depends(require("read"))]) -> JSONResponse:
    """Probe ``prediction_url`` and compare with its stored baseline. A URL that is not a registered
    endpoint, or a server-side probe set, needs the admin scope (the server sends requests on the caller's
    behalf)."""
    from app.analysis.run import run_analyze
    from app.analysis.target import EndpointSpec
    from app.probing.urls import check_url

    store, settings = request.app.state.store, request.app.state.settings
    check_url(body.prediction_url)
    known = store.find_endpoint(body.prediction_url)
    scopes = request.state.token_scopes
    if (known is None or not known.probed or body.probe_set is not None) and not grants(scopes, "admin"):
        what = "a server-side probe_set" if known is not None and known.probed else "a URL that is not a registered endpoint"
        raise ProblemError(403, f"analyzing {what} needs the admin scope (token {caller!r} lacks it)")
    spec = EndpointSpec(body.prediction_url, protocol=body.protocol, probe_set=body.probe_set,
                        label_column=body.label_column, model_name=body.model_name)
    rep = run_analyze(settings, store, spec, body.samples, seed=random.randrange(1 << 30))
    return json_response(rep.model_dump(mode="json"))


@router.post("/prediction", status_code=201, response_model=PredictionStored,
             responses=problems(400, 401, 403, 413, 422))
def prediction(body: PredictionIn, request: Request, _: Annotated[str, Depends(require("ingest"))]) -> JSONResponse:
    """Store one logged prediction under ``endpoint`` (checked as `mlfi ingest` checks a CSV row)."""
    from app.analysis.ingest_records import ingest_records

    store = request.app.state.store
    got = ingest_records(store, body.endpoint, [body.record()])
    return json_response({"endpoint": body.endpoint, "prediction_id": got.prediction_ids[0],
                          "total_samples": store.count_samples(body.endpoint)}, status_code=201)
