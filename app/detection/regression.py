"""Regression-endpoint detectors: larger errors, and predictions that track the target less well.

(The distribution of the numeric predictions reuses ``ks`` and ``wasserstein``.) Both are
one-sided: only a change for the worse is a finding.

- ``error_rise``: input = residuals (prediction - label), one column. Test: one-sided Welch
  t-test that the mean *absolute* error is larger now (``scipy.stats.ttest_ind(|e_cur|, |e_ref|,
  equal_var=False, alternative="greater")``). Absolute errors are right-skewed, which makes this
  upper-tail test conservative at small n (fewer false alarms, not more). Effect: relative MAE
  rise ``MAE_cur / MAE_ref - 1``; floor 0.1 (ten per cent worse), so a million logged rows with a
  1 % wobble stay quiet.
- ``correlation_drop``: input = two columns (prediction, label). Test: Fisher z of Pearson's r,
  one-sided (``(atanh r_ref - atanh r_cur) / sqrt(1/(n_ref-3) + 1/(n_cur-3))``, normal upper tail).
  Effect: ``r_ref - r_cur``; floor 0.05. It separates the two ways errors grow: an offset or a
  rescaling of the outputs (a units bug, a changed post-processing step) leaves r unchanged,
  while a degraded model (noise, a stale or wrong model) no longer tracks the target.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from app.detection.base import Detector, TestResult, finite_column
from app.detection.registry import register
from app.errors import InputError

__all__ = ["CorrelationDropDetector", "ErrorRiseDetector", "fisher_z_drop"]


def fisher_z_drop(r_ref: float, n_ref: int, r_cur: float, n_cur: int) -> tuple[float, float]:
    """z statistic and one-sided p-value of ``r_cur < r_ref`` (independent samples).

    >>> z, p = fisher_z_drop(0.7, 150, 0.5, 150)
    >>> round(z, 3), round(p, 4)
    (2.726, 0.0032)
    """
    clip = 1 - 1e-12
    se = math.sqrt(1.0 / (n_ref - 3) + 1.0 / (n_cur - 3))
    z = (math.atanh(max(-clip, min(clip, r_ref))) - math.atanh(max(-clip, min(clip, r_cur)))) / se
    return float(z), float(stats.norm.sf(z))


@register
class ErrorRiseDetector(Detector):
    """One-sided Welch test of a larger mean absolute error (input: residuals)."""

    name = "error_rise"
    input_kind = "numeric"
    default_floor = 0.1
    effect_label = "relative MAE rise"

    def _fit(self, reference: np.ndarray) -> None:
        self.abs_ = [np.abs(finite_column(reference[:, j])) for j in range(reference.shape[1])]
        self.bias_ = [float(finite_column(reference[:, j]).mean()) if a.size else math.nan
                      for j, a in enumerate(self.abs_)]

    def _score(self, current: np.ndarray) -> list[TestResult]:
        out = []
        for j, name in enumerate(self.names_):
            ref, res = self.abs_[j], finite_column(current[:, j])
            cur = np.abs(res)
            if ref.size < 2 or cur.size < 2:
                out.append(self.result(name, None, None, None, ref.size, cur.size, detail="fewer than 2 labelled answers on one side"))
                continue
            m1, m2 = float(ref.mean()), float(cur.mean())
            if ref.var() == 0 and cur.var() == 0:
                p = 1.0 if m2 <= m1 else 0.0
            else:
                p = float(stats.ttest_ind(cur, ref, equal_var=False, alternative="greater").pvalue)
            effect = (m2 / m1 - 1.0) if m1 > 0 else (1.0 if m2 > 0 else 0.0)
            out.append(self.result(name, m2, p, effect, ref.size, cur.size, delta=m2 - m1,
                                   detail=f"MAE {m1:.4g} -> {m2:.4g} ({effect:+.0%}); mean residual (bias) "
                                          f"{self.bias_[j]:+.4g} -> {float(res.mean()):+.4g}"))
        return out


@register
class CorrelationDropDetector(Detector):
    """One-sided Fisher-z test of a lower prediction-label correlation (input: prediction, label)."""

    name = "correlation_drop"
    input_kind = "numeric"
    default_floor = 0.05
    effect_label = "drop of Pearson r"
    min_rows = 2

    @staticmethod
    def _r(x: np.ndarray) -> tuple[float | None, int]:
        ok = np.isfinite(x).all(axis=1)
        x = x[ok]
        if x.shape[0] < 4 or x[:, 0].std() == 0 or x[:, 1].std() == 0:
            return None, int(x.shape[0])
        return float(np.corrcoef(x[:, 0], x[:, 1])[0, 1]), int(x.shape[0])

    def _fit(self, reference: np.ndarray) -> None:
        if reference.shape[1] != 2:
            raise InputError(f"{self.name}: needs 2 columns (prediction, label), got shape {reference.shape}")
        self.r_, self.n_ = self._r(reference)

    def _score(self, current: np.ndarray) -> list[TestResult]:
        r2, n2 = self._r(current)
        name = "prediction vs label"
        if self.r_ is None or r2 is None:
            return [self.result(name, None, None, None, self.n_, n2,
                                detail="correlation undefined (constant values or fewer than 4 labelled answers)")]
        _, p = fisher_z_drop(self.r_, self.n_, r2, n2)
        return [self.result(name, r2, p, self.r_ - r2, self.n_, n2, delta=r2 - self.r_,
                            detail=f"Pearson r(prediction, label) {self.r_:.3f} -> {r2:.3f}")]
