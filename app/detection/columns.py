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

__all__ = ["SortedColumns", "subsample_rows"]


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
        finite = np.isfinite(t)
        all_finite = bool(finite.all())
        if not all_finite:
            t[~finite] = np.nan
        t.sort(axis=1)                                           # NaN sorts last
        counts = finite.sum(axis=1)
        d, n = t.shape
        with np.errstate(invalid="ignore", divide="ignore"):
            if all_finite:
                total = t.sum(axis=1)
            else:
                total = np.nansum(t, axis=1)
            mean = np.where(counts > 0, total / np.maximum(counts, 1), np.nan)
            dev = t - mean[:, None]
            ss = np.nansum(dev * dev, axis=1) if not all_finite else np.einsum("ij,ij->i", dev, dev)
            var = np.where(counts > 1, ss / np.maximum(counts - 1, 1), np.nan)
            lo = np.clip((counts - 1) // 2, 0, max(n - 1, 0))
            hi = np.clip(counts // 2, 0, max(n - 1, 0))
            if n:
                rows = np.arange(d)
                median = np.where(counts > 0, (t[rows, lo] + t[rows, hi]) / 2.0, np.nan)
            else:
                median = np.full(d, np.nan)
            np.abs(t - median[:, None], out=dev)
            zsum = np.nansum(dev, axis=1) if not all_finite else dev.sum(axis=1)
            mad = np.where(counts > 0, zsum / np.maximum(counts, 1), np.nan)
            dev -= mad[:, None]
            mad_ss = np.nansum(dev * dev, axis=1) if not all_finite else np.einsum("ij,ij->i", dev, dev)
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
