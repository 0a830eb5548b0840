"""Brown-Forsythe test for a change of spread (Levene's test centred on the median).

The statistic and p-value are those of ``scipy.stats.levene(ref, cur, center="median")``: an
ANOVA F on the absolute deviations from each group's median, here computed from stored
per-group sums of :class:`~app.detection.columns.SortedColumns`, every column at once.

Effect size: ``|ln(MAD_cur / MAD_ref)|`` where MAD is the mean absolute deviation from the median
(the quantity the test compares). Floor 0.1, a ~10% change of spread: variance x1.5 gives 0.20,
while a 5% wobble of the variance (0.025) at a million rows stays quiet.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from app.detection.base import Detector, TestResult
from app.detection.columns import SortedColumns
from app.detection.registry import register

__all__ = ["VarianceDetector", "brown_forsythe", "brown_forsythe_columns"]


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


def brown_forsythe_columns(ref: SortedColumns, cur: SortedColumns) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(F, p-value, ln(MAD_cur / MAD_ref)) of every column at once (NaN below 2 values per side).

    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=(31, 2)), rng.normal(0.0, 2.0, size=(40, 2))
    >>> f, p, _ = brown_forsythe_columns(SortedColumns.from_matrix(a), SortedColumns.from_matrix(b))
    >>> r = [stats.levene(a[:, j], b[:, j], center="median") for j in range(2)]
    >>> bool(np.allclose(f, [x.statistic for x in r]) and np.allclose(p, [x.pvalue for x in r]))
    True
    """
    n1, n2 = ref.counts.astype(float), cur.counts.astype(float)
    z1, z2 = ref.mad, cur.mad
    ok = (n1 >= 2) & (n2 >= 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        n = n1 + n2
        zall = (n1 * z1 + n2 * z2) / n
        between = n1 * (z1 - zall) ** 2 + n2 * (z2 - zall) ** 2
        within = ref.mad_ss + cur.mad_ss
        f = np.where(within > 0, (n - 2) * between / np.where(within > 0, within, 1.0),
                     np.where(between == 0, 0.0, np.inf))
        p = stats.f.sf(f, 1, n - 2)
        log_ratio = np.where((z1 > 0) & (z2 > 0), np.log(np.where(z2 > 0, z2, 1.0) / np.where(z1 > 0, z1, 1.0)),
                             np.where(z1 == z2, 0.0, np.copysign(np.inf, z2 - z1)))
    nan = np.full(f.shape, np.nan)
    return np.where(ok, f, nan), np.where(ok, p, nan), np.where(ok, log_ratio, nan)


@register
class VarianceDetector(Detector):
    """Brown-Forsythe (median-centred Levene) test per numeric column."""

    name = "variance"
    input_kind = "numeric"
    sorted_input = True
    default_floor = 0.1
    effect_label = "|log ratio of spreads|"

    def _fit(self, reference: SortedColumns) -> None:
        self.reference_ = reference

    def _score(self, current: SortedColumns) -> list[TestResult]:
        ref = self.reference_
        f, p, log_ratio = brown_forsythe_columns(ref, current)
        out = []
        for j, name in enumerate(self.names_):
            n1, n2 = int(ref.counts[j]), int(current.counts[j])
            if n1 < 2 or n2 < 2:
                out.append(self.result(name, None, None, None, n1, n2, detail="fewer than 2 finite values"))
                continue
            ratio = float(current.mad[j] / ref.mad[j]) if ref.mad[j] > 0 else float("inf")
            out.append(self.result(name, f[j], p[j], abs(log_ratio[j]), n1, n2, delta=log_ratio[j],
                                   detail=f"spread x{ratio:.2f} (Brown-Forsythe F={f[j]:.3g})"))
        return out
