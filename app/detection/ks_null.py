"""Null distribution of the two-sample KS distance: exact for small samples, asymptotic above.

``ks_pvalues(d, n, m)`` returns the two-sided p-values ``P(D >= d)`` of many KS distances that
share the sample sizes ``(n, m)`` (every column of a window), in one call:

- ``n == m`` and ``n <= EXACT_EQUAL_MAX`` (10,000, scipy's own limit): the closed form
  ``P(D >= k/n) = 2 sum_j (-1)**(j+1) C(2n, n - j*k) / C(2n, n)`` (Gnedenko-Korolyuk), a few
  terms per distance;
- ``n != m`` and ``n * m <= EXACT_PATHS_MAX`` (100,000, e.g. 150 x 666 rows): the number of
  lattice paths from (0, 0) to (n, m) that stay strictly inside ``|i/n - j/m| < d`` over
  ``C(n + m, n)`` (Hodges 1957); each lattice row is one masked cumulative sum for every distance
  at once;
- otherwise the asymptotic ``scipy.stats.kstwo.sf(d, round(n*m/(n+m)))``, the formula
  ``ks_2samp(method="asymp")`` uses (through :func:`app.detection.kstwo.kstwo_sf`, the same
  values without scipy's slow exact-Smirnov branch).

The exact values are ``scipy.stats.ks_2samp(method="exact")``'s (tested). Path counting loses
relative precision below 1e-10 (it computes 1 - P(inside)); there the asymptotic value is used.
Ties in the data make every variant conservative, as in scipy.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats  # noqa: F401  (the doctests use stats)

from app.detection.kstwo import kstwo_sf

__all__ = ["EXACT_EQUAL_MAX", "EXACT_PATHS_MAX", "ks_pvalues"]

EXACT_EQUAL_MAX = 10_000
EXACT_PATHS_MAX = 100_000
_RESCALE_EVERY = 24


def _log_choose(a: int, b: np.ndarray) -> np.ndarray:
    return special.gammaln(a + 1) - special.gammaln(b + 1) - special.gammaln(a - b + 1)  # type: ignore[no-any-return]


def _equal(k: np.ndarray, n: int) -> np.ndarray:
    """P(D >= k/n) for two samples of n, k = 1..n (closed form)."""
    out = np.empty(k.size)
    base = _log_choose(2 * n, np.array(n))
    for idx, kk in enumerate(k):
        js = np.arange(1, n // kk + 1)
        terms = np.exp(_log_choose(2 * n, n - js * kk) - base)
        out[idx] = 2.0 * float(np.sum(terms * np.where(js % 2 == 1, 1.0, -1.0)))
    return np.clip(out, 0.0, 1.0)


def _paths(h: np.ndarray, n: int, m: int) -> np.ndarray:
    """P(D >= h/(n*m)) by counting the paths that stay inside the band (rows: thresholds)."""
    j = np.arange(m + 1)
    offsets = np.abs(np.arange(n + 1)[:, None] * m - j[None, :] * n)          # (n+1, m+1)
    u = np.cumprod(offsets[0][None, :] < h[:, None], axis=1).astype(float)    # first lattice row
    log_scale = np.zeros(h.size)
    for i in range(1, n + 1):
        band = offsets[i][None, :] < h[:, None]
        u = np.cumsum(u * band, axis=1) * band
        if i % _RESCALE_EVERY == 0 or i == n:
            top = u.max(axis=1)
            top[top == 0] = 1.0
            u /= top[:, None]
            log_scale += np.log(top)
    with np.errstate(divide="ignore"):
        log_inside = np.log(u[:, m]) + log_scale
    inside = np.exp(np.minimum(log_inside - _log_choose(n + m, np.array(n)), 0.0))
    return np.clip(1.0 - inside, 0.0, 1.0)


def _asymptotic(d: np.ndarray, n: int, m: int) -> np.ndarray:
    return np.clip(kstwo_sf(d, round(n * m / (n + m))), 0.0, 1.0)  # type: ignore[no-any-return]


def ks_pvalues(d: np.ndarray, n: int, m: int) -> np.ndarray:
    """Two-sided p-values of KS distances ``d`` between samples of sizes ``n`` and ``m``.

    >>> rng = np.random.default_rng(1)
    >>> a, b = rng.normal(size=40), rng.normal(0.5, size=55)
    >>> r = stats.ks_2samp(a, b, method="exact")
    >>> bool(np.isclose(ks_pvalues(np.array([r.statistic]), 40, 55)[0], r.pvalue))
    True
    >>> r = stats.ks_2samp(a[:30], b[:30], method="exact")
    >>> bool(np.isclose(ks_pvalues(np.array([r.statistic]), 30, 30)[0], r.pvalue))
    True
    """
    d = np.asarray(d, dtype=float)
    out = np.ones(d.shape)
    ok = np.isfinite(d) & (d > 0)
    if n < 1 or m < 1 or not ok.any():
        return out
    # D is |i*m - j*n| / (n*m) for integers i, j: recover the integer numerator
    h = np.round(d[ok] * n * m).astype(np.int64)
    uniq, inv = np.unique(h, return_inverse=True)
    if n == m and n <= EXACT_EQUAL_MAX:
        p = _equal(np.maximum(uniq // n, 1), n)
    elif n * m <= EXACT_PATHS_MAX:
        small, big = (n, m) if n <= m else (m, n)
        p = _paths(uniq, small, big)
        tiny = p < 1e-10
        if tiny.any():
            p[tiny] = _asymptotic(uniq[tiny] / (n * m), n, m)
    else:
        p = _asymptotic(uniq / (n * m), n, m)
    out[ok] = p[inv]
    return out
