"""Counters of the watcher: one cycle (`CycleStats`) and the running totals with a lateness histogram."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["LATENESS_BUCKETS", "LATENESS_BUCKET_MS", "ON_TIME_TOLERANCE_S", "CycleStats", "Totals"]

# a probe "started on schedule" when it started at most this long after its due time
ON_TIME_TOLERANCE_S = 0.25
LATENESS_BUCKET_MS = 10       # histogram bucket width
LATENESS_BUCKETS = 200        # 0..2 s in 10 ms buckets, plus one overflow bucket


@dataclass(frozen=True)
class CycleStats:
    """What one scheduling cycle did (returned by :func:`app.watcher.run_once`)."""

    started_at: float
    endpoints_enabled: int = 0
    probes_submitted: int = 0
    probes_completed: int = 0
    samples_written: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    skipped_busy: int = 0
    backing_off: int = 0
    analyses_run: int = 0
    baselines_learned: int = 0
    reports_saved: int = 0
    write_failed: bool = False
    pending_writes: int = 0
    duration_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Totals:
    """Cumulative, memory-bounded counters since the watcher started (thread-safe).

    Lateness (start time minus due time) goes into a fixed histogram so memory stays flat.

    >>> t = Totals()
    >>> for late in (0.001, 0.02, 0.3):
    ...     t.record_start(late)
    >>> t.snapshot()["probes_started"], t.snapshot()["started_on_time"]
    (3, 2)
    >>> t.lateness_quantile(0.5) <= 0.03
    True
    """

    def __init__(self, tolerance_s: float = ON_TIME_TOLERANCE_S) -> None:
        self.tolerance_s = tolerance_s
        self._lock = threading.Lock()
        self._hist = [0] * (LATENESS_BUCKETS + 1)
        self._counts: Counter[str] = Counter()
        self._errors: Counter[str] = Counter()
        self._max_late = 0.0

    def record_start(self, lateness_s: float) -> None:
        late = max(0.0, lateness_s)
        idx = min(int(late * 1000 // LATENESS_BUCKET_MS), LATENESS_BUCKETS)
        with self._lock:
            self._hist[idx] += 1
            self._counts["probes_started"] += 1
            if late <= self.tolerance_s:
                self._counts["started_on_time"] += 1
            self._max_late = max(self._max_late, late)

    def add(self, **counts: int) -> None:
        with self._lock:
            for k, v in counts.items():
                self._counts[k] += v

    def add_errors(self, kinds: dict[str, int]) -> None:
        with self._lock:
            self._errors.update(kinds)

    def lateness_quantile(self, q: float) -> float:
        """Upper edge (seconds) of the histogram bucket holding quantile ``q`` of the lateness."""
        with self._lock:
            total = sum(self._hist)
            if total == 0:
                return 0.0
            need, acc = q * total, 0
            for i, n in enumerate(self._hist):
                acc += n
                if acc >= need:
                    return (i + 1) * LATENESS_BUCKET_MS / 1000.0 if i < LATENESS_BUCKETS else self._max_late
        return self._max_late

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            out: dict[str, Any] = {"probes_started": 0, "started_on_time": 0, "probes_completed": 0,
                                   "samples_written": 0, "skipped_busy": 0, "analyses_run": 0,
                                   "baselines_learned": 0, "reports_saved": 0, "alerts": 0, "write_failures": 0}
            out.update(self._counts)
            out["errors"] = dict(self._errors)
            out["on_time_tolerance_s"] = self.tolerance_s
            out["lateness_max_s"] = round(self._max_late, 4)
        out["lateness_p50_s"] = self.lateness_quantile(0.5)
        out["lateness_p99_s"] = self.lateness_quantile(0.99)
        started = out["probes_started"]
        out["on_time_ratio"] = round(out["started_on_time"] / started, 5) if started else None
        return out
