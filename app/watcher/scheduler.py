"""Per-endpoint probe schedule over a bounded thread pool, with backoff and batched, atomic writes.

Each enabled endpoint with a URL is probed on its own fixed-rate grid (``interval_s`` from the
database, read every cycle). At most one probe per endpoint is in flight; a probe that is still
running when its next slot comes delays only that endpoint: a slot missed that way (or by a stalled
loop) is probed late, right after, once (a catch-up, never a burst); older missed slots are skipped and
counted. Consecutive failures that say the endpoint cannot take requests (refused, timed
out, 429/502/503/504: :func:`~app.watcher.targets.backs_off`) push the next probe out exponentially
(:func:`~app.watcher.targets.backoff_delay`, capped by ``settings.backoff_max_s``); answered errors keep
the interval, so a partly failing model stays sampled at full rate. Workers never
write to the database: completed probes are queued and written by the owner thread, one
transaction per batch (samples and endpoint status together, all or nothing).
"""

from __future__ import annotations

import dataclasses
import math
import queue
import threading
import time
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from typing import Any

import requests
from loguru import logger

from app.config import Settings
from app.errors import MlfiError
from app.storage import Endpoint, Store
from app.storage.errors import DatabaseError
from app.storage.watcher import ProbeStatus
from app.watcher.batch import WriteBuffer
from app.watcher.input_window import InputWindow
from app.watcher.logs import log_failure
from app.watcher.probe_job import ProbeFn, ProbeJobs, _Cycle, _default_probe, _Endpoint, _Result
from app.watcher.sequential import AlarmHint, SequentialWatch
from app.watcher.stats import CycleStats, Totals
from app.watcher.targets import (
    RowCache,
    backoff_delay,
    backs_off,
    build_target,
    config_key,
    is_probed,
    phase_of,
    probe_set_spec,
)

__all__ = ["ProbeFn", "Scheduler", "probe_seed"]

_RETRY_CONFIG_S = 60.0         # a broken probe-set / URL configuration is retried this often


def probe_seed(ep: Endpoint) -> int:
    """The seed of an endpoint's probe-row sequence: its id on its first schedule (reproducible runs), then its id and
    its last probe time. Seeded by the id alone, every re-enable and every watcher restart replayed the same rows
    from the start: after rapid Stop/Start in the dashboard 73 of 75 runs began with the same three inputs, the last
    window held 43 distinct rows instead of ~68, and the drift tests flagged that bias as feature drift."""
    if ep.last_probe_at is None:
        return int(ep.id)
    return zlib.crc32(f"{int(ep.id)}:{float(ep.last_probe_at)!r}".encode())


