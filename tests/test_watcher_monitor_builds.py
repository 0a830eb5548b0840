"""Sequential monitors built off the watcher's owner thread: samples written meanwhile are queued (bounded) and
fed in write order, alarms are those of an inline build, a rebuild never mixes baselines, closing never waits."""

from __future__ import annotations

import random
import threading
import time

import pytest

from app.config import Settings
from app.detection.sequential import MonitorBaseline, SequentialMonitor
from app.schemas import Baseline, Metrics, Sample
from app.watcher.monitor_builds import MonitorBuilds
from app.watcher.sequential import AlarmHint, SequentialWatch


class _Store:
    """What SequentialWatch reads of the store: the endpoint's baseline versions (the active one last)."""

    def __init__(self) -> None:
        self.rows = [{"version": 1, "active": 1}]

    def baseline_versions(self, name):
        return list(self.rows)


@pytest.fixture
def store(monkeypatch) -> _Store:
    st = _Store()
    acc = {1: 0.99, 2: 0.6, 3: 0.8}

    def load(settings, store, name):
        v = st.rows[-1]["version"]
        return Baseline(endpoint=name, version=v, n_samples=200, metrics=Metrics(error_rate=0.0),
                        correct=[int(i < acc[v] * 200) for i in range(200)])

    monkeypatch.setattr("app.storage.baselines.load_baseline", load)
    return st


class _Gate:
    """A build that waits until the test opens the gate (the owner keeps feeding meanwhile)."""

    def __init__(self) -> None:
        self.open, self.started = threading.Event(), 0

    def wait_started(self, n: int) -> int:
        deadline = time.monotonic() + 30
        while self.started < n and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.started

    def __call__(self, baseline: MonitorBaseline, every: float) -> SequentialMonitor:
        self.started += 1
        assert self.open.wait(30), "gate never opened"
        return SequentialMonitor(baseline, false_alarm_every=every)


def _watch(tmp_path, store, mode: str = "inline", build=None) -> SequentialWatch:
    settings = Settings(home=tmp_path, _env_file=None)  # type: ignore[call-arg]
    w = SequentialWatch(settings, store=store, builds=mode)  # type: ignore[arg-type]
    if build is not None:
        w.builds = MonitorBuilds(mode, build=build)
    return w


def _stream(seed: int, parts: list[tuple[int, float]]) -> list[tuple[int, Sample]]:
    rng, out, t = random.Random(seed), [], 0
    for n, acc in parts:
        for _ in range(n):
            right = rng.random() < acc
            out.append((1, Sample(endpoint="e", ts=float(t), prediction="1", label="1" if right else "0")))
            t += 1
    return out


def _settle(w: SequentialWatch, hints: list[AlarmHint]) -> None:
    """Feed empty batches until every submitted build is installed (what the watcher's cycle does)."""
    deadline = time.monotonic() + 60
    while w.building and time.monotonic() < deadline:
        hints += list(w.feed([]).values())
        time.sleep(0.01)
    assert not w.building, "build never finished"


def test_samples_written_during_a_build_are_fed_in_order_with_the_alarms_of_an_inline_build(tmp_path, store):
    stream = _stream(4, [(300, 0.99), (60, 0.5), (300, 0.99)])       # healthy, -49 points, healed
    inline = _watch(tmp_path, store)
    expected = [h for s in stream for h in inline.feed([s]).values()]
    assert [h.kind for h in expected][:2] == ["change", "more"] and expected[-1].kind == "recovered"

    gate = _Gate()
    w = _watch(tmp_path, store, "thread", gate)
    got: list[AlarmHint] = []
    queued = 312                                   # the build outlasts the healthy part and 12 changed samples
    for s in stream[:queued]:
        got += list(w.feed([s]).values())
    assert got == [] and w.monitors == {} and gate.wait_started(1) == 1   # one build, nothing fed yet
    assert [s.ts for s in w._pending[1].samples] == [s.ts for _, s in stream[:queued]]
    gate.open.set()
    _settle(w, got)                                 # the queue, oldest first: the change alarm fires in it
    for s in stream[queued:]:
        got += list(w.feed([s]).values())
    assert got == expected                          # same kinds, signals, change points, delays and windows
    assert w.monitors[1].to_dict() == inline.monitors[1].to_dict()


