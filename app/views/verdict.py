"""Verdicts in words ("Accuracy drop · high") and an endpoint's progress towards its first verdict."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["ROOT_CAUSE_LABELS", "Readiness", "endpoint_readiness", "readiness", "root_cause_label", "verdict_text"]

ROOT_CAUSE_LABELS: dict[str, str] = {
    "none": "Healthy",
    "feature_drift": "Feature drift",
    "prediction_drift": "Prediction mix shifted",
    "confidence_drop": "Confidence drop",
    "accuracy_drop": "Accuracy drop",
    "latency_degradation": "Slower answers",
    "error_spike": "Error spike",
    "silent_failure": "Silent failure (constant answers)",
    "data_quality": "Input data quality",
}


def root_cause_label(root_cause: str | None) -> str:
    """A root cause in words (unknown names are made readable, not dropped).

    >>> root_cause_label("latency_degradation"), root_cause_label("new_cause")
    ('Slower answers', 'New cause')
    """
    if not root_cause:
        return "No verdict yet"
    return ROOT_CAUSE_LABELS.get(root_cause, root_cause.replace("_", " ").capitalize())


def verdict_text(root_cause: str | None, severity: str | None) -> str:
    """The last verdict as a person reads it.

    >>> verdict_text("none", "none")
    'Healthy (no change from baseline)'
    >>> verdict_text("accuracy_drop", "high")
    'Accuracy drop · high'
    >>> verdict_text(None, None)
    'No verdict yet'
    """
    if not root_cause:
        return "No verdict yet"
    if root_cause == "none":
        return "Healthy (no change from baseline)"
    label = root_cause_label(root_cause)
    return f"{label} · {severity}" if severity and severity != "none" else label


Phase = Literal["collecting", "first_analysis", "analysed"]


@dataclass(frozen=True)
class Readiness:
    """Where an endpoint stands before its first verdict (collecting baseline samples / first analysis due)."""

    phase: Phase
    collected: int
    needed: int
    due_in_s: float | None
    message: str

    @property
    def fraction(self) -> float:
        return 1.0 if self.needed <= 0 else min(1.0, self.collected / self.needed)


def readiness(*, samples: int, window_size: int, baseline_created_at: float | None, has_report: bool,
              analysis_every_s: float, now: float) -> Readiness:
    """Progress towards the first verdict.

    The watcher learns a baseline once ``window_size`` samples are stored, then analyses the
    endpoint every ``analysis_every_s`` seconds.

    Examples
    --------
    >>> r = readiness(samples=8, window_size=150, baseline_created_at=None, has_report=False,
    ...               analysis_every_s=30, now=100.0)
    >>> r.phase, r.message, round(r.fraction, 3)
    ('collecting', 'Collecting baseline: 8 / 150 samples', 0.053)
    >>> readiness(samples=160, window_size=150, baseline_created_at=90.0, has_report=False,
    ...           analysis_every_s=30, now=100.0).message
    'Baseline learned; first analysis due in about 20 s'
    >>> readiness(samples=160, window_size=150, baseline_created_at=None, has_report=True,
    ...           analysis_every_s=30, now=100.0).phase
    'analysed'
    """
    needed = max(1, int(window_size))
    if has_report:
        return Readiness("analysed", samples, needed, None, "Analysed")
    if baseline_created_at is None:
        if samples < needed:
            return Readiness("collecting", samples, needed, None,
                             f"Collecting baseline: {samples:,} / {needed:,} samples")
        return Readiness("collecting", samples, needed, None,
                         f"{samples:,} samples collected; the baseline is learned at the next analysis "
                         f"(at most every {analysis_every_s:g} s, while the watcher runs)")
    due = max(0.0, float(baseline_created_at) + float(analysis_every_s) - now)
    when = f"in about {due:.0f} s" if due > 0 else "now (at the watcher's next analysis pass)"
    return Readiness("first_analysis", samples, needed, due, f"Baseline learned; first analysis due {when}")


def endpoint_readiness(store: Any, settings: Any, name: str, *, samples: int, has_report: bool,
                       now: float | None = None) -> Readiness:
    """:func:`readiness` of one stored endpoint (baseline time from the baseline index)."""
    import time

    created = None
    if not has_report:
        versions = store.baseline_versions(name)
        active = [r for r in versions if r["active"]] or versions
        created = float(active[-1]["created_at"]) if active else None
    return readiness(samples=samples, window_size=settings.window_size, baseline_created_at=created,
                     has_report=has_report, analysis_every_s=settings.analysis_every_s,
                     now=time.time() if now is None else now)
