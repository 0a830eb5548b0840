"""Chart data of the value the detectors test: rolling windows over the newest samples, thresholds, spans.

Pure functions over a frame of samples (one row per stored sample, oldest first) so the Endpoint
page draws what the verdict used, not per-bucket averages. ``samples_frame`` builds that frame from
``Store.recent_samples``; the page only plots what these return.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from app.schemas import Metrics, Sample

__all__ = [
    "METRIC_OF_CAUSE",
    "Threshold",
    "class_mix",
    "downsample",
    "incident_spans",
    "last_bucket_incomplete",
    "markers_for",
    "rolling_view",
    "samples_frame",
    "thresholds",
    "volume",
    "wilson",
]

# which chart a root cause belongs on (markers go only there)
METRIC_OF_CAUSE: dict[str, str] = {
    "accuracy_drop": "accuracy", "error_spike": "error_rate", "data_quality": "error_rate",
    "latency_degradation": "latency_p95_ms", "confidence_drop": "confidence",
    "silent_failure": "class_mix", "prediction_drift": "class_mix", "feature_drift": "drift",
}
# effect floors of the windowed detectors (app/detection/behaviour.py): the smallest change they alert on
ACCURACY_FLOOR, ERROR_FLOOR, LATENCY_REL_FLOOR, LATENCY_ABS_MS = 0.03, 0.02, 0.5, 20.0
FRAME_COLUMNS = ["ts", "ok", "correct", "latency_ms", "confidence", "prediction"]


def samples_frame(samples: Iterable[Sample]) -> pd.DataFrame:
    """One row per sample: ``ok`` (1/0), ``correct`` (1/0, NaN when unlabelled or failed), latency, confidence."""
    rows = [(s.ts, 1.0 if s.ok else 0.0, float("nan") if s.correct is None else float(s.correct), s.latency_ms,
             s.confidence if s.ok else None, s.prediction if s.ok else None) for s in samples]
    df = pd.DataFrame(rows, columns=FRAME_COLUMNS)
    for c in ("ts", "ok", "correct", "latency_ms", "confidence"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    return df


def wilson(k: np.ndarray | float, n: np.ndarray | float, z: float = 1.96) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion k/n (NaN where n = 0).

    >>> lo, hi = wilson(45, 50)
    >>> round(float(lo), 3), round(float(hi), 3)
    (0.786, 0.957)
    """
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        den = 1 + z * z / n
        mid = (p + z * z / (2 * n)) / den
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return mid - half, mid + half


def rolling_view(frame: pd.DataFrame, window: int, *, max_points: int = 240) -> pd.DataFrame:
    """Per sample, the metrics of the ``window`` samples ending there (what the windowed verdict tests).

    Columns: ``ts``, ``time``, ``n`` (samples in the window, < ``window`` while it fills), ``error_rate``,
    ``accuracy`` with its Wilson band ``acc_low`` / ``acc_high`` and ``labelled`` (labelled samples in the
    window), ``confidence`` (mean of answered ones) and ``confidence_std``, ``latency_p50_ms``, ``latency_p95_ms``. Downsampled to ``max_points``
    rows, always keeping the newest (the value the latest verdict saw).
    """
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    cols = ["ts", "time", "n", "error_rate", "accuracy", "acc_low", "acc_high", "labelled", "confidence",
            "confidence_std", "latency_p50_ms", "latency_p95_ms"]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    roll = {"min_periods": 1, "window": window}
    n = frame["ok"].rolling(**roll).count()
    labelled = frame["correct"].notna().astype(float).rolling(**roll).sum()
    right = frame["correct"].fillna(0.0).rolling(**roll).sum()
    lo, hi = wilson(right.to_numpy(), labelled.to_numpy())
    out = pd.DataFrame({
        "ts": frame["ts"], "n": n, "error_rate": 1.0 - frame["ok"].rolling(**roll).mean(),
        "accuracy": (right / labelled).where(labelled > 0), "acc_low": lo, "acc_high": hi, "labelled": labelled,
        "confidence": frame["confidence"].rolling(**roll).mean(),
        "confidence_std": frame["confidence"].rolling(**roll).std(),
        "latency_p50_ms": frame["latency_ms"].rolling(**roll).median(),
        "latency_p95_ms": frame["latency_ms"].rolling(**roll).quantile(0.95)})
    out = downsample(out.reset_index(drop=True), max_points)
    out["time"] = pd.to_datetime(out["ts"], unit="s")
    return out[cols]


