"""Evaluation metrics and calibration equal scikit-learn's / scipy's on the same data."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from app.evaluation.calibration import expected_calibration_error, reliability, top_label
from app.evaluation.metrics import (
    average_precision,
    binary_metrics,
    bootstrap_auc_interval,
    bootstrap_interval,
    brier,
    multiclass_metrics,
    roc_auc,
    wilson_interval,
)


def _binary_case(seed: int, n: int = 300, decimals: int | None = 2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    s = np.clip(0.35 * y + rng.beta(2, 3, n), 0, 1)
    if decimals is not None:
        s = np.round(s, decimals)  # many ties: the hard case for AUC / AP
    return y, s


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.72])
def test_binary_metrics_equal_sklearn(seed: int, threshold: float) -> None:
    y, s = _binary_case(seed, decimals=None if seed % 2 else 2)
    m = binary_metrics(y, s, threshold)
    pred = (s >= threshold).astype(int)
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, pred), abs=1e-12)
    assert m["precision"] == pytest.approx(skm.precision_score(y, pred), abs=1e-12)
    assert m["recall"] == pytest.approx(skm.recall_score(y, pred), abs=1e-12)
    assert m["f1"] == pytest.approx(skm.f1_score(y, pred), abs=1e-12)
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y, s), abs=1e-12)
    assert m["pr_auc"] == pytest.approx(skm.average_precision_score(y, s), abs=1e-12)
    assert m["log_loss"] == pytest.approx(skm.log_loss(y, s), abs=1e-12)
    assert m["brier"] == pytest.approx(skm.brier_score_loss(y, s), abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 20)), min_size=2, max_size=60))
def test_auc_and_ap_equal_sklearn_on_arbitrary_ties(rows: list[tuple[int, int]]) -> None:
    y = np.array([r[0] for r in rows])
    s = np.array([r[1] / 20 for r in rows])
    if len(set(y)) < 2:
        assert roc_auc(y, s) is None
        return
    assert roc_auc(y, s) == pytest.approx(skm.roc_auc_score(y, s), abs=1e-12)
    assert average_precision(y, s) == pytest.approx(skm.average_precision_score(y, s), abs=1e-12)


def test_log_loss_with_hard_zero_and_one_scores_matches_sklearn_clipping() -> None:
    y = np.array([1, 0, 1, 0, 1])
    s = np.array([0.0, 1.0, 1.0, 0.0, 0.5])
    assert binary_metrics(y, s)["log_loss"] == pytest.approx(skm.log_loss(y, s), rel=1e-12)


def test_undefined_metrics_are_none_not_nan() -> None:
    y = np.array([0, 0, 0, 0])
    m = binary_metrics(y, np.array([0.1, 0.2, 0.3, 0.4]))
    assert m["precision"] is None and m["recall"] is None and m["roc_auc"] is None and m["pr_auc"] is None
    assert m["f1"] is None  # no TP, no FP, no FN: F1 undefined
    assert m["accuracy"] == 1.0


@pytest.mark.parametrize("seed", range(4))
def test_multiclass_metrics_equal_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, k = 250, 4
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[y]
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    m = multiclass_metrics(y, p)
    pred = p.argmax(axis=1)
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, pred), abs=1e-12)
    for name, fn in (("precision", skm.precision_score), ("recall", skm.recall_score), ("f1", skm.f1_score)):
        assert m[name] == pytest.approx(fn(y, pred, average="macro", zero_division=0), abs=1e-12)
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p, multi_class="ovr", average="macro"), abs=1e-12)
    onehot = np.eye(k)[y]
    assert m["pr_auc"] == pytest.approx(skm.average_precision_score(onehot, p, average="macro"), abs=1e-12)
    assert m["log_loss"] == pytest.approx(skm.log_loss(y, p), abs=1e-12)
    assert m["brier"] == pytest.approx(skm.brier_score_loss(y, p), abs=1e-12)


@pytest.mark.parametrize(("k", "n"), [(0, 10), (3, 10), (10, 10), (37, 120), (1, 1)])
def test_wilson_interval_equals_scipy(k: int, n: int) -> None:
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    lo, hi = wilson_interval(k, n)
    assert lo == pytest.approx(ci.low, abs=1e-9) and hi == pytest.approx(ci.high, abs=1e-9)
    assert wilson_interval(0, 0) is None


def test_bootstrap_interval_is_seeded_and_brackets_the_estimate() -> None:
    y, s = _binary_case(3)
    a = bootstrap_interval(y, s, roc_auc, n_resamples=150, seed=7)
    b = bootstrap_interval(y, s, roc_auc, n_resamples=150, seed=7)
    c = bootstrap_interval(y, s, roc_auc, n_resamples=150, seed=8)
    assert a == b and a != c
    assert a[0] < roc_auc(y, s) < a[1]


@pytest.mark.parametrize("seed", range(4))
def test_fast_auc_bootstrap_equals_the_generic_one(seed: int) -> None:
    y, s = _binary_case(seed, n=120, decimals=1)  # heavy ties
    fast = bootstrap_auc_interval(y, s, n_resamples=100, seed=seed)
    slow = bootstrap_interval(y, s, roc_auc, n_resamples=100, seed=seed)
    assert fast == pytest.approx(slow, abs=1e-12)
    tiny = np.array([0, 1, 1]), np.array([0.2, 0.4, 0.9])  # many resamples hold one class: both skip them alike
    assert bootstrap_auc_interval(*tiny, n_resamples=50, seed=seed) == bootstrap_interval(
        *tiny, roc_auc, n_resamples=50, seed=seed
    )


def test_ece_hand_computed_case() -> None:
    # 10 uniform bins. Bin (0.1, 0.2]: scores 0.15, 0.15, 0.2 (mean 0.1667), labels 0,0,1 -> observed 1/3.
    # Bin (0.7, 0.8]: scores 0.75, 0.75 (mean 0.75), labels 1,1 -> observed 1.0.
    # Bin (0.9, 1.0]: score 0.95, label 0 -> observed 0.
    # ECE = 3/6 * |0.1667 - 0.3333| + 2/6 * |0.75 - 1| + 1/6 * |0.95 - 0| = 0.08333 + 0.08333 + 0.15833 = 0.325
    y = np.array([0, 0, 1, 1, 1, 0])
    s = np.array([0.15, 0.15, 0.2, 0.75, 0.75, 0.95])
    assert expected_calibration_error(y, s, bins=10) == pytest.approx(0.325, abs=1e-12)
    cal = reliability(y, s, bins=10)
    assert [b.bin for b in cal.curve] == [1, 7, 9]
    assert [b.count for b in cal.curve] == [3, 2, 1]
    assert cal.curve[0].lower == pytest.approx(0.1) and cal.curve[0].upper == pytest.approx(0.2)
    assert "right-closed" in cal.binning and cal.strategy == "uniform"


def test_perfectly_calibrated_bins_give_zero_ece() -> None:
    y = np.array([1, 0, 0, 0, 1, 1, 1, 0])
    s = np.array([0.25, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75, 0.75])
    assert expected_calibration_error(y, s, bins=4) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
@pytest.mark.parametrize("bins", [5, 10])
def test_reliability_curve_equals_sklearn_calibration_curve(strategy: str, bins: int) -> None:
    y, s = _binary_case(11, n=500, decimals=None)
    prob_true, prob_pred = calibration_curve(y, s, n_bins=bins, strategy=strategy)
    cal = reliability(y, s, bins=bins, strategy=strategy)
    np.testing.assert_allclose([b.observed_rate for b in cal.curve], prob_true, atol=1e-12)
    np.testing.assert_allclose([b.mean_score for b in cal.curve], prob_pred, atol=1e-12)
    assert sum(b.count for b in cal.curve) == len(y)
    manual = sum(b.count / len(y) * abs(b.mean_score - b.observed_rate) for b in cal.curve)
    assert cal.ece == pytest.approx(manual, abs=1e-12)


def test_top_label_calibration_for_multiclass() -> None:
    p = np.array([[0.7, 0.2, 0.1], [0.3, 0.6, 0.1], [0.2, 0.2, 0.6]])
    outcome, conf = top_label(np.array([0, 0, 2]), p)
    assert outcome.tolist() == [1, 0, 1] and conf.tolist() == [0.7, 0.6, 0.6]
    assert brier(np.array([0, 0, 2]), p) == pytest.approx(
        skm.brier_score_loss([0, 0, 2], p, labels=[0, 1, 2]), abs=1e-12
    )
