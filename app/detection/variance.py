"""Brown-Forsythe test for a change of spread (Levene's test centred on the median).

The statistic and p-value are those of ``scipy.stats.levene(ref, cur, center="median")``: an
ANOVA F on the absolute deviations from each group's median, here computed from stored
per-group sums so the reference is summarised once.

Effect size: ``|ln(MAD_cur / MAD_ref)|`` where MAD is the mean absolute deviation from the median
(the quantity the test compares). Floor 0.1, a ~10% change of spread: variance x1.5 gives 0.20,
while a 5% wobble of the variance (0.025) at a million rows stays quiet.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from app.detection.base import Detector, TestResult, finite_column
from app.detection.registry import register

__all__ = ["VarianceDetector", "brown_forsythe"]


def _group(x: np.ndarray) -> tuple[int, float, float]:
    z = np.abs(x - np.median(x))
    zbar = float(z.mean())
    return int(x.size), zbar, float(((z - zbar) ** 2).sum())


def brown_forsythe(g1: tuple[int, float, float], g2: tuple[int, float, float]) -> tuple[float, float]:
    """F statistic and p-value from per-group ``(n, mean |x - median|, within sum of squares)``.

    >>> a = np.array([1.0, 2.0, 4.0, 7.0, 3.0]); b = np.array([2.0, 9.0, -3.0, 5.0, 11.0, 0.5])
    >>> f, p = brown_forsythe(_group(a), _group(b))
    >>> r = stats.levene(a, b, center="median")
    >>> bool(np.isclose(f, r.statistic) and np.isclose(p, r.pvalue))
    True
    """
    (n1, z1, ss1), (n2, z2, ss2) = g1, g2
    n = n1 + n2
    zall = (n1 * z1 + n2 * z2) / n
    between = n1 * (z1 - zall) ** 2 + n2 * (z2 - zall) ** 2
    within = ss1 + ss2
    if within == 0.0:
        return (0.0, 1.0) if between == 0.0 else (math.inf, 0.0)
    f = (n - 2) * between / within
    return float(f), float(stats.f.sf(f, 1, n - 2))


@register
class VarianceDetector(Detector):
    """Brown-Forsythe (median-centred Levene) test per numeric column."""

    name = "variance"
    input_kind = "numeric"
    default_floor = 0.1
    effect_label = "|log ratio of spreads|"

    def _fit(self, reference: np.ndarray) -> None:
        self.groups_ = []
        for j in range(reference.shape[1]):
            c = finite_column(reference[:, j])
            self.groups_.append(_group(c) if c.size else (0, math.nan, math.nan))

    def _score(self, current: np.ndarray) -> list[TestResult]:
        out = []
        for j, name in enumerate(self.names_):
            cur = finite_column(current[:, j])
            g1 = self.groups_[j]
            if g1[0] < 2 or cur.size < 2:
                out.append(self.result(name, None, None, None, g1[0], cur.size, detail="fewer than 2 finite values"))
                continue
            g2 = _group(cur)
            f, p = brown_forsythe(g1, g2)
            if g1[1] > 0 and g2[1] > 0:
                log_ratio = math.log(g2[1] / g1[1])
            else:
                log_ratio = 0.0 if g1[1] == g2[1] else math.copysign(math.inf, g2[1] - g1[1])
            ratio = g2[1] / g1[1] if g1[1] > 0 else math.inf
            out.append(self.result(name, f, p, abs(log_ratio), g1[0], g2[0], delta=log_ratio,
                                   detail=f"spread x{ratio:.2f} (Brown-Forsythe F={f:.3g})"))
        return out
