"""Watcher scheduling: intervals, enabled flag, backoff, bounded concurrency, isolation, batched writes."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from app.config import Settings
from app.schemas import Sample
from app.storage import Store
from app.storage.watcher import ProbeStatus, write_batch
from app.watcher import batch as batch_mod
from app.watcher.loop import run_once
from app.watcher.scheduler import Scheduler


class Clock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def _probe_set(tmp_path: Path) -> str:
    p = tmp_path / "probes.csv"
    p.write_text("a,b,target\n" + "\n".join(f"{i},{i * 2},{i % 2}" for i in range(20)) + "\n")
    return str(p)


def _add(store: Store, name: str, probe_set: str, *, interval: float = 1.0, enabled: bool = True) -> None:
    store.upsert_endpoint(name, url=f"http://127.0.0.1:9/{name}", protocol="generic", probe_set=probe_set,
                          label_column="target", interval_s=interval, enabled=enabled)


class FakeProbe:
    """Records every probe; endpoints whose name starts with 'bad' fail with http_error (503: overloaded)."""

    def __init__(self, sleep: float = 0.0, failing: set[str] | None = None, status: int = 503) -> None:
        self.status = status
        self.calls: list[tuple[str, float]] = []
        self.sleep = sleep
        self.failing = failing if failing is not None else set()
        self.lock = threading.Lock()
        self.active = 0
        self.max_active = 0

    def __call__(self, target: Any, row: dict[str, Any], label: Any, session: Any) -> Sample:
        with self.lock:
            self.calls.append((target.name, time.monotonic()))
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            if self.sleep:
                time.sleep(self.sleep)
            if target.name.startswith("bad") or target.name in self.failing:
                return Sample(endpoint=target.name, ts=time.time(), inputs=row, label=str(label),
                              error_kind="http_error", status_code=self.status, latency_ms=1.0)
            return Sample(endpoint=target.name, ts=time.time(), inputs=row, label=str(label), prediction="1",
                          confidence=0.9, latency_ms=1.0)
        finally:
            with self.lock:
                self.active -= 1

    def count(self, name: str) -> int:
        return sum(1 for n, _ in self.calls if n == name)


def test_run_once_probes_enabled_url_endpoints_only(settings: Settings, store: Store, tmp_path: Path) -> None:
    ps = _probe_set(tmp_path)
    _add(store, "a", ps)
    _add(store, "off", ps, enabled=False)
    store.upsert_endpoint("logged", protocol="ingest")          # ingested: analysed, never probed
    probe = FakeProbe()
    stats = run_once(settings, store, Clock(), probe_fn=probe)
    assert [n for n, _ in probe.calls] == ["a"]
    assert stats.probes_completed == 1 and stats.samples_written == 1 and stats.endpoints_enabled == 2
    ep = store.get_endpoint("a")
    assert ep.last_status == "ok" and ep.consecutive_failures == 0
    assert store.count_samples("a") == 1 and store.count_samples("off") == 0
    s = store.recent_samples("a")[0]
    assert set(s.inputs or {}) == {"a", "b"} and s.label in {"0", "1"}


def test_each_endpoint_keeps_its_own_interval(settings: Settings, store: Store, tmp_path: Path) -> None:
    ps = _probe_set(tmp_path)
    _add(store, "fast", ps, interval=1.0)
    _add(store, "slow", ps, interval=3.0)
    clk, probe = Clock(0.0), FakeProbe()
    sched = Scheduler(settings, store, probe_fn=probe, clock=clk)
    for t in (0.0, 0.5, 1.0, 1.5, 2.0, 2.9, 3.0):
        clk.t = t
        sched.cycle(wait=True)
    sched.close()
    assert probe.count("fast") == 4      # 0, 1, 2, 3
    assert probe.count("slow") == 2      # 0, 3
    assert store.count_samples("fast") == 4 and store.count_samples("slow") == 2


def test_a_late_slot_is_probed_late_once_never_skipped_nor_burst(settings: Settings, store: Store,
                                                                  tmp_path: Path) -> None:
    _add(store, "a", _probe_set(tmp_path), interval=1.0)
    clk, probe = Clock(0.0), FakeProbe()
    sched = Scheduler(settings, store, probe_fn=probe, clock=clk)
    starts, skipped = [], 0
    for t in (0.0, 1.0, 2.6, 4.3, 4.35, 5.0, 9.5, 9.55, 9.6, 10.0):
        clk.t = t
        st = sched.cycle(wait=True)
        skipped += st.skipped_busy
        starts += [t] * st.probes_submitted
    sched.close()
    # slot 3 reached 1.3 s late (slot 4 has passed too): 3 at 4.3, 4 caught up right after, 5 on time;
    # a 4.5 s stall: slot 6 at 9.5 and the latest missed one (9) right after, 7 and 8 skipped, 10 on time
    assert starts == [0.0, 1.0, 2.6, 4.3, 4.35, 5.0, 9.5, 9.55, 10.0] and skipped == 2


def test_an_overdue_endpoint_that_appears_later_is_probed_now_not_staggered(settings: Settings, store: Store,
                                                                            tmp_path: Path) -> None:
    ps = _probe_set(tmp_path)
    _add(store, "a", ps)
    _add(store, "b", ps, enabled=False)        # as an endpoint another watcher held until it died
    b = store.get_endpoint("b").id
    write_batch(store.engine, [], [ProbeStatus(b, 990.0, "ok", 0)])
    clk, probe = Clock(1000.0), FakeProbe()
    sched = Scheduler(settings, store, probe_fn=probe, clock=clk, stagger=True)
    assert sched.cycle(wait=True).probes_submitted == 0      # the first schedule spreads over the interval
    store.set_enabled("b", True)
    clk.t = 1000.01
    sched.cycle(wait=True)
    sched.close()
    assert probe.count("b") == 1 and probe.count("a") == 0   # b was due at 991: probed at once


def test_a_handed_over_endpoint_keeps_its_grid_unless_its_holder_missed_a_slot(settings: Settings, store: Store,
                                                                                tmp_path: Path) -> None:
    class Keeper:            # what the scheduler reads of a LeaseKeeper (app.watcher.leases)
        def __init__(self) -> None:
            self.held: dict[int, int] = {}
            self.wake = None

        def current(self) -> dict[int, int]:
            return self.held

        def holds(self, eid: int) -> bool:
            return eid in self.held

        def fence_check(self) -> None:
            return None

    ps = _probe_set(tmp_path)
    ids = {}
    for name, last in (("a", 990.0), ("shed", 999.2), ("late", 998.6), ("dead", 998.0)):
        _add(store, name, ps)
        ids[name] = store.get_endpoint(name).id
        write_batch(store.engine, [], [ProbeStatus(ids[name], last, "ok", 0)])
    clk, probe, keeper = Clock(1000.0), FakeProbe(), Keeper()
    keeper.held = {ids["a"]: 1}
    sched = Scheduler(settings, store, probe_fn=probe, clock=clk, stagger=True)
    sched.use_leases(keeper)
    sched.cycle(wait=True)
    keeper.held = {ids[n]: 1 for n in ids}              # two more claimed: one released, one of a dead watcher
    clk.t = 1000.3
    sched.cycle(wait=True)
    # "dead" missed its 999.0 slot by more than an interval: probed now; the 1000.2 and 999.6 slots of the
    # others may have been probed by their previous holder (its write not stored yet): their next slots
    assert probe.count("dead") == 1 and probe.count("shed") == 0 and probe.count("late") == 0
    clk.t = 1001.25
    sched.cycle(wait=True)
    sched.close()
    assert probe.count("shed") == 1 and probe.count("late") == 1   # on the previous holder's grid (1001.2, 1000.6)


def test_enabled_flag_is_read_every_cycle(settings: Settings, store: Store, tmp_path: Path) -> None:
    ps = _probe_set(tmp_path)
    _add(store, "a", ps)
    clk, probe = Clock(0.0), FakeProbe()
    sched = Scheduler(settings, store, probe_fn=probe, clock=clk)
    sched.cycle(wait=True)
    store.set_enabled("a", False)
    clk.t = 1.0
    assert sched.cycle(wait=True).probes_submitted == 0
    store.set_enabled("a", True)
    store.upsert_endpoint("a", interval_s=0.5)           # interval edits are picked up too
    clk.t = 2.0
    sched.cycle(wait=True)
    clk.t = 2.5
    sched.cycle(wait=True)
    sched.close()
    assert probe.count("a") == 3


def test_backoff_doubles_caps_and_resets(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "s", backoff_max_s=8.0, _env_file=None)  # type: ignore[call-arg]
    store = Store.from_settings(settings)
    _add(store, "flaky", _probe_set(tmp_path))
    clk, probe = Clock(0.0), FakeProbe(failing={"flaky"})
    sched = Scheduler(settings, store, probe_fn=probe, clock=clk)
    times = []
    for t in range(31):
        clk.t = float(t)
        if sched.cycle(wait=True).probes_submitted:
            times.append(t)
    assert times == [0, 2, 6, 14, 22, 30]                 # delays 2, 4, 8, then capped at 8
    assert store.get_endpoint("flaky").consecutive_failures == 6
    assert store.get_endpoint("flaky").last_status == "http_error"
    probe.failing.clear()
    clk.t = 38.0
    sched.cycle(wait=True)
    clk.t = 39.0
    assert sched.cycle(wait=True).probes_submitted == 1   # healthy again: back to its interval
    sched.close()
    assert store.get_endpoint("flaky").consecutive_failures == 0
    assert store.count_samples("flaky") == 8
    store.dispose()


def test_an_answered_error_keeps_the_interval(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "s", backoff_max_s=8.0, _env_file=None)  # type: ignore[call-arg]
    store = Store.from_settings(settings)
    _add(store, "half", _probe_set(tmp_path))
    clk, probe = Clock(0.0), FakeProbe(failing={"half"}, status=500)
    sched = Scheduler(settings, store, probe_fn=probe, clock=clk)
    times = []
    for t in range(8):
        clk.t = float(t)
        if sched.cycle(wait=True).probes_submitted:
            times.append(t)
    sched.close()
    assert times == list(range(8))                   # HTTP 500 is measured at full rate, never backed off
    assert store.get_endpoint("half").consecutive_failures == 8   # ... and still counted for its status
    store.dispose()


def test_stateless_run_once_honours_stored_backoff(settings: Settings, store: Store, tmp_path: Path) -> None:
    _add(store, "bad1", _probe_set(tmp_path))
    probe = FakeProbe()
    assert run_once(settings, store, Clock(0.0), probe_fn=probe).probes_completed == 1
    assert run_once(settings, store, Clock(1.0), probe_fn=probe).probes_completed == 0   # backing off (2 s)
    assert run_once(settings, store, Clock(2.0), probe_fn=probe).probes_completed == 1
    assert store.get_endpoint("bad1").consecutive_failures == 2


def test_concurrency_is_bounded(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "s", watch_concurrency=4, _env_file=None)  # type: ignore[call-arg]
    store = Store.from_settings(settings)
    ps = _probe_set(tmp_path)
    for i in range(20):
        _add(store, f"e{i}", ps)
    probe = FakeProbe(sleep=0.05)
    stats = run_once(settings, store, Clock(), probe_fn=probe)
    assert stats.probes_completed == 20 and stats.samples_written == 20
    assert 2 <= probe.max_active <= 4                       # parallel, never above the bound
    store.dispose()


def test_slow_endpoint_never_delays_the_others(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "s", watch_concurrency=4, _env_file=None)  # type: ignore[call-arg]
    store = Store.from_settings(settings)
    ps = _probe_set(tmp_path)
    for name in ("slow", "f1", "f2", "f3"):
        _add(store, name, ps, interval=0.2)

    class Mixed(FakeProbe):
        def __call__(self, target: Any, row: dict[str, Any], label: Any, session: Any) -> Sample:
            if target.name == "slow":
                time.sleep(1.5)
            return super().__call__(target, row, label, session)

    probe = Mixed()
    sched = Scheduler(settings, store, probe_fn=probe)
    t_end = time.monotonic() + 1.25
    sched.cycle()
    while time.monotonic() < t_end:
        sched.tick()
        sched.wake.wait(0.01)
        sched.wake.clear()
    sched.close()
    for name in ("f1", "f2", "f3"):
        starts = [t for n, t in probe.calls if n == name]
        gaps = sorted(b - a for a, b in itertools.pairwise(starts))
        assert len(starts) >= 6, (name, len(starts))              # every 0.2 s slot of 1.25 s was probed
        assert 0.15 < gaps[len(gaps) // 2] < 0.25, (name, gaps)   # on its own grid (a loaded CI box jitters)
    assert probe.count("slow") == 1           # one in flight at a time; its slots are skipped, not queued
    store.dispose()


def test_broken_probe_set_is_isolated(settings: Settings, store: Store, tmp_path: Path) -> None:
    _add(store, "good", _probe_set(tmp_path))
    _add(store, "broken", str(tmp_path / "missing.csv"))
    probe = FakeProbe()
    run_once(settings, store, Clock(), probe_fn=probe)
    assert probe.count("good") == 1 and probe.count("broken") == 0
    assert store.get_endpoint("broken").last_status == "config_error"


def test_internal_probe_bug_is_recorded_not_raised(settings: Settings, store: Store, tmp_path: Path) -> None:
    _add(store, "a", _probe_set(tmp_path))

    def buggy(target: Any, row: Any, label: Any, session: Any) -> Sample:
        raise KeyError("oops")

    stats = run_once(settings, store, Clock(), probe_fn=buggy)
    assert stats.errors == {"protocol_error": 1}
    s = store.recent_samples("a")[0]
    assert s.error_kind == "protocol_error" and "internal error" in (s.error_detail or "")


def test_auto_detection_against_a_dead_port_records_the_real_fault(settings: Settings, store: Store,
                                                                    tmp_path: Path) -> None:
    store.upsert_endpoint("dead", url="http://127.0.0.1:9/predict", protocol="auto", probe_set=_probe_set(tmp_path),
                          label_column="target", interval_s=1.0, enabled=True)
    stats = run_once(settings, store, Clock())                 # the real probe path, port 9 refuses
    assert stats.errors == {"connection_error": 1}, stats.errors
    s = store.recent_samples("dead")[0]
    assert s.error_kind == "connection_error" and "cannot reach" in (s.error_detail or "")


def test_failed_write_keeps_the_batch_for_retry(settings: Settings, store: Store, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    ps = _probe_set(tmp_path)
    for i in range(3):
        _add(store, f"e{i}", ps)
    real = batch_mod.write_batch
    calls = {"n": 0}

    def flaky(*a: Any, **k: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        return real(*a, **k)

    monkeypatch.setattr(batch_mod, "write_batch", flaky)
    clk = Clock(0.0)
    sched = Scheduler(settings, store, probe_fn=FakeProbe(), clock=clk)
    st = sched.cycle(wait=True)
    assert st.write_failed and st.pending_writes == 3 and store.count_samples("e0") == 0
    clk.t = 1.0
    st = sched.cycle(wait=True)
    sched.close()
    assert not st.write_failed and st.samples_written == 6
    assert sum(store.count_samples(f"e{i}") for i in range(3)) == 6


def test_write_batch_is_all_or_nothing(store: Store) -> None:
    store.upsert_endpoint("a", url="http://x/a")
    eid = store.get_endpoint("a").id
    with store.engine.begin() as conn:
        conn.execute(text("CREATE TRIGGER boom BEFORE INSERT ON samples WHEN NEW.prediction = 'boom' "
                          "BEGIN SELECT RAISE(ABORT, 'boom'); END"))
    good = [(eid, Sample(endpoint="a", ts=float(i), prediction="1", confidence=0.5)) for i in range(10)]
    bad = (eid, Sample(endpoint="a", ts=10.0, prediction="boom"))
    with pytest.raises(IntegrityError):
        write_batch(store.engine, good + [bad], [ProbeStatus(eid, 10.0, "ok", 0)])
    assert store.count_samples("a") == 0
    assert store.get_endpoint("a").last_probe_at is None
    assert write_batch(store.engine, good, [ProbeStatus(eid, 9.0, "ok", 0)]) == 10
    assert store.count_samples("a") == 10


def test_samples_of_a_deleted_endpoint_are_dropped(store: Store) -> None:
    store.upsert_endpoint("keep", url="http://x/k")
    store.upsert_endpoint("gone", url="http://x/g")
    k, g = store.get_endpoint("keep").id, store.get_endpoint("gone").id
    store.delete_endpoint("gone")
    batch = [(k, Sample(endpoint="keep", ts=1.0)), (g, Sample(endpoint="gone", ts=1.0))]
    assert write_batch(store.engine, batch, [ProbeStatus(k, 1.0, "ok", 0), ProbeStatus(g, 1.0, "ok", 0)]) == 1
    assert store.count_samples("keep") == 1


def test_main_survives_a_failing_cycle_and_stops_on_desired_state(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from app.watcher import analysis as analysis_mod
    from app.watcher.loop import main

    settings = Settings(home=tmp_path / "s", heartbeat_every_s=0.2, _env_file=None)  # type: ignore[call-arg]
    store = Store.from_settings(settings)
    _add(store, "a", _probe_set(tmp_path), interval=0.1)
    boom = {"n": 0}
    real = analysis_mod.Analyzer.run_due

    def flaky(self: Any, *a: Any, **k: Any) -> Any:
        boom["n"] += 1
        if boom["n"] == 1:
            raise RuntimeError("bug in a cycle")
        return real(self, *a, **k)

    monkeypatch.setattr(analysis_mod.Analyzer, "run_due", flaky)
    threading.Timer(2.5, lambda: store.set_watcher_desired("stopped")).start()
    t0 = time.monotonic()
    totals = main(settings, probe_fn=FakeProbe(), max_runtime_s=20.0)
    assert time.monotonic() - t0 < 6.0                        # stopped by the desired state, not the time limit
    assert boom["n"] > 1 and totals.snapshot()["samples_written"] >= 5
    st = store.watcher_state()
    assert st is not None and st["status"] == "stopped" and st["desired"] == "stopped"
    store.dispose()
