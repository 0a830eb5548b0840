"""Each detector's statistic and p-value equal scipy's on the same data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from app.detection import registry
from app.detection.base import benjamini_hochberg, cauchy_combination
from app.detection.domain_classifier import fold_mann_whitney

rng = np.random.default_rng(42)
A = rng.normal(0.0, 1.0, size=(400, 3))
B = rng.normal(0.3, 1.4, size=(350, 3))


def one(name: str, ref: object, cur: object, **params: object):  # type: ignore[no-untyped-def]
    return registry.create(name, **params).fit(ref).score(cur)


def test_ks_equals_scipy_with_the_method_chosen_by_n() -> None:
    # 400 x 350 rows: above EXACT_PATHS_MAX (n != m), so the asymptotic p-value
    for j, r in enumerate(one("ks", A, B)):
        s = stats.ks_2samp(A[:, j], B[:, j], method="asymp")
        assert r.statistic == pytest.approx(s.statistic, abs=1e-12)
        assert r.p_value == pytest.approx(s.pvalue, rel=1e-9)
        assert r.p_value == pytest.approx(stats.ks_2samp(A[:, j], B[:, j]).pvalue, rel=0.05)  # scipy's exact


@pytest.mark.parametrize("n,m,shift", [(150, 150, 0.0), (150, 150, 0.4), (2000, 2000, 0.1), (60, 1500, 0.3),
                                       (7, 11, 1.0), (300, 200, 0.2)])
def test_ks_exact_path_equals_scipy_exact(n: int, m: int, shift: float) -> None:
    g = np.random.default_rng(n + m)
    a, b = g.normal(size=(n, 4)), g.normal(shift, 1.0, size=(m, 4))
    b[: m // 10, 0] = np.round(b[: m // 10, 0], 1)  # some ties
    for j, r in enumerate(one("ks", a, b)):
        s = stats.ks_2samp(a[:, j], b[:, j], method="exact")
        assert r.statistic == pytest.approx(s.statistic, abs=1e-12)
        assert r.p_value == pytest.approx(s.pvalue, rel=1e-7, abs=1e-300)


def test_ks_large_sample_path_equals_scipy_asymptotic() -> None:
    g = np.random.default_rng(1)
    a, b = g.normal(size=30_000), g.normal(0.02, 1.0, size=25_000)
    a[:500] = 0.0  # ties
    b[:300] = 0.0
    r = one("ks", a, b)[0]
    s = stats.ks_2samp(a, b, method="asymp")
    assert r.statistic == pytest.approx(s.statistic, abs=1e-12)
    assert r.p_value == pytest.approx(s.pvalue, rel=1e-9)


def test_welch_equals_scipy() -> None:
    for j, r in enumerate(one("welch", A, B)):
        s = stats.ttest_ind(A[:, j], B[:, j], equal_var=False)
        assert r.statistic == pytest.approx(s.statistic, rel=1e-9)
        assert r.p_value == pytest.approx(s.pvalue, rel=1e-9)


def test_brown_forsythe_equals_scipy_levene_median() -> None:
    for j, r in enumerate(one("variance", A, B)):
        s = stats.levene(A[:, j], B[:, j], center="median")
        assert r.statistic == pytest.approx(s.statistic, rel=1e-9)
        assert r.p_value == pytest.approx(s.pvalue, rel=1e-9)


def test_chi2_equals_scipy_contingency_and_fisher_for_small_counts() -> None:
    g = np.random.default_rng(3)
    ref = g.choice(np.array(["a", "b", "c"], dtype=object), 300, p=[0.5, 0.3, 0.2])
    cur = g.choice(np.array(["a", "b", "c"], dtype=object), 250, p=[0.4, 0.3, 0.3])
    r = one("chi2", ref, cur)[0]
    table = np.array([[np.sum(ref == k) for k in "abc"], [np.sum(cur == k) for k in "abc"]])
    s = stats.chi2_contingency(table, correction=False)
    assert r.statistic == pytest.approx(s.statistic, rel=1e-9) and r.p_value == pytest.approx(s.pvalue, rel=1e-9)
    small_ref = np.array(["a"] * 9 + ["b"] * 1, dtype=object)
    small_cur = np.array(["a"] * 3 + ["b"] * 7, dtype=object)
    r = one("chi2", small_ref, small_cur)[0]
    f = stats.fisher_exact([[9, 1], [3, 7]])
    assert r.p_value == pytest.approx(f.pvalue, rel=1e-9) and "Fisher" in (r.detail or "")


def test_psi_is_the_symmetrised_kl_of_reference_quantile_bins() -> None:
    r = one("psi", A[:, 0], B[:, 0])[0]
    edges = np.quantile(A[:, 0], np.linspace(0, 1, 11)[1:-1])
    p = np.bincount(np.searchsorted(edges, A[:, 0], side="right"), minlength=10) / len(A)
    q = np.bincount(np.searchsorted(edges, B[:, 0], side="right"), minlength=10) / len(B)
    expected = float(np.sum(special.rel_entr(q, p) + special.rel_entr(p, q)))
    assert r.statistic == pytest.approx(expected, rel=1e-9)
    n, m = len(A), len(B)
    assert r.p_value == pytest.approx(stats.chi2.sf(expected * n * m / (n + m), 9), rel=1e-6)


def test_wasserstein_equals_scipy_over_reference_sd() -> None:
    r = one("wasserstein", A[:, 1], B[:, 1], n_resamples=99)[0]
    assert r.statistic == pytest.approx(stats.wasserstein_distance(A[:, 1], B[:, 1]) / A[:, 1].std(ddof=1), rel=1e-9)
    assert r.p_value == pytest.approx(0.01)  # the permutation floor 1/(1+99): a clear shift


@pytest.mark.parametrize("name,alt,ref_p,cur_p", [("accuracy_drop", "less", 0.9, 0.7), ("error_rate", "greater", 0.05, 0.2)])
def test_proportion_detectors_equal_scipy_fisher(name: str, alt: str, ref_p: float, cur_p: float) -> None:
    g = np.random.default_rng(5)
    ref, cur = (g.random(200) < ref_p).astype(float), (g.random(150) < cur_p).astype(float)
    r = one(name, ref, cur)[0]
    k1, k2 = int(ref.sum()), int(cur.sum())
    s = stats.fisher_exact([[k2, 150 - k2], [k1, 200 - k1]], alternative=alt)
    assert r.p_value == pytest.approx(s.pvalue, rel=1e-9)
    assert r.statistic == pytest.approx(cur.mean())


def test_latency_typical_answer_equals_scipy_mann_whitney_doubled() -> None:
    g = np.random.default_rng(6)
    ref, cur = g.gamma(4, 5, 300), g.gamma(4, 5, 200) * 1.5 + 80.0      # every answer slower: the typical test
    r = one("latency_shift", ref, cur)[0]
    s = stats.mannwhitneyu(cur, ref, alternative="greater", method="asymptotic")
    assert r.statistic == pytest.approx(s.statistic) and r.p_value == pytest.approx(min(1.0, 2 * s.pvalue), rel=1e-9)
    med = np.median(ref)
    assert r.effect_size == pytest.approx((np.median(cur) - med) / max(med, 50.0 / 0.5)) and r.effect_floor == 0.5
    # a small shift gives a p-value that is not clipped: the doubling is visible
    small = g.gamma(4, 5, 200) + 0.5
    r2 = one("latency_shift", ref, small)[0]
    s2 = stats.mannwhitneyu(small, ref, alternative="greater", method="asymptotic")
    assert 0.002 < s2.pvalue < 0.5 and r2.p_value == pytest.approx(2 * s2.pvalue, rel=1e-9)


def test_latency_slow_tail_equals_scipy_fisher_doubled() -> None:
    g = np.random.default_rng(8)
    ref, cur = g.gamma(4, 5, 300), g.gamma(4, 5, 200)
    cur[:30] += g.uniform(200, 400, 30)                                 # 15 % of answers 200-400 ms slower
    r = one("latency_shift", ref, cur)[0]
    line = np.quantile(ref, 0.95) + 100.0
    k1, k2 = int((ref > line).sum()), int((cur > line).sum())
    s = stats.fisher_exact([[k2, 200 - k2], [k1, 300 - k1]], alternative="greater")
    assert r.p_value == pytest.approx(min(1.0, 2 * s.pvalue), rel=1e-9)
    assert r.effect_size == pytest.approx(k2 / 200 - k1 / 300) and r.effect_floor == 0.1
    assert "slow tail" in r.detail


def test_domain_classifier_fold_statistic_equals_scipy_mann_whitney() -> None:
    g = np.random.default_rng(7)
    s, y = g.normal(size=80), np.r_[np.zeros(40), np.ones(40)]
    s[y == 1] += 0.4
    auc, z = fold_mann_whitney(s, y, np.zeros(80, dtype=int))
    ref = stats.mannwhitneyu(s[y == 1], s[y == 0], alternative="greater", method="asymptotic")
    assert auc == pytest.approx(ref.statistic / 1600) and stats.norm.sf(z) == pytest.approx(ref.pvalue, rel=1e-9)


def test_data_quality_tests_equal_scipy() -> None:
    g = np.random.default_rng(8)
    ref = pd.DataFrame({"x": g.normal(size=200)})
    cur = pd.DataFrame({"x": np.r_[g.normal(size=150) * 3, [np.nan] * 50]})
    res = {r.method: r for r in one("data_quality", ref, cur)}
    s = stats.fisher_exact([[50, 150], [0, 200]], alternative="greater")
    assert res["data_quality.nan_rate"].p_value == pytest.approx(s.pvalue, rel=1e-9)
    vals = cur["x"].dropna().to_numpy()
    k = int(((vals < ref["x"].min()) | (vals > ref["x"].max())).sum())
    b = stats.binomtest(k, vals.size, 2 / 201, alternative="greater")
    assert res["data_quality.out_of_range"].p_value == pytest.approx(b.pvalue, rel=1e-9)


def test_benjamini_hochberg_equals_scipy() -> None:
    p = np.random.default_rng(9).uniform(0, 0.2, 40) ** 2
    assert benjamini_hochberg(list(p)) == pytest.approx(stats.false_discovery_control(p, method="bh"), rel=1e-12)


def test_cauchy_combination_matches_its_closed_form() -> None:
    p = [0.01, 0.2, 0.7]
    t = np.mean(np.tan((0.5 - np.array(p)) * np.pi))
    assert cauchy_combination(p) == pytest.approx(0.5 - np.arctan(t) / np.pi, rel=1e-12)
    assert cauchy_combination([1e-20, 0.5]) == pytest.approx(2e-20, rel=1e-3)
