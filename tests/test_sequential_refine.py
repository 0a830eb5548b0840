"""The reference refined from calm stream samples (app/detection/sequential/refine.py) inside the monitor."""

from __future__ import annotations

import itertools
import json
import random
import statistics

import pytest

from app.detection.sequential import MonitorBaseline, Sample, SequentialMonitor
from app.detection.sequential.refine import CAP, GUARD, STEP, Refinement, ladder_threshold


def _sample(rng: random.Random, acc: float = 0.92, mix: tuple[float, ...] = (0.5, 0.3, 0.2)) -> Sample:
    if rng.random() < 0.01:
        return Sample(error=True)
    return Sample(error=False, correct=rng.random() < acc, predicted=rng.choices("abc", weights=mix)[0])


@pytest.fixture(scope="module")
def baseline() -> MonitorBaseline:
    rng = random.Random(1)
    return MonitorBaseline.from_samples([_sample(rng) for _ in range(150)])


def _first_change(mon: SequentialMonitor, stream: list[Sample], start: int) -> int | None:
    for i, s in enumerate(stream):
        for e in mon.update(s):
            if e.kind == "change" and i >= start:
                return i - start + 1
    return None


def test_pooled_counts_are_the_calm_values_that_waited_the_guard(baseline: MonitorBaseline) -> None:
    mon = SequentialMonitor(baseline)
    ref = mon.refining["correctness"]
    k0, n0 = ref.counts["1"], ref.n
    assert n0 == baseline.sizes["correctness"] and abs(k0 / n0 - (1 - baseline.accuracy)) < 1 / n0
    rng = random.Random(2)
    stream = [_sample(rng) for _ in range(1000)]
    for s in stream:
        assert mon.update(s) == []                      # healthy and calm: nothing fires on this seed
    wrong = [int(not s.correct) for s in stream if not s.error]
    joined = wrong[:len(wrong) - GUARD]                 # every value but the last GUARD joined, in order
    assert ref.n == n0 + len(joined) and ref.counts["1"] == k0 + sum(joined)
    assert list(ref.pending) == wrong[len(wrong) - GUARD:]
    det = mon.detectors["correctness"]                  # rebuilt every STEP joined values on the pooled rate
    done = len(joined) - len(joined) % STEP
    assert det.p0 == pytest.approx((k0 + sum(joined[:done])) / (n0 + done))


def test_a_warning_drops_the_pending_values_and_the_reference_stops_at_the_cap() -> None:
    ref = Refinement("bernoulli", {"0": 140, "1": 10}, [[150, None, 12.0], [300, None, 11.0]])
    for x in [1] * (GUARD + 5):
        ref.observe(x, calm=True)
    assert ref.n == 155 and len(ref.pending) == GUARD
    ref.observe(0, calm=False)
    assert ref.n == 155 and len(ref.pending) == 0
    for _ in range(2 * CAP):
        ref.observe(0, calm=True)
    assert ref.n == CAP


def test_ladder_thresholds_fall_with_the_reference_and_interpolate_in_one_over_n(baseline: MonitorBaseline) -> None:
    mon = SequentialMonitor(baseline)
    for name in ("correctness", "class_mix", "errors"):
        ladder = mon.refining[name].ladder
        assert ladder[0][0] == baseline.sizes[name] and ladder[-1][0] == CAP
        assert ladder[0][2] == pytest.approx(mon.detectors[name].threshold)
        for (s0, g0, h0), (s1, g1, h1) in itertools.pairwise(ladder):
            assert s1 > s0 or (s1 == s0 and g1 != g0)
            if g0 == g1:
                assert h1 <= h0
            else:        # a fuller grid from s1 on: the grid run until then has its own rung at s1 to interpolate to
                assert s1 == s0 and any(r[:2] == [s0, g0] for r in ladder)
        for i, (size, g, h) in enumerate(ladder[1:], 1):
            if ladder[i - 1][1] == g and ladder[i - 1][0] < size:   # between two rungs of one grid: 1/n interpolation
                lo = ladder[i - 1]
                mid = (lo[0] + size) // 2
                got_g, got_h = ladder_threshold(ladder, mid)
                assert got_g == g and h <= got_h <= lo[2]
    # class mix at a 150-sample baseline starts with a coarser grid (the estimation error fakes a 10 % move): it is
    # interpolated towards its own threshold at the next rung, not held at the rung it started on
    lad = mon.refining["class_mix"].ladder
    assert lad[0][1] != lad[-1][1], lad                  # this baseline's class mix does start coarser
    size1 = next(s for s, g, _ in lad if g != lad[0][1])
    assert ladder_threshold(lad, size1 - 1)[1] < lad[0][2]
    lad = [[100, None, 12.0], [200, (0.1,), 10.0], [400, (0.1,), 9.0]]
    assert ladder_threshold(lad, 150) == (None, 12.0)           # a different grid only from its own size on
    g, h = ladder_threshold(lad, 300)
    assert g == (0.1,) and h == pytest.approx(10.0 + (1 / 200 - 1 / 300) / (1 / 200 - 1 / 400) * (9.0 - 10.0))
    assert ladder_threshold(lad, 10_000) == ((0.1,), 9.0)