def test_a_change_and_its_follow_up_inside_one_replayed_queue_hand_on_the_change(tmp_path, store):
    stream = _stream(4, [(300, 0.99), (60, 0.5), (300, 0.99)])
    inline = _watch(tmp_path, store)
    expected = [h for s in stream for h in inline.feed([s]).values()]
    gate = _Gate()
    w = _watch(tmp_path, store, "thread", gate)
    queued = 345                                   # the change alarm and its 20-sample follow-up are both queued
    for s in stream[:queued]:
        w.feed([s])
    gate.open.set()
    got: list[AlarmHint] = []
    _settle(w, got)
    change, more = expected[0], expected[1]
    assert (change.kind, more.kind) == ("change", "more")
    assert got == [change.__class__(**{**change.__dict__, "since_samples": more.since_samples})]
    for s in stream[queued:]:
        got += list(w.feed([s]).values())
    assert got[1:] == expected[2:]


def test_a_full_queue_drops_the_oldest_and_the_monitor_starts_on_the_newest(tmp_path, store, monkeypatch):
    monkeypatch.setattr("app.watcher.sequential.MAX_QUEUED", 5)
    gate = _Gate()
    w = _watch(tmp_path, store, "thread", gate)
    stream = _stream(1, [(8, 0.99)])
    for s in stream:
        w.feed([s])
    assert w._pending[1].dropped == 3
    gate.open.set()
    _settle(w, [])
    assert w.monitors[1].n == 5 and list(w._ts[1]) == [s.ts for _, s in stream[3:]]


def test_a_rebuild_never_mixes_old_and_new_baseline_samples(tmp_path, store):
    gate = _Gate()
    w = _watch(tmp_path, store, "thread", gate)
    gate.open.set()
    stream = _stream(2, [(400, 0.99)])
    w.feed(stream[:1])
    _settle(w, [])
    old = w.monitors[1]
    assert old.baseline.accuracy == pytest.approx(0.99)
    for s in stream[1:30]:
        w.feed([s])
    gate.open.clear()                               # the next build waits
    store.rows.append({"version": 2, "active": 1})
    fed_old = None
    for i, s in enumerate(stream[30:200], start=30):
        w.feed([s])
        if fed_old is None and 1 not in w.monitors:
            fed_old = i                             # the sample that found the new version: queued for v2
    assert fed_old is not None and old.n == fed_old and gate.wait_started(2) == 2
    assert len(w._pending[1].samples) == 200 - fed_old
    gate.open.set()
    _settle(w, [])
    new = w.monitors[1]
    assert new is not old and new.baseline.accuracy == pytest.approx(0.6)
    assert old.n + new.n == 200                     # every sample fed once, to one monitor


def test_a_build_superseded_while_running_is_dropped(tmp_path, store):
    gate = _Gate()
    w = _watch(tmp_path, store, "thread", gate)
    stream = _stream(3, [(30, 0.99)])
    w.feed(stream[:3])
    w.forget(1)                                     # e.g. the baseline changed: the running build is stale
    w.feed(stream[3:5])                             # a second request, with a newer token
    gate.open.set()
    _settle(w, [])
    assert gate.started == 2 and w.monitors[1].n == 2 and list(w._ts[1]) == [3.0, 4.0]


def test_a_failed_build_is_logged_and_retried_ten_samples_later(tmp_path, store):
    calls = []

    def flaky(baseline: MonitorBaseline, every: float) -> SequentialMonitor:
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("simulated build failure")
        return SequentialMonitor(baseline, false_alarm_every=every)

    w = _watch(tmp_path, store, "thread", flaky)
    stream = _stream(5, [(30, 0.99)])
    w.feed(stream[:1])
    _settle(w, [])
    assert w.monitors == {} and len(calls) == 1
    for s in stream[1:11]:                          # ten samples without a monitor, then a new build
        w.feed([s])
    assert len(calls) == 1
    w.feed(stream[11:12])
    _settle(w, [])
    assert len(calls) == 2 and w.monitors[1].n == 1


