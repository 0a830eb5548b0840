"""Overview rows: every endpoint with its status, last verdict, open incidents and sample counts."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from app.storage import Store
from app.storage.read.endpoints import endpoint_facts
from app.views.status import STATUSES, endpoint_status

__all__ = ["EndpointSummary", "is_passive", "overview", "status_counts"]


def is_passive(protocol: str | None, url: str | None) -> bool:
    """An endpoint fed by ``mlfi ingest`` (no URL to probe): no probe interval, nothing to start or stop.

    >>> is_passive("ingest", None), is_passive("generic", "http://m/predict")
    (True, False)
    """
    return protocol == "ingest" or not url


@dataclass(frozen=True)
class EndpointSummary:
    """One row of the Overview page (no headers or other secrets)."""

    name: str
    url: str | None
    protocol: str | None
    enabled: bool
    interval_s: float
    status: str
    last_verdict: str | None
    last_severity: str | None
    last_report_at: float | None
    open_incidents: int
    samples: int
    error_rate: float | None   # of the newest analysed window (None before the first report)
    last_probe_at: float | None
    last_probe_status: str | None

    @property
    def passive(self) -> bool:
        return is_passive(self.protocol, self.url)

    def as_row(self) -> dict[str, Any]:
        return asdict(self)


def overview(store: Store, *, name: str | None = None) -> list[EndpointSummary]:
    """Summaries of all endpoints (or of the one called ``name``), worst status first.

    Cheap whatever the stored count: sample counts are one index-only ``COUNT ... GROUP BY``; the
    verdict and error rate come from the newest report row of each endpoint (its small metrics JSON).
    """
    out = []
    for facts in endpoint_facts(store.engine, name=name):
        ep, rep = facts.endpoint, facts.latest
        err = None if rep is None else json.loads(rep.metrics_json).get("error_rate")
        status = endpoint_status(enabled=ep.enabled, last_status=ep.last_status,
                                 consecutive_failures=ep.consecutive_failures,
                                 latest_alert=None if rep is None else rep.alert,
                                 latest_severity=None if rep is None else rep.severity)
        out.append(EndpointSummary(
            name=ep.name, url=ep.url, protocol=ep.protocol, enabled=ep.enabled,
            interval_s=float(ep.interval_s or 0.0), status=status,
            last_verdict=None if rep is None else rep.root_cause, last_severity=None if rep is None else rep.severity,
            last_report_at=None if rep is None else rep.ts, open_incidents=facts.open_incidents,
            samples=facts.samples, error_rate=err, last_probe_at=ep.last_probe_at,
            last_probe_status=ep.last_status))
    out.sort(key=lambda e: (STATUSES.index(e.status), e.name))
    return out


def status_counts(rows: list[EndpointSummary]) -> dict[str, int]:
    """How many endpoints are in each status (every status present, zero when none).

    >>> status_counts([])["healthy"]
    0
    """
    out = {st: 0 for st in STATUSES}
    for row in rows:
        out[row.status] += 1
    return out
