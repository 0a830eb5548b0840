"""`/api/v1/endpoints/{id}/predictions` (batch ingest, idempotent under `Idempotency-Key`) and `.../labels`
(late labels by prediction id)."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.api.auth import require
from app.api.jsonout import json_response
from app.api.problems import problems
from app.api.routes.endpoints import by_id
from app.api.routes.monitoring import PredictionIn
from app.errors import InputError

__all__ = ["BatchIn", "router"]

router = APIRouter(prefix="/api/v1/endpoints", tags=["ingest"])
EndpointId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class BatchRow(PredictionIn):
    """One row of a batch: a logged prediction without ``endpoint`` (it is in the path)."""

    endpoint: str = Field(default="", exclude=True, max_length=0, description="(in the path)")


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    predictions: list[BatchRow] = Field(min_length=1, max_length=10_000)


class _LaxRow(BatchRow):
    """A BatchRow taking any JSON as a feature value: validated in about 60% of the time. The rows are used
    only when app.api.batch_rows finds every value a scalar (what BatchRow takes, unchanged); any other
    batch is validated as a BatchIn, so its 422 is the same."""

    features: dict[str, Any] = Field(max_length=10_000)


class _LaxBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    predictions: list[_LaxRow] = Field(min_length=1, max_length=10_000)


class BatchOut(BaseModel):
    endpoint: str
    ingested: int
    prediction_ids: list[int]
    replayed: bool


class LabelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prediction_id: int = Field(ge=1, le=2**63 - 1)
    label: str | float | int | bool | None


class LabelsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    labels: list[LabelIn] = Field(min_length=1, max_length=10_000)


def _endpoint_name(request: Request, endpoint_id: int) -> str:
    return by_id(request, endpoint_id).name


# the body is declared here and parsed by pydantic-core straight from the bytes (see ``parse_batch``)
_BATCH_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/BatchIn"}}}}}


def parse_batch(raw: bytes) -> BatchIn:
    """The request body as a BatchIn, validated from the JSON bytes in one pass (pydantic-core's parser:
    about half the CPU of FastAPI's json.loads, then validating the Python objects); a 422 otherwise."""
    try:
        return BatchIn.model_validate_json(raw)
    except ValidationError as exc:
        errors: list[Any] = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None


@router.post("/{endpoint_id}/predictions", status_code=201, response_model=BatchOut, openapi_extra=_BATCH_BODY,
             responses={200: {"model": BatchOut, "description": "A repeat under the same Idempotency-Key: the first "
                                                                "answer, nothing stored"},
                        **problems(400, 401, 403, 404, 413, 422)})
async def ingest_batch(endpoint_id: EndpointId, request: Request, _: Annotated[str, Depends(require("ingest"))],
                       idempotency_key: Annotated[str | None, Header(max_length=255)] = None) -> JSONResponse:
    """Store up to 10,000 logged predictions (a BatchIn) in one transaction. A repeat with the same
    `Idempotency-Key` stores nothing and returns the first answer; the same key with another body is a 400."""
    raw = await request.body()
    return await asyncio.to_thread(_ingest, request, endpoint_id, raw, idempotency_key)


def _ingest(request: Request, endpoint_id: int, raw: bytes, idempotency_key: str | None) -> JSONResponse:
    from app.analysis.ingest_records import PredictionRecord, ingest_records
    from app.api.batch_rows import batch_columns

    store = request.app.state.store
    now = time.time()
    if idempotency_key is None:        # the plain batch: lax validation, rows built from its columns
        try:
            lax: _LaxBatch | None = _LaxBatch.model_validate_json(raw)
        except ValidationError:
            lax = None
        cols = batch_columns(lax.predictions, store.keeps_inputs, now) if lax is not None else None
        if cols is not None:
            ep = by_id(request, endpoint_id)
            return _answer(request, ep.name, _insert(store, ep, cols, None))
    body = parse_batch(raw)
    ep = by_id(request, endpoint_id)
    idem = None
    if idempotency_key is not None:
        digest = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
        idem = (idempotency_key, digest)
    cols = batch_columns(body.predictions, store.keeps_inputs, now)
    if cols is not None:
        return _answer(request, ep.name, _insert(store, ep, cols, idem))
    # the frame path of `mlfi ingest`: any batch, and the wording of every error
    records = [PredictionRecord(r.features, r.prediction, r.confidence, r.label, r.latency_ms,
                                r.timestamp if not isinstance(r.timestamp, str) else None) for r in body.predictions]
    return _answer(request, ep.name, ingest_records(store, ep.name, records, idempotency=idem))


def _answer(request: Request, name: str, got: Any) -> JSONResponse:
    state = request.app.state
    if getattr(state, "freeze_gc", False) and not getattr(state, "gc_frozen_after_ingest", False):
        state.gc_frozen_after_ingest = True      # once: what the first batch imported (app.api.app.serving_app)
        gc.freeze()
    return json_response({"endpoint": name, "ingested": got.ingested, "prediction_ids": got.prediction_ids,
                          "replayed": got.replayed}, status_code=200 if got.replayed else 201)


def _insert(store: Any, ep: Any, cols: list[list[Any]], idem: tuple[str, str] | None) -> Any:
    """Insert the rows built by app.api.batch_rows in one transaction (with the idempotency receipt)."""
    from app.analysis.ingest import refuse_probed
    from app.analysis.ingest_rows import ROW_COLUMNS
    from app.storage.api_ingest import insert_rows

    eid = ep.id
    if ep.protocol != "ingest":          # a probed endpoint is refused; a new one becomes an ingest endpoint
        refuse_probed(store, ep.name)
        eid = store.upsert_endpoint(ep.name, protocol="ingest").id
    n = len(cols[0])                     # a 404 if the endpoint was deleted meanwhile
    return insert_rows(store.engine, eid, ROW_COLUMNS, list(zip([eid] * n, cols[0], ["ingest"] * n, *cols[1:])),
                       idempotency=idem)


@router.post("/{endpoint_id}/labels", responses=problems(400, 401, 403, 404, 413, 422))
def attach(endpoint_id: EndpointId, body: LabelsIn, request: Request,
           _: Annotated[str, Depends(require("ingest"))]) -> JSONResponse:
    """Late labels: set the label of stored predictions by the ids the ingest answered with."""
    from app.storage.api_ingest import attach_labels

    name = _endpoint_name(request, endpoint_id)
    pairs = [(x.prediction_id, None if x.label is None else str(x.label)) for x in body.labels]
    if any(lab is not None and "\x00" in lab for _, lab in pairs):
        raise InputError("a label holds a NUL character")
    n = attach_labels(request.app.state.store.engine, endpoint_id, pairs)
    return json_response({"endpoint": name, "labelled": n})
