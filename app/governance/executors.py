"""Executors of approved actions: webhook, command hook, accept-new-baseline. Never without approval.

`execute` claims the recommendation with a conditional UPDATE (approved -> executed) inside a
locked transaction, so an action runs at most once and only after a person approved it. Each run
and its outcome is appended to the audit log. Secrets (webhook URL, command, endpoint headers) never
enter the audit log or the payload sent out.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import time
from typing import Any, Protocol
from urllib.parse import urlsplit

from loguru import logger
from pydantic import BaseModel, Field

from app.config import Settings
from app.detection.baseline import learn_baseline
from app.errors import ConflictError, MlfiError
from app.governance import audit
from app.storage import Store
from app.storage.governance.recommendations import (
    RecommendationRecord,
    claim_for_execution,
    get_recommendation,
    update_payload,
)
from app.storage.governance.tx import locked
from app.storage.baselines import save_baseline

__all__ = [
    "MIN_BASELINE_SAMPLES",
    "BaselineExecutor",
    "CommandExecutor",
    "ExecutionRun",
    "Executor",
    "WebhookExecutor",
    "action_payload",
    "default_executors",
    "execute",
]

MIN_BASELINE_SAMPLES = 20
_EXCERPT = 300


class ExecutionRun(BaseModel):
    """One executor run for one approved recommendation."""

    executor: str
    ok: bool
    detail: str
    started_at: float
    finished_at: float
    result: dict[str, Any] = Field(default_factory=dict)


class Executor(Protocol):
    name: str

    def applies(self, rec: RecommendationRecord) -> bool: ...

    def run(self, store: Store, settings: Settings, rec: RecommendationRecord,
            payload: dict[str, Any]) -> tuple[bool, str, dict[str, Any]]: ...


def action_payload(rec: RecommendationRecord) -> dict[str, Any]:
    """The JSON an executor receives: the recommendation and its decision (no secrets)."""
    body = rec.model_dump(exclude={"executions"})
    return {"kind": "mlfi.approved_action", "recommendation": body, "endpoint": rec.endpoint,
            "incident_id": rec.incident_id, "approved_by": rec.decided_by, "reason": rec.reason,
            "approved_at": rec.decided_at}


class WebhookExecutor:
    """POST the action as JSON to ``settings.webhook_url``; 2xx is success."""

    name = "webhook"

    def __init__(self, url: str, timeout_s: float = 10.0) -> None:
        self.url, self.timeout_s = url, timeout_s

    def applies(self, rec: RecommendationRecord) -> bool:
        return True

    def run(self, store: Store, settings: Settings, rec: RecommendationRecord,
            payload: dict[str, Any]) -> tuple[bool, str, dict[str, Any]]:
        import requests

        host = urlsplit(self.url).hostname or "webhook"
        try:
            resp = requests.post(self.url, json=payload, timeout=self.timeout_s)
        except requests.RequestException as exc:
            return False, f"POST to {host} failed: {type(exc).__name__}", {"host": host}
        ok = 200 <= resp.status_code < 300
        return ok, f"POST to {host}: HTTP {resp.status_code}", {"host": host, "status_code": resp.status_code}


class CommandExecutor:
    """Run ``settings.command_hook`` (no shell) with the action JSON on stdin; exit 0 is success."""

    name = "command"

    def __init__(self, command: str, timeout_s: float = 120.0) -> None:
        self.argv = shlex.split(command)
        self.timeout_s = timeout_s

    def applies(self, rec: RecommendationRecord) -> bool:
        return bool(self.argv)

    def run(self, store: Store, settings: Settings, rec: RecommendationRecord,
            payload: dict[str, Any]) -> tuple[bool, str, dict[str, Any]]:
        prog = self.argv[0].rsplit("/", 1)[-1]
        try:
            proc = subprocess.run(self.argv, input=json.dumps(payload, default=str), capture_output=True,
                                  text=True, timeout=self.timeout_s, check=False)
        except (OSError, subprocess.SubprocessError) as exc:
            return False, f"command {prog} could not run: {type(exc).__name__}", {"command": prog}
        out = {"command": prog, "returncode": proc.returncode, "stdout": proc.stdout[-_EXCERPT:],
               "stderr": proc.stderr[-_EXCERPT:]}
        return proc.returncode == 0, f"command {prog} exited {proc.returncode}", out


class BaselineExecutor:
    """Approving "accept new baseline" re-learns the endpoint's baseline from its recent samples."""

    name = "accept_baseline"

    def applies(self, rec: RecommendationRecord) -> bool:
        return rec.action_type == "accept_baseline" and bool(rec.endpoint)

    def run(self, store: Store, settings: Settings, rec: RecommendationRecord,
            payload: dict[str, Any]) -> tuple[bool, str, dict[str, Any]]:
        name = str(rec.endpoint)
        samples = store.recent_samples(name, last_n=settings.window_size)
        n_ok = sum(1 for s in samples if s.ok)
        if n_ok < MIN_BASELINE_SAMPLES:
            return False, (f"not enough recent samples to learn a baseline ({n_ok} successful, "
                           f"need {MIN_BASELINE_SAMPLES})"), {"samples": n_ok}
        found = store.find_endpoint(name)
        protocol = found.protocol if found is not None else None
        try:
            b = save_baseline(settings, store, learn_baseline(name, samples, protocol=protocol))
        except MlfiError as exc:
            return False, f"baseline not learned: {exc}", {}
        return True, f"baseline v{b.version} learned from {b.n_samples} recent samples", {
            "version": b.version, "n_samples": b.n_samples}


