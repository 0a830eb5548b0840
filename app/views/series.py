"""Downsampled metric time series, the baseline band and alert / anomaly markers for the charts."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import pandas as pd

from app.schemas import Metrics
from app.storage import Store
from app.storage.read import buckets
from app.storage.read import series as q

__all__ = ["MARKER_COLUMNS", "RANGES", "ROW_BUDGET", "Band", "alert_markers", "baseline_band", "estimate_in_range",
           "mae_by_bucket", "sampled_timeseries", "since_for", "timeseries"]

# label -> seconds looked back (None = everything stored)
RANGES: dict[str, float | None] = {"15 min": 900.0, "1 hour": 3600.0, "6 hours": 21600.0, "24 hours": 86400.0,
                                   "7 days": 604800.0, "30 days": 2592000.0, "all": None}
MARKER_COLUMNS = ["ts", "report_id", "root_cause", "severity", "message"]
ROW_BUDGET = 30_000    # samples aggregated per chart refresh at most (~0.2 s in SQLite)
SLICES_PER_POINT = 8   # sampled slots per chart point when a range exceeds the budget
_COLUMNS = buckets.COLUMNS


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
               min_bucket_s: float = 1.0, row_budget: int = ROW_BUDGET) -> pd.DataFrame:
    """Per-bucket metrics aggregated in the database; never more than ``max_points`` rows.

    The bucket width grows with the time span, so a million stored samples still give a few hundred
    points. When the range holds more than ``row_budget`` samples, the buckets aggregate a
    time-stratified sample of about ``row_budget`` of them (see :func:`sampled_timeseries`), so the
    cost is bounded by the budget, not by the stored count. ``ts`` is the bucket start (epoch s);
    ``sample_rate`` is the share of the range's samples aggregated (1.0 = all);
    ``df.attrs["n_range"]`` the samples in the range (exact when all are aggregated, else estimated
    from the density of the first ``row_budget`` of them) and ``df.attrs["n_exact"]`` which one it is.
    Regression endpoints (task of the active baseline) have no accuracy series (``labelled`` = 0).
    """
    if max_points < 2:
        raise ValueError(f"max_points must be >= 2, got {max_points}")
    n_est = estimate_in_range(store, name, since=since, budget=row_budget)
    if n_est is not None:
        df = sampled_timeseries(store, name, since=since, max_points=max_points, min_bucket_s=min_bucket_s,
                                rate=min(1.0, row_budget / n_est))
        n_range, exact = n_est, False
    else:
        # the store's floor-division bucketing can add one bucket: ask for one fewer to stay within max_points
        df = store.metrics_timeseries(name, bucket_s=min_bucket_s, since=since, max_points=max_points - 1)
        df["sample_rate"] = 1.0
        n_range, exact = (int(df["n"].sum()) if not df.empty else 0), True
    if not df.empty:
        df = df.sort_values("ts").reset_index(drop=True)
        df["time"] = pd.to_datetime(df["ts"], unit="s")
        from app.views.kpis import endpoint_task

        if endpoint_task(store, name) == "regression":
            # exact-match "accuracy" of numeric predictions is meaningless: the error series is the MAE
            df["accuracy"], df["labelled"] = float("nan"), 0
            df["mae"] = mae_by_bucket(store, name, df["ts"], since=since, row_budget=row_budget)
    df.attrs["n_range"], df.attrs["n_exact"] = n_range, exact
    return df


def mae_by_bucket(store: Store, name: str, starts: pd.Series, *, since: float | None,
                  row_budget: int = ROW_BUDGET) -> pd.Series:
    """Mean absolute error per chart bucket (``starts``: the buckets' start times, ascending) from the newest
    ``row_budget`` labelled, successful answers in the range; buckets without any stay NaN. Predictions
    and labels are stored as text, so they are parsed here rather than cast in SQL (which PostgreSQL
    refuses on any non-numeric value)."""
    from app.detection.task import as_float

    eid = store.get_endpoint(name).id
    rows = q.labelled_answers(store.engine, eid, since, row_budget)
    out = pd.Series(float("nan"), index=starts.index, dtype=float)
    if not rows or starts.empty:
        return out
    ts = pd.Series([float(r[0]) for r in rows])
    err = pd.Series([abs(p - y) if p is not None and y is not None else float("nan")
                     for p, y in ((as_float(r[1]), as_float(r[2])) for r in rows)])
    pos = starts.searchsorted(ts, side="right") - 1          # the bucket whose start is at or before ts
    keep = (pos >= 0) & err.notna().to_numpy()
    if not keep.any():
        return out
    means = err[keep].groupby(pos[keep]).mean()
    out.iloc[means.index.to_numpy()] = means.to_numpy()
    return out


def estimate_in_range(store: Store, name: str, *, since: float | None, budget: int) -> int | None:
    """``None`` when the range holds at most ``budget`` samples, else an estimate of how many it holds.

    Walks at most ``budget`` + 1 index entries (bounded cost): the estimate scales the count of the
    first ``budget`` + 1 samples by the time they span against the whole range.
    """
    eid = store.get_endpoint(name).id
    found = q.kth_ts(store.engine, eid, since, budget)
    if found is None:
        return None
    kth, lo, hi = found
    span_k, span = kth - lo, hi - lo
    return int((budget + 1) * span / span_k) if span_k > 0 else budget + 1


def sampled_timeseries(store: Store, name: str, *, since: float | None, max_points: int, min_bucket_s: float,
                       rate: float, slices: int = SLICES_PER_POINT) -> pd.DataFrame:
    """Same columns as ``Store.metrics_timeseries``, from a time-stratified sample of the rows.

    Each chart bucket is cut into ``slices`` equal slots; only the first ``rate`` share of each
    slot is read, through one index range seek per slot. The cost is therefore bounded by the
    number of slots and the sampled rows (about ``rate`` x the range's count), not by the stored
    count. Ratios and means (error rate, confidence, latency, accuracy) are those of the sampled
    slices, spread evenly over the bucket; ``n`` and ``errors`` count the sampled rows. The same
    slices are read on every refresh, so the chart does not flicker.
    """
    if not 0.0 < rate <= 1.0:
        raise ValueError(f"rate must be in (0, 1], got {rate}")
    eid = store.get_endpoint(name).id
    df = q.sampled_buckets(store.engine, eid, since=since, max_points=max_points, min_bucket_s=min_bucket_s,
                           rate=rate, slices=slices)
    if df.empty:
        return pd.DataFrame(columns=[*_COLUMNS, "sample_rate"])
    df["sample_rate"] = rate
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
    rows = q.alert_rows(store.engine, ep.id, since=since, limit=limit)
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
