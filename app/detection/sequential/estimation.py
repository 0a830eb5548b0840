"""Thresholds that keep the false-alarm budget although the baseline is estimated from few samples.

A detector compares with quantiles, shares or rates learned from ``n`` healthy samples (150 by
default). Its nominal threshold holds the budget only if those were the truth; with a 150-sample
baseline the confidence, latency and class-mix charts drift upwards on healthy data often enough to
alarm every few thousand samples (one fired after 196 healthy demo samples).

The fix is the bootstrap of "guaranteed conditional performance" (Gandy & Kvaløy 2013, Scand. J.
Statist. 40): treat the baseline as the truth, draw ``reps`` baselines of the same size from it, build
the detector from each, and find for each the threshold ``h_b`` at which that (mis-estimated) detector
keeps the budget on the truth. The threshold used is the ``level`` quantile of the ``h_b`` (default
90 %): the budget then holds for about ``level`` of the baselines one could have drawn.

The run length of a CUSUM whose increments ``X`` are not exact log-likelihood ratios follows from the
adjustment coefficient ``theta`` (``E exp(theta X) = 1``; Siegmund 1985, ch. II): Wald's approximation
becomes ``ARL(h) = (e^(theta h) - theta h - 1) / (theta |E X|)``, which is the nominal formula when
``X`` is the exact ratio (``theta = 1``, ``|E X| = KL(f0 || f1)``). Charts add their rates (union bound),
as in :mod:`app.detection.sequential.calibration`. A chart that rises on average on some bootstrap
truth needs an infinite threshold there; the result is capped at ``CAP`` x the nominal threshold.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from app.detection.sequential.calibration import bisect_threshold

__all__ = ["CAP", "adjustment_coefficient", "adjustment_coefficients", "bootstrap_threshold", "threshold_for_rates",
           "thresholds_for_rates"]

CAP = 3.0          # never more than 3x the nominal threshold (a chart that drifts up is then still bounded)
LEVEL = 0.9
REPS = 60


def adjustment_coefficient(increments: np.ndarray, weights: np.ndarray) -> float:
    """``theta > 0`` with ``sum w exp(theta x) = 1`` (weights sum to 1); inf if no increment is positive,
    0 if the mean increment is not negative (the chart rises on healthy data).

    >>> round(adjustment_coefficient(np.log(np.array([0.5, 1.5])), np.array([0.5, 0.5])), 3)  # an exact ratio
    1.0
    """
    return float(adjustment_coefficients(increments[:, None], weights)[0])


def adjustment_coefficients(inc: np.ndarray, w: np.ndarray) -> np.ndarray:
    """:func:`adjustment_coefficient` of every column of ``inc`` (atoms x charts) at once (bisection)."""
    pos = w > 0
    x, w = inc[pos], w[pos]
    mean, top = w @ x, x.max(axis=0)
    out = np.zeros(x.shape[1])
    todo = (top > 0) & (mean < 0)
    out[top <= 0] = np.inf
    if todo.any():
        xs = x[:, todo]

        def f(t: np.ndarray) -> np.ndarray:
            return w @ np.exp(np.minimum(t * xs, 700.0)) - 1.0

        lo, hi = np.zeros(xs.shape[1]), np.ones(xs.shape[1])
        for _ in range(40):                      # grow hi until f(hi) >= 0 (theta < 2^40)
            grow = f(hi) < 0
            if not grow.any():
                break
            lo, hi = np.where(grow, hi, lo), np.where(grow, hi * 2.0, hi)
        for _ in range(40):
            mid = (lo + hi) / 2.0
            neg = f(mid) < 0
            lo, hi = np.where(neg, mid, lo), np.where(neg, hi, mid)
        out[todo] = hi
    return out


def threshold_for_rates(charts: Sequence[tuple[float, float]], arl0: float, cap: float) -> float:
    """Smallest ``h`` (at most ``cap``) whose charts ``(theta, |mean increment|)`` give ``arl0`` together.

    >>> round(threshold_for_rates([(1.0, 0.5)], 10_000, 100.0), 2)     # the nominal 8.52 of calibration
    8.52
    """
    live = [(t, m) for t, m in charts if t != math.inf]
    if any(t == 0 for t, _ in live):
        return cap

    def rate(h: float) -> float:
        return sum(t * m / max(math.expm1(min(t * h, 700.0)) - t * h, 1e-300) for t, m in live)

    if not live:
        return 0.0
    if rate(cap) > 1.0 / arl0:
        return cap
    return bisect_threshold(rate, 1.0 / arl0, 1e-6, cap, iters=60)


def thresholds_for_rates(thetas: np.ndarray, means: np.ndarray, arl0: float, cap: float,
                         offsets: np.ndarray | None = None) -> np.ndarray:
    """:func:`threshold_for_rates` of every row (one bootstrap baseline, charts in columns) at once: the same
    cases and the same 60-step bisection, on arrays. ``offsets`` (same shape): each chart alarms at
    ``max(h - b, h / 100)`` (:meth:`~app.detection.sequential.base.SequentialDetector.limits`).

    >>> thresholds_for_rates(np.array([[1.0], [0.0]]), np.array([[0.5], [0.5]]), 10_000, 100.0).round(2).tolist()
    [8.52, 100.0]
    """
    live = np.isfinite(thetas)
    t, m = np.where(live, thetas, 0.0), np.where(live, means, 0.0)
    rising = (live & (thetas == 0)).any(axis=1)
    budget = 1.0 / arl0

    b = np.zeros_like(t) if offsets is None else np.where(live, offsets, 0.0)

    def rate(h: np.ndarray) -> np.ndarray:
        th = t * np.maximum(h[:, None] - b, h[:, None] / 100.0)
        den = np.maximum(np.expm1(np.minimum(th, 700.0)) - th, 1e-300)
        return np.where(live, t * m / den, 0.0).sum(axis=1)

    lo, hi = np.full(len(t), 1e-6), np.full(len(t), float(cap))
    for _ in range(60):
        mid = (lo + hi) / 2.0
        over = rate(mid) > budget
        lo, hi = np.where(over, mid, lo), np.where(over, hi, mid)
    out = np.where(rate(np.full(len(t), float(cap))) > budget, cap, hi)
    out = np.where(rising, cap, out)
    return np.where(live.any(axis=1) | rising, out, 0.0)


def bootstrap_threshold(make: Callable[[list[Any]], Any], atoms: Sequence[Any], weights: Sequence[float] | None,
                        n: int, arl0: float, nominal: float, *, reps: int = REPS, level: float = LEVEL,
                        seed: int = 0, floor: float | None = None, order_free: bool = False) -> float:
    """The ``level`` quantile over ``reps`` bootstrap baselines of the threshold that keeps ``arl0``.

    ``atoms`` (with ``weights``, default equal) stand for the healthy distribution; ``make(values)``
    builds the detector from ``n`` values drawn from it. Never below ``floor`` (default ``nominal``), never
    above ``CAP * nominal``. ``order_free``: ``make`` only counts the values (rates, shares, quantiles), so each
    redraw is drawn as multinomial counts and handed over grouped by atom (the same law, several times cheaper
    for a large ``n``; a different random stream than the default draw).
    """
    w = np.full(len(atoms), 1.0 / len(atoms)) if weights is None else np.asarray(weights, dtype=float)
    w = w / w.sum()
    rng = random.Random(seed)
    counts = np.random.default_rng(seed).multinomial(max(int(n), 1), w, size=reps) if order_free else None
    cum = list(np.cumsum(w))
    cap = CAP * nominal
    incs, offs = [], []
    for r in range(reps):
        if counts is not None:
            draw = [a for a, c in zip(atoms, counts[r].tolist(), strict=True) for a in [a] * c]
        else:
            draw = rng.choices(list(atoms), cum_weights=cum, k=max(int(n), 1))
        det = make(draw)
        offs.append(np.asarray(det.offsets(), dtype=float))
        many = getattr(det, "llr_many", None)                                  # atoms x charts
        incs.append(many(atoms) if many else np.array([det.llr(a) for a in atoms], dtype=float))
    inc = np.concatenate(incs, axis=1)             # atoms x (all redraws' charts): solved in one go
    theta_all, mean_all = adjustment_coefficients(inc, w), np.abs(w @ inc)
    k = max(x.shape[1] for x in incs)              # a redraw may have fewer charts: pad with dead ones
    thetas, means, bs = np.full((reps, k), np.inf), np.zeros((reps, k)), np.zeros((reps, k))
    at = 0
    for r, x in enumerate(incs):
        thetas[r, :x.shape[1]], means[r, :x.shape[1]] = theta_all[at:at + x.shape[1]], mean_all[at:at + x.shape[1]]
        bs[r, :x.shape[1]] = offs[r]
        at += x.shape[1]
    hs = thresholds_for_rates(thetas, means, arl0, cap, bs)
    h = float(np.quantile(hs, level))
    return min(max(h, nominal if floor is None else floor), cap)
