"""Variable sampling interval (issue 11): an endpoint near or in an alarm is probed at MLFI_FAST_INTERVAL_S,
back at its own interval when the statistics fall back; backoff still wins; the setting is validated."""

from __future__ import annotations

import itertools
import random
from collections import deque
from pathlib import Path

import pytest

from app.config import Settings
from app.detection.sequential import MonitorBaseline, SequentialMonitor
from app.detection.sequential.monitor import WARNING_SHARE
from app.detection.sequential.monitor import Sample as SeqSample
from app.schemas import Sample
from app.storage import Store
from app.watcher.scheduler import Scheduler
from app.watcher.sequential import SequentialWatch
from tests.test_watcher_schedule import Clock, FakeProbe, _add, _probe_set


class _Fast:
    """Stands in for SequentialWatch: no alarms, the fast set is what the test says."""

    building = False

    def __init__(self) -> None:
        self.on: set[int] = set()

    def close(self) -> None:
        pass

    def feed(self, batch):
        return {}

    def fast(self) -> set[int]:
        return set(self.on)

    def ongoing(self):
        return {}


def _run(sched: Scheduler, clock: Clock, seconds: float) -> None:
    end = clock.t + seconds
    while clock.t < end - 1e-9:
        clock.t += 0.25
        sched.cycle(wait=True)


def _gaps(probe: FakeProbe, name: str, times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(times)]


def test_the_fast_interval_applies_while_flagged_and_ends_after(store: Store, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, fast_interval_s=1.0, _env_file=None)  # type: ignore[call-arg]
    _add(store, "a", _probe_set(tmp_path), interval=5.0)
    clock, probe = Clock(0.0), FakeProbe()
    sched = Scheduler(settings, store, probe_fn=probe, clock=clock)
    fast = sched.sequential = _Fast()  # type: ignore[assignment]
    times: list[float] = []
    real_submit = sched._pool.submit

    def submit(fn, *args):  # record the simulated slot of each probe
        times.append(clock.t)
        return real_submit(fn, *args)

    sched._pool.submit = submit  # type: ignore[method-assign]
    try:
        _run(sched, clock, 20.0)
        assert len(times) == 4 and set(_gaps(probe, "a", times)) == {5.0}        # 0, 5, 10, 15
        fast.on = {store.get_endpoint("a").id}
        _run(sched, clock, 10.0)
        fast_gaps = _gaps(probe, "a", times[3:])   # the state changes with a fed sample: the next one is the switch
        assert fast_gaps[0] == 5.0 and set(fast_gaps[1:]) == {1.0}, fast_gaps  # then one probe a second
        assert sched.fast_probes == len(fast_gaps) - 1
        fast.on = set()
        n = len(times)
        _run(sched, clock, 20.0)
        after = _gaps(probe, "a", times[n - 1:])
        assert after[:2] == [1.0, 1.0] and set(after[2:]) == {5.0}, after    # the slot already set, then 5 s
    finally:
        sched.close()


def test_fast_mode_never_beats_backoff_or_the_endpoints_own_shorter_interval(store: Store, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, fast_interval_s=1.0, backoff_max_s=60.0, _env_file=None)  # type: ignore[call-arg]
    ps = _probe_set(tmp_path)
    _add(store, "bad", ps, interval=5.0)        # 503: backs off
    _add(store, "quick", ps, interval=0.5)      # already faster than the fast interval
    clock, probe = Clock(0.0), FakeProbe()
    sched = Scheduler(settings, store, probe_fn=probe, clock=clock)
    fast = sched.sequential = _Fast()  # type: ignore[assignment]
    fast.on = {store.get_endpoint("bad").id, store.get_endpoint("quick").id}
    try:
        _run(sched, clock, 60.0)
    finally:
        sched.close()
    assert probe.count("bad") <= 5                    # 0, 10, 30, 70 ... s: backoff, not one probe a second
    assert probe.count("quick") >= 110                # 0.5 s kept (never slowed to the fast interval)


def _watch(tmp_path: Path) -> tuple[SequentialWatch, SequentialMonitor]:
    settings = Settings(home=tmp_path, _env_file=None)  # type: ignore[call-arg]
    w = SequentialWatch(settings, store=None)  # type: ignore[arg-type]
    mon = SequentialMonitor(MonitorBaseline(error_rate=0.0, accuracy=0.99), false_alarm_every=w.false_alarm_every)
    w.monitors[1], w._ts[1] = mon, deque(maxlen=5000)
    return w, mon


def test_warning_precedes_the_alarm_holds_through_recovery_and_ends(tmp_path: Path) -> None:
    w, mon = _watch(tmp_path)
    rng = random.Random(5)

    def feed(n: int, acc: float) -> list[tuple[bool, list[str]]]:
        out = []
        for _ in range(n):
            right = rng.random() < acc
            h = w.feed([(1, Sample(endpoint="e", ts=0.0, prediction="1", label="1" if right else "0"))])
            out.append((1 in w.fast(), [x.kind for x in h.values()]))
        return out

    healthy = feed(500, 0.99)
    assert sum(f for f, _ in healthy) < 50                 # healthy: rarely near the threshold
    failing = feed(40, 0.5)
    first_alarm = next(i for i, (_, k) in enumerate(failing) if "change" in k)
    first_fast = next(i for i, (f, _) in enumerate(failing) if f)
    assert first_fast < first_alarm                        # the warning comes first: faster probing before the alarm
    assert all(f for f, _ in failing[first_fast:])         # and holds while the incident is open
    healed = feed(300, 0.99)
    end = next(i for i, (_, k) in enumerate(healed) if "recovered" in k)
    assert all(f for f, _ in healed[:end]) and not healed[end + 5][0]
    det = mon.detectors["correctness"]
    assert det.statistic < WARNING_SHARE * det.threshold or not mon.warning


def test_monitor_warning_is_half_the_threshold() -> None:
    mon = SequentialMonitor(MonitorBaseline(error_rate=0.0, accuracy=0.99))
    det = mon.detectors["correctness"]
    assert not mon.warning
    while det.statistic < WARNING_SHARE * det.threshold:
        mon.update(SeqSample(error=False, correct=False))
        assert mon.warning == (det.statistic >= WARNING_SHARE * det.threshold)
    assert mon.warning and not mon.failing
    while not mon.failing:
        mon.update(SeqSample(error=False, correct=False))
    assert not mon.warning          # in alarm: the episode (SequentialWatch.fast), not the warning, keeps it fast


@pytest.mark.parametrize("value", ["0", "-1", "nan", "abc", "0.01"])
def test_a_bad_fast_interval_is_refused_at_start(value, monkeypatch, tmp_path, capsys):
    from app.cli import main

    monkeypatch.setenv("MLFI_HOME", str(tmp_path / "st"))
    monkeypatch.setenv("MLFI_FAST_INTERVAL_S", value)
    with pytest.raises(SystemExit) as exc:
        main(["incidents", "--json"])
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and len(err) == 1 and "MLFI_FAST_INTERVAL_S" in err[0]
