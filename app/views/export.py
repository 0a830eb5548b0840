"""CSV exports for the dashboard: metrics, reports and the audit log. Never headers or other secrets."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from app.exporting import metrics_frame, reports_frame
from app.storage import Store
from app.storage.governance.audit import audit_rows
from app.storage.governance.tx import reading

__all__ = ["SECRET_KEY", "audit_csv", "audit_frame", "metrics_csv", "reports_csv", "scrub"]

SECRET_KEY = re.compile(r"header|token|secret|passw|authori[sz]ation|api[_-]?key|cookie|credential", re.IGNORECASE)


def scrub(obj: Any) -> Any:
    """Copy of ``obj`` with the values of secret-looking keys replaced by ``"***"``.

    >>> scrub({"reason": "ok", "headers": {"Authorization": "Bearer x"}, "nested": [{"api_key": "k"}]})
    {'reason': 'ok', 'headers': '***', 'nested': [{'api_key': '***'}]}
    """
    if isinstance(obj, dict):
        return {k: ("***" if SECRET_KEY.search(str(k)) else scrub(v)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [scrub(v) for v in obj]
    return obj


def _csv(df: pd.DataFrame) -> bytes:
    return str(df.to_csv(index=False)).encode("utf-8")


def metrics_csv(store: Store, name: str, *, bucket_s: float = 60.0, since: float | None = None) -> bytes:
    """Per-bucket metrics of one endpoint as CSV (time in UTC ISO-8601 plus epoch seconds)."""
    return _csv(metrics_frame(store, name, bucket_s=bucket_s, since=since))


def reports_csv(store: Store, name: str) -> bytes:
    """One row per stored report of one endpoint: time, verdict, severity, alert and its metrics."""
    return _csv(reports_frame(store, name))


def audit_frame(store: Store, *, limit: int | None = None) -> pd.DataFrame:
    """The audit log (newest first) with scrubbed payloads, as stored: seq, time, event, actor, hashes."""
    with reading(store) as conn:
        rows = audit_rows(conn, limit=limit, newest_first=True)
    recs = []
    for row in rows:
        seq, ts, event, actor, payload, prev, h = (row[k] for k in ("seq", "ts", "event", "actor", "payload_json",
                                                                    "prev_hash", "hash"))
        try:
            data = scrub(json.loads(payload))
        except ValueError:
            data = {"unparsed": True}
        recs.append({"seq": int(seq), "time_utc": datetime.fromtimestamp(float(ts), tz=UTC)
                     .strftime("%Y-%m-%dT%H:%M:%SZ"), "event": event, "actor": actor,
                     "payload": json.dumps(data, sort_keys=True, default=str), "prev_hash": prev, "hash": h})
    return pd.DataFrame(recs, columns=["seq", "time_utc", "event", "actor", "payload", "prev_hash", "hash"])


def audit_csv(store: Store) -> bytes:
    """The whole audit log as CSV, oldest entry first."""
    return _csv(audit_frame(store).sort_values("seq"))
