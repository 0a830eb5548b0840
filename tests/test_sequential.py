"""Sequential detectors: exact detection indices on seeded streams, calibration by simulation, delay
against the CUSUM bound, recovery, the per-endpoint monitor and state round trips."""

from __future__ import annotations

import json
import math
import random
import statistics

import pytest

from app.detection.sequential import (
    BernoulliCusum,
    ClassMixCusum,
    MeanScaleCusum,
    MonitorBaseline,
    RecoveryTest,
    Sample,
    SequentialMonitor,
    cusum_threshold,
)
from app.detection.sequential.base import detector_from_dict
from app.detection.sequential.calibration import wald_arl0
from app.detection.sequential.meanscale import baseline_quantiles


def _first_alarm(det, stream):
    for i, x in enumerate(stream):
        if det.update(x).drift_detected:
            return i
    return None


def _bern_stream(seed: int, p0: float, p1: float, n0: int = 1000, n1: int = 500) -> list[int]:
    rng = random.Random(seed)
    return [int(rng.random() < p0) for _ in range(n0)] + [int(rng.random() < p1) for _ in range(n1)]


def _latency_setup(seed: int):
    rng = random.Random(seed)
    q = baseline_quantiles([math.exp(rng.gauss(3, 0.3)) for _ in range(2000)], "log")
    stream = [math.exp(rng.gauss(3, 0.3)) for _ in range(1000)] + [2 * math.exp(rng.gauss(3, 0.3)) for _ in range(500)]
    return q, stream


# --- exact detection index on a seeded stream, one per detector ---------------------------------------------
def test_bernoulli_exact_detection_index() -> None:
    det = BernoulliCusum(p0=0.01, false_alarm_every=10_000)
    assert _first_alarm(det, _bern_stream(11, 0.01, 0.21)) == 1035
    assert det.change_point == 1015 and det.delay == 21
    assert det.labels()[det.chart] == "rate 1.0% -> 21.0%"


def test_mean_scale_exact_detection_index_on_doubled_latency() -> None:
    q, stream = _latency_setup(12)
    det = MeanScaleCusum(quantiles=q, transform="log", direction="up", tolerance=math.log(1.2))
    assert _first_alarm(det, stream) == 1007
    assert det.change_point == 1001 and det.labels()[det.chart] == "mean +2 sd"


def test_class_mix_exact_detection_index() -> None:
    rng = random.Random(13)
    classes, shares = ["a", "b", "c"], [0.5, 0.3, 0.2]
    stream = rng.choices(classes, shares, k=1000) + rng.choices(classes, [0.2, 0.3, 0.5], k=500)
    det = ClassMixCusum(shares=dict(zip(classes, shares, strict=True)))
    assert _first_alarm(det, stream) == 1022
    assert det.change_point == 993 and "'c' 19.9% -> " in det.labels()[det.chart]  # c's chart or the tilt's


def test_recovery_exact_index_and_stated_delay() -> None:
    det = BernoulliCusum(p0=0.01, false_alarm_every=10_000)
    stream = _bern_stream(21, 0.01, 0.41, n0=200, n1=300)
    assert _first_alarm(det, stream) is not None
    rec = RecoveryTest(det)
    rng = random.Random(22)
    healed = [int(rng.random() < 0.01) for _ in range(500)]
    n = next(i for i, x in enumerate(healed) if rec.update(x).recovered)
    assert n == 44 and rec.healed_at == 0
    assert n + 1 <= 1.5 * rec.expected_delay()  # the stated recovery delay, h / KL(f0 || f1)


def test_recovery_does_not_fire_while_still_failing() -> None:
    det = BernoulliCusum(p0=0.01, false_alarm_every=10_000)
    assert _first_alarm(det, _bern_stream(31, 0.01, 0.41, n0=100, n1=100)) is not None
    rec = RecoveryTest(det)
    rng = random.Random(32)
    assert not any(rec.update(int(rng.random() < 0.41)).recovered for _ in range(5000))



