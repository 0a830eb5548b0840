"""Label-free accuracy estimate: cross-fitted isotonic calibration of confidence to correctness, per-window estimate with a band and an ``unreliable`` flag."""

from __future__ import annotations

from app.detection.cbpe.calibration import CalibrationFit, ConfidenceCalibrator
from app.detection.cbpe.estimate import AccuracyEstimate, SupportEvidence, estimate_accuracy

__all__ = ["AccuracyEstimate", "CalibrationFit", "ConfidenceCalibrator", "SupportEvidence", "estimate_accuracy"]
