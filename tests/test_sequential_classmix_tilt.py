"""Class mix, "traffic moves to rarer classes" (issue 11): the tilt charts are the exponential tilt of the baseline
shares (checked against scipy), get their share of the budget through an offset (the weighted union bound, checked
by simulating healthy streams), detect a flattening mix sooner than the weight charts alone (simulated), and a
detector saved before them resumes as it was."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import logsumexp
from scipy.stats import entropy

from app.detection.sequential import ClassMixCusum
from app.detection.sequential.classmix import TILT_SHARE
from app.detection.sequential.base import detector_from_dict
from app.detection.sequential.calibration import cusum_threshold
from app.detection.sequential.estimation import thresholds_for_rates
from app.detection.sequential.simulated import simulated_alarms

SHARES = {"a": 0.5, "b": 0.3, "c": 0.2}


def test_tilt_chart_is_the_exponential_tilt_of_the_baseline_shares() -> None:
    det = ClassMixCusum(shares=SHARES, false_alarm_every=10_000)
    assert det.tilts == [1.0] and len(det.labels()) == det.n_weighted + 1 == 13
    det = ClassMixCusum(shares=SHARES, tilts=(0.5, 1.0), false_alarm_every=10_000)
    seen = np.array(det.pi0[:-1])
    rest = 1.0 - seen.sum()
    for k, t in zip(range(det.n_weighted, len(det.labels())), det.tilts, strict=True):
        # ln pi_t(j) / pi0(j) = t * (-ln pi0(j)) - A(t), A(t) = ln sum_j pi0(j)^(1-t) - ln(1 - pi0(other))
        a = logsumexp((1 - t) * np.log(seen)) - math.log(1 - rest)
        llr = [det.llr(c)[k] for c in "abc"]
        assert np.allclose(llr, -t * np.log(seen) - a, atol=1e-12)
        assert det.llr("never seen")[k] == 0.0                       # the unseen class keeps its floor share
        pi1 = np.append(seen * np.exp(llr), rest)
        assert math.isclose(det.kl0()[k], entropy(det.pi0, pi1), rel_tol=1e-9)
    assert "'a' 49.8% -> 33.2%, 'c' 19.9% -> 33.2%" in det.labels()[-1]      # t = 1: the uniform mix
    # a baseline near the uniform mix gets no tilt chart (it would move less than 10 % of the traffic)
    assert ClassMixCusum(shares={"a": 1, "b": 1}).tilts == []
    assert ClassMixCusum(shares={"a": 0.33, "b": 0.40, "c": 0.27}).tilts == []     # wine: moves 6.7 %
    assert ClassMixCusum(shares={"a": 0.63, "b": 0.37}).tilts == [1.0]             # the demo model: 13 %


def test_offset_gives_the_tilt_charts_their_share_of_the_union_bound() -> None:
    det = ClassMixCusum(shares=SHARES, false_alarm_every=50_000)
    kl, w, b = det.kl0(), det.weighted_kl0(), det.offsets()
    n = det.n_weighted
    share = det.tilt_share
    assert share == TILT_SHARE == 0.25
    assert math.isclose(sum(w[n:]), share * sum(w), rel_tol=1e-9)             # the tilt's share of the union
    assert math.isclose(det.threshold, cusum_threshold([sum(kl[:n]) / (1 - share)], 50_000), rel_tol=1e-9)
    assert det.limits()[:n] == [det.threshold] * n and det.limits()[n] == det.threshold - b[n]
    # the bootstrap's rate formula with the offset: one exact ratio (theta 1) alarms at the analytic h less b
    h = thresholds_for_rates(np.array([[1.0]]), np.array([[0.05]]), 10_000, 100.0, np.array([[2.0]]))
    assert math.isclose(float(h[0]), cusum_threshold([0.05], 10_000) + 2.0, abs_tol=1e-6)


def test_offset_charts_keep_the_budget_and_take_their_share_of_the_alarms_on_simulated_healthy_streams() -> None:
    det = ClassMixCusum(shares=SHARES, false_alarm_every=1_000)        # small: count the alarms of 800,000 samples
    atoms, w = det.healthy_atoms()
    inc = np.array([det.llr(a) for a in atoms])
    lim = np.array(det.limits())
    streams, length = 400, 2000
    total = simulated_alarms(inc, np.array(w), lim, streams=streams, length=length, seed=5)
    weights_only = simulated_alarms(inc[:, :det.n_weighted], np.array(w), lim[:det.n_weighted],
                                    streams=streams, length=length, seed=5)
    assert total <= streams * length / 1_000                            # the union bound errs on the safe side
    assert total - weights_only >= 0.15 * total                         # the tilt charts raise a real share of them


def _delays(det: ClassMixCusum, after: list[float], reps: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(reps):
        det._reset()
        xs = rng.choice(["a", "b", "c"], size=2_000, p=after)
        out.append(next((i + 1 for i, x in enumerate(xs) if det.update(x).drift_detected), 10_000))
    return out


def test_a_flattening_mix_is_caught_sooner_than_by_the_weight_charts_alone() -> None:
    """50/30/20 -> 35/30/35 (KL 0.071 per sample) at the analytic threshold for 1 false alarm per 50,000: the best
    weight chart gets 0.062 nats per sample at h, the uniform tilt 0.0685 at h - b (2.7 lower)."""
    after = [0.35, 0.3, 0.35]
    with_tilt = np.median(_delays(ClassMixCusum(shares=SHARES, false_alarm_every=50_000), after, 150, 3))
    without = np.median(_delays(ClassMixCusum(shares=SHARES, tilts=(), false_alarm_every=50_000), after, 150, 3))
    assert with_tilt < 0.8 * without, (with_tilt, without)


def test_a_state_saved_before_the_tilt_charts_resumes_as_it_was() -> None:
    old = ClassMixCusum(shares=SHARES, tilts=(), false_alarm_every=10_000)
    for x in "ccbcacc":
        old.update(x)
    data = old.to_dict()
    del data["params"]["tilts"], data["params"]["tilt_share"]           # the params as the old version saved them
    back = detector_from_dict(data)
    assert isinstance(back, ClassMixCusum) and back.tilts == [] and back.stats == old.stats
    assert back.threshold == old.threshold
    new = ClassMixCusum(shares=SHARES, false_alarm_every=10_000)
    assert detector_from_dict(new.to_dict()).tilts == [1.0]


def test_recovery_chart_of_a_tilt_is_the_next_smaller_tilt() -> None:
    det = ClassMixCusum(shares=SHARES, tilts=(0.5, 1.0))
    n = det.n_weighted
    assert det.recovery_chart(n + 1) == n and det.recovery_chart(1) == 0
    # the smallest tilt recovers against the rarest class's smallest weight ('c' 19.9% -> 27.9%), not itself: a
    # change half-way to the tilt (30/70 -> 45/55) would otherwise read back on a wobble and open a second incident
    assert det.labels()[det.recovery_chart(n)] == "'c' 19.9% -> 27.9%"


def test_a_reference_below_the_refinement_cap_gets_no_tilt_chart_and_the_refined_one_does() -> None:
    """On 150-sample references the shares' estimation error fakes the tilt (fixed wine baselines: 1.10 false
    alarms per 10,000 with it, bench/sequential/bench_healthy.py): the monitor adds it once the reference is 600."""
    from app.detection.sequential import MonitorBaseline, SequentialMonitor
    from app.detection.sequential.monitor import Sample

    rng = np.random.default_rng(4)
    classes = rng.choice(["a", "b", "c"], size=150, p=[0.5, 0.3, 0.2])
    base = MonitorBaseline.from_samples([Sample(error=False, predicted=str(c)) for c in classes])
    mon = SequentialMonitor(base, refine=True)
    det, ref = mon.detectors["class_mix"], mon.refining["class_mix"]
    assert isinstance(det, ClassMixCusum) and det.tilts == []
    ref.counts = {"a": 300, "b": 180, "c": 120}                        # pooled to 600
    assert ref.rebuild(det).tilts == [1.0]