def test_a_refined_reference_catches_a_drop_sooner_than_the_fixed_baseline(baseline: MonitorBaseline) -> None:
    """Simulation: 2,600 healthy samples, then accuracy 92 % -> 82 %; 8 streams through both monitors."""
    delays: dict[bool, list[float]] = {False: [], True: []}
    for seed in range(8):
        rng = random.Random(100 + seed)
        stream = [_sample(rng) for _ in range(2600)] + [_sample(rng, acc=0.82) for _ in range(1500)]
        for refine in (False, True):
            d = _first_change(SequentialMonitor(baseline, refine=refine), stream, 2600)
            delays[refine].append(d if d is not None else 10_000)
    fixed, refined = statistics.median(delays[False]), statistics.median(delays[True])
    assert refined < 0.7 * fixed, (fixed, refined)     # measured 424 -> 154


def test_a_slow_drift_is_still_caught_and_moves_the_reference_little(baseline: MonitorBaseline) -> None:
    """Simulation: accuracy 92 % -> 72 % linearly over 4,000 samples, then 72 %. The refined monitor must alarm
    on every stream, not much later than the fixed one, and its reference absorbs little of the drift."""
    fixed, refined, p0 = [], [], []
    for seed in range(8):
        rng = random.Random(500 + seed)
        stream = [_sample(rng, acc=0.92 - 0.20 * min(i / 4000, 1)) for i in range(6000)]
        a, b = SequentialMonitor(baseline, refine=False), SequentialMonitor(baseline)
        fixed.append(_first_change(a, stream, 0))
        refined.append(_first_change(b, stream, 0))
        p0.append(b.detectors["correctness"].p0)
    assert None not in fixed and None not in refined
    assert statistics.median(refined) <= statistics.median(fixed) + 200, (fixed, refined)
    assert max(p0) < 0.13            # the wrong-answer rate reached 0.28: the reference took at most a sliver of it


def test_the_refinement_survives_a_save_mid_stream(baseline: MonitorBaseline) -> None:
    rng = random.Random(3)
    stream = [_sample(rng) for _ in range(700)] + [_sample(rng, acc=0.6) for _ in range(300)]
    a = SequentialMonitor(baseline)
    for s in stream[:640]:
        a.update(s)
    b = SequentialMonitor.from_dict(json.loads(json.dumps(a.to_dict())))
    assert b.to_dict() == a.to_dict() and b.refining["class_mix"].n > baseline.sizes["class_mix"]
    ev_a = [e for s in stream[640:] for e in a.update(s)]
    ev_b = [e for s in stream[640:] for e in b.update(s)]
    assert ev_a == ev_b and any(e.signal == "correctness" for e in ev_a)
    assert b.to_dict() == a.to_dict()


def test_a_state_saved_before_the_refinement_resumes_without_one(baseline: MonitorBaseline) -> None:
    old = SequentialMonitor(baseline).to_dict()
    del old["refining"]
    mon = SequentialMonitor.from_dict(old)
    assert mon.refining == {} and mon.update(Sample(error=False, correct=True, predicted="a")) == []


def test_a_large_reference_spends_its_budget_not_a_fifth_of_it() -> None:
    """From 2,400 reference samples the bootstrap is solved for the simulated budget: the threshold is lower than the
    analytic one, and simulated healthy streams (the truth, not the baseline's estimate) still keep the budget."""
    import numpy as np

    from app.detection.sequential.estimation import bootstrap_threshold
    from app.detection.sequential.monitor import _bootstrap_spec
    from app.detection.sequential.simulated import simulated_alarms

    rng = random.Random(4)
    truth = 0.08
    rows = [Sample(error=False, correct=rng.random() >= truth) for _ in range(5000)]
    b = MonitorBaseline.from_samples(rows)
    mon = SequentialMonitor(b, false_alarm_every=50_000.0)          # one signal: correctness at 1 per 50,000
    det = mon.detectors["correctness"]
    assert "correctness" not in mon.refining                       # nothing left to refine at 5,000
    make, _grids, atoms, weights = _bootstrap_spec("correctness", det, b, 50_000.0)
    g = tuple(det.shifts)
    analytic = bootstrap_threshold(lambda xs: make(xs, g), atoms, weights, 5000, 50_000.0, make(None, g).threshold,
                                   seed=5000)
    assert det.threshold < analytic - 1.0                          # measured 10.8 vs 12.1
    inc = np.array([det.llr(0), det.llr(1)], dtype=float)
    alarms = simulated_alarms(inc, np.array([1 - truth, truth]), det.threshold, streams=100, length=50_000, seed=9)
    assert alarms <= 130, alarms            # measured 46; 100 expected at exactly the budget (5,000,000 / 50,000)
