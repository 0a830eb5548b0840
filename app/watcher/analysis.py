"""Rolling-window analysis in the watcher: every ``analysis_every_s`` per endpoint, analyse the last
``window_size`` samples against the stored baseline, then hand the report to governance.

An endpoint without a baseline gets one learned automatically once it has a full window of mostly
successful samples. Detection and governance are imported lazily: when they are not installed the
watcher keeps probing and says so once in the log.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from loguru import logger
from sqlalchemy.exc import SQLAlchemyError

from app.config import Settings
from app.errors import BaselineMissingError
from app.storage import Store
from app.watcher.logs import log_failure
from app.watcher.repo import last_report_times
from app.watcher.stats import Totals
from app.watcher.targets import phase_of

__all__ = ["AUTO_BASELINE_MAX_ERROR_RATE", "AnalysisOutcome", "Analyzer"]

# a baseline is never learned automatically from a window with more failed probes than this
AUTO_BASELINE_MAX_ERROR_RATE = 0.2


@dataclass(frozen=True)
class AnalysisOutcome:
    """What happened to one endpoint in one analysis pass."""

    endpoint: str
    action: str   # report | baseline_learned | waiting | no_new_samples | not_learnable | unavailable | failed
    detail: str = ""
    alert: bool = False
    root_cause: str | None = None


class Analyzer:
    """Decides which endpoints are due for analysis and runs them (inline, or on one background thread).

    Parameters
    ----------
    background : run passes on a single worker thread so the probe schedule is never held up.
    stagger : spread first analyses over ``analysis_every_s`` (long-running loop) instead of now.
    """

    def __init__(self, settings: Settings, store: Store, *, clock: Callable[[], float] = time.time,
                 background: bool = False, stagger: bool = False, totals: Totals | None = None) -> None:
        self.settings, self.store, self.clock, self.stagger = settings, store, clock, stagger
        self.totals = totals or Totals()
        self._last: dict[int, float] | None = None      # endpoint id -> time of the last analysis
        self._seen: dict[int, float] = {}                # endpoint id -> newest sample ts analysed
        self._warned: set[str] = set()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mlfi-analysis") if background else None
        self._running: Future[Any] | None = None
        if self._pool is not None:   # import the analysis stack now: no pause at the first pass, RSS flat after
            self._running = self._pool.submit(self._apis)

    # ---- scheduling ------------------------------------------------------------------------------
    def due(self, endpoints: list[dict[str, Any]], now: float) -> list[dict[str, Any]]:
        every = self.settings.analysis_every_s
        if self._last is None:
            try:
                self._last = last_report_times(self.store.engine)
            except SQLAlchemyError:
                self._last = {}
        out = []
        for ep in endpoints:
            eid = int(ep["id"])
            if eid not in self._last:
                self._last[eid] = now - every + phase_of(eid) * every if self.stagger else now - every
            if now - self._last[eid] >= every:
                out.append(ep)
        return out

    def run_due(self, endpoints: list[dict[str, Any]], now: float | None = None) -> list[AnalysisOutcome]:
        """Analyse the due endpoints; in background mode submit them and return at once (``[]``)."""
        now = self.clock() if now is None else now
        if self._running is not None and not self._running.done():
            return []             # the previous pass is still running: due endpoints wait for the next
        todo = self.due(endpoints, now)
        if not todo:
            return []
        last = self._last if self._last is not None else {}
        for ep in todo:
            last[int(ep["id"])] = now
        if self._pool is not None:
            self._running = self._pool.submit(self._run_all, todo)
            return []
        return self._run_all(todo)

    def _run_all(self, eps: list[dict[str, Any]]) -> list[AnalysisOutcome]:
        out = []
        for ep in eps:
            try:
                o = self.analyze(ep)
            except Exception as exc:  # noqa: BLE001 - one endpoint's failure never stops the others (logged)
                log_failure(f"analysis of {ep['name']} failed", exc)
                o = AnalysisOutcome(ep["name"], "failed", type(exc).__name__)
            out.append(o)
            self.totals.add(analyses_run=int(o.action == "report"), reports_saved=int(o.action == "report"),
                            baselines_learned=int(o.action == "baseline_learned"))
        return out

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
        if self._pool is None:
            return
        if self._running is not None and not self._running.done():
            logger.info("waiting for the running analysis pass to finish")
            try:
                self._running.result(timeout=timeout_s)
            except Exception:  # noqa: BLE001 - already logged inside the pass; only the wait is bounded here
                logger.warning("analysis pass did not finish in time; it is abandoned")
        self._pool.shutdown(wait=False, cancel_futures=True)

    # ---- one endpoint ----------------------------------------------------------------------------
    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            logger.warning(message)

    def _apis(self) -> tuple[Any, Any, Any] | None:
        try:
            from app.detection import analyze_window
        except ImportError as exc:
            self._warn_once("detection", f"analysis unavailable (app.detection.analyze_window missing: {exc}); "
                                         "probing continues")
            return None
        try:
            from app.governance import on_report, sensitivity_for
        except ImportError as exc:
            self._warn_once("governance", f"governance unavailable ({exc}); reports are saved without "
                                          "recommendations")
            return analyze_window, None, None
        return analyze_window, on_report, sensitivity_for

    def analyze(self, ep: dict[str, Any]) -> AnalysisOutcome:
        """Analyse one endpoint's rolling window (or learn its first baseline)."""
        from app.baseline import learn_baseline, load_baseline, save_baseline

        name, eid, window = ep["name"], int(ep["id"]), self.settings.window_size
        samples = self.store.recent_samples(name, last_n=window)
        if not samples:
            return AnalysisOutcome(name, "waiting", "no samples yet")
        newest = max(s.ts for s in samples)
        if self._seen.get(eid) == newest:
            logger.debug(f"analysis of {name} skipped: no new samples")
            return AnalysisOutcome(name, "no_new_samples")
        try:
            baseline = load_baseline(self.settings, self.store, name)
        except BaselineMissingError:
            if len(samples) < window:
                logger.debug(f"analysis of {name} skipped: no baseline, {len(samples)}/{window} samples")
                return AnalysisOutcome(name, "waiting", f"{len(samples)}/{window} samples")
            err = sum(1 for s in samples if not s.ok) / len(samples)
            if err > AUTO_BASELINE_MAX_ERROR_RATE:
                self._warn_once(f"nolearn:{eid}", f"no baseline learned for {name}: {err:.0%} of the last "
                                                  f"{len(samples)} probes failed")
                return AnalysisOutcome(name, "not_learnable", f"error rate {err:.2f}")
            b = save_baseline(self.settings, self.store,
                              learn_baseline(name, samples, protocol=ep.get("protocol")))
            self._seen[eid] = newest
            logger.info(f"learned baseline v{b.version} for {name} from its first {len(samples)} samples")
            return AnalysisOutcome(name, "baseline_learned", f"v{b.version}")
        apis = self._apis()
        if apis is None:
            return AnalysisOutcome(name, "unavailable", "app.detection missing")
        analyze_window, on_report, sensitivity_for = apis
        sens = sensitivity_for(self.store, name) if sensitivity_for else None
        report = analyze_window(baseline, samples, settings=self.settings, sensitivity=sens)
        if on_report is not None:
            report = on_report(self.store, report, self.settings)
        else:
            self.store.save_report(report)
        self._seen[eid] = newest
        rc = report.rca
        if report.alert:
            logger.warning(f"ALERT {name}: {rc.root_cause} ({rc.severity}): {rc.failure_reason}")
        else:
            logger.debug(f"analysis of {name}: no alert ({len(samples)} samples)")
        return AnalysisOutcome(name, "report", alert=bool(report.alert), root_cause=rc.root_cause)
