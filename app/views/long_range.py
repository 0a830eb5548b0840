"""The Endpoint page's long ranges (7 and 30 days) and the "what is kept" line: raw rows are pruned after
``MLFI_RAW_RETENTION``, so long charts read the per-minute aggregates (plus the raw rows not rolled up yet)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from app.config import Settings
from app.storage import Store
from app.storage.aggregates import aggregate_series, newest_minute
from app.storage.retention_policy import effective, recorded, shortened
from app.watcher.pruning import configured_retention

__all__ = ["LONG_RANGES", "combine_buckets", "kept_text", "long_timeseries"]

LONG_RANGES = ("7 days", "30 days")     # ranges drawn from the aggregates


def _span(seconds: float | None) -> str:
    """``3600`` -> ``1 h``; ``None`` -> ``forever``.

    >>> _span(3600.0), _span(90 * 86400.0), _span(5400.0), _span(None)
    ('1 h', '90 d', '90 min', 'forever')
    """
    if seconds is None:
        return "forever"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} s" if seconds < 60 else f"{seconds / 60:.0f} min"


def kept_text(settings: Settings, store: Store) -> str:
    """One line for the dashboard: how long raw rows and aggregates are kept, and what happens to inputs."""
    want = configured_retention(settings)
    old = recorded(store.engine)
    use = effective(old, want)
    inputs = {"none": "never stored (drift runs on the watcher's in-memory window and the baseline's sketches)",
              "window": "stored with the raw samples, deleted with them",
              "all": "stored with the raw samples"}[settings.store_inputs]
    line = (f"Kept: raw samples for {_span(use.raw_s)}, per-minute aggregates for {_span(use.aggregate_s)}; "
            f"feature values (MLFI_STORE_INPUTS={settings.store_inputs}): {inputs}. "
            "Incidents, reports and the audit log are kept.")
    if shortened(old, want):
        line += " A shorter retention is configured; it applies once `mlfi storage retention` confirms it."
    return line


def combine_buckets(df: pd.DataFrame) -> pd.DataFrame:
    """Merge rows with the same bucket start (aggregates and raw rows meeting in one bucket): counts add up,
    means are weighted by the successful (confidence, latency) or labelled (accuracy) samples.

    >>> d = pd.DataFrame({"ts": [0.0, 0.0], "n": [4, 4], "errors": [0, 2], "error_rate": [0.0, 0.5],
    ...                   "avg_confidence": [0.8, 0.5], "confidence_std": [0.1, 0.1], "avg_latency_ms": [10.0, 40.0],
    ...                   "max_latency_ms": [20.0, 50.0], "accuracy": [1.0, None], "labelled": [2, 0]})
    >>> r = combine_buckets(d).iloc[0]
    >>> int(r["n"]), float(r["error_rate"]), round(float(r["avg_confidence"]), 6), float(r["max_latency_ms"]), float(r["accuracy"])
    (8, 0.25, 0.7, 50.0, 1.0)
    """
    if df.empty or not df["ts"].duplicated().any():
        return df
    d = df.astype({c: float for c in df.columns if c != "time"}).copy()
    ok = d["n"] - d["errors"]
    parts = {"n": d["n"], "errors": d["errors"], "labelled": d["labelled"],
             "w_conf": (d["avg_confidence"] * ok).fillna(0), "ok_conf": ok.where(d["avg_confidence"].notna(), 0),
             "w_std": (d["confidence_std"] * ok).fillna(0), "ok_std": ok.where(d["confidence_std"].notna(), 0),
             "w_lat": (d["avg_latency_ms"] * ok).fillna(0), "ok_lat": ok.where(d["avg_latency_ms"].notna(), 0),
             "w_acc": (d["accuracy"] * d["labelled"]).fillna(0)}
    g = pd.DataFrame({"ts": d["ts"], **parts}).groupby("ts", as_index=False).sum()
    g["max_latency_ms"] = d.groupby("ts")["max_latency_ms"].max().to_numpy()
    out = pd.DataFrame({"ts": g["ts"], "n": g["n"], "errors": g["errors"], "error_rate": g["errors"] / g["n"]})
    out["avg_confidence"] = (g["w_conf"] / g["ok_conf"]).where(g["ok_conf"] > 0)
    out["confidence_std"] = (g["w_std"] / g["ok_std"]).where(g["ok_std"] > 0)
    out["avg_latency_ms"] = (g["w_lat"] / g["ok_lat"]).where(g["ok_lat"] > 0)
    out["max_latency_ms"] = g["max_latency_ms"]
    out["accuracy"] = (g["w_acc"] / g["labelled"]).where(g["labelled"] > 0)
    out["labelled"] = g["labelled"]
    return out


def long_timeseries(store: Store, name: str, *, since: float, now: float, max_points: int = 300) -> pd.DataFrame:
    """The chart columns of ``app.views.series.timeseries`` for a long range, from the per-minute aggregates and
    the raw rows newer than the last aggregated minute; buckets are whole minutes, at most ``max_points``.

    ``df.attrs["source"]`` is ``"aggregates"``; ``n_range`` counts the samples in the range (exact).
    """
    eid = store.get_endpoint(name).id
    bucket_s = 60.0 * max(1, math.ceil((now - since) / max(1, max_points - 1) / 60.0))
    agg = aggregate_series(store.engine, eid, since=since, bucket_s=bucket_s)
    newest = newest_minute(store.engine, eid)        # raw rows of aggregated minutes would count twice
    raw = store.metrics_timeseries(name, bucket_s=bucket_s, since=since if newest is None else max(since, newest + 60))
    frames = [f for f in (agg, raw) if not f.empty]
    df = combine_buckets(pd.concat(frames, ignore_index=True)) if frames else pd.DataFrame(columns=agg.columns)
    if not df.empty:
        df = df.sort_values("ts").reset_index(drop=True)
        df["time"] = pd.to_datetime(df["ts"], unit="s")
    df["sample_rate"] = 1.0
    df.attrs.update(n_range=int(np.nansum(df["n"].to_numpy(dtype=float))) if not df.empty else 0, n_exact=True,
                    source="aggregates", bucket_s=bucket_s)
    return df
