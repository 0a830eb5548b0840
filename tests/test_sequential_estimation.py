"""Thresholds bootstrapped for a baseline estimated from few samples (issue 11): the nominal formula when the
increments are exact likelihood ratios, larger for small baselines, back to nominal as the baseline grows;
tied quantiles score at their mid-rank; a calibrated threshold survives a save."""

from __future__ import annotations

import math
import random

import numpy as np

from app.detection.sequential import ClassMixCusum, MeanScaleCusum, MonitorBaseline, SequentialMonitor
from app.detection.sequential.calibration import cusum_threshold
from app.detection.sequential.estimation import (
    CAP,
    adjustment_coefficient,
    bootstrap_threshold,
    threshold_for_rates,
    thresholds_for_rates,
)
from app.detection.sequential.meanscale import baseline_quantiles
from app.detection.sequential.monitor import Sample
from app.detection.sequential.simulated import conservatism, corrected_budget


def test_exact_likelihood_ratios_give_the_nominal_threshold() -> None:
    p0, p1 = 0.02, 0.2
    inc = np.log(np.array([(1 - p1) / (1 - p0), p1 / p0]))
    w = np.array([1 - p0, p0])
    theta = adjustment_coefficient(inc, w)
    assert abs(theta - 1.0) < 1e-6
    kl0 = float(-(w @ inc))
    assert abs(threshold_for_rates([(theta, kl0)], 10_000, 100.0) - cusum_threshold([kl0], 10_000)) < 1e-3
    assert adjustment_coefficient(np.array([0.1, 0.2]), np.array([0.5, 0.5])) == 0.0       # rises: no theta
    assert adjustment_coefficient(np.array([-0.1, -0.2]), np.array([0.5, 0.5])) == math.inf  # never rises


def _classmix_threshold(n: int) -> tuple[float, float]:
    shares = {"0": 0.3, "1": 0.7}
    nominal = ClassMixCusum(shares=shares, weights=(0.4, 0.8), false_alarm_every=50_000).threshold

    def make(xs: list[str]) -> ClassMixCusum:
        return ClassMixCusum(shares={c: float(xs.count(c)) for c in shares}, weights=(0.4, 0.8),
                             false_alarm_every=50_000)

    return nominal, bootstrap_threshold(make, list(shares), list(shares.values()), n, 50_000, nominal, reps=20)


def test_a_small_baseline_needs_a_larger_threshold_and_a_large_one_the_nominal() -> None:
    nominal, small = _classmix_threshold(150)
    _, large = _classmix_threshold(20_000)
    assert nominal * 1.1 < small <= CAP * nominal          # 150 samples: the shares' error costs threshold
    assert nominal <= large < nominal * 1.05 < small               # 20,000 samples: the baseline is nearly the truth


def test_a_calibrated_monitor_keeps_its_thresholds_through_a_save() -> None:
    rng = random.Random(2)
    rows = [Sample(error=False, correct=rng.random() > 0.05, confidence=0.5 + rng.random() / 2,
                   latency_ms=rng.lognormvariate(2, 0.3), predicted=rng.choice("ab")) for _ in range(150)]
    b = MonitorBaseline.from_samples(rows)
    assert b.sizes == {"errors": 150, "correctness": 150, "confidence": 150, "latency": 150, "class_mix": 150}
    mon = SequentialMonitor(b)
    again = SequentialMonitor.from_dict(mon.to_dict())
    assert {k: d.threshold for k, d in again.detectors.items()} == {k: d.threshold for k, d in mon.detectors.items()}
    nominal = SequentialMonitor(MonitorBaseline(**{**b.__dict__, "sizes": None}))   # what from_dict builds first
    assert mon.detectors["latency"].threshold >= nominal.detectors["latency"].threshold - 1e-9   # analytic floor
    err = nominal.detectors["errors"]              # errors: the floor is the simulated threshold, below the analytic
    floor = cusum_threshold(err.kl0(), corrected_budget(err.false_alarm_every, conservatism(err, seed=150)))
    assert floor < err.threshold and mon.detectors["errors"].threshold >= floor - 1e-9
    assert mon.detectors["class_mix"].threshold > nominal.detectors["class_mix"].threshold


def test_a_point_mass_scores_at_its_mid_rank() -> None:
    values = [0.6 + 0.3 * i / 99 for i in range(100)] + [1.0] * 60       # 37.5 % of confidences exactly 1.0
    det = MeanScaleCusum(quantiles=baseline_quantiles(values), false_alarm_every=10_000)
    z = det.score(1.0)
    assert 0.5 < z < 1.5               # the middle of the top 37.5 % (~ Phi^-1(0.81)), not the 99.5 % quantile's 2.58
    assert abs(det.score(0.6 + 0.3 * 50 / 99) - det.score(0.6 + 0.3 * 51 / 99)) < 0.1


def test_the_vectorised_bootstrap_pieces_equal_the_per_value_ones() -> None:
    """The array versions that made a monitor build ~4x cheaper: llr of every atom at once, every redraw's
    threshold at once (ties, clipped ends, tolerance, rising and dead charts included)."""
    rng = random.Random(5)
    values = [round(rng.betavariate(9, 1.5), 2) for _ in range(150)] + [1.0] * 20
    det = MeanScaleCusum(quantiles=baseline_quantiles(values), tolerance=0.02, false_alarm_every=10_000)
    xs = [*values, 0.0, 0.999, 1.0, 1.5, *det.quantiles]
    assert np.abs(det.llr_many(xs) - np.array([det.llr(x) for x in xs])).max() < 1e-12
    lat = MeanScaleCusum(quantiles=baseline_quantiles([rng.lognormvariate(3, 0.4) for _ in range(150)], "log"),
                         transform="log", direction="up", tolerance=math.log(1.2), false_alarm_every=10_000)
    ys = [rng.lognormvariate(3, 0.6) for _ in range(300)]
    assert np.abs(lat.llr_many(ys) - np.array([lat.llr(y) for y in ys])).max() < 1e-12
    thetas = np.array([[1.0, 0.7], [0.0, 1.0], [math.inf, math.inf], [2.0, math.inf], [0.3, 5.0]])
    means = np.array([[0.5, 0.1], [0.2, 0.3], [0.0, 0.0], [0.05, 0.0], [0.01, 0.9]])
    many = thresholds_for_rates(thetas, means, 10_000, 40.0)
    one = [threshold_for_rates(list(zip(t.tolist(), m.tolist())), 10_000, 40.0) for t, m in zip(thetas, means)]
    assert np.abs(many - np.array(one)).max() < 1e-9
    assert many[1] == 40.0 and many[2] == 0.0                  # a rising chart: the cap; no live chart: 0


def test_a_rebuilt_monitor_reuses_the_thresholds_but_not_the_state() -> None:
    rng = random.Random(8)
    b = MonitorBaseline.from_samples([Sample(error=rng.random() < 0.02, correct=rng.random() > 0.05)
                                      for _ in range(150)])
    first = SequentialMonitor(b)
    for _ in range(30):
        first.update(Sample(error=False, correct=False))
    again = SequentialMonitor(b)                                  # same baseline and budget: from the memo
    assert {k: d.threshold for k, d in again.detectors.items()} == {k: d.threshold for k, d in first.detectors.items()}
    assert first.failing and not again.failing and all(d.statistic == 0.0 for d in again.detectors.values())
    other = SequentialMonitor(b, false_alarm_every=20_000)        # another budget: its own thresholds
    assert other.detectors["correctness"].threshold > first.detectors["correctness"].threshold
