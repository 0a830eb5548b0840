"""Welch's t-test for a shift of the mean (unequal variances); effect: standardised mean difference.

The statistic and p-value are those of ``scipy.stats.ttest_ind(ref, cur, equal_var=False)``,
computed from the moments of :class:`~app.detection.columns.SortedColumns` for every column at once.

Effect size: ``|mean_cur - mean_ref| / sqrt((var_ref + var_cur) / 2)`` (Cohen's d with the
average variance). Floor 0.05: half of a small shift; a 0.02 sigma drift at 1M rows stays quiet
while a +0.1 sigma shift spread over all features (which KS barely sees) still counts.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from app.detection.base import Detector, TestResult
from app.detection.columns import SortedColumns
from app.detection.registry import register

__all__ = ["WelchDetector", "welch_columns", "welch_t"]


def welch_t(m1: float, v1: float, n1: int, m2: float, v2: float, n2: int) -> tuple[float, float, float]:
    """Welch t statistic, degrees of freedom and two-sided p-value from moments.

    >>> a = np.array([1.0, 2.0, 3.0, 4.0]); b = np.array([2.0, 4.0, 6.0, 8.0, 9.0])
    >>> t, df, p = welch_t(a.mean(), a.var(ddof=1), 4, b.mean(), b.var(ddof=1), 5)
    >>> r = stats.ttest_ind(a, b, equal_var=False)
    >>> bool(np.isclose(t, r.statistic) and np.isclose(p, r.pvalue))
    True
    """
    se1, se2 = v1 / n1, v2 / n2
    se = math.sqrt(se1 + se2)
    if se == 0.0:
        return (0.0, float(n1 + n2 - 2), 1.0) if m1 == m2 else (math.inf, float(n1 + n2 - 2), 0.0)
    t = (m1 - m2) / se
    df = (se1 + se2) ** 2 / (se1**2 / (n1 - 1) + se2**2 / (n2 - 1))
    p = float(2.0 * stats.t.sf(abs(t), df))
    return float(t), float(df), min(p, 1.0)


def welch_columns(ref: SortedColumns, cur: SortedColumns) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(t, two-sided p, standardised mean difference) of every column at once (NaN below 2 values).

    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=(30, 2)), rng.normal(0.5, 2.0, size=(40, 2))
    >>> t, p, _ = welch_columns(SortedColumns.from_matrix(a), SortedColumns.from_matrix(b))
    >>> r = stats.ttest_ind(a, b, equal_var=False)
    >>> bool(np.allclose(t, r.statistic) and np.allclose(p, r.pvalue))
    True
    """
    n1, n2 = ref.counts.astype(float), cur.counts.astype(float)
    ok = (n1 >= 2) & (n2 >= 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        se1, se2 = ref.var / n1, cur.var / n2
        se = np.sqrt(se1 + se2)
        diff = ref.mean - cur.mean
        t = np.where(se > 0, diff / np.where(se > 0, se, 1.0), np.where(diff == 0, 0.0, np.inf))
        df = np.where(se > 0, (se1 + se2) ** 2 / (se1**2 / (n1 - 1) + se2**2 / (n2 - 1)), n1 + n2 - 2)
        p = np.minimum(2.0 * stats.t.sf(np.abs(t), df), 1.0)
        pooled = np.sqrt((ref.var + cur.var) / 2.0)
        eff = np.where(pooled > 0, np.abs(diff) / np.where(pooled > 0, pooled, 1.0), np.where(diff == 0, 0.0, np.inf))
    nan = np.full(t.shape, np.nan)
    return np.where(ok, t, nan), np.where(ok, p, nan), np.where(ok, eff, nan)


@register
class WelchDetector(Detector):
    """Welch two-sample t-test per numeric column."""

    name = "welch"
    input_kind = "numeric"
    sorted_input = True
    default_floor = 0.05
    effect_label = "standardised mean difference"

    def _fit(self, reference: SortedColumns) -> None:
        self.reference_ = reference

    def _score(self, current: SortedColumns) -> list[TestResult]:
        ref = self.reference_
        t, p, eff = welch_columns(ref, current)
        out = []
        for j, name in enumerate(self.names_):
            n1, n2 = int(ref.counts[j]), int(current.counts[j])
            if n1 < 2 or n2 < 2:
                out.append(self.result(name, None, None, None, n1, n2, detail="fewer than 2 finite values"))
                continue
            m1, m2 = float(ref.mean[j]), float(current.mean[j])
            out.append(self.result(name, t[j], p[j], eff[j], n1, n2, delta=m2 - m1,
                                   detail=f"mean {m1:.4g} -> {m2:.4g} ({eff[j]:.2f} sd)"))
        return out
