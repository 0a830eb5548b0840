"""Expected accuracy of one unlabelled window, with a band and an honest ``unreliable`` flag.

Given calibrated P(correct) ``p_i`` for the window's n predictions, the expected accuracy is
``mean(p_i)``. The realised accuracy of the window is a Poisson-binomial mean, so its variance
around the estimate is ``sum p_i (1 - p_i) / n^2`` (sampling) plus the spread of the estimate
over the calibrator's bootstrap refits (calibration). The band is estimate +- z * sqrt(both).

The estimate assumes P(correct | confidence) is the same as on the reference. It is flagged
``unreliable``, with the reasons, when that cannot be trusted:

- the calibration itself failed on the reference (see :class:`CalibrationFit.problems`);
- the band is wider than +- ``max_half_width`` (4 points): the window is too small or the
  calibration too uncertain for the estimate to be trusted to within 5 points (4, not 5: the band
  under-covers where the reference has few wrong answers, and on the benchmark's development
  repetitions 4 caught 137 of 142 windows off by > 5 points, 5 caught 129, at the same precision);
- the inputs left the reference support: the drift suite's domain classifier separates the
  window from the reference almost perfectly, AUC >= ``max_domain_auc`` (0.998) (``SupportEvidence``);
- more than ``max_below_share`` of the window's confidences lie below the lowest confidence seen
  in the labelled reference (the calibrator would extrapolate);
- the window has fewer than ``min_rows`` predictions with a confidence.

A domain classifier that only *tells the windows apart* (``note_domain_auc`` <= AUC <
``max_domain_auc``) gives a ``notes`` entry, not the flag: a selection shift changes the mix of
inputs without leaving the support, and there the estimate holds (bench/cbpe: chosen on
development repetitions 10-15, reported on 0-1).

A concept shift (same inputs, new labels) leaves confidence and inputs unchanged; no label-free
estimate can see it, and this one does not claim to.

>>> from app.detection.cbpe.calibration import ConfidenceCalibrator
>>> rng = np.random.default_rng(1)
>>> conf = rng.uniform(0.5, 1.0, 3000)
>>> cal = ConfidenceCalibrator(seed=0).fit(conf, (rng.uniform(size=3000) < conf).astype(float))
>>> est = estimate_accuracy(cal, np.full(2000, 0.9))
>>> bool(abs(est.estimate - 0.9) < 0.05), est.unreliable, est.band[0] < est.estimate < est.band[1]
(True, False, True)
>>> estimate_accuracy(cal, np.full(200, 0.6)).reasons[0][:24]   # 200 rows at 60 %: too few
'the band is +- 7.9 point'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from app.detection.cbpe.calibration import ConfidenceCalibrator

__all__ = ["AccuracyEstimate", "SupportEvidence", "estimate_accuracy"]


@dataclass(frozen=True)
class SupportEvidence:
    """What the drift suite's domain classifier said about this window vs the reference."""

    auc: float
    drift_detected: bool
    p_value: float | None = None


@dataclass(frozen=True)
class AccuracyEstimate:
    """The estimate for one window (rounded in ``to_dict``)."""

    estimate: float
    band: tuple[float, float]
    level: float
    sampling_sd: float
    calibration_sd: float
    n_rows: int
    reference_accuracy: float
    realised: float | None = None
    n_labelled: int = 0
    unreliable: bool = False
    reasons: tuple[str, ...] = field(default_factory=tuple)
    domain_auc: float | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """The report's ``estimated_performance`` mapping."""
        r4 = lambda v: None if v is None else round(float(v), 4)
        out: dict[str, Any] = {
            "metric": "accuracy", "method": "cbpe_isotonic", "estimate": r4(self.estimate),
            "band": [r4(self.band[0]), r4(self.band[1])], "level": self.level,
            "std_error": r4(float(np.hypot(self.sampling_sd, self.calibration_sd))),
            "sampling_sd": r4(self.sampling_sd), "calibration_sd": r4(self.calibration_sd),
            "n_rows": self.n_rows, "reference_accuracy": r4(self.reference_accuracy),
            "realised": r4(self.realised), "n_labelled": self.n_labelled,
            "error": r4(self.estimate - self.realised) if self.realised is not None else None,
            "within_band": (self.band[0] <= self.realised <= self.band[1]) if self.realised is not None else None,
            "unreliable": self.unreliable, "reasons": list(self.reasons), "notes": list(self.notes),
        }
        if self.domain_auc is not None:
            out["domain_auc"] = r4(self.domain_auc)
        return out


