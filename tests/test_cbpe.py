"""Label-free accuracy estimate: matches a direct computation, flags unreliable cases, reaches the report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from app.analysis.compare import compare_frames
from app.analysis.estimated import estimated_performance
from app.analysis.window import analyze_window, samples_window
from app.config import Settings
from app.detection.baseline import learn_baseline
from app.detection.cbpe import ConfidenceCalibrator, SupportEvidence, estimate_accuracy
from app.detection.cbpe.calibration import auc_of
from app.detection.frames import ColumnPlan
from app.detection.suite import SuiteResult
from tests.detection_sim import ENDPOINT, probe

SETTINGS = Settings(_env_file=None)  # type: ignore[call-arg]


def _pairs(levels: dict[float, tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Reference pairs: per confidence level, (n rows, k right)."""
    c = np.concatenate([np.full(n, lv) for lv, (n, _) in levels.items()])
    y = np.concatenate([np.r_[np.ones(k), np.zeros(n - k)] for n, k in levels.values()])
    return c, y


def _healthy(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    c = rng.uniform(0.5, 1.0, n)
    return c, (rng.uniform(size=n) < c).astype(float)


def test_estimate_equals_the_direct_computation() -> None:
    # monotone level accuracies -> isotonic keeps one block per level, value (k + 1/2) / (n + 1)
    levels = {0.6: (100, 55), 0.8: (200, 150), 0.95: (300, 290)}
    cal = ConfidenceCalibrator(seed=0).fit(*_pairs(levels))
    p = {lv: (k + 0.5) / (n + 1) for lv, (n, k) in levels.items()}
    np.testing.assert_allclose(cal.predict(np.array(list(levels))), list(p.values()))
    window = np.r_[np.full(30, 0.6), np.full(50, 0.8), np.full(20, 0.95)]
    est = estimate_accuracy(cal, window, np.r_[np.ones(70), np.zeros(30)])
    pi = np.r_[np.full(30, p[0.6]), np.full(50, p[0.8]), np.full(20, p[0.95])]
    assert est.estimate == pytest.approx(pi.mean())
    assert est.sampling_sd == pytest.approx(np.sqrt((pi * (1 - pi)).sum()) / 100)
    assert 0 < est.calibration_sd < 0.05
    half = 1.959964 * np.hypot(est.sampling_sd, est.calibration_sd)
    assert est.band == pytest.approx((pi.mean() - half, pi.mean() + half), abs=1e-5)
    assert est.realised == 0.7 and est.n_labelled == 100
    d = est.to_dict()
    # 100 rows at ~73 %: the band is +- 9.5 points, too wide to trust the estimate to within a few points
    assert d["error"] == round(est.estimate - 0.7, 4) and d["unreliable"] is True and d["notes"] == []
    assert d["reasons"] == [f"the band is +- {100 * half:.1f} points (more than +- 4): too few rows or too uncertain "
                            "a calibration to trust the estimate to within a few points"]


def test_auc_matches_the_pairwise_definition() -> None:
    rng = np.random.default_rng(3)
    s, y = rng.integers(0, 5, 60).astype(float), rng.integers(0, 2, 60)
    pos, neg = s[y == 1], s[y == 0]
    direct = ((pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()) / (pos.size * neg.size)
    assert auc_of(s, y) == pytest.approx(direct)


def test_healthy_estimate_is_close_and_not_flagged() -> None:
    cal = ConfidenceCalibrator(seed=0).fit(*_healthy(2000, 1))
    c, y = _healthy(1500, 2)
    est = estimate_accuracy(cal, c, y)
    assert not est.unreliable and est.reasons == ()
    assert abs(est.estimate - est.realised) < 0.05            # type: ignore[operator]
    assert est.band[0] <= est.realised <= est.band[1]         # type: ignore[operator]


@pytest.mark.parametrize(("pairs", "needle"), [
    (_healthy(60, 4), "only 60 labelled reference predictions"),
    (_pairs({0.7: (150, 150), 0.9: (150, 150)}), "only 0 wrong predictions"),
    ((np.random.default_rng(5).uniform(0.5, 1, 600), (np.random.default_rng(6).uniform(size=600) < 0.8).astype(float)),
     "barely separates right from wrong"),
])
def test_failed_calibration_is_flagged_with_its_reason(pairs: tuple[np.ndarray, np.ndarray], needle: str) -> None:
    est = estimate_accuracy(ConfidenceCalibrator(seed=0).fit(*pairs), np.full(100, 0.8))
    assert est.unreliable and any(needle in r for r in est.reasons), est.reasons


def test_band_wider_than_four_points_is_flagged() -> None:
    cal = ConfidenceCalibrator(seed=0).fit(*_healthy(3000, 9))
    c, y = _healthy(3000, 10)
    wide, narrow = estimate_accuracy(cal, c[:100], y[:100]), estimate_accuracy(cal, c, y)
    assert wide.band[1] - wide.band[0] > 0.08 and wide.unreliable and "the band is +-" in wide.reasons[0]
    assert narrow.band[1] - narrow.band[0] < 0.08 and not narrow.unreliable and narrow.reasons == ()
    assert not estimate_accuracy(cal, c[:100], max_half_width=0.2).unreliable


def test_inputs_outside_the_reference_support_are_flagged_a_changed_mix_is_a_note() -> None:
    cal = ConfidenceCalibrator(seed=0).fit(*_healthy(1000, 7))
    window = np.full(100, 0.9)

    def est_of(auc: float, detected: bool = True):  # noqa: ANN202 - the band rule is tested above
        return estimate_accuracy(cal, window, support=SupportEvidence(auc=auc, drift_detected=detected),
                                 max_half_width=1.0)

    quiet = est_of(0.7)
    assert not quiet.unreliable and quiet.notes == ()
    assert not est_of(0.999, detected=False).unreliable and est_of(0.999, detected=False).notes == ()
    mix = est_of(0.93)                     # a selection shift: the classifier tells the windows apart
    assert not mix.unreliable and mix.reasons == () and "input mix changed" in mix.notes[0] and "0.93" in mix.notes[0]
    assert mix.to_dict()["notes"] == list(mix.notes) and mix.domain_auc == 0.93
    est = est_of(0.998)                    # inputs left the support: the classifier separates them almost perfectly
    assert est.unreliable and "left the reference support" in est.reasons[0] and est.notes == ()
    low = estimate_accuracy(cal, np.r_[np.full(80, 0.9), np.full(20, 0.2)], max_half_width=1.0)
    assert low.unreliable and "below the lowest one" in low.reasons[0]
    assert "only 5 predictions" in estimate_accuracy(cal, window[:5], max_half_width=1.0).reasons[0]


def test_calibrator_refuses_bad_use() -> None:
    with pytest.raises(RuntimeError, match="not fitted"):
        ConfidenceCalibrator().predict(np.array([0.5]))
    with pytest.raises(ValueError, match="shapes"):
        ConfidenceCalibrator().fit(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="min_auc"):
        ConfidenceCalibrator(min_auc=0.2)


def test_compare_report_carries_estimate_and_realised() -> None:
    rng = np.random.default_rng(8)

    def frame(n: int, acc_shift: float) -> pd.DataFrame:
        c = rng.uniform(0.5, 1.0, n)
        right = rng.uniform(size=n) < c - acc_shift
        pred = rng.integers(0, 2, n)
        return pd.DataFrame({"x": rng.normal(size=n), "conf": c, "pred": pred, "y": np.where(right, pred, 1 - pred)})

    rep = compare_frames(frame(1500, 0.0), frame(1200, 0.0), target="y", prediction_column="pred",
                         confidence_column="conf")
    ep = rep.estimated_performance
    assert ep is not None and ep.n_rows == 1200 and ep.n_labelled == 1200 and not ep.unreliable, ep.reasons
    assert abs(ep.error) < 0.06 and ep.band[0] < ep.estimate < ep.band[1]   # type: ignore[arg-type, operator]
    assert "estimated_performance" in rep.model_dump(mode="json")


def test_live_report_estimates_from_the_baseline_pairs() -> None:
    baseline = learn_baseline(ENDPOINT, probe("healthy", 150, seed=1))
    assert len(baseline.calibration_pairs) == baseline.metrics.labelled_samples > 0
    ep = analyze_window(baseline, probe("healthy", 60, seed=2), settings=SETTINGS).estimated_performance
    assert ep is not None and ep.n_rows > 0 and ep.realised is not None
    cur = samples_window(probe("healthy", 60, seed=2))
    ep2 = estimated_performance(None, cur, SuiteResult(groups={}, plan=ColumnPlan(), alpha=0.05, n_tests=0))
    assert ep2 is not None and ep2.estimate is None and ep2.unreliable and "nothing to calibrate" in ep2.reasons[0]