def test_recovery_budget_halves_the_stated_delay_and_holds_its_false_recovery_rate() -> None:
    det = BernoulliCusum(p0=0.03, false_alarm_every=50_000)
    assert _first_alarm(det, _bern_stream(41, 0.03, 0.31, n0=200, n1=300)) is not None
    slow, fast = RecoveryTest(det), RecoveryTest(det, false_recovery_every=1000)
    assert fast.chart == slow.chart and fast.threshold < slow.threshold
    assert fast.expected_delay() < 0.6 * slow.expected_delay()
    # healed: the budgeted test decides within its stated delay (median of 30 healings)
    rng = random.Random(42)
    delays = []
    for _ in range(30):
        rec = RecoveryTest(det, false_recovery_every=1000)
        delays.append(next(i for i in range(2000) if rec.update(int(rng.random() < 0.03)).recovered) + 1)
    assert statistics.median(delays) <= 1.3 * fast.expected_delay()
    # still failing, at the recovery chart's own rate (the worst case it covers): run length >= the budget
    p_r = det.rates1[fast.chart]
    runs = []
    for _ in range(20):
        rec = RecoveryTest(det, false_recovery_every=1000)
        runs.append(next((i for i in range(20_000) if rec.update(int(rng.random() < p_r)).recovered), 20_000) + 1)
    assert statistics.mean(runs) >= 1000, statistics.mean(runs)
    back = RecoveryTest.from_dict(json.loads(json.dumps(fast.to_dict())))
    assert back.threshold == fast.threshold and back.false_recovery_every == 1000

# --- calibration: the closed-form threshold checked by simulation -----------------------------------------------
def test_threshold_solves_the_wald_budget() -> None:
    h = cusum_threshold([0.1, 0.4], 5000)
    assert 1 / wald_arl0(h, 0.1) + 1 / wald_arl0(h, 0.4) == pytest.approx(1 / 5000, rel=1e-6)
    assert cusum_threshold([0.1], 50_000) > cusum_threshold([0.1], 5000)


@pytest.mark.parametrize("name", ["bernoulli", "mean_scale", "class_mix"])
def test_healthy_false_alarms_within_budget(name: str) -> None:
    """Budget 1 per 1000: over 100k healthy samples at most 100 alarms, and not absurdly conservative."""
    rng = random.Random(99)
    if name == "bernoulli":
        det, gen = BernoulliCusum(p0=0.05, false_alarm_every=1000), lambda: int(rng.random() < 0.05)
    elif name == "mean_scale":
        q = baseline_quantiles([rng.gauss(0, 1) for _ in range(5000)])
        det, gen = MeanScaleCusum(quantiles=q, false_alarm_every=1000), lambda: rng.gauss(0, 1)
    else:
        det = ClassMixCusum(shares={"a": 0.5, "b": 0.3, "c": 0.2}, false_alarm_every=1000)
        gen = lambda: rng.choices("abc", [0.5, 0.3, 0.2])[0]
    n = 100_000
    alarms = sum(det.update(gen()).drift_detected for _ in range(n))
    assert 0 < alarms <= n / 1000


def test_zero_baseline_rate_is_floored_one_error_is_no_alarm() -> None:
    det = BernoulliCusum(p0=0.0, false_alarm_every=10_000)
    assert not det.update(1).drift_detected
    assert not any(det.update(x).drift_detected for x in [0] * 50 + [1] + [0] * 50)


def test_latency_shift_below_the_tolerance_never_alarms() -> None:
    rng = random.Random(41)
    q = baseline_quantiles([math.exp(rng.gauss(3, 0.3)) for _ in range(2000)], "log")
    def det():
        return MeanScaleCusum(quantiles=q, transform="log", direction="up", tolerance=math.log(1.2),
                              false_alarm_every=1e6)

    slow10, slow50 = det(), det()
    assert not any(slow10.update(1.1 * math.exp(rng.gauss(3, 0.3))).drift_detected for _ in range(20_000))
    assert any(slow50.update(1.5 * math.exp(rng.gauss(3, 0.3))).drift_detected for _ in range(500))


