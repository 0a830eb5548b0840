"""``analyze_window``: compare a window of samples with the endpoint's baseline -> a monitoring Report."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from app.analysis.report import build_report
from app.config import Settings
from app.detection.baseline import baseline_size_problem
from app.detection.metrics import compute_metrics
from app.detection.sketch import is_sketch, sketch_frame
from app.detection.suite import DetectionConfig, WindowData, run_suite
from app.detection.task import as_float, float_values
from app.errors import InputError, shown
from app.schemas import Baseline, Report, Sample

__all__ = ["analyze_window", "baseline_window", "detection_config", "samples_window"]


def _arr(values: list[Any], dtype: Any = float) -> np.ndarray | None:
    return np.asarray(values, dtype=dtype) if len(values) else None


def detection_config(settings: Settings | None, overrides: dict[str, Any] | None = None) -> DetectionConfig:
    """The suite's configuration: ``settings.alpha`` plus per-endpoint overrides (validated)."""
    base: dict[str, Any] = {"alpha": settings.alpha} if settings is not None else {}
    try:
        return DetectionConfig(**{**base, **(overrides or {})})
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InputError(f"bad detection settings: {'.'.join(map(str, first['loc']))}: {first['msg']}") from exc


def baseline_window(b: Baseline, task: str | None = None) -> WindowData:
    """The reference window as arrays, rebuilt from the stored baseline (``task`` overrides ``b.task``)."""
    task = task or b.task
    preds = [k for k, c in b.class_counts.items() for _ in range(c)]
    if task == "regression" and not preds:
        preds = [repr(v) for v in b.prediction_values]
    total = b.metrics.total_samples or b.n_samples
    n_err = round(b.metrics.error_rate * total)
    features: pd.DataFrame | None = None
    if is_sketch(b):      # MLFI_STORE_INPUTS=none: rebuilt from quantile sketches (app.detection.sketch)
        features = sketch_frame(b)
    elif b.feature_rows:
        features = pd.DataFrame(b.feature_rows)
    elif b.features:
        lengths = {len(f.values) for f in b.features.values()}
        if len(lengths) == 1 and lengths != {0}:
            features = pd.DataFrame({k: f.values for k, f in b.features.items()})
    outcomes = None
    if features is not None and not is_sketch(b) and b.confidences and len(b.confidences) == len(features):
        outcomes = pd.DataFrame({"confidence": b.confidences})
    regression = task == "regression"
    pred_values = _arr(b.prediction_values) if regression else None
    if regression and pred_values is None and b.class_counts:   # a classification baseline read as regression
        pred_values = _arr(float_values(preds).tolist())
    return WindowData(features=features, confidence=_arr(b.confidences), predictions=_arr(preds, object),
                      task=task, pred_values=pred_values,
                      residuals=_arr(b.residuals) if regression else None,
                      label_values=_arr(b.label_values) if regression and len(b.label_values) == len(b.residuals) else None,
                      correct=None if regression else _arr(b.correct), errors=np.r_[np.ones(n_err), np.zeros(max(total - n_err, 0))] if total else None,
                      latency=_arr(b.latencies_ms), error_kinds=dict(b.metrics.error_kinds), outcomes=outcomes)


def _regression_arrays(ok: list[Sample]) -> dict[str, Any]:
    values = [as_float(s.prediction) for s in ok]
    pairs = [(v - t, t) for v, t in zip(values, (as_float(s.label) for s in ok)) if v is not None and t is not None]
    return {"pred_values": _arr([v for v in values if v is not None]),
            "residuals": _arr([r for r, _ in pairs]), "label_values": _arr([t for _, t in pairs])}


def _abs_error(s: Sample) -> float:
    v, t = as_float(s.prediction), as_float(s.label)
    return abs(v - t) if s.ok and v is not None and t is not None else np.nan


