"""The bucketed-metrics query, written once: per-bucket sample aggregates and their derived columns."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import Float, case, cast, func

from app.storage import tables as t

__all__ = ["COLUMNS", "aggregates", "finish"]

COLUMNS = ["ts", "n", "errors", "error_rate", "avg_confidence", "confidence_std", "avg_latency_ms",
           "max_latency_ms", "accuracy", "labelled"]


def aggregates(bucket: Any) -> list[Any]:
    """The select list grouped by ``bucket`` (a labelled ``bucket`` expression) over ``samples``."""
    s = t.samples.c
    err = case((s.error_kind.isnot(None), 1), else_=0)
    return [bucket, func.count().label("n"), func.sum(err).label("errors"),
            func.avg(s.confidence).label("avg_confidence"),
            func.avg(s.confidence * s.confidence).label("conf_sq"),
            func.avg(s.latency_ms).label("avg_latency_ms"), func.max(s.latency_ms).label("max_latency_ms"),
            # avg of an INTEGER column is NUMERIC (a Decimal) on PostgreSQL: average a float
            func.avg(cast(s.correct, Float)).label("accuracy"), func.count(s.correct).label("labelled")]


def finish(df: pd.DataFrame, *, origin: float, bucket_s: float) -> pd.DataFrame:
    """Bucket start time, error rate and confidence std from the raw aggregates (drops the helpers).

    >>> raw = pd.DataFrame({"bucket": [2], "n": [4], "errors": [1], "avg_confidence": [0.5], "conf_sq": [0.26]})
    >>> out = finish(raw, origin=0.0, bucket_s=60.0)
    >>> float(out["ts"][0]), float(out["error_rate"][0]), round(float(out["confidence_std"][0]), 2)
    (120.0, 0.25, 0.1)
    """
    df["ts"] = origin + df["bucket"].astype(float) * bucket_s
    df["error_rate"] = df["errors"] / df["n"]
    df["confidence_std"] = (df["conf_sq"] - df["avg_confidence"] ** 2).clip(lower=0) ** 0.5
    return df.drop(columns=["bucket", "conf_sq"])
