"""Issue 12 (speed): the fast paths give scipy's statistics -- KS distance, KS p-values, moments, pooled correlations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from app.detection.columns import SortedColumns
from app.detection.correlation import CrossSums, correlation_moments
from app.detection.ks import ks_distance, ks_distance_pruned, ks_distances, ks_test
from app.detection.kstwo import kstwo_sf, smirnov_sf


def _sample(rng: np.random.Generator, kind: int, size: int) -> np.ndarray:
    if kind == 0:
        return rng.normal(size=size)
    if kind == 1:
        return rng.integers(0, 4, size).astype(float)          # heavy ties
    return np.round(rng.normal(size=size), 1)                   # some ties


def _brute_d(a: np.ndarray, b: np.ndarray) -> float:
    """Both ECDFs at every point of both samples (what ks_2samp computes)."""
    both = np.concatenate([a, b])
    fa = np.searchsorted(np.sort(a), both, side="right") / a.size
    fb = np.searchsorted(np.sort(b), both, side="right") / b.size
    return float(np.abs(fa - fb).max())


def test_ks_distance_equals_scipy_with_ties_and_unequal_sizes() -> None:
    rng = np.random.default_rng(12)
    for it in range(400):
        a = _sample(rng, it % 3, int(rng.integers(1, 80)))
        b = _sample(rng, (it // 3) % 3, int(rng.integers(1, 80)))
        got = ks_distance(np.sort(a), np.sort(b))
        assert got == pytest.approx(_brute_d(a, b), abs=1e-12), (a, b)
        if it % 10 == 0:
            assert got == pytest.approx(stats.ks_2samp(a, b, method="asymp").statistic, abs=1e-12), (a, b)


def test_every_column_at_once_matches_scipy_above_the_pooled_size() -> None:
    rng = np.random.default_rng(3)
    a = rng.normal(size=(30_000, 3))
    b = rng.normal(size=(25_000, 3))
    b[:, 1] += 0.03
    b[:, 2] = np.round(b[:, 2], 2)
    a[::9, 0] = np.nan
    d, p = ks_test(SortedColumns.from_matrix(a), SortedColumns.from_matrix(b))
    for j in range(3):
        r = stats.ks_2samp(a[:, j][np.isfinite(a[:, j])], b[:, j], method="asymp")
        assert d[j] == pytest.approx(r.statistic, abs=1e-12)
        assert p[j] == pytest.approx(r.pvalue, rel=1e-7, abs=1e-300)
    assert np.allclose(ks_distances(SortedColumns.from_matrix(a), SortedColumns.from_matrix(b)), d)


@pytest.mark.parametrize("n", [141, 2_000, 8_000])
def test_kstwo_sf_matches_scipy_where_it_takes_the_slow_branch(n: int) -> None:
    x = np.array([0.3, 1.0, 1.49, 1.7, 2.5, 4.0, 12.0, 25.0]) / np.sqrt(n)   # both sides of every cut-off
    want = stats.kstwo.sf(x, n)
    got = kstwo_sf(x, n)
    assert np.allclose(got, want, rtol=1e-7, atol=1e-300)
    assert smirnov_sf(n, float(x[3])) == pytest.approx(stats.ksone.sf(x[3], n), rel=1e-7)


def test_sorted_columns_moments_equal_numpy_also_far_from_zero() -> None:
    rng = np.random.default_rng(5)
    for x in (rng.normal(1e6, 1.0, (400, 3)), rng.standard_t(3, (1001, 4)), rng.integers(0, 3, (60, 2)).astype(float)):
        s = SortedColumns.from_matrix(x)
        med = np.median(x, axis=0)
        z = np.abs(x - med)
        assert np.allclose(s.mean, x.mean(axis=0), rtol=1e-13)
        assert np.allclose(s.var, x.var(axis=0, ddof=1), rtol=1e-8)
        assert np.allclose(s.median, med) and np.allclose(s.mad, z.mean(axis=0))
        assert np.allclose(s.mad_ss, ((z - z.mean(axis=0)) ** 2).sum(axis=0), rtol=1e-8)
        y = x.copy()
        y[::5, 0] = np.nan
        y[1, -1] = np.inf
        s2 = SortedColumns.from_matrix(y)
        assert s2.counts.tolist() == np.isfinite(y).sum(axis=0).tolist()
        assert np.isclose(s2.mean[0], np.nanmean(y[:, 0]))


def test_pooled_correlation_moments_from_sums_equal_the_stacked_window() -> None:
    rng = np.random.default_rng(8)
    a = np.clip(rng.standard_t(4, (300, 5)) + 0.5, -3, 3)
    b = rng.normal(size=(120, 5))
    b[:, 2] = 0.0                                                # a constant column is unusable, not an error
    stacked = correlation_moments(np.vstack([a, b]))
    pooled = (CrossSums.of(a) + CrossSums.of(b)).moments()
    for want, got in zip(stacked, pooled):
        assert np.allclose(want, got, atol=1e-10)
    r, _, ok = correlation_moments(a)
    assert np.allclose(r, np.corrcoef(a.T), atol=1e-12) and ok.all()


@pytest.mark.parametrize("shift", [0.0, 0.01, 0.3])
def test_pruned_ks_distance_equals_the_full_one_at_large_sizes(shift: float) -> None:
    """The grid-bounded D reads few points but must return exactly the full D (ties, unequal sizes, tiny sides)."""
    rng = np.random.default_rng(int(shift * 100) + 7)
    for it in range(24):
        n, m = int(rng.integers(8_192, 40_000)), int(rng.choice([1, 3, 500, int(rng.integers(8_192, 40_000))]))
        a = np.sort(_sample(rng, it % 3, n))
        b = np.sort(_sample(rng, (it // 3) % 3, m) + shift)
        assert ks_distance_pruned(a, b) == pytest.approx(_brute_d(a, b), rel=1e-12, abs=1e-15), (it, n, m)
        assert ks_distance_pruned(b, a) == pytest.approx(ks_distance(a, b), rel=1e-12, abs=1e-15), (it, n, m)
