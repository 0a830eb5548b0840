"""The exported tables (metrics time series, per-report metrics): one definition, so ``mlfi export`` and the
dashboard's downloads write the same columns. Never headers or other secrets (none are selected)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from app.storage import Store

__all__ = ["ESTIMATE_COLUMNS", "METRICS_COLUMNS", "estimate_frame", "export_metrics", "iso_utc", "metrics_frame",
           "reports_frame"]

METRICS_COLUMNS = ["ts", "n", "errors", "error_rate", "avg_confidence", "confidence_std", "avg_latency_ms",
                   "max_latency_ms", "accuracy", "labelled"]


def iso_utc(ts: pd.Series) -> pd.Series:
    """Epoch seconds as ISO-8601 UTC text.

    >>> iso_utc(pd.Series([0, 86400.5])).tolist()
    ['1970-01-01T00:00:00Z', '1970-01-02T00:00:00Z']
    """
    return pd.to_datetime(ts.astype(float), unit="s", utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def metrics_frame(store: Store, name: str, *, bucket_s: float = 60.0, since: float | None = None) -> pd.DataFrame:
    """Per-bucket metrics of one endpoint: endpoint, time_utc, then METRICS_COLUMNS (oldest first)."""
    df = store.metrics_timeseries(name, bucket_s=bucket_s, since=since)
    df = df.sort_values("ts")[METRICS_COLUMNS] if not df.empty else df.reindex(columns=METRICS_COLUMNS)
    df.insert(0, "time_utc", iso_utc(df["ts"]) if not df.empty else [])
    df.insert(0, "endpoint", name)
    return df


ESTIMATE_COLUMNS = ["estimated_accuracy", "estimate_low", "estimate_high", "realised_accuracy", "estimate_unreliable",
                    "estimate_reason", "estimate_note"]
MAX_ESTIMATE_REPORTS = 100_000


def estimate_frame(store: Store, name: str, *, limit: int = MAX_ESTIMATE_REPORTS) -> pd.DataFrame:
    """Label-free estimated vs realised accuracy per stored report (oldest first): report_id, ts, ESTIMATE_COLUMNS.

    Reports without an ``estimated_performance`` (regression, no confidence, older reports) are left out.
    """
    recs = []
    for rep in store.list_reports(name, limit=limit):
        ep = rep.estimated_performance
        if ep is None:
            continue
        low, high = (ep.band + [None, None])[:2] if ep.band else (None, None)
        recs.append({"report_id": rep.report_id, "ts": rep.created_at, "estimated_accuracy": ep.estimate,
                     "estimate_low": low, "estimate_high": high, "realised_accuracy": ep.realised,
                     "estimate_unreliable": ep.unreliable, "estimate_reason": "; ".join(ep.reasons),
                     "estimate_note": "; ".join(ep.notes)})
    df = pd.DataFrame(recs, columns=["report_id", "ts", *ESTIMATE_COLUMNS])
    return df.sort_values("ts", kind="stable").reset_index(drop=True) if not df.empty else df


def reports_frame(store: Store, name: str) -> pd.DataFrame:
    """One row per stored report of one endpoint: endpoint, time_utc, verdict, severity, alert and metrics,
    then the label-free accuracy estimate (ESTIMATE_COLUMNS, empty where a report has none)."""
    df = store.report_metrics_frame(name)
    if not df.empty:
        est = estimate_frame(store, name).drop(columns="ts")
        df = df.merge(est, on="report_id", how="left") if not est.empty else df.reindex(
            columns=[*df.columns, *ESTIMATE_COLUMNS])
    if not df.empty:
        df.insert(0, "time_utc", iso_utc(df["ts"]))
    df.insert(0, "endpoint", name)
    return df


def export_metrics(store: Store, name: str, out: str | Path, *, bucket_s: float = 60.0,
                   kind: str = "samples") -> int:
    """Write the metrics time series (per time bucket, or per stored report) as CSV; no secrets."""
    store.get_endpoint(name)
    df = reports_frame(store, name) if kind == "reports" else metrics_frame(store, name, bucket_s=bucket_s)
    from app.atomic_file import write_atomic

    write_atomic(out, df.to_csv(index=False))   # a regular file or a new path only, temp + rename
    return len(df)
