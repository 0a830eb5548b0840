"""Estimated (label-free) vs realised accuracy of an endpoint's analysis windows, for the dashboard chart."""

from __future__ import annotations

import pandas as pd

from app.exporting import estimate_frame
from app.storage import Store

__all__ = ["estimate_series"]


def estimate_series(store: Store, name: str, *, since: float | None = None, limit: int = 500) -> pd.DataFrame:
    """Per stored report (oldest first): time, estimated_accuracy, estimate_low/high, realised_accuracy,
    estimate_unreliable, estimate_reason, estimate_note; only reports since ``since`` (epoch seconds) when given."""
    df = estimate_frame(store, name, limit=limit)
    if since is not None and not df.empty:
        df = df[df["ts"] >= since].reset_index(drop=True)
    df.insert(0, "time", pd.to_datetime(df["ts"].astype(float), unit="s", utc=True) if not df.empty else [])
    return df
