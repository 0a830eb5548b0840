"""Downsampled metric time series, the baseline band and alert / anomaly markers for the charts."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import select

from app.schemas import Metrics
from app.storage import Store
from app.storage import tables as t

__all__ = ["RANGES", "since_for", "timeseries", "Band", "baseline_band", "alert_markers", "MARKER_COLUMNS"]

# label -> seconds looked back (None = everything stored)
RANGES: dict[str, float | None] = {"15 min": 900.0, "1 hour": 3600.0, "6 hours": 21600.0, "24 hours": 86400.0,
                                   "7 days": 604800.0, "all": None}
MARKER_COLUMNS = ["ts", "report_id", "root_cause", "severity", "message"]


def since_for(range_label: str, now: float) -> float | None:
    """Start time of a named range (``None`` for ``all``).

    >>> since_for("1 hour", 10_000.0), since_for("all", 10_000.0)
    (6400.0, None)
    """
    if range_label not in RANGES:
        raise KeyError(f"unknown range {range_label!r}; choose one of {', '.join(RANGES)}")
    back = RANGES[range_label]
    return None if back is None else now - back


def timeseries(store: Store, name: str, *, since: float | None = None, max_points: int = 300,
               min_bucket_s: float = 1.0) -> pd.DataFrame:
    """Per-bucket metrics aggregated in the database; never more than about ``max_points`` rows.

    The bucket width grows with the time span (``store.metrics_timeseries``), so a million stored
    samples still give a few hundred points. ``ts`` is the bucket start (epoch seconds).
    """
    if max_points < 2:
        raise ValueError(f"max_points must be >= 2, got {max_points}")
    # the store's floor-division bucketing can add one bucket: ask for one fewer to stay within max_points
    df = store.metrics_timeseries(name, bucket_s=min_bucket_s, since=since, max_points=max_points - 1)
    if not df.empty:
        df = df.sort_values("ts").reset_index(drop=True)
        df["time"] = pd.to_datetime(df["ts"], unit="s")
    return df


@dataclass(frozen=True)
class Band:
    """Baseline band of one metric: centre and [low, high] (mean ± k·std)."""

    centre: float
    low: float
    high: float


def baseline_band(baseline: Metrics | None, *, k: float = 2.0) -> Band | None:
    """Confidence band of the baseline (``avg_confidence`` ± ``k`` × ``confidence_std``, clipped to [0, 1]).

    >>> b = baseline_band(Metrics(avg_confidence=0.9, confidence_std=0.04))
    >>> (round(b.low, 2), round(b.high, 2))
    (0.82, 0.98)
    >>> baseline_band(Metrics()) is None
    True
    """
    if baseline is None or baseline.avg_confidence is None:
        return None
    sd = baseline.confidence_std or 0.0
    c = float(baseline.avg_confidence)
    if not math.isfinite(c):
        return None
    return Band(centre=c, low=max(0.0, c - k * sd), high=min(1.0, c + k * sd))


def alert_markers(store: Store, name: str, *, since: float | None = None, limit: int = 200) -> pd.DataFrame:
    """One row per alerting report (newest ``limit``), with its root cause and a short message.

    The message is the report's failure reason followed by its anomaly messages; only alerting
    reports' JSON is parsed, so the cost is bounded by ``limit``.
    """
    ep = store.find_endpoint(name)
    if ep is None:
        return pd.DataFrame(columns=MARKER_COLUMNS)
    r = t.reports.c
    q = select(r.id, r.ts, r.root_cause, r.severity, r.report_json).where(
        (r.endpoint_id == ep["id"]) & r.alert.is_(True))
    if since is not None:
        q = q.where(r.ts >= since)
    q = q.order_by(r.ts.desc()).limit(limit)
    with store.engine.connect() as conn:
        rows = conn.execute(q).all()
    recs = []
    for rid, ts, rc, sev, raw in rows:
        rep = json.loads(raw)
        parts = [rep.get("rca", {}).get("failure_reason") or ""]
        parts += [a.get("message", "") for a in rep.get("anomalies", [])[:3]]
        recs.append({"ts": float(ts), "report_id": int(rid), "root_cause": rc, "severity": sev,
                     "message": " · ".join(p for p in parts if p)})
    df = pd.DataFrame(recs, columns=MARKER_COLUMNS)
    df = df.sort_values("ts").reset_index(drop=True)
    df["time"] = pd.to_datetime(df["ts"], unit="s")
    return df
