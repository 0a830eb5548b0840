"""Multi-chart log-likelihood-ratio CUSUM: the base every sequential detector subclasses.

A subclass names its alternatives (one chart each) and computes, per sample, the log-likelihood ratio
``ln f1_k(x) / f0(x)`` of each. The base keeps one CUSUM statistic per chart,
``S_k <- max(0, S_k + llr_k(x))``, and the index where each statistic last left zero, which is the
estimate of the change point (Page 1954; the maximum-likelihood change point for that alternative).
An alarm fires when any ``S_k`` reaches the threshold calibrated for the false-alarm budget
(:mod:`app.detection.sequential.calibration`), less the chart's offset ``b_k`` (default 0): a chart with an offset
alarms at ``h - b_k``, so its healthy alarm rate is that of a chart at ``h`` with ``KL(f0 || f1_k)`` times
``e^{b_k}`` (Wald), and the union bound solves ``h`` with those weighted KLs (a weighted Bonferroni split of the
budget, which stays the same split at every ``h``). A grid of alternatives makes it a discretised
GLR-CUSUM (Lai 1998): each change is caught at about the delay of the chart nearest to it.

The API follows river's drift detectors: ``update(x) -> self``, read-only ``drift_detected``,
``_reset()``; plus ``change_point``, ``delay``, ``statistic`` after an alarm and ``to_dict`` /
``from_dict`` so the state survives a restart.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from app.detection.sequential.calibration import cusum_bound, cusum_threshold

__all__ = ["SequentialDetector", "detector_from_dict"]

_KINDS: dict[str, type[SequentialDetector]] = {}


class SequentialDetector:
    """Base: charts, threshold, change point, alarm, state. Subclasses set ``kind`` and the hooks below."""

    kind: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            _KINDS[cls.kind] = cls

    def __init__(self, *, false_alarm_every: float = 10_000.0) -> None:
        if not false_alarm_every > 1:
            raise ValueError(f"false_alarm_every must be > 1, got {false_alarm_every}")
        self.false_alarm_every = float(false_alarm_every)
        self._offsets = [float(b) for b in self.offsets()]
        self.threshold = cusum_threshold(self.weighted_kl0(), self.false_alarm_every)
        self._reset()

    # --- hooks -----------------------------------------------------------------------------------------
    def labels(self) -> list[str]:
        """One short description per chart (alternative)."""
        raise NotImplementedError

    def llr(self, x: Any) -> list[float]:
        """Log-likelihood ratio ``ln f1_k(x) / f0(x)`` of each chart for one sample."""
        raise NotImplementedError

    def kl0(self) -> list[float]:
        """KL(f0 || f1_k) per chart: drives the healthy run length (threshold)."""
        raise NotImplementedError

    def kl1(self) -> list[float]:
        """KL(f1_k || f0) per chart: the information per sample after a change to alternative ``k``."""
        raise NotImplementedError

    def params(self) -> dict[str, Any]:
        """Constructor keyword arguments (JSON-able) that rebuild this detector."""
        raise NotImplementedError

    @classmethod
    def saved_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        """Constructor arguments from a saved ``params()`` (a subclass maps a state saved by an older version)."""
        return params

    def offsets(self) -> list[float]:
        """Per chart, how far below the threshold it alarms (``b_k >= 0``; default none)."""
        return [0.0] * len(self.labels())

    def weighted_kl0(self) -> list[float]:
        """``KL(f0 || f1_k) e^{b_k}`` per chart: each chart's weight in the union bound of the threshold."""
        return [k * math.exp(b) for k, b in zip(self.kl0(), self._offsets, strict=True)]

    def limits(self) -> list[float]:
        """The level at which each chart alarms: ``h - b_k`` (never below ``h / 100``)."""
        h = self.threshold
        return [max(h - b, h / 100.0) for b in self._offsets]

    def healthy_atoms(self) -> tuple[list[Any], list[float] | None]:
        """Values (and their probabilities; None for equal) of the healthy law the charts assume, ``f0``: what
        :func:`~app.detection.sequential.simulated.conservatism` draws healthy streams from."""
        raise NotImplementedError

    def recovery_chart(self, chart: int) -> int:
        """The chart a recovery test reverses after ``chart`` alarmed: the next smaller alternative of the
        same family (a burst can fire a large alternative first while the change is moderate)."""
        return chart

    # --- river-shaped API ------------------------------------------------------------------------------
    def _reset(self) -> None:
        """Forget the stream: statistics to zero, no alarm."""
        k = len(self.labels())
        self.n = 0
        self.stats = [0.0] * k
        self.starts: list[int | None] = [None] * k
        self._drift_detected = False
        self.change_point: int | None = None
        self.detected_at: int | None = None
        self.chart: int | None = None

    @property
    def drift_detected(self) -> bool:
        """True right after the sample that raised the alarm (the next ``update`` starts afresh)."""
        return self._drift_detected

    @property
    def statistic(self) -> float:
        """Largest CUSUM statistic over the charts, each scaled to the common threshold (``S_k h / (h - b_k)``)."""
        if not self.stats:
            return 0.0
        return max(s * self.threshold / lim for s, lim in zip(self.stats, self.limits(), strict=True))

    def scaled(self, chart: int) -> float:
        """Chart ``chart``'s statistic scaled to the common threshold, as :attr:`statistic`."""
        return self.stats[chart] * self.threshold / self.limits()[chart]

    @property
    def delay(self) -> int | None:
        """Samples from the estimated change point to the alarm (inclusive), after an alarm."""
        if self.detected_at is None or self.change_point is None:
            return None
        return self.detected_at - self.change_point + 1

    def update(self, x: Any, t: int | None = None) -> SequentialDetector:
        """Feed one sample; ``t`` labels it (default: the count of samples fed so far)."""
        if self._drift_detected:
            self._reset()
        t = self.n if t is None else int(t)
        self.n += 1
        best, best_ratio = None, 0.0
        lims = self.limits() if any(self._offsets) else [self.threshold] * len(self.stats)
        for k, inc in enumerate(self.llr(x)):
            s = self.stats[k] + inc
            if s <= 0.0:
                self.stats[k], self.starts[k] = 0.0, None
                continue
            if self.starts[k] is None:
                self.starts[k] = t
            self.stats[k] = s
            if s >= lims[k] and s / lims[k] > best_ratio:
                best, best_ratio = k, s / lims[k]
        if best is not None:
            self._drift_detected = True
            self.chart, self.change_point, self.detected_at = best, self.starts[best], t
        return self

    # --- statements --------------------------------------------------------------------------------------
    def expected_delay(self, chart: int) -> float:
        """Delay (samples) of chart ``chart`` when the change matches its alternative: ``(h - b_k) / KL(f1 || f0)``."""
        kl = self.kl1()[chart]
        return self.limits()[chart] / kl if kl > 0 else math.inf

    def bound(self, chart: int) -> float:
        """Lorden's bound ``ln(ARL0) / KL(f1 || f0)`` for chart ``chart``'s alternative."""
        return cusum_bound(self.false_alarm_every, self.kl1()[chart])

    # --- state -------------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Parameters and state as a JSON-able dict; :func:`detector_from_dict` rebuilds the detector."""
        return {"kind": self.kind, "params": {**self.params(), "false_alarm_every": self.false_alarm_every},
                "state": {"threshold": self.threshold, "n": self.n, "stats": list(self.stats), "starts": list(self.starts),
                          "drift": self._drift_detected, "change_point": self.change_point,
                          "detected_at": self.detected_at, "chart": self.chart}}

    def _load_state(self, state: dict[str, Any]) -> None:
        k = len(self.labels())
        stats, starts = list(state["stats"]), list(state["starts"])
        if len(stats) != k or len(starts) != k:
            raise ValueError(f"{self.kind}: state has {len(stats)} charts, parameters give {k}")
        self.n, self.stats, self.starts = int(state["n"]), [float(s) for s in stats], starts
        self.threshold = float(state.get("threshold", self.threshold))    # a calibrated threshold is kept
        self._drift_detected = bool(state["drift"])
        self.change_point, self.detected_at, self.chart = state["change_point"], state["detected_at"], state["chart"]


def detector_from_dict(data: dict[str, Any]) -> SequentialDetector:
    """Rebuild a detector saved by :meth:`SequentialDetector.to_dict`."""
    try:
        cls = _KINDS[data["kind"]]
        det = cls(**cls.saved_params(dict(data["params"])))
        det._load_state(data["state"])
    except (KeyError, TypeError) as e:
        raise ValueError(f"not a saved sequential detector: {e}") from e
    return det
