"""Sequential detection in the watcher: one :class:`SequentialMonitor` per endpoint, fed every written sample.

The monitors live in memory and are rebuilt on restart (from the endpoint's stored baseline; the CUSUM
statistics start afresh). A ``change`` alarm or, once no signal is failing any more, a ``recovered``
alarm becomes an :class:`AlarmHint` once ``MIN_ALARM_WINDOW`` samples followed its change (or healing)
point: the analyzer makes that endpoint due at once and analyses the samples since that point (older,
unchanged samples would dilute the windowed tests). Runs in the owner thread, after a batch commits.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from loguru import logger

from app.config import Settings
from app.detection.sequential import Alarm, MonitorBaseline, Sample, SequentialMonitor
from app.detection.sequential.meanscale import baseline_quantiles
from app.detection.sequential.monitor import MIN_BASELINE
from app.errors import BaselineMissingError
from app.schemas import Baseline
from app.schemas import Sample as StoredSample
from app.storage import Store

__all__ = ["MIN_ALARM_WINDOW", "AlarmHint", "SequentialWatch", "monitor_baseline", "to_sequential"]

MIN_ALARM_WINDOW = 20          # an alarm's analysis waits for this many samples since the change point
_KEEP_TS = 5000                # timestamps kept per endpoint to date a change point


@dataclass(frozen=True)
class AlarmHint:
    """Why an endpoint is due before its cadence: a sequential change or recovery (picklable)."""

    kind: str                   # change | recovered
    signal: str
    change_point_at: float      # time of the first changed (or healed) sample
    delay_samples: int          # samples between that point and the alarm
    since_samples: int          # samples written since that point (the analysis window)


def monitor_baseline(b: Baseline) -> MonitorBaseline | None:
    """The sequential baseline of a stored (classification) baseline; None when it has too few samples."""
    if b.task != "classification" or b.n_samples < MIN_BASELINE:
        return None
    conf = [float(c) for c in b.confidences]
    lat = [float(v) for v in b.latencies_ms if v and v > 0]
    n_pred = sum(b.class_counts.values())
    return MonitorBaseline(
        error_rate=float(b.metrics.error_rate or 0.0),
        accuracy=sum(b.correct) / len(b.correct) if len(b.correct) >= MIN_BASELINE else None,
        confidence_quantiles=baseline_quantiles(conf) if len(conf) >= MIN_BASELINE else None,
        latency_quantiles=baseline_quantiles(lat, "log") if len(lat) >= MIN_BASELINE else None,
        class_shares={k: v / n_pred for k, v in b.class_counts.items()}
        if len(b.class_counts) >= 2 and n_pred >= MIN_BASELINE else None)


def to_sequential(s: StoredSample) -> Sample:
    """A stored sample as the monitor sees it (correct only when labelled)."""
    err = s.error_kind is not None
    correct = None if err or s.label is None or s.prediction is None else str(s.prediction) == str(s.label)
    return Sample(error=err, correct=correct, confidence=s.confidence, latency_ms=s.latency_ms,
                  predicted=None if err else s.prediction)


class SequentialWatch:
    """Per-endpoint monitors; :meth:`feed` returns the alarm hints of a committed batch."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings, self.store = settings, store
        self.false_alarm_every = float(getattr(settings, "false_alarm_every", 10_000) or 10_000)
        self.monitors: dict[int, SequentialMonitor] = {}
        self._version: dict[int, int] = {}              # baseline version a monitor was built from
        self._ts: dict[int, deque[float]] = {}          # newest sample times, by monitor index
        self._pending: dict[int, Alarm] = {}            # alarm waiting for MIN_ALARM_WINDOW samples
        self._alarmed: set[int] = set()                 # a change was handed on, its recovery not yet:
        #                                                 more changing signals are the same change

    def _monitor(self, eid: int, name: str) -> SequentialMonitor | None:
        from app.storage.baselines import load_baseline

        if eid in self.monitors:
            return self.monitors[eid]
        try:
            b = load_baseline(self.settings, self.store, name)
        except BaselineMissingError:
            return None
        mb = monitor_baseline(b)
        if mb is None:
            return None
        mon = SequentialMonitor(mb, false_alarm_every=self.false_alarm_every)
        self.monitors[eid], self._version[eid], self._ts[eid] = mon, b.version, deque(maxlen=_KEEP_TS)
        logger.info(f"sequential monitor for {name}: signals {', '.join(sorted(mon.detectors))}")
        return mon

    def _ts_at(self, eid: int, mon: SequentialMonitor, index: int) -> float:
        ts = self._ts[eid]
        first = mon.n - len(ts)                          # monitor index of ts[0]
        return ts[min(max(index - first, 0), len(ts) - 1)]

    def feed(self, batch: list[tuple[int, StoredSample]]) -> dict[int, AlarmHint]:
        """Feed a committed batch (in write order); returns endpoint id -> the alarm that makes it due."""
        hints: dict[int, AlarmHint] = {}
        for eid, s in batch:
            mon = self._monitor(eid, s.endpoint)
            if mon is None:
                continue
            self._ts[eid].append(s.ts)
            for alarm in mon.update(to_sequential(s)):
                logger.warning(f"SEQUENTIAL {alarm.kind} on {s.endpoint}: {alarm.signal} "
                               f"({alarm.alternative}), {alarm.delay} samples after the change point")
                if alarm.kind == "change" and eid not in self._alarmed:
                    self._pending[eid] = alarm                  # the first changed signal dates the change
                elif alarm.kind == "recovered" and not mon.failing:
                    self._pending[eid] = alarm                  # a recovery counts once no signal is failing
                elif alarm.kind == "change":
                    p = self._pending.get(eid)
                    if p is not None and p.kind == "recovered":
                        del self._pending[eid]                  # changed again before the recovery was handed on
            alarm = self._pending.get(eid)
            if alarm is not None and mon.n - alarm.change_point >= MIN_ALARM_WINDOW:
                del self._pending[eid]
                if alarm.kind == "change":
                    self._alarmed.add(eid)
                else:
                    self._alarmed.discard(eid)
                hints[eid] = AlarmHint(alarm.kind, alarm.signal, self._ts_at(eid, mon, alarm.change_point),
                                       alarm.delay, mon.n - alarm.change_point)
        return hints

    def forget(self, eid: int) -> None:
        """Drop an endpoint's monitor (its baseline changed); it is rebuilt from the new one."""
        for d in (self.monitors, self._version, self._ts, self._pending):
            d.pop(eid, None)
        self._alarmed.discard(eid)
