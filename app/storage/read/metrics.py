"""What a /metrics scrape reads from the store: endpoints, each one's latest verdict, open incidents, pending
recommendations, the watcher heartbeat. Aggregate SQL over indexed columns; a report's JSON is parsed
only when the endpoint's latest report changed since the previous scrape."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, func, select

from app.schemas import SEVERITIES
from app.storage import tables as t

__all__ = ["MAX_DETECTORS", "MAX_ENDPOINTS", "NAME_CHARS", "EndpointRow", "Verdict", "VerdictCache", "endpoints",
           "incidents_opened", "open_incidents", "pending_recommendations", "watcher_rows"]

MAX_ENDPOINTS = 500     # endpoints with their own label; the rest are summed under endpoint="_other"
MAX_DETECTORS = 40      # detector labels per endpoint
NAME_CHARS = 200        # an endpoint label is its name cut to this length


@dataclass(frozen=True)
class EndpointRow:
    """An endpoint as the metrics see it."""

    id: int
    name: str
    enabled: bool
    last_status: str | None
    consecutive_failures: int
    last_probe_at: float | None


@dataclass(frozen=True)
class Verdict:
    """The parts of an endpoint's latest report that become gauges."""

    report_id: int
    ts: float
    root_cause: str
    severity: str
    detectors: dict[str, str] = field(default_factory=dict)   # detector -> worst severity it flagged
    accuracy: float | None = None
    baseline_accuracy: float | None = None
    error_rate: float | None = None


def endpoints(engine: Engine) -> list[EndpointRow]:
    """Every endpoint, oldest first (the first ``MAX_ENDPOINTS`` get their own label)."""
    e = t.endpoints.c
    with engine.connect() as conn:
        rows = conn.execute(select(e.id, e.name, e.enabled, e.last_status, e.consecutive_failures, e.last_probe_at)
                            .order_by(e.id)).all()
    return [EndpointRow(int(r[0]), str(r[1])[:NAME_CHARS], bool(r[2]), r[3], int(r[4] or 0),
                        None if r[5] is None else float(r[5])) for r in rows]


def _worst(a: str | None, b: str) -> str:
    known = [s for s in (a, b) if s in SEVERITIES]
    return max(known, key=SEVERITIES.index) if known else "medium"


def _verdict(rid: int, ts: float, cause: str, sev: str, raw: str) -> Verdict:
    try:
        doc: dict[str, Any] = json.loads(raw)
    except (TypeError, ValueError):         # an unreadable stored report: its columns still tell the verdict
        doc = {}
    detectors: dict[str, str] = {}
    for a in doc.get("anomalies") or []:
        name = str(a.get("detector") or "unknown")[:64]
        if name in detectors or len(detectors) < MAX_DETECTORS:
            detectors[name] = _worst(detectors.get(name), str(a.get("severity")))
    metrics, base = doc.get("metrics") or {}, doc.get("baseline_metrics") or {}
    return Verdict(rid, ts, cause, sev, detectors, accuracy=metrics.get("accuracy"),
                   baseline_accuracy=base.get("accuracy"), error_rate=metrics.get("error_rate"))


class VerdictCache:
    """Latest verdict per endpoint id; a report is read and parsed once, when it becomes the latest."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_endpoint: dict[int, Verdict] = {}

    def latest(self, engine: Engine, endpoint_ids: list[int]) -> dict[int, Verdict]:
        r = t.reports.c
        newest = (select(r.id).where(r.endpoint_id == t.endpoints.c.id)
                  .order_by(r.ts.desc(), r.id.desc()).limit(1).correlate(t.endpoints).scalar_subquery())
        with self._lock, engine.connect() as conn:
            ids = {int(e): int(rid) for e, rid in conn.execute(select(t.endpoints.c.id, newest)
                                                               .where(t.endpoints.c.id.in_(endpoint_ids)))
                   if rid is not None}
            stale = [rid for eid, rid in ids.items()
                     if eid not in self._by_endpoint or self._by_endpoint[eid].report_id != rid]
            for i in range(0, len(stale), 500):
                for rid, eid, ts, cause, sev, raw in conn.execute(
                        select(r.id, r.endpoint_id, r.ts, r.root_cause, r.severity, r.report_json)
                        .where(r.id.in_(stale[i:i + 500]))):
                    self._by_endpoint[int(eid)] = _verdict(int(rid), float(ts), str(cause), str(sev), raw)
            self._by_endpoint = {e: v for e, v in self._by_endpoint.items() if e in ids}
            return dict(self._by_endpoint)


def open_incidents(engine: Engine) -> list[tuple[int, str, str]]:
    """(endpoint id, root cause, severity) of every open incident."""
    i = t.incidents.c
    with engine.connect() as conn:
        return [(int(a), str(b), str(c)) for a, b, c in
                conn.execute(select(i.endpoint_id, i.root_cause, i.severity).where(i.status == "open"))]


def incidents_opened(engine: Engine) -> dict[int, int]:
    """Incidents ever opened per endpoint id (incidents are never pruned: a true counter)."""
    i = t.incidents.c
    with engine.connect() as conn:
        return {int(e): int(n) for e, n in conn.execute(select(i.endpoint_id, func.count()).group_by(i.endpoint_id))}


def pending_recommendations(engine: Engine) -> dict[str, int]:
    """Pending recommendations per priority."""
    c = t.recommendations.c
    with engine.connect() as conn:
        return {str(p): int(n) for p, n in conn.execute(select(c.priority, func.count())
                                                       .where(c.status == "pending").group_by(c.priority))}


def watcher_rows(engine: Engine) -> list[dict[str, Any]]:
    """Every watcher row (host, pid, status, last heartbeat)."""
    w = t.watcher.c
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(w.id, w.host, w.pid, w.status, w.last_beat)).mappings()]
