"""Simulated endpoint streams for the sequential benchmark: healthy samples, then one signal changes.

Healthy endpoint: accuracy 92%, request errors 1%, confidence Beta(9, 1.5) (mean 0.86, skewed to 1),
latency log-normal (median 40 ms, sigma 0.35), predicted classes a/b/c at 50/30/20%. Each mode changes
one signal (``MODES``); ``cusum_bound`` gives Lorden's ``ln(ARL0) / KL(changed || healthy)`` of that
signal's per-sample distribution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy import stats

from app.detection.sequential import Sample

__all__ = ["HEALTHY", "MODES", "Regime", "cusum_bound", "draw", "peer_value"]

CLASSES = ("a", "b", "c")


@dataclass(frozen=True)
class Regime:
    """Parameters of the endpoint's behaviour."""

    acc: float = 0.92
    err: float = 0.01
    conf_shift: float = 0.0
    lat: float = 1.0
    mix: tuple[float, float, float] = (0.5, 0.3, 0.2)


HEALTHY = Regime()
# mode -> (signal that changes, regime after the change)
MODES: dict[str, tuple[str, Regime]] = {
    "accuracy -10 pts": ("correctness", replace(HEALTHY, acc=0.82)),
    "accuracy -20 pts": ("correctness", replace(HEALTHY, acc=0.72)),
    "accuracy -40 pts": ("correctness", replace(HEALTHY, acc=0.52)),
    "confidence -0.10": ("confidence", replace(HEALTHY, conf_shift=-0.10)),
    "error rate +5 pts": ("errors", replace(HEALTHY, err=0.06)),
    "error rate +20 pts": ("errors", replace(HEALTHY, err=0.21)),
    "latency x2": ("latency", replace(HEALTHY, lat=2.0)),
    "class mix 50/30/20 -> 35/30/35": ("class_mix", replace(HEALTHY, mix=(0.35, 0.3, 0.35))),
}
# other directions of a class-mix change (matched.py --mix-directions): what a chart for one direction must not slow
MIX_DIRECTIONS: dict[str, tuple[str, Regime]] = {
    "class mix: rarest doubles 50/30/20 -> 37.5/22.5/40": ("class_mix", replace(HEALTHY, mix=(0.375, 0.225, 0.4))),
    "class mix: to the commonest 50/30/20 -> 65/21/14": ("class_mix", replace(HEALTHY, mix=(0.65, 0.21, 0.14))),
    "class mix: middle gains 50/30/20 -> 40/45/15": ("class_mix", replace(HEALTHY, mix=(0.4, 0.45, 0.15))),
}


def draw(rng: np.random.Generator, n: int, r: Regime) -> list[Sample]:
    """``n`` samples of regime ``r``."""
    err = rng.random(n) < r.err
    correct = rng.random(n) < r.acc
    conf = np.clip(rng.beta(9.0, 1.5, n) + r.conf_shift, 0.0, 1.0)
    lat = r.lat * np.exp(rng.normal(math.log(40.0), 0.35, n))
    cls = rng.choice(3, size=n, p=list(r.mix))
    return [Sample(error=True) if err[i] else
            Sample(error=False, correct=bool(correct[i]), confidence=float(conf[i]), latency_ms=float(lat[i]),
                   predicted=CLASSES[cls[i]]) for i in range(n)]


def peer_value(signal: str, s: Sample) -> float | None:
    """The univariate value a river peer sees for ``signal`` (larger = worse), or None when absent."""
    if signal == "errors":
        return float(s.error)
    if s.error:
        return None
    if signal == "correctness":
        return 0.0 if s.correct else 1.0
    if signal == "confidence":
        return -float(s.confidence)  # type: ignore[arg-type]
    if signal == "latency":
        return math.log(float(s.latency_ms))  # type: ignore[arg-type]
    if signal == "class_mix":  # surprisal under the healthy class shares
        return -math.log(HEALTHY.mix[CLASSES.index(str(s.predicted))])
    raise ValueError(signal)


def _bern_kl(p: float, q: float) -> float:
    return p * math.log(p / q) + (1 - p) * math.log((1 - p) / (1 - q))


def kl_per_sample(signal: str, after: Regime) -> float:
    """KL(changed || healthy) of the signal's per-sample distribution (nats)."""
    h = HEALTHY
    if signal == "errors":
        return _bern_kl(after.err, h.err)
    if signal == "correctness":  # labelled answers only come from non-error samples
        return (1 - h.err) * _bern_kl(1 - after.acc, 1 - h.acc)
    if signal == "latency":
        return (1 - h.err) * (math.log(after.lat) / 0.35) ** 2 / 2
    if signal == "class_mix":
        return (1 - h.err) * sum(p * math.log(p / q) for p, q in zip(after.mix, h.mix, strict=True))
    if signal == "confidence":  # x = y + shift, y ~ Beta(9, 1.5): E[ln f0(x - shift) - ln f0(x)]
        y = stats.beta(9.0, 1.5).rvs(size=400_000, random_state=1)
        x = y + after.conf_shift
        ok = (x > 0) & (x < 1)
        return (1 - h.err) * float(np.mean(stats.beta.logpdf(y[ok], 9.0, 1.5) - stats.beta.logpdf(x[ok], 9.0, 1.5)))
    raise ValueError(signal)


def cusum_bound(signal: str, after: Regime, arl0: float = 10_000.0) -> float:
    """Lorden's bound ``ln(ARL0) / KL`` in endpoint samples."""
    return math.log(arl0) / kl_per_sample(signal, after)
