"""One analysis pass over a list of endpoints: rolling window vs baseline -> report -> governance.

Runs inline, on a thread, or inside the watcher's analysis process (see :mod:`app.watcher.analysis`);
the process entry points are :func:`init_process` and :func:`run_in_process`.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from loguru import logger

from app.config import Settings
from app.errors import BaselineMissingError
from app.storage import Endpoint, Store
from app.storage.errors import StaleClaimError
from app.watcher.input_window import attach_inputs
from app.watcher.logs import log_failure
from app.watcher.sequential import MIN_ALARM_WINDOW, AlarmHint

__all__ = ["AUTO_BASELINE_MAX_ERROR_RATE", "AnalysisJob", "AnalysisOutcome", "init_process", "run_in_process",
           "warm_up"]

# a baseline is never learned automatically from a window with more failed probes than this
AUTO_BASELINE_MAX_ERROR_RATE = 0.2
# imported when the analysis process starts, so its memory reaches its plateau before the first pass
# (the detectors and the RCA import these lazily, on first use)
PRELOAD = ("app.analysis.window", "app.governance")
# optional third-party packages the detectors and the RCA import lazily
PRELOAD_OPTIONAL = ("sklearn.ensemble", "sklearn.tree", "sklearn.model_selection", "shap")


@dataclass(frozen=True)
class AnalysisOutcome:
    """What happened to one endpoint in one analysis pass."""

    endpoint: str
    action: str   # report | baseline_learned | waiting | no_new_samples | not_learnable | failed
    detail: str = ""
    alert: bool = False
    root_cause: str | None = None


class AnalysisJob:
    """Analyses endpoints' rolling windows; remembers the newest sample analysed per endpoint."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings, self.store = settings, store
        self._seen: dict[int, float] = {}      # endpoint id -> newest sample ts analysed
        self._warned: set[str] = set()

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            logger.warning(message)

    def run_all(self, eps: list[Endpoint], hints: dict[int, AlarmHint] | None = None,
                jobs: dict[int, tuple[int, int]] | None = None,
                inputs: dict[int, dict[float, dict[str, Any]]] | None = None) -> list[AnalysisOutcome]:
        """Analyse ``eps``; with ``jobs`` (endpoint id -> claimed analysis job id and fence, PostgreSQL) each
        report is written only while the claim is current, and the job is marked done after its endpoint.
        ``inputs`` (endpoint id -> sample ts -> inputs) is the watcher's in-memory window in ``none`` mode."""
        out = []
        for ep in eps:
            job = (jobs or {}).get(ep.id)
            self.store.report_guard = job
            try:
                o = self.analyze(ep, (hints or {}).get(ep.id), (inputs or {}).get(ep.id))
            except StaleClaimError as exc:
                logger.warning(f"analysis of {ep.name} dropped: {exc}")
                o = AnalysisOutcome(ep.name, "failed", "stale_claim")
            except Exception as exc:  # noqa: BLE001 - one endpoint's failure never stops the others (logged)
                log_failure(f"analysis of {ep.name} failed", exc)
                o = AnalysisOutcome(ep.name, "failed", type(exc).__name__)
            finally:
                self.store.report_guard = None
            if job is not None:
                self._finish(ep, job)
            out.append(o)
        return out

    def _finish(self, ep: Endpoint, job: tuple[int, int]) -> None:
        from app.storage.analysis_jobs import finish_job
        from app.storage.errors import DatabaseError

        try:
            if not finish_job(self.store.engine, *job):
                logger.warning(f"analysis job of {ep.name} was taken over by another worker")
        except DatabaseError as exc:   # the claim expires and the job is retried elsewhere
            logger.warning(f"analysis job of {ep.name} not marked done: {type(exc).__name__}")

    def analyze(self, ep: Endpoint, hint: AlarmHint | None = None,
                inputs: dict[float, dict[str, Any]] | None = None) -> AnalysisOutcome:
        """Analyse one endpoint's rolling window (or learn its first baseline).

        After a sequential alarm (``hint``) the window is the samples since its change (or healing)
        point, at least ``MIN_ALARM_WINDOW`` and at most ``window_size``; an incident this opens records
        the change point and the detection delay, and the episode keeps one change in one incident.
        """
        from app.detection.baseline import MIN_BASELINE_SAMPLES, baseline_size_problem, learn_baseline
        from app.storage.baselines import load_baseline, save_baseline

        name, eid, window = ep.name, ep.id, self.settings.window_size
        if hint is not None and hint.kind == "settling" and (hint.since_samples or 0) < MIN_ALARM_WINDOW:
            # just after a recovery: too few healed samples for a window of its own, and the usual one still holds
            # the failure the sequential test saw end (it would open a second incident for the same change)
            return AnalysisOutcome(name, "waiting", f"settling: {hint.since_samples} samples since the recovery")
        if hint is not None and hint.since_samples is not None:   # the samples since the change / healing
            floor = 1 if hint.kind == "recovered" else MIN_ALARM_WINDOW  # a change: padded to the minimum
            window = min(window, max(floor, hint.since_samples))
        samples = attach_inputs(self.store.recent_samples(name, last_n=window), inputs)
        if not samples:
            return AnalysisOutcome(name, "waiting", "no samples yet")
        newest = max(s.ts for s in samples)
        if (hint is None or not hint.due) and self._seen.get(eid) == newest:
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
            problem = baseline_size_problem(sum(1 for s in samples if s.ok))
            if problem:                    # a window smaller than the minimum (MLFI_WINDOW_SIZE): one line, once
                problem += f" (the window, MLFI_WINDOW_SIZE, is {window})" if window < MIN_BASELINE_SAMPLES else ""
                self._warn_once(f"small:{eid}", f"no baseline learned for {name}: {problem}")
                return AnalysisOutcome(name, "not_learnable", problem)
            b = save_baseline(self.settings, self.store, learn_baseline(name, samples, protocol=ep.protocol))
            self._seen[eid] = newest
            logger.info(f"learned baseline v{b.version} for {name} from its first {len(samples)} samples")
            return AnalysisOutcome(name, "baseline_learned", f"v{b.version}")
        total = baseline.metrics.total_samples or baseline.n_samples
        problem = baseline_size_problem(round(total * (1.0 - baseline.metrics.error_rate)))
        if problem:                        # learned before the minimum existed: say so once, no traceback
            self._warn_once(f"small-baseline:{eid}", f"analysis of {name} skipped: baseline v{baseline.version} "
                                                     f"is too small ({problem}); learn it again")
            return AnalysisOutcome(name, "not_learnable", problem)
        # imported here, not at the top: the window pulls in scipy and scikit-learn, which only the
        # analysis process needs (the watcher's probing process stays small)
        from app.analysis.window import analyze_window
        from app.governance import on_report, sensitivity_for

        report = analyze_window(baseline, samples, settings=self.settings,
                                sensitivity=sensitivity_for(self.store, name))
        if hint is not None and hint.kind != "settling":  # the worst finding active now heads the report
            from app.analysis.headline import headline

            report = headline(report, watched=set(hint.watched), failing=set(hint.failing))
            if hint.kind == "change" and hint.evidence:     # the alarm opens the incident; the suite refines
                from app.analysis.headline import alarm_evidence

                report = alarm_evidence(report, signal=hint.signal, statement=hint.evidence)
        change_point = ((hint.change_point_at, hint.delay_samples)
                        if hint and hint.kind not in ("recovered", "settling") else None)
        extra = {"change_point": change_point, "episode": hint.episode} if hint is not None else {}
        report = on_report(self.store, report, self.settings, **extra)
        self._seen[eid] = newest
        rc = report.rca
        if report.alert:
            logger.warning(f"ALERT {name}: {rc.root_cause} ({rc.severity}): {rc.failure_reason}")
        else:
            logger.debug(f"analysis of {name}: no alert ({len(samples)} samples)")
        return AnalysisOutcome(name, "report", alert=bool(report.alert), root_cause=rc.root_cause)


