"""Rolling-window analysis in the watcher: every ``analysis_every_s`` per endpoint, analyse the last
``window_size`` samples against the stored baseline, then hand the report to governance.

An endpoint without a baseline gets one learned automatically once it has a full window of mostly
successful samples. Detection and governance are imported lazily: when they are not installed the
watcher keeps probing and says so once in the log.

Where passes run: inline (``run_once``, tests), on one thread, or -- in the long-running watcher --
in one separate analysis process, so that statistics holding the GIL never delay a probe.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from loguru import logger

from app.config import Settings
from app.errors import InputError
from app.storage import Endpoint, Store
from app.storage.errors import DatabaseError
from app.storage.watcher import last_report_times
from app.watcher.analysis_job import (
    AUTO_BASELINE_MAX_ERROR_RATE,
    AnalysisJob,
    AnalysisOutcome,
    init_process,
    run_in_process,
    warm_up,
)
from app.watcher.input_window import InputWindow
from app.watcher.sequential import AlarmHint
from app.watcher.stats import Totals
from app.watcher.targets import phase_of

__all__ = ["AUTO_BASELINE_MAX_ERROR_RATE", "BACKGROUND_MODES", "AnalysisOutcome", "Analyzer"]

BACKGROUND_MODES = (None, "thread", "process")


def _slim(ep: Endpoint) -> Endpoint:
    """What a pass needs of an endpoint row (headers never cross to the analysis process)."""
    return ep.without_secrets()


class Analyzer:
    """Decides which endpoints are due for analysis and runs them.

    Parameters
    ----------
    background : None (inline: ``run_due`` returns the outcomes), ``"thread"`` or ``"process"``
        (``run_due`` submits the pass and returns ``[]``; the totals count what completed).
    stagger : spread first analyses over ``analysis_every_s`` (long-running loop) instead of now.
    """

    def __init__(self, settings: Settings, store: Store, *, clock: Callable[[], float] = time.time,
                 background: str | None = None, stagger: bool = False, totals: Totals | None = None) -> None:
        if background not in BACKGROUND_MODES:
            raise InputError(f"unknown analysis mode {background!r}: choose thread or process")
        self.settings, self.store, self.clock, self.stagger = settings, store, clock, stagger
        self.background = background
        self.totals = totals or Totals()
        self.job = AnalysisJob(settings, store)         # inline and thread modes
        self._last: dict[int, float] | None = None      # endpoint id -> time of the last analysis
        self._hints: dict[int, AlarmHint] = {}          # sequential alarms: due at once, whatever the cadence
        self._pool: Executor | None = None
        self._running: Future[Any] | None = None
        self._warming = False                           # the running future is the start-up warm-up
        self.keeper: Any = None                         # PostgreSQL: windows become claimed analysis jobs
        self.inputs: InputWindow | None = None          # MLFI_STORE_INPUTS=none: the scheduler's in-memory inputs
        if background:
            self._start_pool()

    def _start_pool(self) -> None:
        if self.background == "process":
            from app.watcher.child_env import analysis_environ, only_environ

            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=init_process, initargs=(self.settings.model_dump(), os.getpid()))
            with only_environ(analysis_environ(os.environ)):      # the child gets only what it needs
                self._running = self._pool.submit(run_in_process, [])   # start it now: imports happen up front
        else:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mlfi-analysis")
            self._running = self._pool.submit(warm_up)        # warm-up: no pause at the first pass
        self._warming = True

    def use_jobs(self, keeper: Any) -> None:
        """Share analyses with other watchers: each due window is a job in ``analysis_jobs``, analysed by
        whichever watcher claims it (``keeper`` is this watcher's LeaseKeeper: its id is the holder)."""
        self.keeper = keeper

    def _claim(self, todo: list[Endpoint], now: float,
               hints: dict[int, AlarmHint]) -> tuple[list[Endpoint], dict[int, tuple[int, int]]]:
        """Queue the due windows, then claim what to run now (ours, or a crashed worker's)."""
        from app.storage.analysis_jobs import claim_jobs, enqueue, window_of

        eng = self.store.engine
        # an alarm's analysis is its own window (negative numbers: never the cadence window of that time)
        enqueue(eng, [(ep.id, -int(now * 1000) if ep.id in hints else window_of(now, self.settings.analysis_every_s))
                      for ep in todo])
        ttl = max(4 * self.keeper.ttl_s, 2 * self.settings.analysis_every_s, 60.0)
        claimed = claim_jobs(eng, self.keeper.id, len(todo) + 4, ttl)
        known = {ep.id: ep for ep in todo}
        if any(j.endpoint_id not in known for j in claimed):
            known.update({ep.id: ep for ep in self.store.list_endpoints()})
        jobs, eps = {}, []
        for j in claimed:
            if j.endpoint_id in known and j.endpoint_id not in jobs:
                jobs[j.endpoint_id] = (j.id, j.fence)
                eps.append(known[j.endpoint_id])
        return eps, jobs

    # ---- scheduling ------------------------------------------------------------------------------
    def due(self, endpoints: list[Endpoint], now: float) -> list[Endpoint]:
        every = self.settings.analysis_every_s
        if self._last is None:
            try:
                self._last = last_report_times(self.store.engine)
            except DatabaseError:
                self._last = {}
        out = []
        for ep in endpoints:
            eid = ep.id
            if eid not in self._last:
                self._last[eid] = now - every + phase_of(eid) * every if self.stagger else now - every
            if now - self._last[eid] >= every or eid in self._hints:     # an alarm: due at once
                out.append(ep)
        return out

    def run_due(self, endpoints: list[Endpoint], now: float | None = None,
                alarms: dict[int, AlarmHint] | None = None,
                ongoing: dict[int, AlarmHint] | None = None) -> list[AnalysisOutcome]:
        """Analyse the due endpoints; in background mode submit them and return at once (``[]``).

        ``alarms`` (sequential alarms, endpoint id -> hint) make their endpoints due now; an alarm
        waits for the next call while a background pass is still running. ``ongoing`` (endpoints inside
        a sequential episode) only tells their cadence analyses that the change is not over.
        """
        now = self.clock() if now is None else now
        self._hints.update({k: h for k, h in (alarms or {}).items() if h.due})
        if self._running is not None and not self._running.done():
            return []             # the previous pass is still running: due endpoints wait for the next
        todo = self.due(endpoints, now)
        if not todo:
            return []
        last = self._last if self._last is not None else {}
        for ep in todo:
            last[ep.id] = now
        hints = {ep.id: self._hints.pop(ep.id) for ep in todo if ep.id in self._hints}
        jobs: dict[int, tuple[int, int]] | None = None
        if self.keeper is not None:
            try:
                todo, jobs = self._claim(todo, now, hints)
            except DatabaseError as exc:
                logger.warning(f"analysis jobs not claimed: {type(exc).__name__}")
                return []
            if not todo:
                return []
        hints.update({ep.id: (ongoing or {})[ep.id] for ep in todo if ep.id not in hints and ep.id in (ongoing or {})})
        inputs = self.inputs.snapshot([ep.id for ep in todo]) if self.inputs is not None else None
        if self._pool is None:
            out = self.job.run_all(todo, hints, jobs, inputs)
            self._count(out)
            return out
        fn = run_in_process if self.background == "process" else self.job.run_all
        try:
            # process mode: the inputs travel pickled through the pool's pipe, never through a file
            fut = self._pool.submit(fn, [_slim(ep) for ep in todo], hints, jobs, inputs)
        except (BrokenProcessPool, RuntimeError) as exc:
            logger.error(f"analysis process lost ({type(exc).__name__}); starting a new one")
            self._start_pool()
            return []
        fut.add_done_callback(self._on_done)
        self._running, self._warming = fut, False
        return []

    def _on_done(self, fut: Future[Any]) -> None:
        if fut.cancelled():
            return
        exc = fut.exception()
        if exc is not None:
            # a lost analysis process (BrokenProcessPool) is replaced at the next submit
            logger.error(f"analysis pass failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
            return
        self._count(fut.result())

    def _count(self, outcomes: list[AnalysisOutcome]) -> None:
        self.totals.add(analyses_run=sum(o.action == "report" for o in outcomes),
                        reports_saved=sum(o.action == "report" for o in outcomes),
                        baselines_learned=sum(o.action == "baseline_learned" for o in outcomes),
                        alerts=sum(o.alert for o in outcomes))

    # ---- lifecycle -------------------------------------------------------------------------------
    def wait_idle(self, timeout_s: float | None = None) -> bool:
        """Wait for the running background pass (or the start-up warm-up); True when idle."""
        if self._running is None:
            return True
        try:
            self._running.result(timeout=timeout_s)
        except Exception as exc:  # noqa: BLE001 - the pass logs its own failures; only the wait is ours
            logger.debug(f"background analysis pass ended with {type(exc).__name__}")
        return self._running.done()

    def close(self, timeout_s: float = 30.0) -> None:
        """Let a running pass finish (bounded), then stop the thread / process."""
        if self._pool is None:
            return
        if self._running is not None and not self._running.done() and not self._warming:
            logger.info("waiting for the running analysis pass to finish")
            if not self.wait_idle(timeout_s):
                logger.warning("analysis pass did not finish in time; it is abandoned")
        if isinstance(self._pool, ProcessPoolExecutor):
            procs = list((getattr(self._pool, "_processes", None) or {}).values())
            manager = getattr(self._pool, "_executor_manager_thread", None)   # shutdown() clears both
            if self._running is not None and not self._running.done():
                for p in procs:                  # an abandoned pass (or warm-up) must not outlive the watcher
                    p.terminate()
            self._pool.shutdown(wait=False, cancel_futures=True)
            # The executor's manager thread joins (reaps) the worker; joining it from here as well races
            # with that thread's waitpid, so wait for the manager thread instead, then kill as a last resort.
            if manager is not None:
                manager.join(timeout=10)
            for p in procs:
                if p.exitcode is None and (manager is None or not manager.is_alive()):
                    p.join(timeout=5)
                if p.exitcode is None:
                    p.kill()
        else:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = None