def samples_window(samples: list[Sample], task: str = "classification") -> WindowData:
    """The current window as arrays; feature rows come from every sample that carries inputs.

    For ``task="regression"`` the window carries the numeric predictions, residuals and labels, and
    the per-row outcomes hold the absolute error (``abs_error``) instead of 1/0 correctness.
    """
    regression = task == "regression"
    ok = [s for s in samples if s.ok]
    with_inputs = [s for s in samples if s.inputs]
    features = outcomes = None
    if with_inputs:
        features = pd.DataFrame([s.inputs for s in with_inputs])
        outcomes = pd.DataFrame({
            "correct": [np.nan if (s.correct is None or regression) else float(s.correct) for s in with_inputs],
            "confidence": [np.nan if (s.confidence is None or not s.ok) else float(s.confidence) for s in with_inputs],
            "latency_ms": [np.nan if (s.latency_ms is None or not s.ok) else float(s.latency_ms) for s in with_inputs],
            "error": [0.0 if s.ok else 1.0 for s in with_inputs],
            "prediction": [None if (s.prediction is None or not s.ok) else str(s.prediction) for s in with_inputs],
        })
        if regression:
            outcomes["abs_error"] = [_abs_error(s) for s in with_inputs]
    kinds: dict[str, int] = {}
    for s in samples:
        if not s.ok:
            kinds[str(s.error_kind)] = kinds.get(str(s.error_kind), 0) + 1
    return WindowData(
        features=features,
        confidence=_arr([float(s.confidence) for s in ok if s.confidence is not None]),
        predictions=_arr([str(s.prediction) for s in ok if s.prediction is not None], object),
        correct=None if regression else _arr([float(c) for c in (s.correct for s in ok) if c is not None]),
        errors=_arr([0.0 if s.ok else 1.0 for s in samples]),
        latency=_arr([float(s.latency_ms) for s in ok if s.latency_ms is not None]),
        error_kinds=kinds, outcomes=outcomes, task=task, **(_regression_arrays(ok) if regression else {}))


def _pairs(b: Baseline) -> tuple[np.ndarray, np.ndarray] | None:
    """The baseline's (confidence, 1/0 correct) pairs for the label-free accuracy estimate."""
    if not b.calibration_pairs:
        return None
    a = np.asarray(b.calibration_pairs, dtype=float)
    return a[:, 0], a[:, 1]


def analyze_window(baseline: Baseline, samples: list[Sample], *, settings: Settings | None = None,
                   sensitivity: dict[str, float] | None = None, config: DetectionConfig | None = None) -> Report:
    """Compare ``samples`` with ``baseline``: drift, anomalies, root cause, features and segments.

    ``sensitivity`` maps detector names to multipliers (>1 = less sensitive) from governance;
    per-endpoint overrides of the detection settings live in ``baseline.notes["detection"]``
    (``{"task": "regression"}`` there overrides the task decided when the baseline was learnt).
    """
    if not samples:
        raise InputError("no samples to analyse: the window is empty")
    total = baseline.metrics.total_samples or baseline.n_samples
    problem = baseline_size_problem(round(total * (1.0 - baseline.metrics.error_rate)))
    if problem:         # learned before the minimum existed: every test on it would fail
        raise InputError(f"baseline v{baseline.version} of {shown(baseline.endpoint)} is too small ({problem}); "
                         "learn it again from more samples")
    cfg = config or detection_config(settings, baseline.notes.get("detection") if baseline.notes else None)
    task = baseline.task if cfg.task == "auto" else cfg.task
    ref, cur = baseline_window(baseline, task), samples_window(samples, task)
    suite = run_suite(ref, cur, cfg, sensitivity)
    return build_report(baseline.endpoint, suite, ref, cur, metrics=compute_metrics(samples, task=task),
                        baseline_metrics=baseline.metrics, config=cfg, samples_collected=len(samples),
                        baseline_version=baseline.version or None, reference_pairs=_pairs(baseline))
