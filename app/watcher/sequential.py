"""Sequential detection in the watcher: one :class:`SequentialMonitor` per endpoint, fed every written sample.

The monitors live in memory and are rebuilt on restart and when the endpoint's active baseline version
changes (re-learned or re-activated; looked up every 20 samples): the CUSUM statistics start afresh
against the new baseline, and an open episode ends (its incident then follows the cadence rules). Runs in the
owner thread, after a batch commits; the monitors themselves are built off it (:mod:`app.watcher.monitor_builds`,
``builds="thread"`` in the live watcher). While an endpoint's monitor is being built its samples wait in a
queue (at most ``MAX_QUEUED``; beyond that the oldest are dropped and counted: the monitor then starts on the
newest, as if it had been built later) and are fed to it in write order once it is ready, before any newer
sample. A rebuild (new baseline version) drops the old monitor first: a sample is fed to the old monitor or
queued for the new one, never both, and a build superseded meanwhile is discarded (its token no longer matches).
Each alarm becomes an :class:`AlarmHint` that makes the endpoint due at once:

- the first ``change`` opens an episode; its analysis runs at the alarm on the samples since the change
  point, padded with the samples just before it to the stated minimum ``MIN_ALARM_WINDOW`` (20): the
  windowed suite never judges fewer (on 40 healthy 20-sample windows of the demo model it still raised
  4 findings, latency and class mix; that is why an alarm analysis only refines, see below);
- once ``MIN_ALARM_WINDOW`` samples followed the change point, one follow-up (``more``) analyses them
  alone, as does each alarm of another signal in the same episode: same change, same incident,
  refined in place;
- when the signal that opened the episode is back at the baseline, or an errors/correctness signal is and
  only quantile-based signals (confidence, latency, class mix: thresholds from an estimated baseline) are
  still in alarm, ``recovered`` resolves the incident (the analysis of the samples since the healing point
  is its closing report and never opens an incident). A signal still in alarm then does not hold the
  incident open (a class-mix CUSUM against a small baseline's estimate may never read "back"): the
  cadence analyses judge it like any other window.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace

from loguru import logger

from app.analysis.headline import ALARM_OPENS
from app.config import Settings
from app.detection.sequential import Alarm, MonitorBaseline, Sample, SequentialMonitor
from app.detection.sequential.meanscale import baseline_quantiles
from app.detection.sequential.monitor import MIN_BASELINE
from app.errors import BaselineMissingError
from app.schemas import Baseline
from app.schemas import Sample as StoredSample
from app.storage import Store
from app.watcher.logs import log_failure
from app.watcher.monitor_builds import MonitorBuilds

__all__ = ["MAX_QUEUED", "MIN_ALARM_WINDOW", "AlarmHint", "SequentialWatch", "monitor_baseline", "to_sequential"]

MIN_ALARM_WINDOW = 20          # the windowed suite never analyses fewer samples after a change alarm
_RETRY_EVERY = 10              # an endpoint without a usable baseline is looked at again every 10 samples
_KEEP_TS = 5000                # timestamps kept per endpoint to date a change point
_RECHECK_EVERY = 20            # samples between two looks at the endpoint's active baseline version
MAX_QUEUED = 1000              # samples kept per endpoint while its monitor is being built (oldest dropped)


@dataclass(frozen=True)
class AlarmHint:
    """Why an endpoint is due, or how to read its next analysis: the sequential state (picklable).

    ``kind``: ``change`` (a new change: due now), ``more`` (another signal changed in the same episode:
    due now), ``recovered`` (every signal back at the baseline: due now), ``ongoing`` (a cadence
    analysis inside an episode: not due by itself) or ``settling`` (a cadence analysis after a recovery,
    before a whole window of healed samples was written: it reads only the samples since the healing
    point, so the failure still in the usual window cannot open a second incident for the change the
    sequential test just saw end; not due by itself, tracked like any report). ``since_samples`` is the
    analysis window (samples since the change or healing point; None: the usual window).
    """

    kind: str
    signal: str
    change_point_at: float      # time of the first changed (or healed) sample
    delay_samples: int          # samples between that point and the alarm
    since_samples: int | None   # samples written since that point (the analysis window)
    watched: tuple[str, ...] = ()   # the monitor's signals
    failing: tuple[str, ...] = ()   # those changed now (not recovered): what the headline can be
    evidence: str = ""              # the alarm as evidence: alternative, statistic vs threshold, delay

    @property
    def due(self) -> bool:
        """An alarm (not the mere state of an ongoing or settled episode) makes the endpoint due at once."""
        return self.kind not in ("ongoing", "settling")

    @property
    def episode(self) -> str | None:
        """The incident-tracking state (:func:`app.governance.incidents.track`); None after a recovery."""
        if self.kind == "settling":
            return None
        return "change" if self.kind == "more" else self.kind


@dataclass
class _Pending:
    """An endpoint whose monitor is being built: the build's token and the samples written meanwhile."""

    token: int
    name: str
    version: int | None
    samples: deque[StoredSample] = field(default_factory=lambda: deque(maxlen=MAX_QUEUED))
    dropped: int = 0

    def add(self, s: StoredSample) -> None:
        self.dropped += len(self.samples) == MAX_QUEUED
        self.samples.append(s)


