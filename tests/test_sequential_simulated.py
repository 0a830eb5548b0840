"""Thresholds from simulated healthy streams and untolerated charts (issue 11): the analytic threshold is too safe
by a factor the simulation measures; the corrected threshold keeps the budget on fresh simulated streams and is
tighter than the analytic one; an untolerated chart catches a large change sooner and never drifts up on a change
within the tolerance."""

from __future__ import annotations

import math
import random

import numpy as np

from app.detection.sequential import BernoulliCusum, ClassMixCusum, MeanScaleCusum
from app.detection.sequential.base import detector_from_dict
from app.detection.sequential.calibration import cusum_threshold
from app.detection.sequential.meanscale import baseline_quantiles, untolerated_deltas
from app.detection.sequential.simulated import conservatism, corrected_budget, simulated_alarms


def _rate(det, h: float, seed: int) -> float:
    atoms, w = det.healthy_atoms()
    many = getattr(det, "llr_many", None)
    inc = many(atoms) if many else np.array([det.llr(a) for a in atoms], dtype=float)
    wts = np.full(len(atoms), 1 / len(atoms)) if w is None else np.asarray(w)
    streams, length = 400, 2000
    lim = np.maximum(h - np.asarray(det.offsets()), h / 100.0)    # charts with an offset alarm lower
    return simulated_alarms(inc, wts, lim, streams=streams, length=length, seed=seed) / (streams * length)


def test_the_corrected_threshold_keeps_the_budget_and_is_tighter_than_the_analytic_one() -> None:
    arl0 = 1000.0                    # small enough to count the false alarms of 800,000 simulated samples
    for det in (BernoulliCusum(p0=0.08, false_alarm_every=arl0),
                ClassMixCusum(shares={"a": 0.5, "b": 0.3, "c": 0.2}, false_alarm_every=arl0)):
        f = conservatism(det, seed=1)
        assert f > 1.5                                            # the analytic threshold is too safe
        h = cusum_threshold(det.weighted_kl0(), corrected_budget(arl0, f))
        assert h < det.threshold - math.log(1.5) + 0.2
        fresh = _rate(det, h, seed=99)                             # other seed: fresh streams
        assert fresh <= 1.25 / arl0                                # the budget, within the simulation's noise
        assert _rate(det, det.threshold, seed=99) < fresh          # the analytic one alarms less: it was too safe


def test_untolerated_charts_catch_a_large_shift_sooner_and_ignore_one_within_the_tolerance() -> None:
    rng = random.Random(5)
    q = baseline_quantiles([rng.gauss(0.8, 0.1) for _ in range(5000)])
    raw = untolerated_deltas(q, 0.02)
    assert raw == (1.0, 2.5)
    plain = MeanScaleCusum(quantiles=q, tolerance=0.02, false_alarm_every=10_000)
    both = MeanScaleCusum(quantiles=q, tolerance=0.02, raw_deltas=raw, false_alarm_every=10_000)
    delays = {}
    for name, det in (("plain", plain), ("both", both)):
        r = random.Random(9)
        out = []
        for _ in range(30):
            det._reset()
            out.append(next(i for i in range(2000) if det.update(r.gauss(0.7, 0.1)).drift_detected))
        delays[name] = sorted(out)[15]
    assert delays["both"] < 0.8 * delays["plain"]
    shifted = np.array([rng.gauss(0.8 - 0.02, 0.1) for _ in range(20_000)])    # a drop of the tolerance only
    inc = both.llr_many(list(shifted))[:, -len(both.raw_deltas) * 2:]
    assert (inc.mean(axis=0) < 0).all()                                           # every untolerated chart drifts down
    again = detector_from_dict(both.to_dict())
    assert again.labels() == both.labels() and again.llr(0.5) == both.llr(0.5)


def test_a_quiet_host_gets_no_untolerated_latency_chart_and_a_slower_one_no_alarm() -> None:
    from app.detection.sequential import MonitorBaseline, Sample, SequentialMonitor

    rng = random.Random(4)
    quiet = [Sample(error=False, latency_ms=rng.gauss(2.0, 0.3)) for _ in range(150)]
    mon = SequentialMonitor(MonitorBaseline.from_samples(quiet))
    lat = mon.detectors["latency"]
    assert not any("untolerated" in label for label in lat.labels())
    slower = [Sample(error=False, latency_ms=rng.gauss(6.0, 0.9)) for _ in range(3000)]       # 2 -> 6 ms
    assert not [e for s in slower for e in mon.update(s) if e.signal == "latency"]
    spread = [Sample(error=False, latency_ms=rng.lognormvariate(math.log(40.0), 0.35)) for _ in range(150)]
    assert any("untolerated" in label for label in SequentialMonitor(MonitorBaseline.from_samples(spread))
               .detectors["latency"].labels())