def _support_reasons(support: SupportEvidence | None, max_domain_auc: float) -> list[str]:
    if support is None or not support.drift_detected or support.auc < max_domain_auc:
        return []
    return [(f"inputs left the reference support: a classifier tells the window from the reference almost "
             f"perfectly (AUC {support.auc:.3f} >= {max_domain_auc:.3f}), where the confidence-to-accuracy map "
             f"was never checked")]


def _support_notes(support: SupportEvidence | None, note_domain_auc: float, max_domain_auc: float) -> list[str]:
    if support is None or not support.drift_detected or not note_domain_auc <= support.auc < max_domain_auc:
        return []
    return [(f"the input mix changed (a classifier tells the window from the reference, AUC {support.auc:.2f}) "
             f"but the inputs stay within the reference's range: the estimate still holds if the model's "
             f"confidence means what it meant on the reference")]


def estimate_accuracy(cal: ConfidenceCalibrator, confidence: np.ndarray, correct: np.ndarray | None = None, *,
                      support: SupportEvidence | None = None, level: float = 0.95, min_rows: int = 20,
                      max_domain_auc: float = 0.998, note_domain_auc: float = 0.8, max_half_width: float = 0.04,
                      max_below_share: float = 0.1) -> AccuracyEstimate:
    """Estimate the window's accuracy from its confidences (``correct``, when given, is the realised 1/0)."""
    if not 0.5 <= level < 1.0:
        raise ValueError(f"level must be in [0.5, 1), got {level}")
    c = np.asarray(confidence, dtype=float)
    c = c[np.isfinite(c)]
    if c.size == 0:
        raise ValueError("no confidence values in the window: nothing to estimate from")
    p = cal.predict(c)
    est = float(p.mean())
    sampling = float(np.sqrt((p * (1 - p)).sum()) / c.size)
    calib = float(cal.predict_boot(c).mean(axis=1).std(ddof=1))
    z = float(stats.norm.ppf(0.5 + level / 2))
    half = z * float(np.hypot(sampling, calib))
    reasons = list(cal.fit_.problems)
    if half > max_half_width:
        reasons.append(f"the band is +- {100 * half:.1f} points (more than +- {100 * max_half_width:.0f}): "
                       f"too few rows or too uncertain a calibration to trust the estimate to within a few points")
    reasons += _support_reasons(support, max_domain_auc)
    below = float((c < cal.min_confidence_).mean())
    if below > max_below_share:
        reasons.append(f"{below:.0%} of the window's confidences are below the lowest one in the labelled "
                       f"reference ({cal.min_confidence_:.3f}): the calibration is extrapolated there")
    if c.size < min_rows:
        reasons.append(f"only {c.size} predictions with a confidence in the window (need {min_rows})")
    realised, n_lab = None, 0
    if correct is not None:
        y = np.asarray(correct, dtype=float)
        y = y[np.isfinite(y)]
        if y.size:
            realised, n_lab = float(y.mean()), int(y.size)
    return AccuracyEstimate(estimate=est, band=(max(0.0, est - half), min(1.0, est + half)), level=level,
                            sampling_sd=sampling, calibration_sd=calib, n_rows=int(c.size),
                            reference_accuracy=cal.fit_.reference_accuracy, realised=realised, n_labelled=n_lab,
                            unreliable=bool(reasons), reasons=tuple(reasons),
                            domain_auc=support.auc if support is not None else None,
                            notes=tuple(_support_notes(support, note_domain_auc, max_domain_auc)))
