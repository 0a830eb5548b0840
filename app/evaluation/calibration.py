"""Calibration: reliability curve and expected calibration error (ECE), binning stated explicitly.

Binning (same as ``sklearn.calibration.calibration_curve``): ``uniform`` cuts [0, 1] into ``bins``
equal-width bins, ``quantile`` puts edges at score quantiles. Bins are closed on the right, (a, b],
and the first bin also holds its left edge. ECE = sum over non-empty bins of
(count_b / n) * |mean_score_b - observed_rate_b|.
For multiclass the curve is over top-label confidence (max probability) against top-label accuracy.
"""

from __future__ import annotations

import numpy as np

from app.errors import InputError
from app.evaluation.results import Calibration, CalibrationBin

__all__ = ["STRATEGIES", "bin_edges", "reliability", "expected_calibration_error", "top_label"]

STRATEGIES = ("uniform", "quantile")


def bin_edges(scores: np.ndarray, bins: int = 10, strategy: str = "uniform") -> np.ndarray:
    """The ``bins + 1`` bin edges for ``strategy``.

    >>> bin_edges(np.array([0.2, 0.9]), 4).tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    if bins < 1:
        raise InputError(f"calibration bins must be >= 1, got {bins}")
    if strategy == "uniform":
        return np.linspace(0.0, 1.0, bins + 1)
    if strategy == "quantile":
        return np.asarray(np.percentile(scores, np.linspace(0, 100, bins + 1)), dtype=float)
    raise InputError(f"unknown calibration strategy {strategy!r}; use one of {', '.join(STRATEGIES)}")


def _bin_stats(outcome: np.ndarray, scores: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, ...]:
    nb = len(edges) - 1
    ids = np.searchsorted(edges[1:-1], scores)  # right-closed bins, like scikit-learn
    count = np.bincount(ids, minlength=nb)
    ssum = np.bincount(ids, weights=scores, minlength=nb)
    osum = np.bincount(ids, weights=outcome.astype(float), minlength=nb)
    return count, ssum, osum


def expected_calibration_error(
    outcome: np.ndarray, scores: np.ndarray, bins: int = 10, strategy: str = "uniform"
) -> float | None:
    """ECE of ``scores`` against the 0/1 ``outcome``.

    Hand-checkable case: scores 0.1, 0.3 land in bin 0 of 2 (mean 0.2, observed 0.5), 0.8, 0.9 land in
    bin 1 (mean 0.85, observed 1.0): ECE = 0.5 * 0.3 + 0.5 * 0.15 = 0.225.

    >>> round(expected_calibration_error(np.array([0, 1, 1, 1]), np.array([0.1, 0.3, 0.8, 0.9]), bins=2), 6)
    0.225
    """
    if len(scores) == 0:
        return None
    count, ssum, osum = _bin_stats(outcome, scores, bin_edges(scores, bins, strategy))
    nz = count > 0
    gaps = np.abs(ssum[nz] / count[nz] - osum[nz] / count[nz])
    return float(np.sum(count[nz] / len(scores) * gaps))


def reliability(outcome: np.ndarray, scores: np.ndarray, bins: int = 10, strategy: str = "uniform") -> Calibration:
    """Reliability curve (non-empty bins only), ECE and the binning used.

    >>> c = reliability(np.array([0, 1, 1, 1]), np.array([0.1, 0.3, 0.8, 0.9]), bins=2)
    >>> [(b.bin, round(b.mean_score, 6), b.observed_rate, b.count) for b in c.curve], round(c.ece, 3)
    ([(0, 0.2, 0.5, 2), (1, 0.85, 1.0, 2)], 0.225)
    """
    edges = bin_edges(scores, bins, strategy)
    count, ssum, osum = _bin_stats(outcome, scores, edges)
    curve = [
        CalibrationBin(
            bin=int(b),
            lower=float(edges[b]),
            upper=float(edges[b + 1]),
            mean_score=float(ssum[b] / count[b]),
            observed_rate=float(osum[b] / count[b]),
            count=int(count[b]),
        )
        for b in range(len(count))
        if count[b] > 0
    ]
    return Calibration(
        bins=bins,
        strategy=strategy,
        binning=f"{bins} {strategy} bins on [0, 1], right-closed (a, b], first bin includes its left edge",
        ece=expected_calibration_error(outcome, scores, bins, strategy),
        curve=curve,
    )


def top_label(y: np.ndarray, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(outcome, score) pairs for calibration: binary as is, multiclass as top-label correctness/confidence.

    >>> top_label(np.array([0, 2]), np.array([[0.6, 0.3, 0.1], [0.5, 0.1, 0.4]]))
    (array([1, 0]), array([0.6, 0.5]))
    """
    if proba.ndim == 1:
        return y, proba
    return (np.argmax(proba, axis=1) == y).astype(int), np.max(proba, axis=1)
