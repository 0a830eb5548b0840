"""A mergeable sketch of one numeric feature: counts over fixed edges (the baseline's quantile points).

Why not KLL (``datasketches``): a KLL sketch keeps a sample of the real values it saw, which
``MLFI_STORE_INPUTS=none`` forbids. Here the edges are the baseline's ``SKETCH_POINTS`` interpolated
quantiles (already in the baseline file, see :mod:`app.detection.sketch`) and the sketch adds only
integer counts: ``counts[0]`` below the first edge, ``counts[k]`` in ``[edges[k-1], edges[k])``,
``counts[-1]`` at or above the last edge. No individual value is kept, and two sketches over the same
edges merge exactly by adding counts (many watchers, many windows, many time ranges): the merge of the
sketches of A and B is the sketch of A + B.

Drift against a sketch:

* **KS** (:meth:`HistogramSketch.ks`). The reference CDF is known exactly at the edges, so the statistic
  is read there: ``D_edges = max_k |F_ref(e_k) - F_win(e_k)|``. Between two edges both CDFs are monotone,
  so the two-sample statistic on the raw values satisfies
  ``D_edges <= D <= D_edges + max_k max(p_ref[k], p_win[k])`` (``p`` the bin shares; about ``1/M`` for
  the reference with M edges). The p-value is scipy's asymptotic two-sample one (``kstwo`` at
  ``n m / (n + m)``), so it is that of a statistic at most one bin share smaller than the raw one.
* **chi-square** (:meth:`HistogramSketch.chi2`): the homogeneity test of the two count vectors, exact
  for binned data (empty bins of both dropped).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from app.errors import InputError

__all__ = ["HistogramSketch"]


@dataclass(frozen=True)
class HistogramSketch:
    """Counts of values between fixed ``edges`` (``len(counts) == len(edges) + 1``).

    >>> a = HistogramSketch.from_values([1.0, 2.0, 3.0], edges=[1.5, 2.5])
    >>> a.counts, a.merge(HistogramSketch.from_values([0.0, 9.0], edges=[1.5, 2.5])).counts
    ((1, 1, 1), (2, 1, 2))
    """

    edges: tuple[float, ...]
    counts: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.counts) != len(self.edges) + 1:
            raise InputError(f"a histogram sketch needs len(edges) + 1 counts: {len(self.edges)} edges, "
                             f"{len(self.counts)} counts")
        if any(b < a for a, b in zip(self.edges, self.edges[1:], strict=False)):
            raise InputError("histogram sketch edges must be sorted")

    @classmethod
    def from_values(cls, values: Any, edges: Any) -> HistogramSketch:
        """The sketch of ``values`` over ``edges`` (NaN ignored)."""
        e = tuple(float(x) for x in edges)
        return cls(e, (0,) * (len(e) + 1)).add(values)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> HistogramSketch:
        return cls(tuple(float(x) for x in d["edges"]), tuple(int(c) for c in d["counts"]))

    def as_dict(self) -> dict[str, Any]:
        return {"edges": list(self.edges), "counts": list(self.counts)}

    @property
    def n(self) -> int:
        return int(sum(self.counts))

    def add(self, values: Any) -> HistogramSketch:
        """A new sketch with ``values`` counted in."""
        v = np.asarray(values, dtype=float).ravel()
        v = v[~np.isnan(v)]
        idx = np.searchsorted(np.asarray(self.edges, dtype=float), v, side="right")
        add = np.bincount(idx, minlength=len(self.counts))
        return HistogramSketch(self.edges, tuple(int(a + b) for a, b in zip(self.counts, add, strict=True)))

    def merge(self, other: HistogramSketch) -> HistogramSketch:
        """The sketch of both inputs together; the edges must be the same (the same baseline)."""
        if other.edges != self.edges:
            raise InputError("histogram sketches merge only over the same edges (sketches of one baseline)")
        return HistogramSketch(self.edges, tuple(a + b for a, b in zip(self.counts, other.counts, strict=True)))

    def cdf_at_edges(self) -> np.ndarray:
        """Share of the values below each edge (``P(X < e_k)``)."""
        c = np.cumsum(np.asarray(self.counts, dtype=float))[:-1]
        return c / self.n if self.n else c

    def ks(self, values: Any) -> tuple[float, float, float]:
        """Two-sample KS of ``values`` against this sketch: (statistic at the edges, p-value, error bound).

        The raw-value statistic lies in ``[statistic, statistic + bound]`` (see the module docstring).
        """
        from scipy import stats

        win = self.from_values(values, self.edges)
        n, m = self.n, win.n
        if n == 0 or m == 0:
            raise InputError("KS against a sketch needs values on both sides")
        d = float(np.max(np.abs(self.cdf_at_edges() - win.cdf_at_edges()), initial=0.0))
        bound = float(max(np.max(np.asarray(self.counts) / n), np.max(np.asarray(win.counts) / m)))
        p = float(stats.kstwo.sf(d, round(n * m / (n + m))))
        return d, p, bound

    def chi2(self, values: Any) -> tuple[float, float]:
        """Chi-square homogeneity test of ``values`` binned on the same edges against this sketch: (stat, p)."""
        from scipy import stats

        table = np.vstack([np.asarray(self.counts, float), np.asarray(self.from_values(values, self.edges).counts,
                                                                      float)])
        table = table[:, table.sum(axis=0) > 0]
        if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
            return 0.0, 1.0
        expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
        stat = float(((table - expected) ** 2 / expected).sum())
        return stat, float(stats.chi2.sf(stat, table.shape[1] - 1))

    def quantiles(self, n: int) -> np.ndarray:
        """``n`` values read off the piecewise-linear quantile function through (share below e_k, e_k): the
        reference sample the drift suite compares with (mid-rank levels, clamped to the outer edges)."""
        if n <= 0 or not self.edges or self.n == 0:
            return np.asarray([], dtype=float)
        xs, ys = self.cdf_at_edges(), np.asarray(self.edges, dtype=float)
        keep = np.r_[True, np.diff(xs) > 0]          # repeated edges (ties): np.interp needs rising levels
        return np.interp((np.arange(n) + 0.5) / n, xs[keep], ys[keep])