def downsample(df: pd.DataFrame, max_points: int) -> pd.DataFrame:
    """Every k-th row so at most ``max_points`` remain, the last row always kept.

    >>> downsample(pd.DataFrame({"x": range(10)}), 4)["x"].tolist()
    [0, 3, 6, 9]
    """
    if len(df) <= max_points:
        return df
    step = math.ceil((len(df) - 1) / max(1, max_points - 1))
    idx = sorted(set(range(len(df) - 1, -1, -step)))
    return df.iloc[idx].reset_index(drop=True)


@dataclass(frozen=True)
class Threshold:
    """Where the windowed detector starts to alert on one metric: ``value``, crossed ``below`` or above it."""

    value: float
    below: bool
    label: str


def thresholds(base: Metrics | None) -> dict[str, Threshold]:
    """Alert lines per metric from the baseline and the detectors' effect floors.

    Accuracy: baseline − 3 points; error rate: baseline + 2 points; p95 latency: the larger of
    1.5 × and +20 ms over the baseline p95; confidence: baseline mean − 2 std (the band's edge).

    >>> t = thresholds(Metrics(accuracy=0.98, error_rate=0.0, latency_p95_ms=10.0))
    >>> round(t["accuracy"].value, 2), t["error_rate"].value, t["latency_p95_ms"].value
    (0.95, 0.02, 30.0)
    >>> thresholds(None)
    {}
    """
    if base is None:
        return {}
    out: dict[str, Threshold] = {}
    if base.accuracy is not None:
        out["accuracy"] = Threshold(max(0.0, base.accuracy - ACCURACY_FLOOR), True, "alert below")
    if base.error_rate is not None:
        out["error_rate"] = Threshold(min(1.0, base.error_rate + ERROR_FLOOR), False, "alert above")
    if base.latency_p95_ms is not None:
        p95 = float(base.latency_p95_ms)
        out["latency_p95_ms"] = Threshold(max(p95 * (1 + LATENCY_REL_FLOOR), p95 + LATENCY_ABS_MS), False,
                                          "alert above")
    if base.avg_confidence is not None and base.confidence_std:
        out["confidence"] = Threshold(max(0.0, base.avg_confidence - 2 * base.confidence_std), True, "band edge")
    return out


