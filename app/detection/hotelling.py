"""Hotelling's two-sample T^2: did the vector of feature means move, counting their correlations?

A shift spread thinly over many features (+0.1 sd on each of 30) is below every per-feature test's
power but adds up here: the statistic is the squared Mahalanobis distance between the two mean
vectors under the pooled covariance, ``T2 = n m / (n + m) * delta' S^-1 delta``, and
``(n + m - k - 1) / (k (n + m - 2)) * T2`` is F(k, n + m - k - 1) under "no change" (k: the rank of
S; near-collinear directions are dropped). Columns are standardised by the reference and missing
values take the reference mean. Above ``max_rows`` rows per side (default 20,000, the power
argument at :data:`app.detection.columns.JOINT_MAX_ROWS`) a seeded uniform subsample is used, and
the standardisation is learned from the reference's subsample (T^2 does not depend on it).

Effect size: the Mahalanobis distance ``sqrt(delta' S^-1 delta)`` (in standard deviations; equal to
Welch's standardised difference for one feature). Floor 0.1: +0.1 sd on each of 30 independent
features is 0.55, +0.02 sd on one feature at a million rows 0.02.

Attribution: each feature's |standardised mean difference|, as shares.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy import stats

from app.detection.base import Detector, TestResult
from app.detection.columns import JOINT_MAX_ROWS, subsample_rows
from app.detection.registry import register

__all__ = ["HotellingDetector", "hotelling_t2"]


def hotelling_t2(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float, int]:
    """(T^2, p-value, Mahalanobis distance, rank used) of two complete samples (rows x variables).

    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=(200, 3)), rng.normal(size=(150, 3))
    >>> t2, p, dist, k = hotelling_t2(a, b)
    >>> d = b.mean(0) - a.mean(0); s = ((199 * np.cov(a.T)) + 149 * np.cov(b.T)) / 348
    >>> bool(np.isclose(t2, 200 * 150 / 350 * d @ np.linalg.solve(s, d))), k
    (True, 3)
    """
    n, m = a.shape[0], b.shape[0]
    delta = b.mean(axis=0) - a.mean(axis=0)
    ca, cb = a - a.mean(axis=0), b - b.mean(axis=0)
    s = (ca.T @ ca + cb.T @ cb) / (n + m - 2)
    w, v = np.linalg.eigh(s)
    keep = w > max(float(w.max()), 0.0) * 1e-9
    k = int(keep.sum())
    if k == 0 or n + m - k - 1 < 1:
        return 0.0, 1.0, 0.0, k
    proj = v[:, keep].T @ delta
    dist2 = float(np.sum(proj * proj / w[keep]))
    t2 = n * m / (n + m) * dist2
    f = (n + m - k - 1) / (k * (n + m - 2)) * t2
    return t2, float(stats.f.sf(f, k, n + m - k - 1)), float(np.sqrt(dist2)), k


@register
class HotellingDetector(Detector):
    """Multivariate test of the mean vector (one result for the table)."""

    name = "hotelling"
    input_kind = "numeric"
    default_floor = 0.1
    effect_label = "Mahalanobis distance of the means"
    min_rows = 10

    def __init__(self, *, effect_floor: float | None = None, seed: int = 0, max_rows: int = JOINT_MAX_ROWS) -> None:
        super().__init__(effect_floor=effect_floor, seed=seed)
        if max_rows < 100:
            raise ValueError(f"max_rows must be >= 100, got {max_rows}")
        self.max_rows = int(max_rows)

    def _prep(self, x: np.ndarray, seed: int) -> np.ndarray:
        x = subsample_rows(x, self.max_rows, seed)
        z = (x - self.center_) / self.scale_
        return np.where(np.isfinite(z), z, 0.0)

    def _fit(self, reference: np.ndarray) -> None:
        reference = subsample_rows(reference, self.max_rows, self.seed)
        finite = np.isfinite(reference)
        n_ok = finite.sum(axis=0)
        vals = np.where(finite, reference, 0.0)
        center = vals.sum(axis=0) / np.maximum(n_ok, 1)
        var = (np.where(finite, reference - center, 0.0) ** 2).sum(axis=0) / np.maximum(n_ok - 1, 1)
        self.center_ = center
        self.scale_ = np.where(var > 0, np.sqrt(var), 1.0)
        self.reference_ = self._prep(reference, self.seed)

    def _score(self, current: np.ndarray) -> list[TestResult]:
        ref, cur = self.reference_, self._prep(current, self.seed + 1)
        t2, p, dist, k = hotelling_t2(ref, cur)
        diff = np.abs(cur.mean(axis=0) - ref.mean(axis=0))
        total = float(diff.sum())
        attribution = tuple(sorted(((self.names_[i], round(float(diff[i] / total), 4)) for i in range(diff.size)
                                    if diff[i] > 0), key=lambda t: -t[1])) if total > 0 else ()
        top = attribution[0][0] if attribution else "-"
        res = self.result("rows", t2, p, dist, ref.shape[0], cur.shape[0], delta=dist,
                          detail=f"mean vector moved {dist:.3f} sd (Mahalanobis, {k} directions; largest: {top!r})")
        return [replace(res, attribution=attribution)]
