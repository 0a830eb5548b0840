"""Today's windowed detection as a peer: the last 150 samples against the baseline, every ``step`` samples.

One registered behaviour/drift detector per signal, as the windowed suite runs them (accuracy_drop,
error_rate, latency_shift, ks on confidence, chi2 on predicted classes), decided by
``app.detection.base.decide`` at alpha 0.05 with each detector's effect floor.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from app.detection.base import Detector, decide
from app.detection.behaviour import AccuracyDropDetector, ErrorRateDetector, LatencyShiftDetector
from app.detection.chi2 import Chi2Detector
from app.detection.ks import KSDetector
from app.detection.sequential import Sample

__all__ = ["WindowedTest"]

WINDOW = 150


def _column(signal: str, rows: Sequence[Sample]) -> np.ndarray:
    if signal == "errors":
        return np.array([[float(s.error)] for s in rows])
    ok = [s for s in rows if not s.error]
    if signal == "correctness":
        return np.array([[float(bool(s.correct))] for s in ok])
    if signal == "confidence":
        return np.array([[float(s.confidence)] for s in ok])  # type: ignore[arg-type]
    if signal == "latency":
        return np.array([[float(s.latency_ms)] for s in ok])  # type: ignore[arg-type]
    if signal == "class_mix":
        return np.array([[s.predicted] for s in ok], dtype=object)
    raise ValueError(signal)


_DETECTORS: dict[str, type[Detector]] = {
    "correctness": AccuracyDropDetector, "errors": ErrorRateDetector, "latency": LatencyShiftDetector,
    "confidence": KSDetector, "class_mix": Chi2Detector,
}


class WindowedTest:
    """Flags a signal when its detector, run on the last ``WINDOW`` samples, decides a change."""

    def __init__(self, signal: str, baseline: Sequence[Sample], step: int = 10, alpha: float = 0.05) -> None:
        self.signal, self.step, self.alpha = signal, step, alpha
        self.det = _DETECTORS[signal]().fit(_column(signal, baseline), names=[signal])

    def flags(self, stream: Sequence[Sample]) -> list[tuple[int, bool]]:
        """(index of the last sample in the window, flagged) at every evaluation."""
        out = []
        for end in range(WINDOW, len(stream) + 1, self.step):
            col = _column(self.signal, stream[end - WINDOW:end])
            flagged = bool(col.shape[0] >= 5 and any(r.drift_detected for r in decide(self.det.score(col), self.alpha)))
            out.append((end - 1, flagged))
        return out


def episodes(flags: Sequence[tuple[int, bool]]) -> int:
    """Number of alarms: flagged evaluations that follow an unflagged one (or start the stream)."""
    n, prev = 0, False
    for _, f in flags:
        n += f and not prev
        prev = f
    return n
