"""`POST /api/v1/evaluations`: a predictions CSV uploaded as the body (`text/csv`), the options of
`mlfi evaluate` as query parameters; answers the report of `mlfi evaluate --json`."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from app.api.auth import require
from app.api.jsonout import json_response
from app.api.problems import ProblemError, problems

__all__ = ["CSV_TYPES", "router"]

router = APIRouter(prefix="/api/v1/evaluations", tags=["evaluations"])
CSV_TYPES = ("text/csv", "application/csv", "text/plain", "application/octet-stream")
Col = Annotated[str, Query(min_length=1, max_length=256)]
Cols = Annotated[str | None, Query(max_length=4096, description="comma-separated column names")]
_BODY = {"requestBody": {"required": True, "description": "The predictions CSV (header row first), as the file "
                                                          "`mlfi evaluate PREDICTIONS.csv` reads.",
                         "content": {"text/csv": {"schema": {"type": "string"}}}}}


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _evaluate(raw: bytes, spec: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    from app.evaluation import EvalOptions, evaluate, prepare, read_predictions

    opts = EvalOptions(**options)
    opts.validate()                              # bad options first, before parsing the upload
    data = prepare(read_predictions(raw), **spec)
    return evaluate(data, opts, source="<upload>").to_json_dict()


@router.post("", openapi_extra=_BODY, responses=problems(400, 401, 403, 413, 415, 422),
             response_description="The report, as `mlfi evaluate --json` prints it.")
async def post_evaluation(
    request: Request,
    _: Annotated[str, Depends(require("read"))],
    label: Col,
    score: Annotated[str, Query(min_length=1, max_length=4096, description="score column(s), comma-separated")],
    slices: Cols = None,
    cost_fp: Annotated[float, Query(ge=0, le=1e12)] = 1.0,
    cost_fn: Annotated[float, Query(ge=0, le=1e12)] = 1.0,
    threshold: Annotated[float, Query(ge=0, le=1)] = 0.5,
    model_column: Annotated[str | None, Query(max_length=256)] = None,
    id_column: Annotated[str | None, Query(max_length=256)] = None,
    features: Cols = None,
    positive_label: Annotated[str | None, Query(max_length=256)] = None,
    bins: Annotated[int, Query(ge=1, le=100)] = 10,
    strategy: Annotated[str, Query(max_length=32)] = "uniform",
    slice_metric: Annotated[str, Query(max_length=32)] = "accuracy",
    compare_metric: Annotated[str, Query(max_length=32)] = "brier",
    min_slice_n: Annotated[int, Query(ge=0, le=1_000_000)] = 30,
    min_slice_gap: Annotated[float, Query(ge=0, le=1)] = 0.05,
    bootstrap: Annotated[int, Query(ge=0, le=2000)] = 200,
    seed: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    top: Annotated[int, Query(ge=0, le=1000)] = 10,
    max_clusters: Annotated[int, Query(ge=1, le=20)] = 4,
) -> JSONResponse:
    """Metrics, calibration, slices, error analysis and cost-based thresholds of the uploaded predictions
    (nothing is stored). The options are the flags of `mlfi evaluate`, by the same names."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in CSV_TYPES:
        raise ProblemError(415, f"send the CSV as the request body with Content-Type: text/csv (got {ctype or 'none'})",
                           kind="unsupported-media-type")
    raw = await request.body()
    if not raw.strip():
        raise ProblemError(400, "the request body (the predictions CSV) is empty", kind="bad-input")
    spec = {"label": label, "score": _split(score), "slices": _split(slices), "model_column": model_column,
            "id_column": id_column, "features": _split(features) if features else None,
            "positive_label": positive_label}
    options = {"threshold": threshold, "cost_fp": cost_fp, "cost_fn": cost_fn, "bins": bins, "strategy": strategy,
               "slice_metric": slice_metric, "min_slice_n": min_slice_n, "min_slice_gap": min_slice_gap,
               "bootstrap": bootstrap, "seed": seed, "top_k": top, "max_clusters": max_clusters,
               "compare_metric": compare_metric}
    return json_response(await asyncio.to_thread(_evaluate, raw, spec, options))
