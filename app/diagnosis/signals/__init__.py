"""Numbers from an experiment record turned into named signals (gaps, skill, rates, curve shapes) the rules read."""

from app.diagnosis.signals.base import Signals
from app.diagnosis.signals.compute import compute_signals

__all__ = ["Signals", "compute_signals"]
