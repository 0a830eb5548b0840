"""Thresholds of a multi-chart CUSUM for a false-alarm budget, and the CUSUM delay bound.

A CUSUM on log-likelihood-ratio increments with threshold ``h`` has, by Wald's approximation without
overshoot, an average run length to a false alarm of ``(e^h - h - 1) / KL(f0 || f1)`` (Basseville &
Nikiforov 1993, eq. 5.2.44; Siegmund 1985 adds the overshoot, which only lengthens it, so the
approximation errs on the safe side). With several charts the alarm rates add (a union bound, safe
again since the charts are positively correlated), so ``h`` solves
``sum_k KL_k / (e^h - h - 1) = 1 / ARL0``. Lorden (1971): the worst-case delay of the matching chart
is ``h / KL(f1 || f0)`` as ``h`` grows, and no test with the same ARL0 beats ``ln(ARL0) / KL(f1 || f0)``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence

__all__ = ["bisect_threshold", "cusum_bound", "cusum_threshold", "wald_arl0"]


def wald_arl0(h: float, kl0: float) -> float:
    """Wald's approximation of one chart's healthy run length at threshold ``h``.

    >>> round(wald_arl0(5.0, 0.5))
    285
    """
    if kl0 <= 0:
        return math.inf
    return (math.exp(h) - h - 1.0) / kl0


def cusum_threshold(kl0: Sequence[float], arl0: float) -> float:
    """Smallest threshold whose charts together give at least ``arl0`` healthy samples per false alarm.

    ``kl0[k]`` is KL(f0 || f1_k) of chart ``k``. Solved by bisection on the Wald approximation.

    >>> round(cusum_threshold([0.5], 10_000), 2)
    8.52
    """
    if arl0 <= 1:
        raise ValueError(f"arl0 must be > 1, got {arl0}")
    kls = [float(k) for k in kl0 if k > 0]
    if not kls:
        raise ValueError("no chart with a positive KL divergence")
    return _threshold(math.fsum(kls), float(arl0))


@functools.lru_cache(maxsize=4096)
def _threshold(kl_sum: float, arl0: float) -> float:
    """:func:`cusum_threshold` of charts whose KLs add to ``kl_sum``: they share ``h``, so their rates
    ``KL_k / (e^h - h - 1)`` add to ``kl_sum / (e^h - h - 1)`` (memoised: the bootstrap of a monitor's
    thresholds builds hundreds of detectors, many with the same charts)."""

    def rate(h: float) -> float:
        return 1.0 / wald_arl0(h, kl_sum)

    hi = 1.0
    while rate(hi) > 1.0 / arl0:
        hi *= 2.0
    return bisect_threshold(rate, 1.0 / arl0, 1e-6, hi, iters=80)


def bisect_threshold(rate: Callable[[float], float], budget: float, lo: float, hi: float, *, iters: int) -> float:
    """The smallest threshold in [lo, hi] whose false-alarm rate (decreasing in h) is within ``budget``, by bisection.

    >>> round(bisect_threshold(lambda h: math.exp(-h), math.exp(-3.0), 0.0, 10.0, iters=60), 6)
    3.0
    """
    for _ in range(iters):
        mid = (lo + hi) / 2.0
        if rate(mid) > budget:
            lo = mid
        else:
            hi = mid
    return hi


def cusum_bound(arl0: float, kl1: float) -> float:
    """Lorden's lower bound on the detection delay, ``ln(ARL0) / KL(f1 || f0)``, in samples.

    >>> round(cusum_bound(10_000, 1.0), 2)
    9.21
    """
    if kl1 <= 0:
        return math.inf
    return math.log(arl0) / kl1
