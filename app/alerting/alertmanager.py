"""Alertmanager API v2 client: incidents become alerts (``POST {MLFI_ALERTMANAGER_URL}/api/v2/alerts``).

An alert is identified by its labels (alertname, endpoint, severity, root_cause). A firing alert carries
an ``endsAt`` a few analysis periods ahead and is posted again on every update of its incident, so it
stays active while the incident is open and expires by itself if mlfi stops; a resolved one carries the
same labels with ``endsAt`` = now, which Alertmanager shows as resolved.

Never blocks monitoring: a short timeout, failures are logged (host only: the URL may hold credentials)
and the undelivered alerts are kept in this process and posted again with the next update of any incident.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any
from urllib.parse import urlsplit

from loguru import logger

from app.config import Settings

__all__ = ["ALERTNAME", "MAX_PENDING", "PLAYBOOKS", "AlertmanagerClient", "configured", "iso", "runbook_url"]

ALERTNAME = "MlfiIncident"
MAX_PENDING = 1000          # undelivered alerts kept for the next attempt (oldest dropped beyond)
HOLD_MIN_S = 300.0          # a firing alert lasts at least this long without a refresh
PLAYBOOKS = {               # root cause -> playbook of knowledge/monitoring (the runbook of the alert)
    "feature_drift": "playbook-upstream-pipeline.md", "data_quality": "playbook-upstream-pipeline.md",
    "prediction_drift": "playbook-prediction-shift.md", "confidence_drop": "playbook-recalibrate.md",
    "accuracy_drop": "playbook-retrain.md", "latency_degradation": "playbook-scale-serving.md",
    "error_spike": "playbook-endpoint-errors.md", "silent_failure": "playbook-silent-failure.md",
}


def configured(settings: Settings) -> bool:
    """Whether ``MLFI_ALERTMANAGER_URL`` is set."""
    return bool(settings.alertmanager_url and settings.alertmanager_url.get_secret_value().strip())


def runbook_url(root_cause: str, base: str | None = None) -> str:
    """The playbook for a root cause: an absolute URL under ``base`` (``MLFI_RUNBOOK_BASE_URL``, where the
    repository's docs are served), else its path in the repository.

    >>> runbook_url("accuracy_drop")
    'knowledge/monitoring/playbook-retrain.md'
    >>> runbook_url("accuracy_drop", "https://git.example/mlfi/blob/main/")
    'https://git.example/mlfi/blob/main/knowledge/monitoring/playbook-retrain.md'
    """
    path = f"knowledge/monitoring/{PLAYBOOKS.get(root_cause, 'playbook-endpoint-errors.md')}"
    return f"{base.rstrip('/')}/{path}" if base else path


def iso(ts: float) -> str:
    """RFC 3339 UTC time as Alertmanager wants it.

    >>> iso(0.5)
    '1970-01-01T00:00:00.500000Z'
    """
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _key(alert: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(alert["labels"].items()))


class AlertmanagerClient:
    """Posts alerts; what could not be delivered is retried with the next post (bounded, in memory)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}

    @property
    def pending(self) -> int:
        return len(self._pending)

    def post(self, settings: Settings, alerts: list[dict[str, Any]]) -> tuple[bool, str]:
        """POST ``alerts`` plus any still undelivered; never raises. Returns (delivered, detail without secrets)."""
        import requests

        base = settings.alertmanager_url.get_secret_value().strip().rstrip("/")  # type: ignore[union-attr]
        host = urlsplit(base).hostname or "alertmanager"
        with self._lock:
            batch = dict(self._pending)
            for a in alerts:                        # a newer state of the same alert replaces the older one
                batch[_key(a)] = a
            self._pending = {}
        try:
            resp = requests.post(f"{base}/api/v2/alerts", json=list(batch.values()),
                                 timeout=settings.alertmanager_timeout_s)
            ok = 200 <= resp.status_code < 300
            detail = f"alertmanager at {host}: HTTP {resp.status_code}"
        except Exception as exc:  # noqa: BLE001 - nothing about a notification may reach the watcher
            ok, detail = False, f"alertmanager at {host} failed: {type(exc).__name__}"
        if not ok:
            with self._lock:
                for k, a in batch.items():
                    self._pending.setdefault(k, a)  # anything queued meanwhile is newer: it wins
                while len(self._pending) > MAX_PENDING:
                    self._pending.pop(next(iter(self._pending)))
            logger.warning(f"{detail}; {len(batch)} alert(s) kept for the next incident update")
        return ok, detail