def markers_for(markers: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Only the alerts whose root cause is measured by ``metric`` (never an error alert on the accuracy axis).

    >>> m = pd.DataFrame({"root_cause": ["accuracy_drop", "error_spike"], "ts": [1.0, 2.0]})
    >>> markers_for(m, "accuracy")["ts"].tolist(), markers_for(m, "latency_p95_ms").empty
    ([1.0], True)
    """
    if markers is None or markers.empty:
        return pd.DataFrame(columns=[] if markers is None else markers.columns)
    keep = markers["root_cause"].map(lambda rc: METRIC_OF_CAUSE.get(str(rc)) == metric)
    return markers[keep].reset_index(drop=True)


def incident_spans(incidents: pd.DataFrame, *, now: float, since: float | None = None) -> pd.DataFrame:
    """Shaded spans: change point (else opened_at) → resolution (else now), clipped to the range start.

    Columns ``start``, ``end`` (epoch s), ``id``, ``root_cause``, ``severity``, ``metric``, ``open``.

    >>> inc = pd.DataFrame({"id": [1], "root_cause": ["accuracy_drop"], "severity": ["high"], "opened_at": [100.0],
    ...                     "change_point_at": [90.0], "resolved_at": [None]})
    >>> incident_spans(inc, now=200.0)[["start", "end", "open"]].values.tolist()
    [[90.0, 200.0, True]]
    """
    cols = ["start", "end", "id", "root_cause", "severity", "metric", "open"]
    if incidents is None or incidents.empty:
        return pd.DataFrame(columns=cols)
    cp = incidents["change_point_at"] if "change_point_at" in incidents else pd.Series(np.nan, index=incidents.index)
    start = pd.to_numeric(cp, errors="coerce").fillna(pd.to_numeric(incidents["opened_at"], errors="coerce"))
    resolved = pd.to_numeric(incidents["resolved_at"], errors="coerce")
    out = pd.DataFrame({"start": start, "end": resolved.fillna(now), "id": incidents["id"],
                        "root_cause": incidents["root_cause"], "severity": incidents["severity"],
                        "metric": incidents["root_cause"].map(lambda rc: METRIC_OF_CAUSE.get(str(rc), "")),
                        "open": resolved.isna()})
    if since is not None:
        out = out[out["end"] >= since]
        out = out.assign(start=out["start"].clip(lower=since))
    return out.sort_values("start").reset_index(drop=True)[cols]


def class_mix(frame: pd.DataFrame, *, buckets: int = 60, top: int = 6) -> pd.DataFrame:
    """Share of each predicted class per time bucket (answered samples only); rarer classes as ``other``.

    Long format: ``time``, ``ts`` (bucket start), ``cls``, ``share``, ``n`` (answers in the bucket).

    >>> f = pd.DataFrame({"ts": [0.0, 1.0, 2.0, 3.0], "prediction": ["a", "a", "b", None]})
    >>> class_mix(f, buckets=1)[["cls", "share"]].values.tolist()
    [['a', 0.6666666666666666], ['b', 0.3333333333333333]]
    """
    cols = ["time", "ts", "cls", "share", "n"]
    f = frame[frame["prediction"].notna()] if not frame.empty else frame
    if f.empty:
        return pd.DataFrame(columns=cols)
    lo, hi = float(f["ts"].min()), float(f["ts"].max())
    width = max((hi - lo) / max(1, buckets), 1e-9)
    b = np.minimum(((f["ts"] - lo) // width).astype(int), buckets - 1)
    keep = f["prediction"].astype(str).value_counts().index[:top]
    cls = f["prediction"].astype(str).where(f["prediction"].astype(str).isin(keep), "other")
    counts = pd.crosstab(b, cls)
    n = counts.sum(axis=1)
    shares = counts.div(n, axis=0)
    out = shares.stack().rename("share").reset_index()
    out.columns = ["bucket", "cls", "share"]
    out["n"] = out["bucket"].map(n)
    out["ts"] = lo + out["bucket"] * width
    out["time"] = pd.to_datetime(out["ts"], unit="s")
    return out[cols].sort_values(["ts", "cls"]).reset_index(drop=True)


def volume(df: pd.DataFrame) -> pd.DataFrame:
    """Samples per minute per chart bucket (from the per-bucket ``n``; the bucket width from the start times).

    >>> v = volume(pd.DataFrame({"ts": [0.0, 30.0, 60.0], "n": [10, 20, 5]}))
    >>> v["per_min"].tolist(), len(volume(pd.DataFrame({"ts": [5.0], "n": [3]}))["time"])
    ([20.0, 40.0, 10.0], 1)
    """
    ts = pd.to_numeric(df["ts"], errors="coerce") if "ts" in df else pd.Series(dtype=float)
    width = float(np.median(np.diff(ts.to_numpy(dtype=float)))) if len(ts) >= 2 else 60.0
    per_min = df["n"].astype(float) * 60.0 / (width or 60.0) if "n" in df else pd.Series(dtype=float)
    return pd.DataFrame({"ts": ts, "per_min": per_min, "time": pd.to_datetime(ts, unit="s")})


def last_bucket_incomplete(df: pd.DataFrame, now: float) -> bool:
    """Whether the newest bucket is still filling (its end, start + the usual width, is after ``now``).

    >>> last_bucket_incomplete(pd.DataFrame({"ts": [0.0, 10.0, 20.0]}), now=25.0)
    True
    >>> last_bucket_incomplete(pd.DataFrame({"ts": [0.0, 10.0, 20.0]}), now=31.0)
    False
    """
    if len(df) < 2:
        return not df.empty
    ts = df["ts"].to_numpy(dtype=float)
    width = float(np.median(np.diff(ts)))
    return bool(ts[-1] + width > now)
