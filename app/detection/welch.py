"""Welch's t-test for a shift of the mean (unequal variances); effect: standardised mean difference.

The statistic and p-value are those of ``scipy.stats.ttest_ind(ref, cur, equal_var=False)``,
computed from the stored moments (mean, variance, n), so scoring a million rows is one pass.

Effect size: ``|mean_cur - mean_ref| / sqrt((var_ref + var_cur) / 2)`` (Cohen's d with the
average variance). Floor 0.05: half of a small shift; a 0.02 sigma drift at 1M rows stays quiet
while a +0.1 sigma shift spread over all features (which KS barely sees) still counts.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from app.detection.base import Detector, TestResult, finite_column
from app.detection.registry import register

__all__ = ["WelchDetector", "welch_t"]


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


@register
class WelchDetector(Detector):
    """Welch two-sample t-test per numeric column."""

    name = "welch"
    input_kind = "numeric"
    default_floor = 0.05
    effect_label = "standardised mean difference"

    def _fit(self, reference: np.ndarray) -> None:
        cols = [finite_column(reference[:, j]) for j in range(reference.shape[1])]
        self.n_ = [int(c.size) for c in cols]
        self.mean_ = [float(c.mean()) if c.size else math.nan for c in cols]
        self.var_ = [float(c.var(ddof=1)) if c.size > 1 else math.nan for c in cols]

    def _score(self, current: np.ndarray) -> list[TestResult]:
        out = []
        for j, name in enumerate(self.names_):
            cur = finite_column(current[:, j])
            n1, n2 = self.n_[j], cur.size
            if n1 < 2 or n2 < 2:
                out.append(self.result(name, None, None, None, n1, n2, detail="fewer than 2 finite values"))
                continue
            m1, v1 = self.mean_[j], self.var_[j]
            m2, v2 = float(cur.mean()), float(cur.var(ddof=1))
            t, _, p = welch_t(m1, v1, n1, m2, v2, n2)
            pooled = math.sqrt((v1 + v2) / 2.0)
            d = abs(m2 - m1) / pooled if pooled > 0 else (0.0 if m1 == m2 else math.inf)
            out.append(self.result(name, t, p, d, n1, n2, delta=m2 - m1,
                                   detail=f"mean {m1:.4g} -> {m2:.4g} ({d:.2f} sd)"))
        return out
