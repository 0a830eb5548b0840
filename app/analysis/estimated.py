"""The report's ``estimated_performance``: label-free accuracy of the window, calibrated on the labelled reference."""

from __future__ import annotations

import numpy as np

from app.detection.cbpe import ConfidenceCalibrator, SupportEvidence, estimate_accuracy
from app.detection.suite import SuiteResult, WindowData
from app.schemas import EstimatedPerformance

__all__ = ["estimated_performance", "pairs_of_window", "support_of"]

MIN_PAIRS = 2   # below this nothing can be calibrated; the fit itself flags fewer than its min_labels


def pairs_of_window(w: WindowData) -> tuple[np.ndarray, np.ndarray] | None:
    """(confidence, 1/0 correct) of the rows that carry both, from a window's per-row outcomes (batch mode)."""
    o = w.outcomes
    if o is None or "confidence" not in o or "correct" not in o:
        return None
    c = o["confidence"].to_numpy(dtype=float, na_value=np.nan)
    y = o["correct"].to_numpy(dtype=float, na_value=np.nan)
    keep = np.isfinite(c) & np.isfinite(y)
    return (c[keep], y[keep]) if keep.any() else None


def support_of(suite: SuiteResult) -> SupportEvidence | None:
    """The domain classifier's verdict from the drift suite (``None`` when it did not run)."""
    r = suite.first("multivariate")
    if r is None or r.statistic is None:
        return None
    return SupportEvidence(auc=float(r.statistic), drift_detected=bool(r.drift_detected), p_value=r.p_adjusted)


def estimated_performance(pairs: tuple[np.ndarray, np.ndarray] | None, cur: WindowData, suite: SuiteResult, *,
                          seed: int = 0) -> EstimatedPerformance | None:
    """Estimate the window's accuracy from its confidences; ``None`` when nothing applies.

    Nothing applies to a regression endpoint or a window without confidences. A classification
    window with confidences but no labelled reference gets an entry with no estimate, flagged
    ``unreliable`` with the reason, so that the absence is stated rather than hidden.
    """
    if cur.task == "regression" or cur.confidence is None or not np.isfinite(cur.confidence).any():
        return None
    realised = cur.correct
    n_lab = int(np.isfinite(realised).sum()) if realised is not None else 0
    real = float(np.nanmean(realised)) if n_lab else None
    if pairs is None or pairs[0].size < MIN_PAIRS:
        n = 0 if pairs is None else int(pairs[0].size)
        return EstimatedPerformance(n_rows=int(np.isfinite(cur.confidence).sum()), realised=real, n_labelled=n_lab,
                                    unreliable=True, reasons=[(f"{n} labelled reference predictions with a confidence: nothing "
                                                               "to calibrate on (the reference needs labels; a baseline "
                                                               "learnt before this version holds no such pairs)")])
    cal = ConfidenceCalibrator(seed=seed).fit(*pairs)
    est = estimate_accuracy(cal, cur.confidence, realised, support=support_of(suite))
    return EstimatedPerformance.model_validate(est.to_dict())
