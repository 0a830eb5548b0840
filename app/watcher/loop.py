"""The watcher process: `run_once` does one cycle (what tests call); `main` loops it until told to stop.

Stopping: SIGTERM/SIGINT, or desired state ``stopped`` in the database (the dashboard's switch).
Either way the loop stops starting probes, lets the in-flight ones finish (bounded by their
timeout), writes the last batch and records status ``stopped`` in the heartbeat.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from loguru import logger

from app.config import Settings
from app.storage import Store
from app.storage.errors import DatabaseError
from app.storage.leases import supports_leases
from app.storage.watcher import save_stats
from app.watcher.analysis import Analyzer
from app.watcher.control import is_alive
from app.watcher.leases import LeaseKeeper
from app.watcher.logs import log_failure
from app.watcher.pruning import Pruner
from app.watcher.scheduler import ProbeFn, Scheduler
from app.watcher.single import refusal, sqlite_watcher_lock
from app.watcher.stats import CycleStats, Totals

__all__ = ["CYCLE_S", "SUMMARY_EVERY_S", "main", "run_once"]

CYCLE_S = 0.25          # endpoints re-read, completed probes written, analysis checked this often
SUMMARY_EVERY_S = 60.0  # one INFO line with the running totals


def run_once(settings: Settings, store: Store, clock: Callable[[], float] = time.time, *,
             probe_fn: ProbeFn | None = None, scheduler: Scheduler | None = None,
             analyzer: Analyzer | None = None) -> CycleStats:
    """One cycle: probe every due endpoint, wait for the probes, write them in one batch, run due analyses.

    Without ``scheduler``/``analyzer`` the schedule state comes from the database (last probe time,
    consecutive failures, last report time), so successive calls behave like a running watcher.
    """
    sched = scheduler or Scheduler(settings, store, probe_fn=probe_fn, clock=clock)
    an = analyzer or Analyzer(settings, store, clock=clock, totals=sched.totals)
    if an.inputs is None:                      # MLFI_STORE_INPUTS=none: the in-memory window of inputs
        an.inputs = sched.inputs
    try:
        stats = sched.cycle(wait=True)
        outcomes = an.run_due(sched.endpoints, clock(), alarms=sched.take_alarms(), ongoing=sched.sequential.ongoing())
    finally:
        if scheduler is None:
            sched.close()
    return dataclasses.replace(
        stats, analyses_run=sum(o.action == "report" for o in outcomes),
        reports_saved=sum(o.action == "report" for o in outcomes),
        baselines_learned=sum(o.action == "baseline_learned" for o in outcomes))


class _Rate:
    """Probes per minute over the last heartbeat period (for this watcher's row in ``watchers``)."""

    def __init__(self) -> None:
        self.t, self.n = time.monotonic(), 0
        self.last: float | None = None

    def per_minute(self, completed: int) -> float | None:
        now = time.monotonic()
        dt, dn = now - self.t, completed - self.n
        if dt >= 0.2:
            self.t, self.n, self.last = now, completed, round(60.0 * dn / dt, 1)
        return self.last


class _Heart:
    """Heartbeat writer + desired-state reader (database errors are logged, never fatal)."""

    def __init__(self, store: Store, totals: Totals) -> None:
        self.store, self.totals = store, totals
        self.pid, self.host, self.started = os.getpid(), socket.gethostname(), time.time()

    def beat(self, status: str, cycles: int, extra: dict[str, Any]) -> str | None:
        """Write the heartbeat and the totals; return the desired state (None if unreadable)."""
        try:
            self.store.heartbeat(pid=self.pid, status=status, host=self.host, started_at=self.started, cycles=cycles)
            save_stats(self.store.engine, {"pid": self.pid, "started_at": self.started, "updated_at": time.time(),
                                           "cycles": cycles, **extra, **self.totals.snapshot()})
            st = self.store.watcher_state() or {}
            return st.get("desired")
        except DatabaseError as exc:
            logger.warning(f"heartbeat not written: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}")
            return None


def _install_signals(stop: threading.Event, wake: threading.Event) -> dict[int, Any]:
    if threading.current_thread() is not threading.main_thread():
        return {}

    first: list[float] = []

    def handler(signum: int, _frame: Any) -> None:
        # asked again later: stop waiting for in-flight probes. A duplicate within a second (a group kill
        # plus a launcher's trap forwarding the same stop) is the same request, not an emergency.
        if stop.is_set() and first and time.monotonic() - first[0] > 1.0:
            raise KeyboardInterrupt
        if not first:
            first.append(time.monotonic())
        stop.set()
        wake.set()

    old: dict[int, Any] = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        old[sig] = signal.signal(sig, handler)
    return old


def main(settings: Settings, urls: list[str] | None = None, interval: float | None = None, *,
         probe_fn: ProbeFn | None = None, stop_event: threading.Event | None = None,
         max_runtime_s: float | None = None, cycle_s: float = CYCLE_S, **register: Any) -> Totals:
    """Run the watcher until SIGTERM/SIGINT, desired=stopped, ``stop_event`` or ``max_runtime_s``.

    ``urls`` are registered first as enabled endpoints (``register`` passes protocol, probe_set,
    label_column, headers, model_name, timeout_s); ``interval`` is their interval, or, without URLs,
    overrides every endpoint's interval for this run. Returns the run's totals.
    """
    store = Store.from_settings(settings)
    lock = None
    if not supports_leases(store.engine):      # SQLite: one watcher (PostgreSQL shares through leases)
        lock = sqlite_watcher_lock(store)
        st = store.watcher_state() or {}
        if is_alive(store, settings) and st.get("pid") != os.getpid():
            if lock is not None:
                lock.close()
            raise refusal(st.get("pid"))
    if urls:
        from app.watcher.endpoints import register_urls

        register_urls(settings, store, urls, interval=interval, **register)
    store.set_watcher_desired("running")
    stop = stop_event or threading.Event()
    totals = Totals()
    sched = Scheduler(settings, store, probe_fn=probe_fn, stagger=True,
                      interval_override=None if urls else interval, totals=totals, monitor_builds="thread")
    analyzer = Analyzer(settings, store, background="process", stagger=True, totals=totals)
    analyzer.inputs = sched.inputs             # MLFI_STORE_INPUTS=none: the in-memory window of inputs
    old = _install_signals(stop, sched.wake)
    heart = _Heart(store, totals)
    rate = _Rate()
    keeper = LeaseKeeper(settings, store, started_at=heart.started)
    if keeper.leasing:
        sched.use_leases(keeper)
        analyzer.use_jobs(keeper)
    keeper.tick()
    keeper.start(settings.heartbeat_every_s, lambda: rate.per_minute(totals.snapshot()["probes_completed"]))
    cycles = 0
    heart.beat("running", cycles, {})
    pruner = Pruner.start(settings, stop)      # retention: rollup + pruning on its own thread and engine
    logger.info(f"watcher started (pid {heart.pid}); state in {settings.data_dir}")
    t_end = None if max_runtime_s is None else time.monotonic() + max_runtime_s
    next_cycle = next_beat = 0.0
    next_summary = time.time() + SUMMARY_EVERY_S
    try:
        while not stop.is_set():
            sched.wake.clear()
            now = time.time()
            try:
                if keeper.claimed.is_set():     # leases just claimed: probe them now, from the rows last read
                    keeper.claimed.clear()
                    sched.refresh(reread=False)
                if now >= next_cycle:
                    next_cycle = now + cycle_s
                    sched.cycle()
                    cycles += 1
                    analyzer.run_due(sched.endpoints, now, alarms=sched.take_alarms(),
                                     ongoing=sched.sequential.ongoing())
                else:
                    sched.tick()
            except Exception as exc:  # noqa: BLE001 - a bug must not stop the watcher: log, pause, go on
                log_failure("watcher cycle failed", exc)
                stop.wait(1.0)
            if now >= next_beat:
                desired = heart.beat("running", cycles, {"endpoints": len(sched.endpoints),
                                                         "in_flight": sched.in_flight()})
                if desired == "stopped":
                    logger.info("desired state is 'stopped': shutting down")
                    break
                next_beat = now + settings.heartbeat_every_s
            if now >= next_summary:
                s = totals.snapshot()
                logger.info(f"watcher: {len(sched.endpoints)} endpoints, {s['probes_started']} probes, "
                            f"on time {s['on_time_ratio']}, errors {s['errors']}, reports {s['reports_saved']}")
                next_summary = now + SUMMARY_EVERY_S
            if t_end is not None and time.monotonic() >= t_end:
                break
            due = sched.next_due()
            wake_at = min(next_cycle, next_beat, due if due is not None else next_cycle)
            sched.wake.wait(max(0.0, min(wake_at - time.time(), cycle_s)))
    finally:
        logger.info("watcher stopping: finishing in-flight probes")
        sched.close()
        analyzer.close()
        pruner.close()
        keeper.close()            # leases go back at once: the other watchers take them at their next beat
        heart.beat("stopped", cycles, {"endpoints": len(sched.endpoints), "in_flight": 0})
        if lock is not None:
            lock.close()
        for sig, h in old.items():
            signal.signal(sig, h)
        store.dispose()
        logger.info("watcher stopped")
    return totals