def _put(hints: dict[int, AlarmHint], eid: int, hint: AlarmHint, *, keep: bool = False) -> None:
    """Record ``hint`` as the endpoint's hint of this call. One call can replay a queue of samples: a ``change``
    stays the hint when a ``more`` follows it, with the later (longer) window; ``keep``: an earlier hint wins."""
    old = hints.get(eid)
    if old is not None and old.kind == "change" and hint.kind == "more":
        hints[eid] = replace(old, since_samples=hint.since_samples)
    elif old is None or not keep:
        hints[eid] = hint


def _evidence(alarm: Alarm) -> str:
    return (f"{alarm.alternative}, CUSUM {alarm.statistic:.1f} >= threshold {alarm.threshold:.1f}, "
            f"{alarm.delay} samples since the change point")


def _state(mon: SequentialMonitor) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return tuple(sorted(mon.detectors)), tuple(mon.failing)


def monitor_baseline(b: Baseline) -> MonitorBaseline | None:
    """The sequential baseline of a stored (classification) baseline; None when it has too few samples."""
    if b.task != "classification" or b.n_samples < MIN_BASELINE:
        return None
    conf = [float(c) for c in b.confidences]
    lat = [float(v) for v in b.latencies_ms if v and v > 0]
    n_pred = sum(b.class_counts.values())
    return MonitorBaseline(
        sizes={"errors": b.n_samples, "correctness": len(b.correct), "confidence": len(conf), "latency": len(lat),
               "class_mix": n_pred},
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
    analysis that the change is not over, so one change makes one incident. ``builds``: where monitors
    are built (``"inline"``: at the first sample, on the caller's thread; ``"thread"``: off it).
    """

    def __init__(self, settings: Settings, store: Store, *, builds: str = "inline") -> None:
        self.settings, self.store = settings, store
        self.false_alarm_every = float(settings.false_alarm_every)
        self.builds = MonitorBuilds(builds)
        self.monitors: dict[int, SequentialMonitor] = {}
        self._pending: dict[int, _Pending] = {}         # endpoint id -> monitor being built, samples queued
        self._token = 0                                 # the newest build request's token
        self._retry_at: dict[int, int] = {}             # no usable baseline yet: samples until the next look
        self._ts: dict[int, deque[float]] = {}          # newest sample times, by monitor index
        self._episode: dict[int, AlarmHint] = {}        # endpoint id -> the change that opened its episode
        self._start: dict[int, int] = {}                # endpoint id -> monitor index of that change point
        self._follow: dict[int, int] = {}               # the same, until its MIN_ALARM_WINDOW follow-up ran
        self._version: dict[int, tuple[int | None, int]] = {}   # baseline version built from, samples to recheck
        # endpoint id -> (monitor index of the healing point, signal, its time) of the last recovery, until a whole
        # window of healed samples was written: cadence analyses read only those (``settling`` hints)
        self._healed: dict[int, tuple[int, str, float]] = {}
        self.window_size = int(settings.window_size)

    def _active_version(self, name: str) -> int | None:
        versions = self.store.baseline_versions(name)
        if not versions:
            return None
        return int(([r for r in versions if r["active"]] or versions)[-1]["version"])

    def _rebuild_if_relearned(self, eid: int, name: str) -> None:
        """A re-learned (or re-activated) baseline rebuilds the monitor: its statistics were against the old one."""
        seen = self._version.get(eid)
        if seen is None or eid not in self.monitors:
            return
        if seen[1] > 1:
            self._version[eid] = (seen[0], seen[1] - 1)
            return
        now = self._active_version(name)
        self._version[eid] = (seen[0], _RECHECK_EVERY)
        if now != seen[0]:
            logger.info(f"sequential monitor for {name}: baseline v{seen[0]} -> v{now}, rebuilt "
                        f"({'the open episode ends' if eid in self._episode else 'no episode open'})")
            self.forget(eid)

    def _request(self, eid: int, name: str) -> bool:
        """Ask for the endpoint's monitor (True: a build was submitted); the baseline is read here, built off here."""
        from app.storage.baselines import load_baseline

        if self._retry_at.get(eid, 0) > 0:
            self._retry_at[eid] -= 1
            return False
        try:
            b = load_baseline(self.settings, self.store, name)
        except BaselineMissingError:
            b = None
        mb = monitor_baseline(b) if b is not None else None
        if mb is None:
            self._retry_at[eid] = _RETRY_EVERY
            return False
        self._token += 1
        self._pending[eid] = _Pending(self._token, name, b.version if b is not None else None)
        self.builds.submit(eid, self._token, mb, self.false_alarm_every)
        return True

    def _install(self, hints: dict[int, AlarmHint]) -> None:
        """Take the monitors built since the last look; feed each its queued samples, oldest first."""
        for built in self.builds.take():
            eid = built.endpoint_id
            p = self._pending.get(eid)
            if p is None or p.token != built.token:
                continue                                 # forgotten or superseded meanwhile: dropped
            del self._pending[eid]
            name = p.name
            if built.monitor is None:
                log_failure(f"sequential monitor for {name} not built (retried in {_RETRY_EVERY} samples)",
                            built.error or RuntimeError("no monitor"))
                self._retry_at[eid] = _RETRY_EVERY
                continue
            mon = self.monitors[eid] = built.monitor
            self._ts[eid] = deque(maxlen=_KEEP_TS)
            self._version[eid] = (p.version, _RECHECK_EVERY)
            lost = f", the {p.dropped} oldest dropped" if p.dropped else ""
            logger.info(f"sequential monitor for {name}: signals {', '.join(sorted(mon.detectors))}"
                        + (f" ({len(p.samples)} samples written while it was built{lost})" if self.builds.mode != "inline"
                           else ""))
            for s in p.samples:
                self._step(eid, mon, s, hints)

    @property
    def building(self) -> bool:
        """Monitor builds submitted and not yet installed (the owner should look again soon)."""
        return self.builds.busy

    def _ts_at(self, eid: int, mon: SequentialMonitor, index: int) -> float:
        ts = self._ts[eid]
        first = mon.n - len(ts)                          # monitor index of ts[0]
        return ts[min(max(index - first, 0), len(ts) - 1)]

    def feed(self, batch: list[tuple[int, StoredSample]]) -> dict[int, AlarmHint]:
        """Feed a committed batch (in write order); returns endpoint id -> the alarm that makes it due.

        Monitors built since the last call first take the samples queued for them; an empty batch only
        does that."""
        hints: dict[int, AlarmHint] = {}
        self._install(hints)
        for eid, s in batch:
            self._rebuild_if_relearned(eid, s.endpoint)
            if eid in self.monitors:
                self._step(eid, self.monitors[eid], s, hints)
            elif eid in self._pending:
                self._pending[eid].add(s)
            elif self._request(eid, s.endpoint):         # this sample is the first the new monitor gets
                self._pending[eid].add(s)
                self._install(hints)                     # inline builds are ready already
        return hints

    def _step(self, eid: int, mon: SequentialMonitor, s: StoredSample, hints: dict[int, AlarmHint]) -> None:
        self._ts[eid].append(s.ts)
        for alarm in mon.update(to_sequential(s)):
            logger.warning(f"SEQUENTIAL {alarm.kind} on {s.endpoint}: {alarm.signal} "
                           f"({alarm.alternative}), {alarm.delay} samples after the change point")
            hint = self._hint(eid, mon, alarm)
            if hint is not None:
                _put(hints, eid, hint)
        start = self._follow.get(eid)
        if start is not None and mon.n - start >= MIN_ALARM_WINDOW and eid in self._episode:
            del self._follow[eid]       # the first window made only of changed samples: refine
            first = self._episode[eid]
            _put(hints, eid, AlarmHint("more", first.signal, first.change_point_at, first.delay_samples,
                                       mon.n - start, *_state(mon)), keep=True)

    def _hint(self, eid: int, mon: SequentialMonitor, alarm: Alarm) -> AlarmHint | None:
        at = self._ts_at(eid, mon, alarm.change_point)
        since = mon.n - alarm.change_point
        if alarm.kind == "recovered":
            first = self._episode.get(eid)
            if first is None:
                return None                              # nothing to resolve
            exact = alarm.signal in ALARM_OPENS and not set(mon.failing) & set(ALARM_OPENS)
            if alarm.signal != first.signal and not exact:
                return None                              # the change that opened the episode is not over
            for d in (self._episode, self._start, self._follow):
                d.pop(eid, None)
            self._healed[eid] = (alarm.change_point, alarm.signal, at)
            return AlarmHint("recovered", alarm.signal, at, alarm.delay, since, *_state(mon))
        first = self._episode.get(eid)
        if first is None:
            hint = AlarmHint("change", alarm.signal, at, alarm.delay, since, *_state(mon), evidence=_evidence(alarm))
            self._episode[eid] = hint
            self._start[eid] = self._follow[eid] = alarm.change_point
            return hint
        start = min(self._start.get(eid, alarm.change_point), alarm.change_point)
        return AlarmHint("more", alarm.signal, first.change_point_at, first.delay_samples, mon.n - start,
                         *_state(mon))

    def fast(self) -> set[int]:
        """Endpoints to probe at the fast interval (variable sampling interval): a signal's CUSUM statistic
        is at half its threshold or more, or its episode is open (the recovery test runs). A signal left in
        alarm after its incident resolved (a quantile chart that never reads back) does not keep it fast."""
        return {eid for eid, mon in self.monitors.items() if mon.warning or eid in self._episode}

    def ongoing(self) -> dict[int, AlarmHint]:
        """The endpoints inside an episode (changed, not yet recovered), as ``ongoing`` hints. Their window is
        the samples since the episode's change point (at least ``MIN_ALARM_WINDOW``, at most the usual window):
        a cadence analysis inside an episode reads the changed samples, not a window that straddles the change
        and dilutes it with healthy ones (a constant answer is not "every answer the same" any more then)."""
        out = {eid: AlarmHint("ongoing", h.signal, h.change_point_at, h.delay_samples,
                              self._since_start(eid), *_state(self.monitors[eid]))
               for eid, h in self._episode.items() if eid in self.monitors}
        for eid, (healed, signal, at) in list(self._healed.items()):
            mon = self.monitors.get(eid)
            since = None if mon is None else mon.n - healed
            if eid in out or since is None or since >= self.window_size:
                self._healed.pop(eid, None)              # a new episode, or a whole window of healed samples
                continue
            out[eid] = AlarmHint("settling", signal, at, 0, since, *_state(mon))
        return out

    def _since_start(self, eid: int) -> int | None:
        start = self._start.get(eid)
        return None if start is None else self.monitors[eid].n - start

    def forget(self, eid: int) -> None:
        """Drop an endpoint's monitor (its baseline changed); it is rebuilt from the new one."""
        for d in (self.monitors, self._pending, self._retry_at, self._ts, self._episode, self._start, self._follow,
                  self._version, self._healed):
            d.pop(eid, None)

    def close(self) -> None:
        """Stop building monitors (a build in progress is not waited for)."""
        self.builds.close()
