"""Issue 14 item 13: the latency detector has an absolute floor a busy client cannot trip (p95 1.8 -> 26 ms
on a loaded machine), while a real slowdown of the model (hundreds of ms) is still found."""

from __future__ import annotations

import numpy as np

from app.detection.registry import get


def _latency(ref: np.ndarray, cur: np.ndarray):
    det = get("latency_shift")()
    det.fit(ref.reshape(-1, 1), ["latency_ms"])
    return det.score(cur.reshape(-1, 1))[0]


def test_a_busy_client_does_not_trip_latency_but_a_slow_model_does():
    g = np.random.default_rng(3)
    ref = g.gamma(4.0, 0.3, 150)                                   # loopback: p95 about 2 ms
    busy = g.gamma(4.0, 0.3, 150) + g.exponential(8.0, 150)         # prober starved of CPU: p95 about 26 ms
    slow = g.gamma(4.0, 0.3, 150) + g.uniform(150, 300, 150)        # the model takes 150-300 ms more
    assert 15 < np.quantile(busy, 0.95) < 40
    r_busy, r_slow = _latency(ref, busy), _latency(ref, slow)
    # the suite flags a test when it is significant AND its effect passes the floor (app.detection.base.decide)
    assert r_busy.p_value < 1e-6 and r_busy.effect_size < r_busy.effect_floor, r_busy   # significant, under the floor
    assert r_slow.p_value < 1e-6 and r_slow.effect_size > r_slow.effect_floor, r_slow
