"""Multinomial CUSUM on the predicted-class mix against the baseline class shares.

Input: the predicted class (any hashable label, kept as ``str``). Baseline shares ``pi0`` are floored at
``floor`` (default 0.5%) and renormalised; a class never seen in the baseline counts as one ``other``
class with the floor share. One chart per (class ``j``, weight ``w``): the alternative
``pi1 = (1 - w) pi0 + w e_j`` says "class ``j`` took a share ``w`` of the traffic from the others",
which covers a collapse onto one class (silent failure) and, through the class that gains, a class
that disappears. Weights ``w`` default to 0.1, 0.2, 0.4, 0.8; mixes that move less than about half of
the smallest weight do not alarm.

False-alarm budget and delay: as every :class:`~app.detection.sequential.base.SequentialDetector`,
``false_alarm_every`` healthy samples between false alarms; after a change to chart ``k``'s mix the
delay is about ``h / KL(pi1 || pi0)`` (Lorden's bound ``ln(ARL0) / KL``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from app.detection.sequential.base import SequentialDetector

__all__ = ["ClassMixCusum"]

OTHER = "\x00other"
DEFAULT_WEIGHTS = (0.1, 0.2, 0.4, 0.8)


def _kl(p: Sequence[float], q: Sequence[float]) -> float:
    return sum(a * math.log(a / b) for a, b in zip(p, q, strict=True) if a > 0)


class ClassMixCusum(SequentialDetector):
    """CUSUM of "one class took over a share ``w``" against the baseline class shares.

    Examples
    --------
    >>> det = ClassMixCusum(shares={"a": 0.5, "b": 0.5}, false_alarm_every=1000)
    >>> for i in range(100):
    ...     if det.update("a").drift_detected:
    ...         break
    >>> i, det.change_point, det.labels()[det.chart]
    (12, 0, "'a' 49.8% -> 90.0%")
    """

    kind = "class_mix"

    def __init__(self, *, shares: Mapping[str, float], floor: float = 0.005,
                 weights: Sequence[float] = DEFAULT_WEIGHTS, false_alarm_every: float = 10_000.0) -> None:
        total = sum(float(v) for v in shares.values())
        if len(shares) < 2 or total <= 0 or any(float(v) < 0 for v in shares.values()):
            raise ValueError(f"shares need at least 2 classes with non-negative shares, got {dict(shares)}")
        if not 0 < floor < 0.1 or not weights or any(not 0 < w < 1 for w in weights):
            raise ValueError(f"need 0 < floor < 0.1 and weights in (0, 1), got {floor}, {list(weights)}")
        self.shares = {str(k): float(v) / total for k, v in shares.items()}
        self._given = {str(k): float(v) for k, v in shares.items()}   # rebuilt from these (counts or shares) exactly
        self.floor, self.weights = float(floor), sorted(float(w) for w in weights)
        names = sorted(self.shares) + [OTHER]
        raw = [max(self.shares.get(c, 0.0), self.floor) for c in names]
        self.classes = names
        self.pi0 = [r / sum(raw) for r in raw]
        self._index = {c: i for i, c in enumerate(names)}
        self._alts: list[tuple[int, float, list[float]]] = []
        for j in range(len(names) - 1):  # no chart for "other" taking over: any unseen label raises its own
            for w in self.weights:
                pi1 = [(1 - w) * p + (w if i == j else 0.0) for i, p in enumerate(self.pi0)]
                self._alts.append((j, w, pi1))
        self._table = [[math.log(pi1[i] / self.pi0[i]) for (_, _, pi1) in self._alts] for i in range(len(names))]
        super().__init__(false_alarm_every=false_alarm_every)

    def labels(self) -> list[str]:
        return [f"{self.classes[j]!r} {self.pi0[j]:.1%} -> {pi1[j]:.1%}" for j, _, pi1 in self._alts]

    def llr(self, x: Any) -> list[float]:
        return self._table[self._index.get(str(x), self._index[OTHER])]

    def kl0(self) -> list[float]:
        return [_kl(self.pi0, pi1) for _, _, pi1 in self._alts]

    def kl1(self) -> list[float]:
        return [_kl(pi1, self.pi0) for _, _, pi1 in self._alts]

    def healthy_atoms(self) -> tuple[list[Any], list[float] | None]:
        return list(self.classes), list(self.pi0)

    def recovery_chart(self, chart: int) -> int:
        return chart - 1 if chart % len(self.weights) else chart  # charts run class by class, weights ascending

    def params(self) -> dict[str, Any]:
        return {"shares": dict(self._given), "floor": self.floor, "weights": list(self.weights)}