def test_closing_does_not_wait_for_a_build_in_progress():
    gate = _Gate()
    builds = MonitorBuilds("thread", build=gate)
    builds.submit(1, 1, MonitorBaseline(error_rate=0.0, accuracy=0.99), 10_000.0)
    assert gate.wait_started(1) == 1
    t0 = time.monotonic()
    builds.close()
    assert time.monotonic() - t0 < 0.5 and builds._thread is not None and builds._thread.daemon
    gate.open.set()
    builds._thread.join(10)
    assert builds.take() == []                      # the result of a build finished after close is dropped


def test_an_unknown_build_mode_is_refused():
    with pytest.raises(ValueError, match="process"):
        MonitorBuilds("process")


def test_the_scheduler_closes_without_waiting_for_a_monitor_being_built(tmp_path):
    from app.detection.baseline import learn_baseline
    from app.storage import Store
    from app.storage.baselines import save_baseline
    from app.watcher.scheduler import Scheduler
    from tests.test_watcher_schedule import Clock, FakeProbe, _add, _probe_set

    settings = Settings(home=tmp_path / "home", _env_file=None)  # type: ignore[call-arg]
    store = Store.from_settings(settings)
    _add(store, "a", _probe_set(tmp_path))
    rng = random.Random(1)
    save_baseline(settings, store, learn_baseline("a", [
        Sample(endpoint="a", ts=float(i), inputs={"a": i, "b": 2 * i}, label="1", prediction="1",
               confidence=0.8 + 0.1 * rng.random(), latency_ms=1.0 + rng.random()) for i in range(40)]))
    gate = _Gate()
    sched = Scheduler(settings, store, probe_fn=FakeProbe(), clock=Clock(), monitor_builds="thread")
    sched.sequential.builds = MonitorBuilds("thread", build=gate)
    try:
        sched.cycle(wait=True)                      # one sample written: its endpoint's monitor is requested
        assert gate.wait_started(1) == 1 and sched.sequential.building
        t0 = time.monotonic()
        sched.close()
        assert time.monotonic() - t0 < 2.0          # the build (blocked) is not waited for
        assert store.count_samples("a") == 1 and sched.sequential.monitors == {}
    finally:
        gate.open.set()
        store.dispose()


def test_two_alarms_in_one_call_hand_on_the_change_with_its_evidence(tmp_path):
    """Two signals alarming in one call (one sample, or a replayed queue): the first is the change that opens the
    episode (its evidence opens the incident), the second only widens its window; before, it replaced it."""
    from collections import deque

    from app.detection.sequential import Alarm

    class _Two:
        def __init__(self) -> None:
            self.detectors = {"correctness": None, "confidence": None}
            self.failing = ["confidence", "correctness"]
            self.n = 0

        def update(self, sample):
            self.n += 1
            if self.n < 30:
                return []
            return [Alarm("correctness", "change", 24, 29, 6, 12.0, 10.0, "rate 1% -> 41%", 6.0),
                    Alarm("confidence", "change", 22, 29, 8, 11.0, 10.0, "mean -1 sd", 8.0)]

    settings = Settings(home=tmp_path, _env_file=None)  # type: ignore[call-arg]
    w = SequentialWatch(settings, store=None)  # type: ignore[arg-type]
    w.monitors[1], w._ts[1] = _Two(), deque(maxlen=5000)  # type: ignore[assignment]
    hints = {}
    for _, s in _stream(6, [(30, 0.99)]):
        hints.update(w.feed([(1, s)]))
    h = hints[1]
    assert (h.kind, h.signal, h.change_point_at) == ("change", "correctness", 24.0)
    assert "CUSUM 12.0 >= threshold 10.0" in h.evidence and h.since_samples == 30 - 22   # the wider window
