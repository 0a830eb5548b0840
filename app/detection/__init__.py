"""Statistics: drift and behaviour detectors, their registry and suite, metrics, learning a baseline."""

from __future__ import annotations

from typing import Any

__all__ = ["compute_metrics", "feature_drift", "learn_baseline"]

_LAZY = {
    "feature_drift": "app.detection.drift",
    "compute_metrics": "app.detection.metrics",
    "learn_baseline": "app.detection.baseline",
}


def __getattr__(name: str) -> Any:
    """Import the heavy modules (scipy, scikit-learn, shap) only when they are first used."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'app.detection' has no attribute {name!r}")