class Scheduler(ProbeJobs):
    """The probing half of the watcher: schedule, run (bounded concurrency), record.

    Parameters
    ----------
    settings, store : the watcher's Settings and Store.
    probe_fn : ``probe_once``-compatible callable (injected by tests); default ``app.probing.probe_once``.
    clock : time source for scheduling (seconds).
    concurrency : worker threads; default ``settings.watch_concurrency``.
    stagger : spread first probes over each endpoint's interval (the long-running loop) instead of now.
    interval_override : probe every endpoint at this interval instead of its stored one.
    monitor_builds : where sequential monitors are built: ``"inline"`` (on this thread at an endpoint's first
        sample; simulated clocks) or ``"thread"`` (off the owner thread, samples queued meanwhile; the live watcher).
    """

    def __init__(self, settings: Settings, store: Store, *, probe_fn: ProbeFn | None = None,
                 clock: Callable[[], float] = time.time, concurrency: int | None = None, stagger: bool = False,
                 interval_override: float | None = None, totals: Totals | None = None,
                 monitor_builds: str = "inline") -> None:
        self.settings, self.store, self.clock = settings, store, clock
        self.stagger, self.interval_override = stagger, interval_override
        self.totals = totals or Totals()
        self.wake = threading.Event()            # set when a probe completes (the loop may resubmit)
        self.endpoints: list[Endpoint] = []  # enabled rows from the last refresh (also ingest-only)
        self._probe = probe_fn or _default_probe()
        self._pool = ThreadPoolExecutor(max_workers=max(1, concurrency or settings.watch_concurrency),
                                        thread_name_prefix="mlfi-probe")
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()
        self._states: dict[int, _Endpoint] = {}
        self._done: queue.SimpleQueue[_Result] = queue.SimpleQueue()
        self._buffer = WriteBuffer(store)
        self.sequential = SequentialWatch(settings, store, builds=monitor_builds)   # fed after each committed batch
        self.alarms: dict[int, AlarmHint] = {}               # endpoint id -> alarm not yet handed on
        self.fast_probes = 0                                 # probes started at the fast interval
        # MLFI_STORE_INPUTS=none: the inputs the database does not get, for the analysis (bounded, in memory)
        self.inputs = InputWindow(settings.window_size) if not store.keeps_inputs else None
        self._rows = RowCache()
        self._cycle = _Cycle()
        self._closed = False
        self._refreshed = False      # after the first refresh, an overdue endpoint that appears is probed now
        self._all: list[Endpoint] | None = None   # every enabled row of the last read (held or not)
        self.leases: Any = None      # a LeaseKeeper (app.watcher.leases): probe only the endpoints it holds

    def use_leases(self, keeper: Any) -> None:
        """Share the endpoints with other watchers: probe what ``keeper`` holds, write with its fences."""
        self.leases = keeper
        self._buffer.fence = keeper.fence_check
        keeper.wake = self.wake      # a claim wakes the loop: taken-over endpoints are probed without waiting

    # ---- configuration -------------------------------------------------------------------------
    def refresh(self, *, reread: bool = True) -> list[Endpoint]:
        """Read enabled endpoints from the database; add, update or drop schedule entries. ``reread=False``
        reuses the rows of the last read (leases just claimed: scheduled without waiting for the database)."""
        rows = self.store.list_endpoints(enabled_only=True) if reread or self._all is None else self._all
        self._all = rows
        if self.leases is not None:   # another watcher probes (and analyses) the endpoints it holds
            rows = [ep for ep in rows if not is_probed(ep) or self.leases.holds(ep.id)]
        self.endpoints = rows
        now = self.clock()
        seen: set[int] = set()
        for ep in rows:
            if not is_probed(ep):
                continue
            eid = ep.id
            seen.add(eid)
            interval = self._interval(ep)
            st = self._states.get(eid)
            if st is None:
                st = self._states[eid] = self._new_state(ep, interval, now)
            st.interval_s = interval
            key = config_key(ep)
            if key != st.key or (st.config_error and now >= st.config_retry_at):
                self._configure(st, ep, key, now)
        for eid in [e for e in self._states if e not in seen]:
            del self._states[eid]      # disabled or removed: an in-flight probe still gets recorded
        if self.inputs is not None:
            self.inputs.forget(seen)
        self._refreshed = True
        return rows

    def _interval(self, ep: Endpoint) -> float:
        v = self.interval_override or ep.interval_s or self.settings.watch_interval_s
        return float(v) if math.isfinite(float(v)) and float(v) > 0 else self.settings.watch_interval_s

    def _new_state(self, ep: Endpoint, interval: float, now: float) -> _Endpoint:
        eid = ep.id
        failures = ep.consecutive_failures
        due = now
        last = ep.last_probe_at
        if last is not None and float(last) <= now:   # restart: honour the stored backoff
            due = float(last) + backoff_delay(interval, failures, self.settings.backoff_max_s)
            if self.leases is not None and self._refreshed and now - interval < due <= now:
                due += interval   # handed over: the previous holder may have probed this slot (write not stored)
        # the first schedule (a start or restart) spreads its overdue endpoints over their interval; one that
        # appears later with an overdue slot (taken over from a dead watcher) is probed now: it is late already
        if self.stagger and due <= now and (not self._refreshed or last is None):
            due = now + phase_of(eid) * interval
        return _Endpoint(id=eid, name=ep.name, interval_s=interval, next_due=max(due, 0.0), failures=failures)

    def _configure(self, st: _Endpoint, ep: Endpoint, key: tuple[Any, ...], now: float) -> None:
        st.key = key
        try:
            st.target = build_target(ep, self.settings)
            path, label = probe_set_spec(ep)
            st.pick = self._rows.picker(path, label, seed=probe_seed(ep))
            if st.config_error:
                logger.info(f"endpoint {st.name}: configuration usable again")
            st.config_error = None
        except MlfiError as exc:
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if msg != st.config_error:
                logger.error(f"endpoint {st.name} cannot be probed: {msg}")
            st.config_error, st.config_retry_at, st.target, st.pick = msg, now + _RETRY_CONFIG_S, None, None
            self._buffer.set_status(ProbeStatus(st.id, now, "config_error", st.failures))

    # ---- probing -------------------------------------------------------------------------------
    def submit_due(self) -> int:
        """Start every probe whose slot has come (one in flight per endpoint). Returns how many started."""
        if self._closed:
            return 0
        now = self.clock()
        n = 0
        held = self.leases.current() if self.leases is not None else None   # a lapsed lease is not probed
        for st in self._states.values():
            if st.next_due > now or st.future is not None or st.pick is None or (held is not None and st.id not in held):
                continue
            due = st.next_due
            row, label = st.pick()
            st.future = self._pool.submit(self._job, st.id, st.name, st.target, row, label, due)
            step = self._step(st)
            nxt = due + step
            if nxt <= now:   # more than one interval late: the latest missed slot is probed next (right after
                missed = math.floor((now - due) / step)   # this one: a catch-up), any older ones are skipped
                self._cycle.skipped += missed - 1
                nxt = due + missed * step
            st.next_due, st.last_due = nxt, due
            self.fast_probes += st.fast
            n += 1
        self._cycle.submitted += n
        return n

    def _step(self, st: _Endpoint) -> float:
        """The endpoint's interval now: the fast one while it is near or in an alarm, never slower than its own."""
        return min(st.interval_s, self.settings.fast_interval_s) if st.fast else st.interval_s

    def _set_fast(self, fast: set[int]) -> None:
        """Variable sampling interval: switch endpoints in and out of the fast interval after a feed."""
        for eid, st in self._states.items():
            on = eid in fast
            if on and not st.fast and st.last_due is not None and st.failures == 0:
                st.next_due = min(st.next_due, st.last_due + min(st.interval_s, self.settings.fast_interval_s))
            if on != st.fast:
                logger.info(f"endpoint {st.name}: {'fast' if on else 'normal'} probe interval "
                            f"({self._step(dataclasses.replace(st, fast=on)):g} s)")
            st.fast = on

    def collect(self) -> int:
        """Take completed probes off the queue: update backoff state and the write buffer."""
        n = 0
        while True:
            try:
                r = self._done.get_nowait()
            except queue.Empty:
                break
            n += 1
            ok = r.sample.error_kind is None
            st = self._states.get(r.endpoint_id)
            prev = st.failures if st else self._buffer.failures_of(r.endpoint_id)
            failures = 0 if ok else prev + 1
            if st is not None:
                st.future, st.failures = None, failures
                if not ok:
                    backing = backs_off(r.sample.error_kind, r.sample.status_code)
                    if backing:
                        st.next_due = max(st.next_due, r.started + backoff_delay(
                            st.interval_s, failures, self.settings.backoff_max_s))
                    if failures in (1, 5) or failures % 50 == 0:
                        then = (f"next probe in {st.next_due - r.started:.1f} s" if backing
                                else "it answers, so probing keeps its interval")
                        logger.warning(f"endpoint {r.name}: {r.sample.error_kind} ({failures} in a row); {then}")
                elif prev >= 1:
                    logger.info(f"endpoint {r.name} recovered after {prev} failed probes")
            if not ok:
                kind = r.sample.error_kind or "error"
                self._cycle.errors[kind] = self._cycle.errors.get(kind, 0) + 1
            if r.detected:
                self._buffer.detected[r.name] = r.detected
            self._buffer.add(r.endpoint_id, r.sample,
                             ProbeStatus(r.endpoint_id, r.started, "ok" if ok else str(r.sample.error_kind), failures))
        self._cycle.completed += n
        return n

    def flush(self) -> tuple[int, bool]:
        """Write buffered samples + statuses in one transaction. Returns (written, failed)."""
        refused = self._buffer.refused
        written, failed = self._buffer.flush()
        if self._buffer.refused > refused:
            self.totals.add(stale_writes_refused=self._buffer.refused - refused)
        if failed:
            self.totals.add(write_failures=1)
        elif self._buffer.last_written or self.sequential.building:   # (monitors built meanwhile take their queue)
            if self.inputs is not None and self._buffer.last_written:
                self.inputs.add(self._buffer.last_written)
            try:
                self.alarms.update(self.sequential.feed(self._buffer.last_written))
                self._set_fast(self.sequential.fast())
            except Exception as exc:  # noqa: BLE001 - sequential detection must never stop sample writes
                log_failure("sequential detection failed", exc)
        return written, failed

    def take_alarms(self) -> dict[int, AlarmHint]:
        """The sequential alarms since the last call (endpoint id -> alarm), handed to the analyzer."""
        out, self.alarms = self.alarms, {}
        return out

    # ---- cycles --------------------------------------------------------------------------------
    def tick(self) -> int:
        """Cheap step between cycles (no database): collect completions, start due probes."""
        self.collect()
        return self.submit_due()

    def cycle(self, *, wait: bool = False) -> CycleStats:
        """One cycle: refresh endpoints, start due probes, (optionally wait for them), write the batch."""
        t0 = time.perf_counter()
        started_at = self.clock()
        try:
            self.refresh()
        except DatabaseError as exc:
            logger.warning(f"cannot read endpoints (keeping the current schedule): {type(exc).__name__}")
        self.collect()
        self.submit_due()
        if wait:
            self.wait_in_flight()
        self.collect()
        written, failed = self.flush()
        c, self._cycle = self._cycle, _Cycle()
        backing = sum(1 for s in self._states.values() if s.failures > 0)
        self.totals.add(probes_completed=c.completed, samples_written=written, skipped_busy=c.skipped)
        self.totals.add_errors(c.errors)
        return CycleStats(started_at=started_at, endpoints_enabled=len(self.endpoints), probes_submitted=c.submitted,
                          probes_completed=c.completed, samples_written=written, errors=c.errors,
                          skipped_busy=c.skipped, backing_off=backing, write_failed=failed,
                          pending_writes=len(self._buffer), duration_s=time.perf_counter() - t0)

    def wait_in_flight(self, timeout_s: float | None = None) -> int:
        """Wait for in-flight probes (bounded by the probe timeout); returns how many are still running."""
        futs = [s.future for s in self._states.values() if s.future is not None]
        if not futs:
            return 0
        limit = timeout_s if timeout_s is not None else 2 * self.settings.probe_timeout_s + 5.0
        _, not_done = wait_futures(futs, timeout=limit)
        return len(not_done)

    def next_due(self) -> float | None:
        """Earliest slot of an endpoint that is idle and probe-able (None when nothing is scheduled)."""
        dues = [s.next_due for s in self._states.values() if s.future is None and s.pick is not None]
        return min(dues) if dues else None

    def in_flight(self) -> int:
        return sum(1 for s in self._states.values() if s.future is not None)

    def close(self, *, timeout_s: float | None = None) -> CycleStats:
        """Stop starting probes, let in-flight ones finish (bounded), write the final batch."""
        self._closed = True
        left = self.wait_in_flight(timeout_s)
        if left:
            logger.warning(f"{left} probes still running at shutdown; their results are dropped")
        self.collect()
        written, failed = self.flush()
        self.sequential.close()           # never waits for a monitor being built
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._sessions_lock:
            for s in self._sessions:
                s.close()
            self._sessions.clear()
        self.totals.add(samples_written=written, probes_completed=self._cycle.completed)
        return CycleStats(started_at=self.clock(), samples_written=written, write_failed=failed,
                          pending_writes=len(self._buffer))
