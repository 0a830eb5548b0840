"""Incident notifications: when an incident opens or resolves, POST a JSON message to
``MLFI_ALERT_WEBHOOK_URL`` (Slack- and Teams-style incoming webhooks read its ``text``).

A notification tells people; it changes nothing on the model, so it needs no approval (actions still do).
The URL is treated as a secret (incoming-webhook URLs embed their token): only its host is ever logged or
audited. A failed delivery is logged and audited and never stops monitoring.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from loguru import logger

from app.config import Settings
from app.schemas import Report

__all__ = ["configured", "incident_message", "send"]

_ICON = {"critical": "[CRITICAL]", "high": "[HIGH]", "medium": "[MEDIUM]", "low": "[LOW]"}


def configured(settings: Settings) -> bool:
    """Whether an alert webhook is set (nothing is looked up or built for notifications otherwise)."""
    return bool(settings.alert_webhook_url and settings.alert_webhook_url.get_secret_value())


def incident_message(event: str, report: Report, incident_id: int, *, report_id: int | None = None,
                     outcome: str | None = None, incident: Any = None,
                     recommendations: list[Any] | None = None, replaces: list[Any] | None = None) -> dict[str, Any]:
    """The JSON body for ``incident_opened`` / ``incident_resolved`` (no headers, no inputs, no secrets).

    ``report`` is the report that changed the incident. An opened incident is described by it; a resolved
    one by its own stored record (``incident``: root cause, severity, summary) and its own
    ``recommendations`` with their decisions, and ``outcome`` says how it ended: ``recovered`` (healthy
    again) or ``superseded`` (a different failure replaced it; ``report`` holds the new root cause).
    ``replaces``: the incidents an opened one supersedes, named in the same message (one notification per
    change of failure, not a "resolved" and an "opened").
    """
    if event == "incident_opened":
        rca = report.rca
        cause, severity, summary = rca.root_cause, str(rca.severity), rca.failure_reason or ""
        recs = list(report.recommendations or [])
        head = f"{_ICON.get(severity, '')} mlfi: incident #{incident_id} opened on {report.endpoint}: {cause}."
    else:
        cause = getattr(incident, "root_cause", None)
        severity = getattr(incident, "severity", None)
        recs = list(recommendations or [])
        if outcome == "superseded":
            summary = (f"Superseded: a different failure ({report.rca.root_cause}) replaced it and opened a new "
                       "incident.")
            head = f"[SUPERSEDED] mlfi: incident #{incident_id} on {report.endpoint} ({cause}) closed."
        else:
            summary = "The latest analysis is healthy again."
            head = f"[RESOLVED] mlfi: incident #{incident_id} on {report.endpoint} ({cause}) recovered."
    listed = [{"id": r.id, "action": r.action, "priority": r.priority, "status": r.status} for r in recs][:5]
    text = f"{head.strip()} {summary}".strip()
    pending = [r for r in listed if r["status"] == "pending"]
    if pending and event == "incident_opened":
        text += f" {len(pending)} recommendation(s) await a decision, first: {pending[0]['action']} ({pending[0]['priority']})."
    message = {"event": event, "endpoint": report.endpoint, "incident_id": incident_id, "report_id": report_id,
               "root_cause": cause, "severity": severity, "outcome": outcome, "summary": summary,
               "recommendations": listed, "text": text}
    if replaces:
        message["replaces"] = [{"incident_id": o.id, "root_cause": o.root_cause} for o in replaces]
        message["text"] += "".join(f" It replaces incident #{o.id} ({o.root_cause})." for o in replaces)
    return message


def send(settings: Settings, message: dict[str, Any]) -> tuple[bool, str] | None:
    """POST ``message`` to the alert webhook; None when none is configured, else (delivered, detail)."""
    if not configured(settings):
        return None
    url = settings.alert_webhook_url.get_secret_value()  # type: ignore[union-attr]
    import requests

    host = urlsplit(url).hostname or "webhook"
    try:
        resp = requests.post(url, json=message, timeout=settings.alert_timeout_s)
    except requests.RequestException as exc:
        detail = f"notification to {host} failed: {type(exc).__name__}"
        logger.warning(detail)
        return False, detail
    ok = 200 <= resp.status_code < 300
    detail = f"notification to {host}: HTTP {resp.status_code}"
    if not ok:
        logger.warning(detail)
    return ok, detail
