"""Cumulative sample counts for Prometheus, read incrementally from the ``samples`` table by row id.

Raw samples are pruned (``MLFI_RAW_RETENTION``), so a count over the table would fall and break the
counter contract. Instead the first scrape counts what the table holds and every later scrape only the
rows with a higher id (a primary-key range: cheap however big the table is); counts only ever grow in
this process and start again when it restarts, as every Prometheus counter does.

PostgreSQL assigns ids before commit, so a row committed late with an id below one already read is
missed; each scrape therefore reads only up to the highest id the previous scrape saw (one scrape late,
by which time writers in flight have committed). SQLite commits in id order and reads up to the newest.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import Engine, case, func, select

from app.schemas import ERROR_KINDS
from app.storage import tables as t

__all__ = ["LATENCY_BUCKETS_S", "LatencyHistogram", "SampleCounts", "outcome_of"]

# seconds (Prometheus base unit); the client library's default buckets plus 30 s for slow models
LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def outcome_of(error_kind: str | None) -> str:
    """A bounded label value: ``ok``, one of the known error kinds, or ``other``.

    >>> outcome_of(None), outcome_of("timeout"), outcome_of("whatever a client wrote")
    ('ok', 'timeout', 'other')
    """
    if error_kind is None:
        return "ok"
    return error_kind if error_kind in ERROR_KINDS else "other"


@dataclass
class LatencyHistogram:
    """One endpoint's cumulative latency histogram: per-bucket counts (not cumulative), count, sum (s)."""

    buckets: list[int] = field(default_factory=lambda: [0] * len(LATENCY_BUCKETS_S))
    count: int = 0
    total_s: float = 0.0

    def cumulative(self) -> list[tuple[str, float]]:
        """``(le, cumulative count)`` pairs ending with ``+Inf``, as the exposition format wants."""
        out, acc = [], 0
        for le, n in zip(LATENCY_BUCKETS_S, self.buckets, strict=True):
            acc += n
            out.append((repr(float(le)), float(acc)))
        out.append(("+Inf", float(self.count)))
        return out


class SampleCounts:
    """Samples per (endpoint id, source, outcome) and the latency histogram of successful ones, per endpoint."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_id = 0           # rows with an id up to this one are counted
        self._seen_max: int | None = None  # highest id seen by the previous update (PostgreSQL read limit)
        self.outcomes: Counter[tuple[int, str, str]] = Counter()
        self.latency: dict[int, LatencyHistogram] = {}

    def update(self, engine: Engine) -> None:
        """Add the rows written since the previous update (thread-safe: concurrent scrapes take turns)."""
        with self._lock, engine.connect() as conn:
            newest = conn.execute(select(func.max(t.samples.c.id))).scalar()
            newest = int(newest or 0)
            if newest < self._last_id:      # the table was emptied (every row pruned or deleted): ids restart
                self._last_id = newest
                self._seen_max = newest
                return
            upto = newest
            if engine.dialect.name == "postgresql" and self._seen_max is not None:
                upto = min(newest, max(self._seen_max, self._last_id))
            self._seen_max = newest
            if upto <= self._last_id:
                return
            s = t.samples.c
            bucket = case(*((s.latency_ms <= le * 1000.0, i) for i, le in enumerate(LATENCY_BUCKETS_S)),
                          else_=len(LATENCY_BUCKETS_S))     # the first bucket that holds it; +Inf past the last
            bucket = case((s.latency_ms.is_(None), None), (s.error_kind.isnot(None), None), else_=bucket)
            for eid, source, kind, b, n, total_ms in conn.execute(     # one pass over the new rows
                    select(s.endpoint_id, s.source, s.error_kind, bucket, func.count(), func.sum(s.latency_ms))
                    .where(s.id > self._last_id, s.id <= upto).group_by(s.endpoint_id, s.source, s.error_kind, bucket)):
                self.outcomes[(int(eid), str(source or "probe"), outcome_of(kind))] += int(n)
                if b is None:
                    continue
                h = self.latency.setdefault(int(eid), LatencyHistogram())
                h.count += int(n)
                h.total_s += float(total_ms or 0.0) / 1000.0
                if int(b) < len(LATENCY_BUCKETS_S):
                    h.buckets[int(b)] += int(n)
            self._last_id = upto