def test_bernoulli_delay_within_twice_the_bound() -> None:
    """99% -> 59% accuracy at ARL0 = 50,000: median delay over seeded streams within 2x ln(ARL0)/KL."""
    delays = []
    for seed in range(40):
        det = BernoulliCusum(p0=0.01, false_alarm_every=50_000)
        i = _first_alarm(det, _bern_stream(seed, 0.01, 0.41, n0=300, n1=300))
        assert i is not None and i >= 300
        delays.append(i - 300 + 1)
    bound = det.bound(det.labels().index("rate 1.0% -> 41.0%"))
    assert statistics.median(delays) <= 2 * bound


# --- parameters, state ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda: BernoulliCusum(p0=1.5),
    lambda: BernoulliCusum(p0=0.1, shifts=[0.0]),
    lambda: BernoulliCusum(p0=0.1, false_alarm_every=1),
    lambda: ClassMixCusum(shares={"a": 1.0}),
    lambda: MeanScaleCusum(quantiles=[1.0, 2.0]),
    lambda: MeanScaleCusum(quantiles=list(range(199)), direction="sideways"),
])
def test_bad_parameters_are_refused(make) -> None:
    with pytest.raises(ValueError):
        make()


def test_detector_state_round_trips_mid_stream() -> None:
    q, stream = _latency_setup(12)
    a = MeanScaleCusum(quantiles=q, transform="log", direction="up", tolerance=math.log(1.2))
    for x in stream[:1003]:
        a.update(x)
    b = detector_from_dict(json.loads(json.dumps(a.to_dict())))
    for x in stream[1003:1100]:
        a.update(x)
        b.update(x)
        assert (a.stats, a.starts, a.drift_detected) == (b.stats, b.starts, b.drift_detected)


def _sample(rng: random.Random, acc: float, err: float = 0.0, lat: float = 1.0, mix=(0.5, 0.3, 0.2)) -> Sample:
    if rng.random() < err:
        return Sample(error=True)
    return Sample(error=False, correct=rng.random() < acc, confidence=min(1.0, max(0.0, rng.gauss(0.9, 0.05))),
                  latency_ms=lat * math.exp(rng.gauss(3, 0.3)), predicted=rng.choices("abc", mix)[0])


def test_monitor_alarm_then_recovery_with_round_trip() -> None:
    rng = random.Random(5)
    base = MonitorBaseline.from_samples(_sample(rng, 0.99) for _ in range(2000))
    mon = SequentialMonitor(base)
    assert sorted(mon.detectors) == ["class_mix", "confidence", "correctness", "errors", "latency"]
    assert all(d.false_alarm_every == 50_000 for d in mon.detectors.values())
    events = [e for _ in range(1000) for e in mon.update(_sample(rng, 0.99))]
    assert events == []
    changes = []
    for _ in range(200):
        changes += mon.update(_sample(rng, 0.59))
    assert [(e.signal, e.kind) for e in changes] == [("correctness", "change")]
    assert changes[0].change_point >= 995 and changes[0].delay <= 30 and mon.failing == ["correctness"]
    mon = SequentialMonitor.from_dict(json.loads(json.dumps(mon.to_dict())))
    assert mon.failing == ["correctness"] and mon.n == 1200
    back = [e for _ in range(300) for e in mon.update(_sample(rng, 0.99))]
    assert [(e.signal, e.kind) for e in back] == [("correctness", "recovered")]
    assert back[0].change_point >= 1195 and back[0].delay <= 2 * back[0].expected_delay
    assert mon.failing == []


def test_monitor_refuses_foreign_state() -> None:
    with pytest.raises(ValueError):
        SequentialMonitor.from_dict({"version": 2})
    with pytest.raises(ValueError):
        SequentialMonitor.from_dict({"version": 1})
