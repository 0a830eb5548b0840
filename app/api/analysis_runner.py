"""Runs the analyses requested over HTTP on one background thread of the service, each as a claimed job.

A job is claimed before it runs (``claim_analysis``), so each runs once whichever service process takes it
(watchers never claim them: ``claim_jobs`` skips them). While it runs, its claim is renewed; a claim left by a
dead process expires after ``ttl_s``. ``start()`` sweeps at once and then every ``sweep_every_s``: analyses
still queued when a service stopped, or orphaned by a dead one, are taken again, and one whose every attempt
died ends ``failed`` with the reason. The analysis is the watcher's (the endpoint's stored rolling window
against its baseline, or the first baseline learned from it), whose report is written only while the claim
is current.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from loguru import logger

from app.config import Settings
from app.storage import Store
from app.storage.api_analyses import claim_analysis, finish_analysis, give_up_analyses, pending_analyses, renew_analysis
from app.storage.errors import DatabaseError

__all__ = ["HOLDER", "JOB_TTL_S", "SWEEP_EVERY_S", "AnalysisRunner"]

HOLDER = 0               # analysis_jobs.holder of the service (watchers are >= 1)
JOB_TTL_S = 60.0         # a claim lapses this long after its last renewal (renewed every third of it)
SWEEP_EVERY_S = 30.0     # how often a service looks for queued or orphaned analyses


class _RecordingStore(Store):
    """A Store that remembers the id of the last report it saved (the analysis outcome names it)."""

    last_report_id: int | None = None

    def save_report(self, report: Any, **kwargs: Any) -> int:
        rid = super().save_report(report, **kwargs)
        self.last_report_id = rid
        return rid


class AnalysisRunner:
    """One worker thread; ``submit(job_id, endpoint_id)`` returns a Future that ends when the job did."""

    def __init__(self, settings: Settings, *, ttl_s: float = JOB_TTL_S, sweep_every_s: float = SWEEP_EVERY_S) -> None:
        self.settings, self.ttl_s, self.sweep_every_s = settings, ttl_s, sweep_every_s
        self._pool: ThreadPoolExecutor | None = None
        self._store: _RecordingStore | None = None
        self._lock = threading.Lock()
        self._inflight: dict[int, Future[None]] = {}
        self._stop = threading.Event()
        self._sweeper: threading.Thread | None = None

    def _get_store(self) -> _RecordingStore:
        with self._lock:
            if self._store is None:
                self._store = _RecordingStore(self.settings.db_url, store_inputs=self.settings.store_inputs)
            return self._store

    def submit(self, job_id: int, endpoint_id: int) -> Future[None]:
        with self._lock:
            if job_id in self._inflight:
                return self._inflight[job_id]
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mlfi-api-analysis")
            fut = self._pool.submit(self._run, job_id, endpoint_id)
            self._inflight[job_id] = fut
        fut.add_done_callback(lambda _f: self._forget(job_id))
        return fut

    def _forget(self, job_id: int) -> None:
        with self._lock:
            self._inflight.pop(job_id, None)

    def start(self) -> None:
        """Sweep now, then every ``sweep_every_s`` on a daemon thread, until ``close()``."""
        if self._sweeper is None:
            self._sweeper = threading.Thread(target=self._sweep_loop, name="mlfi-api-sweep", daemon=True)
            self._sweeper.start()

    def _sweep_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.sweep()
            except DatabaseError as exc:      # the database is away: the next sweep tries again
                logger.warning(f"queued analyses not resumed: {type(exc).__name__}")
            self._stop.wait(self.sweep_every_s)

    def sweep(self) -> int:
        """Submit each requested analysis nobody runs (queued, or its claim expired); returns how many."""
        eng = self._get_store().engine
        n = give_up_analyses(eng)
        if n:
            logger.warning(f"{n} requested analyses given up: every attempt died")
        todo = [(j, e) for j, e in pending_analyses(eng) if j not in self._inflight]
        for job_id, endpoint_id in todo:
            self.submit(job_id, endpoint_id)
        if todo:
            logger.info(f"resuming {len(todo)} requested analyses")
        return len(todo)

    def _heartbeat(self, job_id: int, fence: int, done: threading.Event) -> None:
        while not done.wait(self.ttl_s / 3):
            try:
                if not renew_analysis(self._get_store().engine, job_id, fence, self.ttl_s):
                    return
            except DatabaseError as exc:
                logger.warning(f"analysis {job_id}: claim not renewed ({type(exc).__name__})")

    def _run(self, job_id: int, endpoint_id: int) -> None:
        from app.watcher.analysis_job import AnalysisJob

        store = self._get_store()
        fence = claim_analysis(store.engine, job_id, HOLDER, self.ttl_s)
        if fence is None:
            logger.info(f"analysis {job_id} was claimed by another worker")
            return
        done = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(job_id, fence, done), daemon=True)
        beat.start()
        ep = next((e for e in store.list_endpoints() if e.id == endpoint_id), None)
        store.report_guard, store.last_report_id = (job_id, fence), None
        try:
            if ep is None:
                action, detail = "failed", "the endpoint was deleted"
            else:
                out = AnalysisJob(self.settings, store).analyze(ep)
                action, detail = out.action, out.detail
        except Exception as exc:  # noqa: BLE001 - the outcome says so; the service keeps serving
            logger.warning(f"analysis {job_id} failed: {type(exc).__name__}")
            action, detail = "failed", type(exc).__name__
        finally:
            store.report_guard = None
            done.set()
            beat.join()
        rid = store.last_report_id if action == "report" else None
        if not finish_analysis(store.engine, job_id, fence, outcome=action, detail=detail, report_id=rid):
            logger.warning(f"analysis {job_id} was taken over by another worker")

    def close(self) -> None:
        self._stop.set()
        if self._sweeper is not None:
            self._sweeper.join(timeout=10)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self._store is not None:
            self._store.dispose()
