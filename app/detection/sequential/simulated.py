"""How conservative the analytic threshold is for one detector, measured by simulating its healthy streams.

The analytic threshold (:mod:`app.detection.sequential.calibration`) takes Wald's run length without the
overshoot and adds the charts' alarm rates (a union bound); both err on the safe side, and measured on
fresh healthy streams a detector set for one false alarm per 10,000 samples raised 0.00-0.25. This module
measures the factor for a given detector on its own baseline: it simulates ``streams`` healthy streams of
``length`` samples drawn from the baseline's atoms (a parametric bootstrap of in-control streams, fixed
seed), with the detector's charts run at the threshold ``h_m`` whose analytic run length is ``arl_m``
(2,000 samples, so that hundreds of alarms are seen), and counts the alarms (a chart restarts after each).
The ratio of the analytic rate ``1 / arl_m`` to the measured one (its 95 % upper bound, so that chance errs
towards the safe side) is the factor by which the analytic rate overstates the true one.

The factor is carried over to the budget's threshold: the threshold is the analytic one for the budget
times that factor. Siegmund (1985, ch. II and X) gives the reason it carries: with the overshoot, the run
length is Wald's with ``h`` replaced by ``h + c`` for a constant ``c`` set by the increments' ladder
heights, so the ratio of the two run lengths tends to a constant as ``h`` grows; the charts' correlation
(the union bound's error) behaves alike. The extrapolation is checked, not assumed: the sequential
bench counts the false alarms of the resulting thresholds on fresh healthy streams
(``bench/sequential/bench_sequential.py`` and ``bench_healthy.py``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats

from app.detection.sequential.calibration import cusum_threshold

__all__ = ["ARL_M", "conservatism", "corrected_budget", "simulated_alarms"]

ARL_M = 2_000.0
STREAMS = 200
LENGTH = 2_000


def simulated_alarms(inc: np.ndarray, weights: np.ndarray, h: float | np.ndarray, *, streams: int = STREAMS,
                     length: int = LENGTH, seed: int = 0) -> int:
    """Alarms of a multi-chart CUSUM at threshold ``h`` on ``streams`` x ``length`` healthy samples.

    ``inc`` holds each atom's increments (atoms x charts), ``weights`` the atoms' probabilities, ``h`` one
    threshold or one per chart (a chart with an offset alarms lower: ``det.limits()``). Every chart
    restarts from zero after an alarm of any chart, as :class:`~app.detection.sequential.base.SequentialDetector`.

    >>> inc = np.log(np.array([[0.5], [1.5]]))           # an exact likelihood ratio, Bern(0.5) vs Bern(0.75)
    >>> simulated_alarms(inc, np.array([0.5, 0.5]), 50.0, streams=10, length=100)
    0
    """
    rng = np.random.default_rng(seed)
    w = np.asarray(weights, dtype=float)
    cum = np.cumsum(w / w.sum())
    inc = np.asarray(inc, dtype=float)
    s = np.zeros((streams, inc.shape[1]))
    lim = np.broadcast_to(np.asarray(h, dtype=float), (inc.shape[1],))
    low = float(lim.min())
    alarms = 0
    # the same draws, step by step, as one rng.random(streams) per step (row-major), in blocks to bound memory
    block = max(1, min(length, 4_000_000 // max(1, streams * inc.shape[1])))
    for start in range(0, length, block):
        n = min(block, length - start)
        idx = np.searchsorted(cum, rng.random((n, streams)), side="right")
        np.minimum(idx, len(cum) - 1, out=idx)
        steps = inc[idx]                                   # n x streams x charts
        for t in range(n):
            s += steps[t]
            np.maximum(s, 0.0, out=s)
            if s.max() >= low:
                hit = (s >= lim).any(axis=1)
                alarms += int(hit.sum())
                s[hit] = 0.0
    return alarms


def conservatism(det: Any, *, seed: int = 0, streams: int = STREAMS, length: int = LENGTH) -> float:
    """Analytic false-alarm rate over the simulated one (95 % upper bound) for ``det``'s charts at the threshold
    of ``ARL_M`` samples, on streams drawn from the healthy law the charts assume (``det.healthy_atoms()``):
    > 1 where the analytic threshold is too safe, < 1 where it is not safe enough.

    >>> from app.detection.sequential.bernoulli import BernoulliCusum
    >>> f = conservatism(BernoulliCusum(p0=0.05))
    >>> 1.5 < f < 20
    True
    """
    atoms, weights = det.healthy_atoms()
    w = np.full(len(atoms), 1.0 / len(atoms)) if weights is None else np.asarray(weights, dtype=float)
    many = getattr(det, "llr_many", None)
    inc = many(list(atoms)) if many else np.array([det.llr(a) for a in atoms], dtype=float)
    h_m = cusum_threshold(det.weighted_kl0(), ARL_M)
    b = np.asarray(det.offsets(), dtype=float)
    k = simulated_alarms(inc, w, np.maximum(h_m - b, h_m / 100.0), streams=streams, length=length, seed=seed)
    upper = float(stats.chi2.ppf(0.975, 2 * (k + 1)) / 2)       # exact Poisson 95 % upper bound on the count
    return (1.0 / ARL_M) / (upper / (streams * length))


def corrected_budget(arl0: float, factor: float) -> float:
    """The analytic run length to solve for so that the true one is ``arl0``: ``arl0 / factor``, never below 2.

    >>> corrected_budget(50_000, 4.0)
    12500.0
    """
    if not math.isfinite(factor) or factor <= 0:
        return arl0
    return max(arl0 / factor, 2.0)
