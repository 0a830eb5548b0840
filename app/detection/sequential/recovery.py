"""Recovery test: after an alarm, a CUSUM back to the baseline says when the signal is healthy again.

It reverses the chart below the one that raised the alarm (:meth:`SequentialDetector.recovery_chart`:
the next smaller alternative of the same family, since a burst can fire a large alternative first):
the increment is ``ln f0(x) / f1(x)`` (minus that chart's
increment), so the statistic climbs at ``KL(f0 || f1)`` per sample once the signal is back at the
baseline, and drifts down at ``KL(f1 || f0)`` while it is still changed. Same threshold ``h`` as the
detector, hence the same budget: a still-failing signal is declared healthy less than once per
``false_alarm_every`` samples. Stated recovery delay: ``h / KL(f0 || f1)`` samples after the healing
(:meth:`RecoveryTest.expected_delay`); the healing point is estimated like a change point.
"""

from __future__ import annotations

from typing import Any

from app.detection.sequential.base import SequentialDetector, detector_from_dict
from app.detection.sequential.calibration import cusum_threshold

__all__ = ["RecoveryTest"]


class RecoveryTest:
    """Reverse CUSUM of a detector's alarming chart; ``update(x) -> self``, read-only ``recovered``.

    Examples
    --------
    >>> from app.detection.sequential.bernoulli import BernoulliCusum
    >>> det = BernoulliCusum(p0=0.01, false_alarm_every=1000)
    >>> for _ in range(20):
    ...     _ = det.update(1)
    ...     if det.drift_detected:
    ...         break
    >>> rec = RecoveryTest(det)
    >>> n = next(i for i in range(100) if rec.update(0).recovered)
    >>> n + 1 <= round(rec.expected_delay()) + 1, rec.healed_at
    (True, 0)
    """

    def __init__(self, detector: SequentialDetector, chart: int | None = None, *,
                 false_recovery_every: float | None = None) -> None:
        chart = detector.recovery_chart(detector.chart) if chart is None and detector.chart is not None else chart
        if chart is None or not 0 <= chart < len(detector.labels()):
            raise ValueError("RecoveryTest needs a detector that raised an alarm, or an explicit chart")
        self.detector, self.chart = detector, int(chart)
        self.false_recovery_every = None if false_recovery_every is None else float(false_recovery_every)
        self.threshold = detector.threshold
        if self.false_recovery_every is not None:   # its own budget, under the changed law; never above h
            kl = detector.kl1()[self.chart]
            if kl > 0:
                self.threshold = min(self.threshold, cusum_threshold([kl], self.false_recovery_every))
        self._reset()

    def _reset(self) -> None:
        self.n, self.stat = 0, 0.0
        self.start: int | None = None
        self._recovered = False
        self.healed_at: int | None = None
        self.recovered_at: int | None = None

    @property
    def recovered(self) -> bool:
        """True once the signal is judged back at the baseline (stays True)."""
        return self._recovered

    def update(self, x: Any, t: int | None = None) -> RecoveryTest:
        """Feed one sample; ``t`` labels it (default: count of samples fed to this test)."""
        if self._recovered:
            return self
        t = self.n if t is None else int(t)
        self.n += 1
        s = self.stat - self.detector.llr(x)[self.chart]
        if s <= 0.0:
            self.stat, self.start = 0.0, None
            return self
        if self.start is None:
            self.start = t
        self.stat = s
        if s >= self.threshold:
            self._recovered, self.healed_at, self.recovered_at = True, self.start, t
        return self

    def expected_delay(self) -> float:
        """Samples from the healing to the recovery verdict: ``h / KL(f0 || f1)``."""
        kl = self.detector.kl0()[self.chart]
        return self.threshold / kl if kl > 0 else float("inf")

    def to_dict(self) -> dict[str, Any]:
        """Parameters and state as a JSON-able dict (the detector's parameters included)."""
        return {"detector": self.detector.to_dict(), "chart": self.chart,
                "false_recovery_every": self.false_recovery_every,
                "state": {"n": self.n, "stat": self.stat, "start": self.start, "recovered": self._recovered,
                          "healed_at": self.healed_at, "recovered_at": self.recovered_at}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RecoveryTest:
        """Rebuild a test saved by :meth:`to_dict`."""
        try:
            rec = cls(detector_from_dict(data["detector"]), int(data["chart"]),
                      false_recovery_every=data.get("false_recovery_every"))
            st = data["state"]
            rec.n, rec.stat, rec.start = int(st["n"]), float(st["stat"]), st["start"]
            rec._recovered, rec.healed_at, rec.recovered_at = bool(st["recovered"]), st["healed_at"], st["recovered_at"]
        except (KeyError, TypeError) as e:
            raise ValueError(f"not a saved recovery test: {e}") from e
        return rec
