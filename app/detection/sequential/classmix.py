"""Multinomial CUSUM on the predicted-class mix against the baseline class shares.

Input: the predicted class (any hashable label, kept as ``str``). Baseline shares ``pi0`` are floored at
``floor`` (default 0.5%) and renormalised; a class never seen in the baseline counts as one ``other``
class with the floor share. One chart per (class ``j``, weight ``w``): the alternative
``pi1 = (1 - w) pi0 + w e_j`` says "class ``j`` took a share ``w`` of the traffic from the others",
which covers a collapse onto one class (silent failure) and, through the class that gains, a class
that disappears. Weights ``w`` default to 0.1, 0.2, 0.4, 0.8; mixes that move less than about half of
the smallest weight do not alarm.

Plus a chart for the change no single class explains, "traffic moves to rarer classes": the exponential tilt
``pi_t(j) ~ pi0(j)^(1 - t)`` of the seen classes (the unseen class keeps its floor share), by default ``t = 1``, the
uniform mix. Its log-likelihood ratio is ``t * (-ln pi0(j)) - A(t)``: a CUSUM on the surprisal under the baseline
shares, the value river's ADWIN is given in the bench. It gets ``tilt_share`` (default a quarter) of the union bound
through an offset (it alarms at ``h - b``, :class:`~app.detection.sequential.base.SequentialDetector`): its KL is
about 2 % of the twelve weight charts' sum, so at a common threshold it would get 2 % of the budget and alarm at ``h``.
The weight charts' threshold rises by ``ln(4/3)`` in the union bound; for 50/30/20 -> 35/30/35 (KL 0.071 per sample)
the uniform chart gets 0.0685 nats per sample at ``h - 2.7`` where the best weight chart got 0.062 at ``h``. Measured
(``bench/sequential/matched.py --mix-directions``, ``bench/results/sequential_matched_product_s10.md``): that change
is caught 30-45 % sooner, a class doubling as before, mass moving to the commonest or the middle class up to 10 %
later. Half of the budget was measured in session 13 (``bench/results/sequential_live_classmix_s13.md``, 500 live
streams): that change 115 -> 103 samples (median), mass moving to the commonest class 194 -> 210, the middle class
gaining 200 -> 211 (and 7-13 % later with a 5,000-sample baseline); a quarter is kept. A milder flattening over
many classes (where the uniform mix is far) is left to the weight charts: a half-way tilt (``t = 0.5``) is so
sensitive to the shares' estimation error that a 150-sample baseline's bootstrap dropped every weight chart but 0.8 to
keep the budget. A tilt that moves less than 10 % of the traffic (total
variation; a baseline near the uniform mix, e.g. wine's 33/40/27 or digits') gets no chart: there the shares'
estimation error fakes it. A reference below 600 samples gets none either (:func:`tilts_for`; the monitor's
refinement grows a 150-sample baseline to 600 and on to 2,400).

False-alarm budget and delay: as every :class:`~app.detection.sequential.base.SequentialDetector`,
``false_alarm_every`` healthy samples between false alarms; after a change to chart ``k``'s mix the
delay is about ``h / KL(pi1 || pi0)`` (Lorden's bound ``ln(ARL0) / KL``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from app.detection.sequential.base import SequentialDetector

__all__ = ["ClassMixCusum", "tilts_for"]

OTHER = "\x00other"
DEFAULT_WEIGHTS = (0.1, 0.2, 0.4, 0.8)
DEFAULT_TILTS = (1.0,)
TILT_SHARE = 0.25       # the surprisal chart's share of the union bound (half measured, not kept: see above)
TILT_MIN_MOVE = 0.1      # a tilt moving less of the traffic (total variation) than the smallest weight is no chart
TILT_MIN_REFERENCE = 600    # the refinement's second rung: a smaller reference gets no tilt chart (tilts_for)


def _kl(p: Sequence[float], q: Sequence[float]) -> float:
    return sum(a * math.log(a / b) for a, b in zip(p, q, strict=True) if a > 0)


def tilts_for(n: int | None) -> tuple[float, ...]:
    """The tilt charts for a reference of ``n`` samples (None: taken as the truth): none below
    ``TILT_MIN_REFERENCE``. On 150-sample references the shares' estimation error faked the tilt: fixed wine
    baselines ran class mix at 1.10 false alarms per 10,000 with it (0.20 without), the bootstrap did not cover it.

    >>> tilts_for(150), tilts_for(600), tilts_for(None)
    ((), (1.0,), (1.0,))
    """
    return DEFAULT_TILTS if n is None or n >= TILT_MIN_REFERENCE else ()


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
                 weights: Sequence[float] = DEFAULT_WEIGHTS, tilts: Sequence[float] = DEFAULT_TILTS,
                 tilt_share: float = TILT_SHARE, false_alarm_every: float = 10_000.0) -> None:
        total = sum(float(v) for v in shares.values())
        if len(shares) < 2 or total <= 0 or any(float(v) < 0 for v in shares.values()):
            raise ValueError(f"shares need at least 2 classes with non-negative shares, got {dict(shares)}")
        if not 0 < floor < 0.1 or not weights or any(not 0 < w < 1 for w in weights):
            raise ValueError(f"need 0 < floor < 0.1 and weights in (0, 1), got {floor}, {list(weights)}")
        if any(not 0 < t <= 2 for t in tilts) or not 0 < tilt_share < 1:
            raise ValueError(f"need tilts in (0, 2] and 0 < tilt_share < 1, got {list(tilts)}, {tilt_share}")
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
        self.n_weighted = len(self._alts)
        self.tilt_share = float(tilt_share)
        self.tilts: list[float] = []
        seen, rest = self.pi0[:-1], self.pi0[-1]
        for t in sorted(float(t) for t in tilts):
            raw_t = [p ** (1.0 - t) for p in seen]
            pi1 = [r * (1.0 - rest) / sum(raw_t) for r in raw_t] + [rest]
            # near a uniform baseline the tilt is a change the shares' estimation error fakes (wine, 33/40/27: one
            # fixed 150-sample baseline's bootstrap left 1.30 false alarms per 10,000 on it): no chart below 10 %
            if 0.5 * sum(abs(a - b) for a, b in zip(pi1, self.pi0, strict=True)) >= TILT_MIN_MOVE:
                self.tilts.append(t)
                self._alts.append((-1, t, pi1))
        self._table = [[math.log(pi1[i] / self.pi0[i]) for (_, _, pi1) in self._alts] for i in range(len(names))]
        super().__init__(false_alarm_every=false_alarm_every)

    def labels(self) -> list[str]:
        out = [f"{self.classes[j]!r} {self.pi0[j]:.1%} -> {pi1[j]:.1%}" for j, _, pi1 in self._alts[:self.n_weighted]]
        seen = range(len(self.pi0) - 1)
        hi, lo = max(seen, key=self.pi0.__getitem__), self._rarest()
        return out + [f"to rarer classes: {self.classes[hi]!r} {self.pi0[hi]:.1%} -> {pi1[hi]:.1%}, "
                      f"{self.classes[lo]!r} {self.pi0[lo]:.1%} -> {pi1[lo]:.1%}" for _, _, pi1 in self._alts[self.n_weighted:]]

    def _rarest(self) -> int:
        """Index of the seen class with the smallest baseline share (the unseen "other" class is last)."""
        return min(range(len(self.pi0) - 1), key=self.pi0.__getitem__)

    def offsets(self) -> list[float]:
        """The tilt charts alarm ``b`` below the threshold, ``b`` such that their weighted KLs
        (:meth:`~app.detection.sequential.base.SequentialDetector.weighted_kl0`) are ``tilt_share`` of the union's."""
        kl = self.kl0()
        weighted, tilted = sum(kl[:self.n_weighted]), sum(kl[self.n_weighted:])
        if not self.tilts or tilted <= 0 or weighted <= 0:
            return [0.0] * len(kl)
        b = math.log(self.tilt_share / (1.0 - self.tilt_share) * weighted / tilted)
        return [0.0] * self.n_weighted + [b] * len(self.tilts)

    def llr(self, x: Any) -> list[float]:
        return self._table[self._index.get(str(x), self._index[OTHER])]

    def kl0(self) -> list[float]:
        return [_kl(self.pi0, pi1) for _, _, pi1 in self._alts]

    def kl1(self) -> list[float]:
        return [_kl(pi1, self.pi0) for _, _, pi1 in self._alts]

    def healthy_atoms(self) -> tuple[list[Any], list[float] | None]:
        return list(self.classes), list(self.pi0)

    def recovery_chart(self, chart: int) -> int:
        if chart > self.n_weighted:                                 # tilts ascending: the next smaller tilt
            return chart - 1
        if chart == self.n_weighted:    # the smallest tilt: the rarest seen class's smallest weight, the smaller move
            rarest = self._rarest()                                            # the tilt gives it the most traffic
            return rarest * len(self.weights)                                  # (its own chart recovered on any
        return chart - 1 if chart % len(self.weights) else chart  # wobble of a change between it and the baseline)

    def params(self) -> dict[str, Any]:
        return {"shares": dict(self._given), "floor": self.floor, "weights": list(self.weights),
                "tilts": list(self.tilts), "tilt_share": self.tilt_share}

    @classmethod
    def saved_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        """A detector saved before the tilt charts existed resumes as it was (its threshold was set without them)."""
        return params if "tilts" in params else {**params, "tilts": ()}
