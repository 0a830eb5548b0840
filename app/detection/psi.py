"""Population Stability Index on reference-quantile bins, with a chi-square p-value.

PSI = sum_b (c_b - r_b) * ln(c_b / r_b) over ``n_bins`` bins cut at the reference's quantiles (the
symmetrised Kullback-Leibler divergence, i.e. ``sum(rel_entr(r, c) + rel_entr(c, r))``). Empty
bins get ``eps`` mass so the index stays finite.

p-value: under "same distribution", ``n_eff * PSI`` with ``n_eff = n*m/(n+m)`` is asymptotically
chi-square with ``B - 1`` degrees of freedom (to second order it equals Pearson's chi-square on the
2 x B table of bin counts).

Floor 0.1, the industry's "moderate shift" line (below 0.1: no significant change). A Gaussian
location shift of delta sigma gives PSI ~= delta**2, so the floor corresponds to ~0.3 sigma: PSI is
the coarse, familiar yardstick, not the default detector of small shifts (KS/Welch are).
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from app.detection.base import Detector, TestResult, finite_column
from app.detection.registry import register

__all__ = ["PSIDetector", "psi"]


def psi(ref_share: np.ndarray, cur_share: np.ndarray, eps: float = 1e-4) -> float:
    """PSI of two bin-share vectors (clipped at ``eps`` and renormalised).

    >>> round(psi(np.array([0.5, 0.5]), np.array([0.6, 0.4])), 4)
    0.0405
    """
    r = np.clip(np.asarray(ref_share, dtype=float), eps, None)
    c = np.clip(np.asarray(cur_share, dtype=float), eps, None)
    r, c = r / r.sum(), c / c.sum()
    return float(np.sum(special.rel_entr(c, r) + special.rel_entr(r, c)))


@register
class PSIDetector(Detector):
    """Population Stability Index per numeric column."""

    name = "psi"
    input_kind = "numeric"
    default_floor = 0.1
    effect_label = "PSI"

    def __init__(self, *, effect_floor: float | None = None, seed: int = 0, n_bins: int = 10,
                 eps: float = 1e-4) -> None:
        super().__init__(effect_floor=effect_floor, seed=seed)
        if n_bins < 2 or not 0 < eps < 0.1:
            raise ValueError(f"n_bins must be >= 2 and 0 < eps < 0.1, got {n_bins}, {eps}")
        self.n_bins, self.eps = int(n_bins), float(eps)

    def _fit(self, reference: np.ndarray) -> None:
        self.edges_, self.ref_counts_ = [], []
        for j in range(reference.shape[1]):
            c = finite_column(reference[:, j])
            if c.size == 0:
                self.edges_.append(np.array([]))
                self.ref_counts_.append(np.array([0]))
                continue
            inner = np.unique(np.quantile(c, np.linspace(0, 1, self.n_bins + 1)[1:-1]))
            self.edges_.append(inner)
            self.ref_counts_.append(np.bincount(np.searchsorted(inner, c, side="right"), minlength=inner.size + 1))

    def _score(self, current: np.ndarray) -> list[TestResult]:
        out = []
        for j, name in enumerate(self.names_):
            cur = finite_column(current[:, j])
            rc = self.ref_counts_[j]
            n, m = int(rc.sum()), cur.size
            if n == 0 or m == 0:
                out.append(self.result(name, None, None, None, n, m, detail="no finite values on one side"))
                continue
            inner = self.edges_[j]
            cc = np.bincount(np.searchsorted(inner, cur, side="right"), minlength=inner.size + 1)
            value = psi(rc / n, cc / m, self.eps)
            bins = rc.size
            p = float(stats.chi2.sf(value * n * m / (n + m), bins - 1)) if bins > 1 else 1.0
            out.append(self.result(name, value, p, value, n, m,
                                   detail=f"PSI={value:.3f} over {bins} reference-quantile bins"))
        return out