def warm_up() -> None:
    """Import the analysis stack up front, so the first pass does not pause (and memory plateaus early)."""
    for name in PRELOAD:
        importlib.import_module(name)     # the project's own code: a broken import fails here, loudly
    for name in PRELOAD_OPTIONAL:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            logger.debug(f"preload of {name} skipped: {exc}")


# ---- the analysis process ------------------------------------------------------------------------
# One AnalysisJob per analysis process, created by the pool initializer (process-local by construction).
_PROCESS_JOB: list[AnalysisJob] = []


def _exit_with_parent(parent: int, every_s: float = 1.0) -> None:
    """End this process when the watcher that started it is gone (e.g. after ``kill -9``)."""
    while True:
        time.sleep(every_s)
        if os.getppid() != parent:
            os._exit(0)   # nothing to flush: every write of a pass is its own committed transaction


def init_process(settings_data: dict[str, Any], parent: int) -> None:
    """Pool initializer: own logging, own database engine, analysis stack imported up front.

    ``parent`` is the watcher's pid, passed in (not read here): the watcher may already be gone by now.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)      # Ctrl-C reaches the whole group: the parent decides
    if os.getppid() != parent:
        os._exit(0)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True, name="mlfi-parent-watch").start()
    settings = Settings(**settings_data)
    logger.remove()
    logger.add(sys.stderr, level=settings.log_level.upper(), format="<level>{level: <7}</level> [analysis] {message}")
    try:
        settings.ensure_dirs()
        logger.add(settings.log_dir / "analysis.log", level="DEBUG", rotation="10 MB", retention=5, encoding="utf-8")
    except OSError as exc:
        logger.warning(f"file logging disabled: {exc}")
    job = AnalysisJob(settings, Store.from_settings(settings))
    warm_up()
    _PROCESS_JOB.append(job)


def run_in_process(eps: list[Endpoint], hints: dict[int, AlarmHint] | None = None,
                   jobs: dict[int, tuple[int, int]] | None = None,
                   inputs: dict[int, dict[float, dict[str, Any]]] | None = None) -> list[AnalysisOutcome]:
    """Pool task: one pass in the analysis process (``inputs`` arrive pickled through the pool's pipe)."""
    return _PROCESS_JOB[0].run_all(eps, hints, jobs, inputs)
