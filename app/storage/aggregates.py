"""Per-minute aggregates per endpoint, rolled up from raw ``samples`` before they are pruned.

One row per endpoint and minute: counts, errors by kind, latency and confidence quantiles, the
predicted-class mix and accuracy where labelled. They hold no feature value, so they are kept far
longer than raw rows (``MLFI_AGGREGATE_RETENTION``). A minute is rolled up once it is ``lag_s`` old;
a sample written later than that into an already rolled-up minute is not counted in the aggregate.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from loguru import logger
from sqlalchemy import Engine, case, func, select
from sqlalchemy.exc import SQLAlchemyError

from app.storage import tables as t

__all__ = ["MAX_CLASSES", "ROLLUP_LAG_S", "SERIES_COLUMNS", "RollupResult", "aggregate_series", "newest_minute", "rollup", "rollup_endpoint",
           "summarise_minute"]

ROLLUP_LAG_S = 120.0        # a minute is rolled up once it ended this long ago (the watcher writes within a second)
MAX_CLASSES = 20            # class mix: the most frequent predicted classes, the rest counted as "__other__"
CHUNK_MINUTES = 60          # minutes rolled up per transaction (small transactions: probing never waits long)
SERIES_COLUMNS = ["ts", "n", "errors", "error_rate", "avg_confidence", "confidence_std", "avg_latency_ms",
                  "max_latency_ms", "accuracy", "labelled"]
_COLS = ("ts", "error_kind", "latency_ms", "confidence", "prediction", "correct")


@dataclass(frozen=True)
class RollupResult:
    """What one rollup of one endpoint did: minutes written, and the time below which all is rolled up."""

    minutes: int
    until: float


def _q(values: list[float], qs: tuple[float, ...]) -> list[float | None]:
    """Quantiles with linear interpolation (numpy's default), in plain Python: minutes hold few values.

    >>> _q([4.0, 1.0, 3.0, 2.0], (0.0, 0.5, 0.75))
    [1.0, 2.5, 3.25]
    """
    if not values:
        return [None] * len(qs)
    a = sorted(values)
    out: list[float | None] = []
    for q in qs:
        pos = q * (len(a) - 1)
        lo = int(pos)
        hi = min(lo + 1, len(a) - 1)
        out.append(a[lo] + (a[hi] - a[lo]) * (pos - lo))
    return out


def summarise_minute(rows: Iterable[tuple[Any, ...]]) -> dict[str, Any]:
    """The aggregate columns of one minute of ``(ts, error_kind, latency_ms, confidence, prediction, correct)``.

    Latency and confidence are taken over successful samples only, as the charts do.

    >>> r = summarise_minute([(0, None, 10.0, 0.9, "1", 1), (1, None, 30.0, 0.7, "0", 0), (2, "timeout", None, None, None, None)])
    >>> r["n"], r["errors"], r["error_kinds_json"], r["latency_p50"], r["labelled"], r["correct"], r["class_mix_json"]
    (3, 1, '{"timeout": 1}', 20.0, 2, 1, '{"1": 1, "0": 1}')
    """
    n = errors = labelled = correct = 0
    kinds: Counter[str] = Counter()
    classes: Counter[str] = Counter()
    lat: list[float] = []
    conf: list[float] = []
    for _ts, kind, latency, confidence, prediction, ok_pred in rows:
        n += 1
        if kind is not None:
            errors += 1
            kinds[str(kind)] += 1
            continue
        if latency is not None:
            lat.append(float(latency))
        if confidence is not None:
            conf.append(float(confidence))
        if prediction is not None:
            classes[str(prediction)] += 1
        if ok_pred is not None:
            labelled += 1
            correct += int(ok_pred)
    top = dict(classes.most_common(MAX_CLASSES))
    other = sum(classes.values()) - sum(top.values())
    if other:
        top["__other__"] = other
    lp50, lp90, lp99 = _q(lat, (0.5, 0.9, 0.99))
    cp10, cp50, cp90 = _q(conf, (0.1, 0.5, 0.9))
    return {"n": n, "errors": errors, "error_kinds_json": json.dumps(dict(kinds)) if kinds else None,
            "latency_p50": lp50, "latency_p90": lp90, "latency_p99": lp99,
            "latency_max": max(lat) if lat else None, "latency_mean": sum(lat) / len(lat) if lat else None,
            "confidence_mean": sum(conf) / len(conf) if conf else None,
            "confidence_sq_mean": sum(c * c for c in conf) / len(conf) if conf else None,
            "confidence_p10": cp10, "confidence_p50": cp50, "confidence_p90": cp90,
            "class_mix_json": json.dumps(top) if top else None, "labelled": labelled, "correct": correct}


def _rows_by_minute(rows: list[Any]) -> dict[float, list[Any]]:
    out: dict[float, list[Any]] = {}
    for r in rows:
        out.setdefault(float(r[0]) // 60 * 60, []).append(r)
    return out


def rollup_endpoint(engine: Engine, eid: int, now: float, *, lag_s: float = ROLLUP_LAG_S) -> RollupResult:
    """Roll up every complete minute of one endpoint not yet aggregated, ``CHUNK_MINUTES`` per transaction."""
    cutoff = (now - lag_s) // 60 * 60          # minutes starting before this are complete
    s, a = t.samples.c, t.sample_aggregates.c
    written = 0
    while True:
        with engine.begin() as conn:
            last = conn.execute(select(func.max(a.minute)).where(a.endpoint_id == eid)).scalar()
            where = [s.endpoint_id == eid] + ([] if last is None else [s.ts >= float(last) + 60.0])
            first = conn.execute(select(func.min(s.ts)).where(*where)).scalar()
            if first is None or float(first) >= cutoff:
                return RollupResult(written, cutoff)
            lo = float(first) // 60 * 60
            hi = min(cutoff, lo + CHUNK_MINUTES * 60.0)
            rows = conn.execute(select(*(getattr(s, c) for c in _COLS))
                                .where(s.endpoint_id == eid, s.ts >= lo, s.ts < hi)).all()
            out = [{"endpoint_id": eid, "minute": m, **summarise_minute(rs)}
                   for m, rs in sorted(_rows_by_minute(rows).items())]
            if out:
                conn.execute(t.sample_aggregates.insert(), out)
            written += len(out)


def rollup(engine: Engine, now: float, *, lag_s: float = ROLLUP_LAG_S) -> dict[int, RollupResult]:
    """Roll up every endpoint; returns endpoint id -> result (an endpoint that failed is logged and absent)."""
    with engine.connect() as conn:
        ids = [int(r[0]) for r in conn.execute(select(t.endpoints.c.id))]
    out = {}
    for eid in ids:
        try:
            out[eid] = rollup_endpoint(engine, eid, now, lag_s=lag_s)
        except SQLAlchemyError as exc:   # that endpoint's raw rows stay (not pruned) until a rollup succeeds
            logger.warning(f"rollup of endpoint {eid} failed: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}")
    return out


def aggregate_series(engine: Engine, eid: int, *, since: float | None = None, bucket_s: float = 60.0) -> pd.DataFrame:
    """Chart columns (as ``app.storage.read.buckets.COLUMNS``) from the aggregates, grouped in the database
    into ``bucket_s`` buckets (a multiple of a minute). Means are weighted by each minute's successful samples."""
    a = t.sample_aggregates.c
    ok = a.n - a.errors
    bucket = func.floor(a.minute / bucket_s).label("bucket")
    q = (select(bucket, func.sum(a.n).label("n"), func.sum(a.errors).label("errors"),
                func.sum(a.confidence_mean * ok).label("w_conf"), func.sum(a.confidence_sq_mean * ok).label("w_sq"),
                func.sum(case((a.confidence_mean.isnot(None), ok), else_=0)).label("ok_conf"),
                func.sum(a.latency_mean * ok).label("w_lat"),
                func.sum(case((a.latency_mean.isnot(None), ok), else_=0)).label("ok_lat"),
                func.max(a.latency_max).label("max_latency_ms"), func.sum(a.labelled).label("labelled"),
                func.sum(a.correct).label("correct"))
         .where(a.endpoint_id == eid).group_by(bucket).order_by(bucket))
    if since is not None:
        q = q.where(a.minute >= since // 60 * 60)
    with engine.connect() as conn:
        g = pd.DataFrame(conn.execute(q).mappings().all())
    if g.empty:
        return pd.DataFrame(columns=SERIES_COLUMNS)
    g = g.astype(float)
    out = pd.DataFrame({"ts": g["bucket"] * bucket_s, "n": g["n"], "errors": g["errors"],
                        "error_rate": g["errors"] / g["n"]})
    out["avg_confidence"] = (g["w_conf"] / g["ok_conf"]).where(g["ok_conf"] > 0)
    out["confidence_std"] = (g["w_sq"] / g["ok_conf"] - out["avg_confidence"] ** 2).clip(lower=0) ** 0.5
    out["avg_latency_ms"] = (g["w_lat"] / g["ok_lat"]).where(g["ok_lat"] > 0)
    out["max_latency_ms"] = g["max_latency_ms"]
    out["accuracy"] = (g["correct"] / g["labelled"]).where(g["labelled"] > 0)
    out["labelled"] = g["labelled"]
    return out[SERIES_COLUMNS]


def newest_minute(engine: Engine, eid: int) -> float | None:
    """Start of the newest aggregated minute of an endpoint (None when it has none)."""
    a = t.sample_aggregates.c
    with engine.connect() as conn:
        v = conn.execute(select(func.max(a.minute)).where(a.endpoint_id == eid)).scalar()
    return None if v is None else float(v)
