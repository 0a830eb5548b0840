"""Drift and behaviour detectors, their registry, and the window/batch analyses built on them."""

from __future__ import annotations

from typing import Any

__all__ = ["analyze_window", "compare_frames", "compute_metrics", "feature_drift"]

_LAZY = {
    "analyze_window": "app.detection.window",
    "compare_frames": "app.detection.compare",
    "feature_drift": "app.detection.drift",
    "compute_metrics": "app.detection.metrics",
}


def __getattr__(name: str) -> Any:
    """Import the heavy modules (scipy, scikit-learn, shap) only when they are first used."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'app.detection' has no attribute {name!r}")
