"""Binned shift charts for confidence (issue 11): the alternative "values moved by d" on their own scale.

Checked: the bin probabilities and KLs against scipy on a normal law; the healthy run length of the charts against a
simulation of their own healthy law at the analytic threshold (Wald's approximation is safe for an exact ratio); the
information per sample on the bench's skewed confidence shift (Beta(9, 1.5) moved down by 0.10) against the
normal-score chart it replaces; the monitor's confidence detector carries them; state survives a round-trip.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from app.detection.sequential.base import detector_from_dict
from app.detection.sequential.calibration import cusum_threshold, wald_arl0
from app.detection.sequential.meanscale import MeanScaleCusum, baseline_quantiles
from app.detection.sequential.monitor import MonitorBaseline, Sample, SequentialMonitor
from app.detection.sequential.shiftbins import bin_edges, bin_probabilities, shift_llr
from app.detection.sequential.simulated import simulated_alarms


def _normal_quantiles() -> list[float]:
    return baseline_quantiles(list(stats.norm.ppf(np.arange(1, 20_000) / 20_000)))


def test_bin_probabilities_and_kl_match_scipy_on_a_normal_law() -> None:
    q = _normal_quantiles()
    edges = bin_edges(q)
    assert len(edges) == 19
    p0 = bin_probabilities(q, edges)
    np.testing.assert_allclose(p0, np.diff(stats.norm.cdf(np.r_[-np.inf, edges, np.inf])), atol=0.006)
    for shift in (-1.0, -0.5, 0.5):
        llr = shift_llr(q, edges, shift, eps=0.0)
        p1 = p0 * np.exp(llr)
        exact = np.diff(stats.norm.cdf(np.r_[-np.inf, edges, np.inf] - shift))     # N(shift, 1) in the same bins
        np.testing.assert_allclose(p1, exact, atol=0.006)
        assert abs(float(stats.entropy(p1, p0)) - float(stats.entropy(exact, p0))) < 0.02


def test_binned_charts_keep_their_healthy_run_length_in_simulation() -> None:
    q = _normal_quantiles()
    det = MeanScaleCusum(quantiles=q, deltas=(2.0,), sigmas=(), bin_deltas=(1.0, 2.5), false_alarm_every=2_000)
    only_bins = [k for k, label in enumerate(det.labels()) if "binned" in label]
    assert len(only_bins) == 4
    kl0 = [det.kl0()[k] for k in only_bins]
    h = cusum_threshold(kl0, 2_000)
    inc = det.llr_many(q)[:, only_bins]                   # the healthy law the charts assume: the 199 atoms
    np.testing.assert_allclose(np.full(199, 1 / 199) @ inc, [-k for k in kl0], rtol=1e-9)
    alarms = simulated_alarms(inc, np.full(199, 1 / 199), h, streams=100, length=2_000, seed=3)
    assert 1 / wald_arl0(h, sum(kl0)) >= alarms / 200_000          # Wald's approximation errs on the safe side
    assert alarms >= 5                                              # ... but not by orders of magnitude


def test_binned_chart_sees_more_of_a_skewed_confidence_shift_than_the_normal_score_chart() -> None:
    rng = np.random.default_rng(1)
    q = baseline_quantiles(list(rng.beta(9.0, 1.5, 5_000)))
    det = MeanScaleCusum(quantiles=q, tolerance=0.02, raw_deltas=(1.0,), bin_deltas=(1.0,), false_alarm_every=10_000)
    labels = det.labels()
    changed = np.clip(rng.beta(9.0, 1.5, 20_000) - 0.10, 0.0, 1.0)
    healthy = rng.beta(9.0, 1.5, 20_000)
    m1, m0 = det.llr_many(list(changed)).mean(axis=0), det.llr_many(list(healthy)).mean(axis=0)
    binned, normal = labels.index("shift -1 sd binned"), labels.index("mean -1 sd untolerated")
    assert m1[binned] > 0.55 and 0 < m1[normal] < 0.45          # ~0.62 nats per sample against ~0.42
    assert m0[binned] < 0 and m0[normal] < 0
    shifted = np.clip(rng.beta(9.0, 1.5, 20_000) - 0.01, 0.0, 1.0)  # within the 0.02 tolerance: drifts down
    assert det.llr_many(list(shifted)).mean(axis=0)[binned] < 0
    assert det.recovery_chart(binned) == labels.index("mean -0.5 sd")


def test_monitor_confidence_detector_has_binned_charts_and_survives_a_round_trip() -> None:
    rng = np.random.default_rng(2)
    base = MonitorBaseline.from_samples(
        Sample(error=False, confidence=float(c)) for c in rng.beta(9.0, 1.5, 400))
    mon = SequentialMonitor(base)
    det = mon.detectors["confidence"]
    assert [lb for lb in det.labels() if "binned" in lb] == [
        "shift +1 sd binned", "shift +2.5 sd binned", "shift -1 sd binned", "shift -2.5 sd binned"]
    for c in np.clip(rng.beta(9.0, 1.5, 50) - 0.1, 0, 1):
        mon.update(Sample(error=False, confidence=float(c)))
    back = detector_from_dict(det.to_dict())
    assert back.labels() == det.labels() and back.stats == det.stats and back.threshold == det.threshold
    for c in (0.2, 0.85, 0.999):
        np.testing.assert_allclose(back.llr(c), det.llr(c))


def test_scale_tolerance_ignores_a_tail_off_by_less_than_the_tolerance_and_keeps_a_real_scale_rise() -> None:
    rng = np.random.default_rng(4)
    healthy = np.clip(1.0 - rng.exponential(0.05, 150), 0.0, 1.0)
    q = baseline_quantiles(list(np.minimum(healthy, 0.9997)))   # a baseline whose top tail came out 3e-4 too low
    stream = np.clip(1.0 - rng.exponential(0.05, 20_000), 0.0, 1.0)
    stream[:2_000] = 0.99995                                   # 10 % of the values just above the baseline's top
    plain = MeanScaleCusum(quantiles=q, deltas=(2.0,), sigmas=(1.5,), false_alarm_every=10_000)
    tolerant = MeanScaleCusum(quantiles=q, deltas=(2.0,), sigmas=(1.5,), scale_tolerance=0.005,
                              false_alarm_every=10_000)
    scale = plain.labels().index("scale x1.5")
    assert plain.llr_many(list(stream)).mean(axis=0)[scale] > 0          # without: the scale chart rises on healthy data
    assert tolerant.llr_many(list(stream)).mean(axis=0)[scale] < 0
    med = q[99]
    wider = np.clip(med + 2.5 * (stream - med), 0.0, 1.0)              # the spread 2.5x around the median: a real change
    assert tolerant.llr_many(list(wider)).mean(axis=0)[scale] > 0
    for y in (0.2, med, 0.999, 0.99995):
        np.testing.assert_allclose(tolerant.llr(y), tolerant.llr_many([y])[0])
