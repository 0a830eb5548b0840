"""One-sided Bernoulli CUSUM/GLR for a rate that gets worse: request errors, wrong answers.

Input: 1 (bad: failed request, wrong answer) or 0 per sample. Baseline rate ``p0`` comes from the
baseline, raised to ``floor`` (default 1%) so that a baseline with no bad sample at all does not turn
one stray error into an alarm. One chart per rise ``d`` of the grid ``shifts`` (default +5, +10, +20,
+40, +80 points), alternative ``p1 = min(p0 + d, 0.99)``; rises below about half the smallest step
have a negative drift and never alarm (the practical floor).

False-alarm budget: ``false_alarm_every`` healthy samples between false alarms on average (threshold
from :func:`~app.detection.sequential.calibration.cusum_threshold`). Expected delay after a change to
``p1``: ``h / KL(Bern(p1) || Bern(p0))``, close to Lorden's bound ``ln(ARL0) / KL``; e.g. 99% -> 59%
accuracy at ARL0 = 50,000 is caught in about 10 samples (bound 8.9).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from app.detection.sequential.base import SequentialDetector

__all__ = ["BernoulliCusum", "bernoulli_kl"]

DEFAULT_SHIFTS = (0.05, 0.1, 0.2, 0.4, 0.8)


def bernoulli_kl(p: float, q: float) -> float:
    """KL(Bern(p) || Bern(q)) in nats.

    >>> round(bernoulli_kl(0.5, 0.01), 3)
    1.614
    """
    out = 0.0
    if p > 0:
        out += p * math.log(p / q)
    if p < 1:
        out += (1 - p) * math.log((1 - p) / (1 - q))
    return out


class BernoulliCusum(SequentialDetector):
    """CUSUM on 0/1 bad-outcome indicators against a baseline rate, one chart per rise in ``shifts``.

    Examples
    --------
    >>> import random
    >>> rng = random.Random(7)
    >>> det = BernoulliCusum(p0=0.01, false_alarm_every=10_000)
    >>> stream = [rng.random() < 0.01 for _ in range(500)] + [rng.random() < 0.41 for _ in range(100)]
    >>> for i, x in enumerate(stream):
    ...     if det.update(x).drift_detected:
    ...         break
    >>> i >= 500, det.change_point >= 495
    (True, True)
    """

    kind = "bernoulli"

    def __init__(self, *, p0: float, floor: float = 0.01, shifts: Sequence[float] = DEFAULT_SHIFTS,
                 false_alarm_every: float = 10_000.0) -> None:
        if not 0.0 <= p0 < 1.0 or not 0.0 < floor < 0.5:
            raise ValueError(f"need 0 <= p0 < 1 and 0 < floor < 0.5, got p0={p0}, floor={floor}")
        if not shifts or any(not 0 < d < 1 for d in shifts):
            raise ValueError(f"shifts must be rises in (0, 1), got {list(shifts)}")
        self.p0, self.floor, self.shifts = float(p0), float(floor), [float(d) for d in shifts]
        self.rate0 = min(max(self.p0, self.floor), 0.98)
        self.rates1 = sorted({min(self.rate0 + d, 0.99) for d in self.shifts})
        self._inc1 = [math.log(p1 / self.rate0) for p1 in self.rates1]
        self._inc0 = [math.log((1 - p1) / (1 - self.rate0)) for p1 in self.rates1]
        super().__init__(false_alarm_every=false_alarm_every)

    def labels(self) -> list[str]:
        return [f"rate {self.rate0:.1%} -> {p1:.1%}" for p1 in self.rates1]

    def llr(self, x: Any) -> list[float]:
        return self._inc1 if x else self._inc0

    def kl0(self) -> list[float]:
        return [bernoulli_kl(self.rate0, p1) for p1 in self.rates1]

    def kl1(self) -> list[float]:
        return [bernoulli_kl(p1, self.rate0) for p1 in self.rates1]

    def healthy_atoms(self) -> tuple[list[Any], list[float] | None]:
        return [0, 1], [1.0 - self.rate0, self.rate0]

    def recovery_chart(self, chart: int) -> int:
        return max(0, chart - 1)

    def params(self) -> dict[str, Any]:
        return {"p0": self.p0, "floor": self.floor, "shifts": list(self.shifts)}
