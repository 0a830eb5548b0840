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

__all__ = ["incident_message", "send"]

_ICON = {"critical": "[CRITICAL]", "high": "[HIGH]", "medium": "[MEDIUM]", "low": "[LOW]"}


def incident_message(event: str, report: Report, incident_id: int, *, report_id: int | None = None,
                     outcome: str | None = None) -> dict[str, Any]:
    """The JSON body for ``incident_opened`` / ``incident_resolved`` (no headers, no inputs, no secrets)."""
    rca = report.rca
    if event == "incident_opened":
        head = f"{_ICON.get(str(rca.severity), '')} mlfi: incident #{incident_id} opened on {report.endpoint}: {rca.root_cause}."
        summary = rca.failure_reason or ""
    else:
        head = f"[RESOLVED] mlfi: incident #{incident_id} on {report.endpoint} resolved ({outcome or 'healthy again'})."
        summary = "The latest analysis is healthy again."
    recs = [{"id": r.id, "action": r.action, "priority": r.priority, "status": r.status}
            for r in (report.recommendations or [])][:5]
    text = f"{head.strip()} {summary}".strip()
    if recs and event == "incident_opened":
        text += f" {len(recs)} recommendation(s) await a decision, first: {recs[0]['action']} ({recs[0]['priority']})."
    return {"event": event, "endpoint": report.endpoint, "incident_id": incident_id, "report_id": report_id,
            "root_cause": rca.root_cause if event == "incident_opened" else None,
            "severity": rca.severity if event == "incident_opened" else None, "outcome": outcome,
            "summary": summary, "recommendations": recs, "text": text}


def send(settings: Settings, message: dict[str, Any]) -> tuple[bool, str] | None:
    """POST ``message`` to the alert webhook; None when none is configured, else (delivered, detail)."""
    url = settings.alert_webhook_url.get_secret_value() if settings.alert_webhook_url else ""
    if not url:
        return None
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
