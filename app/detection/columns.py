"""Numeric columns sorted once, with the moments every univariate test needs, for all columns at once.

``SortedColumns.from_matrix(x)`` takes a rows x variables matrix and keeps, per variable, its
finite values sorted (one contiguous row per variable, non-finite values as NaN at the end), the
finite count, mean, variance, median and the mean absolute deviation from the median. KS reads
the sorted values, Welch the moments, Brown-Forsythe the median and deviations: a window is
sorted and summarised once, however many tests look at it, and the reference once per baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["JOINT_MAX_ROWS", "SortedColumns", "subsample_rows"]

# Rows per side the joint tests (Hotelling, correlation change) look at; their cost grows as
# rows x variables**2. Power at the cap, for the smallest change either test may flag (its floor):
# a correlation moving by 0.1 has a standard error of sqrt(2 v / 20,000) = 0.010 for an influence
# variance v = 1 (normal data), i.e. z = 7.1 against the z of 5.3 that Bonferroni over 4,950
# pairs (100 variables) and the last rank of a BH family of 100 hypotheses need: power 0.96 in
# that worst case, ~1 for a change of 0.15 or with fewer variables. A mean vector moving by the
# Hotelling floor (0.1 sd Mahalanobis) gives T^2 = 10,000 * 0.01 = 100 on 100 directions, a
# noncentral chi^2 past the critical value (153 at p = 5e-4) with probability 0.98.
JOINT_MAX_ROWS = 20_000


@dataclass(frozen=True, eq=False)
class SortedColumns:
    """Per-variable sorted finite values and moments of one window (see the module docstring)."""

    values: np.ndarray   # (variables, rows): each row ascending, NaN after the finite values
    counts: np.ndarray   # finite values per variable
    mean: np.ndarray
    var: np.ndarray      # ddof=1 (NaN below 2 values)
    median: np.ndarray
    mad: np.ndarray      # mean |x - median|
    mad_ss: np.ndarray   # sum of (|x - median| - mad)**2, Brown-Forsythe's within-group term

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, variables), like the matrix it was built from."""
        return int(self.values.shape[1]), int(self.values.shape[0])

    @classmethod
    def from_matrix(cls, x: np.ndarray) -> SortedColumns:
        """Sort and summarise a rows x variables float matrix (non-finite values are left out).

        >>> s = SortedColumns.from_matrix(np.array([[3.0, 1.0], [1.0, np.nan], [2.0, np.inf]]))
        >>> s.values[0].tolist(), s.counts.tolist(), s.median.tolist(), s.shape
        ([1.0, 2.0, 3.0], [3, 1], [2.0, 1.0], (3, 2))
        """
        t = np.array(np.asarray(x, dtype=float).T, order="C")   # a copy: one contiguous row per variable
        t.sort(axis=1)                                           # NaN sorts last, +-inf at the ends
        d, n = t.shape
        if n and np.isfinite(t[:, 0]).all() and np.isfinite(t[:, -1]).all():
            return cls._finite(t)
        infinite = np.isinf(t)
        if infinite.any():                                       # +-inf are left out too: to the end
            t[infinite] = np.nan
            t.sort(axis=1)
        counts = (~np.isnan(t)).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(counts > 0, np.nansum(t, axis=1) / np.maximum(counts, 1), np.nan)
            dev = t - mean[:, None]
            var = np.where(counts > 1, np.nansum(dev * dev, axis=1) / np.maximum(counts - 1, 1), np.nan)
            lo = np.clip((counts - 1) // 2, 0, max(n - 1, 0))
            hi = np.clip(counts // 2, 0, max(n - 1, 0))
            if n:
                rows = np.arange(d)
                median = np.where(counts > 0, (t[rows, lo] + t[rows, hi]) / 2.0, np.nan)
            else:
                median = np.full(d, np.nan)
            np.abs(t - median[:, None], out=dev)
            mad = np.where(counts > 0, np.nansum(dev, axis=1) / np.maximum(counts, 1), np.nan)
            dev -= mad[:, None]
            mad_ss = np.nansum(dev * dev, axis=1)
        return cls(t, counts, mean, var, median, mad, mad_ss)

    @classmethod
    def _finite(cls, t: np.ndarray) -> SortedColumns:
        """Moments of sorted rows without missing values: three passes, all centred on the median.

        With ``u = x - median``: mean = median + sum(u)/n, var = (sum(u**2) - sum(u)**2/n)/(n-1)
        (no cancellation: the median is within a few sd of the mean), and Brown-Forsythe's
        ``sum((|u| - mad)**2) = sum(u**2) - n mad**2``.
        """
        d, n = t.shape
        counts = np.full(d, n)
        median = (t[:, (n - 1) // 2] + t[:, n // 2]) / 2.0
        u = t - median[:, None]
        s1 = u.sum(axis=1)
        s2 = np.einsum("ij,ij->i", u, u)
        np.abs(u, out=u)
        mad = u.sum(axis=1) / n
        mean = median + s1 / n
        with np.errstate(invalid="ignore", divide="ignore"):
            var = np.maximum(s2 - s1 * s1 / n, 0.0) / (n - 1) if n > 1 else np.full(d, np.nan)
        mad_ss = np.maximum(s2 - n * mad * mad, 0.0)
        return cls(t, counts, mean, var, median, mad, mad_ss)

    def finite(self, j: int) -> np.ndarray:
        """The sorted finite values of variable ``j`` (a view)."""
        return self.values[j, : int(self.counts[j])]


def subsample_rows(x: np.ndarray, max_rows: int, seed: int) -> np.ndarray:
    """At most ``max_rows`` rows of ``x``, drawn without replacement (seeded) and kept in their order.

    >>> subsample_rows(np.arange(10).reshape(5, 2), 3, seed=0).shape
    (3, 2)
    >>> subsample_rows(np.arange(4).reshape(2, 2), 3, seed=0).shape
    (2, 2)
    """
    if x.shape[0] <= max_rows:
        return x
    return x[np.sort(np.random.default_rng(seed).choice(x.shape[0], max_rows, replace=False))]