def default_executors(settings: Settings) -> list[Executor]:
    """Built-in baseline re-learning plus the configured webhook and command hook."""
    out: list[Executor] = [BaselineExecutor()]
    if settings.webhook_url:
        out.append(WebhookExecutor(settings.webhook_url))
    if settings.command_hook:
        out.append(CommandExecutor(settings.command_hook))
    return out


def execute(store: Store, settings: Settings, rec_id: str, *, actor: str,
            executors: list[Executor] | None = None) -> list[ExecutionRun]:
    """Run the applicable executors for an APPROVED recommendation, once; audit each run.

    Raises NotFoundError (unknown id) or ConflictError (not approved, or already executed). With no
    applicable executor nothing runs and the recommendation stays ``approved``.
    """
    execs = default_executors(settings) if executors is None else executors
    with locked(store) as conn:
        audit.require_intact(conn, settings)
        rec = get_recommendation(conn, rec_id)
        if rec.status != "approved":
            what = "was already executed" if rec.status == "executed" else f"is {rec.status}"
            raise ConflictError(f"recommendation {rec_id} {what}; only approved recommendations are executed")
        applicable = [e for e in execs if e.applies(rec)]
        if not applicable:
            return []
        if not claim_for_execution(conn, rec_id):
            raise ConflictError(f"recommendation {rec_id} was executed by another process")
        audit.append(conn, settings, "execution_started", actor, {
            "recommendation_id": rec_id, "endpoint": rec.endpoint, "action_type": rec.action_type,
            "executors": [e.name for e in applicable]})
    payload = action_payload(rec)
    runs: list[ExecutionRun] = []
    for ex in applicable:
        started = time.time()
        try:
            ok, detail, result = ex.run(store, settings, rec, payload)
        except Exception as exc:  # noqa: BLE001  (an executor bug must still be recorded as a failed run)
            logger.exception(f"executor {ex.name} crashed")
            ok, detail, result = False, f"executor crashed: {type(exc).__name__}: {str(exc)[:200]}", {}
        run = ExecutionRun(executor=ex.name, ok=ok, detail=detail, started_at=started, finished_at=time.time(),
                           result=result)
        with locked(store) as conn:
            update_payload(conn, rec_id, executions=[run.model_dump()])
            audit.append(conn, settings, "executed" if ok else "execution_failed", actor,
                         {"recommendation_id": rec_id, "endpoint": rec.endpoint, **run.model_dump()})
        (logger.info if ok else logger.warning)(f"executor {ex.name} for {rec_id}: {detail}")
        runs.append(run)
    return runs
