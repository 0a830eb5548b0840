"""Chart queries over samples and reports: range ends, sampled buckets, labelled answers, alert rows."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import Engine, and_, func, literal, select

from app.storage import tables as t
from app.storage.read import buckets

__all__ = ["alert_rows", "kth_ts", "labelled_answers", "range_ends", "sampled_buckets"]


def _range_ends(conn: Any, eid: int, since: float | None) -> tuple[float | None, float | None]:
    # two single-aggregate queries: SQLite answers each with one index seek (min and max together scan)
    s = t.samples.c
    where = [s.endpoint_id == eid] + ([s.ts >= since] if since is not None else [])
    lo = conn.execute(select(func.min(s.ts)).where(*where)).scalar()
    hi = conn.execute(select(func.max(s.ts)).where(*where)).scalar()
    return lo, hi


def range_ends(engine: Engine, eid: int, since: float | None) -> tuple[float | None, float | None]:
    """Oldest and newest sample time of an endpoint in the range (None, None when empty)."""
    with engine.connect() as conn:
        return _range_ends(conn, eid, since)


def kth_ts(engine: Engine, eid: int, since: float | None, k: int) -> tuple[float, float, float] | None:
    """(time of the sample at offset ``k`` in the range, oldest, newest), or None when the range holds <= k.

    Walks at most ``k`` + 1 index entries.
    """
    s = t.samples.c
    q = select(s.ts).where(s.endpoint_id == eid)
    if since is not None:
        q = q.where(s.ts >= since)
    with engine.connect() as conn:
        kth = conn.execute(q.order_by(s.ts).limit(1).offset(k)).scalar()
        if kth is None:
            return None
        lo, hi = _range_ends(conn, eid, since)
    return float(kth), float(lo), float(hi)   # type: ignore[arg-type]


def labelled_answers(engine: Engine, eid: int, since: float | None, limit: int) -> list[tuple[float, Any, Any]]:
    """(ts, prediction, label) of the newest ``limit`` labelled, successful answers in the range."""
    s = t.samples.c
    where = [s.endpoint_id == eid, s.error_kind.is_(None), s.label.isnot(None), s.prediction.isnot(None)]
    if since is not None:
        where.append(s.ts >= since)
    q = select(s.ts, s.prediction, s.label).where(*where).order_by(s.ts.desc()).limit(limit)
    with engine.connect() as conn:
        return [(float(r[0]), r[1], r[2]) for r in conn.execute(q).all()]


def sampled_buckets(engine: Engine, eid: int, *, since: float | None, max_points: int, min_bucket_s: float,
                    rate: float, slices: int) -> pd.DataFrame:
    """The bucketed-metrics aggregates over the first ``rate`` share of ``slices`` slots per bucket.

    One index range seek per slot (a recursive CTE of slot numbers joined to ``samples``), so the
    cost is bounded by the slots and the sampled rows, not by the stored count.
    """
    s = t.samples.c
    with engine.connect() as conn:
        lo, hi = _range_ends(conn, eid, since)
        if lo is None or hi is None:
            return pd.DataFrame(columns=buckets.COLUMNS)
        lo, hi = float(lo), float(hi)
        bucket_s = max(min_bucket_s, (hi - lo) / (max_points - 1) if hi > lo else min_bucket_s)
        n_buckets = int((hi - lo) // bucket_s) + 1
        slot, width = bucket_s / slices, bucket_s / slices * rate
        w = select(literal(0).label("i")).cte("slots", recursive=True)
        w = w.union_all(select((w.c.i + 1).label("i")).where(w.c.i < n_buckets * slices - 1))
        start = lo + w.c.i * slot
        bucket = func.floor(w.c.i / slices).label("bucket")
        q = (select(*buckets.aggregates(bucket))
             .select_from(w.join(t.samples, and_(s.endpoint_id == eid, s.ts >= start, s.ts < start + width)))
             .group_by(bucket).order_by(bucket))
        df = pd.DataFrame(conn.execute(q).mappings().all())
    if df.empty:
        return pd.DataFrame(columns=buckets.COLUMNS)
    return buckets.finish(df, origin=lo, bucket_s=bucket_s)


def alert_rows(engine: Engine, eid: int, *, since: float | None, limit: int) -> list[tuple[int, float, str, str, str]]:
    """(id, ts, root cause, severity, report JSON) of the newest ``limit`` alerting reports in the range."""
    r = t.reports.c
    q = select(r.id, r.ts, r.root_cause, r.severity, r.report_json).where((r.endpoint_id == eid) & r.alert.is_(True))
    if since is not None:
        q = q.where(r.ts >= since)
    q = q.order_by(r.ts.desc()).limit(limit)
    with engine.connect() as conn:
        return [(int(a), float(b), c, d, e) for a, b, c, d, e in conn.execute(q).all()]
