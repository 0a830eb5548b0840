"""Runs the analyses requested over HTTP on one background thread of the service, each as a claimed job.

A job is claimed before it runs (``claim_analysis``): one that a watcher took first (PostgreSQL) is left to
it. The analysis is the watcher's (the endpoint's stored rolling window against its baseline, or the first
baseline learned from it), on a Store of its own, whose report is written only while the claim is current.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from loguru import logger

from app.config import Settings
from app.storage import Store
from app.storage.api_analyses import claim_analysis, finish_analysis

__all__ = ["HOLDER", "JOB_TTL_S", "AnalysisRunner"]

HOLDER = 0               # analysis_jobs.holder of the service (watchers are >= 1)
JOB_TTL_S = 600.0        # a claim of the service expires after this (a crashed service's job is taken again)


class _RecordingStore(Store):
    """A Store that remembers the id of the last report it saved (the analysis outcome names it)."""

    last_report_id: int | None = None

    def save_report(self, report: Any, **kwargs: Any) -> int:
        rid = super().save_report(report, **kwargs)
        self.last_report_id = rid
        return rid


class AnalysisRunner:
    """One worker thread; ``submit(job_id, endpoint_id)`` returns a Future that ends when the job did."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pool: ThreadPoolExecutor | None = None
        self._store: _RecordingStore | None = None
        self._lock = threading.Lock()

    def submit(self, job_id: int, endpoint_id: int) -> Future[None]:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mlfi-api-analysis")
            return self._pool.submit(self._run, job_id, endpoint_id)

    def _run(self, job_id: int, endpoint_id: int) -> None:
        from app.watcher.analysis_job import AnalysisJob

        if self._store is None:
            self._store = _RecordingStore(self.settings.db_url, store_inputs=self.settings.store_inputs)
        store = self._store
        fence = claim_analysis(store.engine, job_id, HOLDER, JOB_TTL_S)
        if fence is None:
            logger.info(f"analysis {job_id} was claimed by another worker")
            return
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
        rid = store.last_report_id if action == "report" else None
        if not finish_analysis(store.engine, job_id, fence, outcome=action, detail=detail, report_id=rid):
            logger.warning(f"analysis {job_id} was taken over by another worker")

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self._store is not None:
            self._store.dispose()
