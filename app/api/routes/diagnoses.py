"""`POST /api/v1/diagnoses`: the diagnosis payload of `mlfi diagnose --json`, filed into the approval queue."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from app.api.auth import require
from app.api.jsonout import json_response
from app.api.problems import ProblemError, problems
from app.api.tokens import grants

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/diagnoses", tags=["diagnoses"])


class DiagnosisIn(BaseModel):
    """Exactly one of ``prompt`` (free text) or ``experiment`` (an experiment record, docs/experiment_record.md)."""

    model_config = ConfigDict(extra="forbid")
    prompt: str | None = Field(default=None, max_length=100_000)
    experiment: dict[str, Any] | None = None
    team: str | None = Field(default=None, max_length=256)


@router.post("", responses=problems(400, 401, 403, 413, 422))
def diagnose(body: DiagnosisIn, request: Request, caller: Annotated[str, Depends(require("ingest"))]) -> JSONResponse:
    """Diagnose a failed experiment with cited evidence; its recommendations join the approval queue. A record
    naming a ``dataset`` makes the server read CSV files from its disk: that needs the admin scope."""
    from app.diagnosis import diagnose as run
    from app.governance.diagnosis_queue import file_diagnosis

    if (body.prompt is None) == (body.experiment is None):
        raise ProblemError(400, "give exactly one of prompt or experiment", kind="bad-input")
    if body.experiment is not None and body.experiment.get("dataset") is not None \
            and not grants(request.state.token_scopes, "admin"):
        raise ProblemError(403, f"an experiment naming a dataset (server-side files) needs the admin scope "
                                f"(token {caller!r} lacks it)")
    store, settings = request.app.state.store, request.app.state.settings
    d = run(prompt=body.prompt, experiment=body.experiment, settings=settings, store=store)
    payload = d.payload()
    file_diagnosis(store, settings, payload, team=body.team or (payload["input"].get("record") or {}).get("team"))
    return json_response(payload)
