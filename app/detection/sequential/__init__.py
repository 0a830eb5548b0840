"""Sequential (multi-chart CUSUM) change detectors per signal, their recovery test and a per-endpoint monitor."""

from __future__ import annotations

from app.detection.sequential.base import SequentialDetector
from app.detection.sequential.bernoulli import BernoulliCusum
from app.detection.sequential.calibration import cusum_bound, cusum_threshold
from app.detection.sequential.classmix import ClassMixCusum
from app.detection.sequential.meanscale import MeanScaleCusum
from app.detection.sequential.monitor import Alarm, MonitorBaseline, Sample, SequentialMonitor
from app.detection.sequential.recovery import RecoveryTest

__all__ = [
    "Alarm",
    "BernoulliCusum",
    "ClassMixCusum",
    "MeanScaleCusum",
    "MonitorBaseline",
    "RecoveryTest",
    "Sample",
    "SequentialDetector",
    "SequentialMonitor",
    "cusum_bound",
    "cusum_threshold",
]
