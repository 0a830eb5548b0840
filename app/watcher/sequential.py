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
    """Why an endpoint is due, or how to read its next analysis: the sequential state (picklable).

    ``kind``: ``change`` (a new change: due now), ``more`` (another signal changed in the same episode:
    due now), ``recovered`` (every signal back at the baseline: due now) or ``ongoing`` (a cadence
    analysis inside an episode: not due by itself). ``since_samples`` is the analysis window (samples
    since the change or healing point; None: the usual window).
    """

    kind: str
    signal: str
    change_point_at: float      # time of the first changed (or healed) sample
    delay_samples: int          # samples between that point and the alarm
    since_samples: int | None   # samples written since that point (the analysis window)

    @property
    def due(self) -> bool:
        """An alarm (not the mere state of an ongoing episode) makes the endpoint due at once."""
        return self.kind != "ongoing"

    @property
    def episode(self) -> str:
        """The incident-tracking state (:func:`app.governance.incidents.track`)."""
        return "change" if self.kind == "more" else self.kind


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
    """Per-endpoint monitors and episodes; :meth:`feed` returns the alarm hints of a committed batch.

    An episode runs from the first change alarm to the moment no signal is failing any more: alarms
    of other signals inside it are the same change (``more``), and :meth:`ongoing` tells a cadence
    analysis that the change is not over, so one change makes one incident.
    """

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings, self.store = settings, store
        self.false_alarm_every = float(settings.false_alarm_every)
        self.monitors: dict[int, SequentialMonitor] = {}
        self._ts: dict[int, deque[float]] = {}          # newest sample times, by monitor index
        self._pending: dict[int, Alarm] = {}            # alarm waiting for MIN_ALARM_WINDOW samples
        self._episode: dict[int, AlarmHint] = {}        # endpoint id -> the change that opened its episode
        self._start: dict[int, int] = {}                # endpoint id -> monitor index of that change point

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
        self.monitors[eid], self._ts[eid] = mon, deque(maxlen=_KEEP_TS)
        logger.info(f"sequential monitor for {name}: signals {', '.join(sorted(mon.detectors))}")
        return mon

    def _ts_at(self, eid: int, mon: SequentialMonitor, index: int) -> float:
        ts = self._ts[eid]
        first = mon.n - len(ts)                          # monitor index of ts[0]
        return ts[min(max(index - first, 0), len(ts) - 1)]

    def _on_alarm(self, eid: int, mon: SequentialMonitor, alarm: Alarm) -> None:
        pending = self._pending.get(eid)
        if alarm.kind == "change":
            if pending is not None and pending.kind == "recovered":
                del self._pending[eid]                   # changed again before the recovery was handed on
            elif pending is None or eid in self._episode:
                self._pending[eid] = alarm               # the first changed signal dates the change
        elif not mon.failing and (eid in self._episode or pending is not None):
            self._pending[eid] = alarm                   # a recovery counts once no signal is failing

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
                self._on_alarm(eid, mon, alarm)
            alarm = self._pending.get(eid)
            if alarm is None or mon.n - alarm.change_point < MIN_ALARM_WINDOW:
                continue
            del self._pending[eid]
            hint = self._hint(eid, mon, alarm)
            if hint is not None:
                hints[eid] = hint
        return hints

    def _hint(self, eid: int, mon: SequentialMonitor, alarm: Alarm) -> AlarmHint | None:
        at = self._ts_at(eid, mon, alarm.change_point)
        if alarm.kind == "recovered":
            self._start.pop(eid, None)
            if self._episode.pop(eid, None) is None:
                return None                              # no change was handed on: nothing to resolve
            return AlarmHint("recovered", alarm.signal, at, alarm.delay, mon.n - alarm.change_point)
        first = self._episode.get(eid)
        if first is None:
            hint = AlarmHint("change", alarm.signal, at, alarm.delay, mon.n - alarm.change_point)
            self._episode[eid], self._start[eid] = hint, alarm.change_point
            return hint
        start = min(self._start.get(eid, alarm.change_point), alarm.change_point)
        return AlarmHint("more", alarm.signal, first.change_point_at, first.delay_samples, mon.n - start)

    def ongoing(self) -> dict[int, AlarmHint]:
        """The endpoints inside an episode (changed, not yet recovered), as ``ongoing`` hints."""
        return {eid: AlarmHint("ongoing", h.signal, h.change_point_at, h.delay_samples, None)
                for eid, h in self._episode.items()}

    def forget(self, eid: int) -> None:
        """Drop an endpoint's monitor (its baseline changed); it is rebuilt from the new one."""
        for d in (self.monitors, self._ts, self._pending, self._episode, self._start):
            d.pop(eid, None)
