"""Learn the baseline of an endpoint from a window of samples (what normal looks like); pure statistics."""

from __future__ import annotations

import math
import time
from collections import Counter
from typing import Any

import numpy as np

from app.detection.metrics import compute_metrics
from app.detection.task import as_float, resolve_task
from app.errors import InputError
from app.schemas import Baseline, FeatureReference, Sample

__all__ = ["MAX_REFERENCE_ROWS", "MAX_REFERENCE_VALUES", "MIN_BASELINE_SAMPLES", "baseline_size_problem",
           "learn_baseline"]

MAX_REFERENCE_VALUES = 5000   # per-feature reference sample kept in the file
MAX_REFERENCE_ROWS = 2000     # joint rows kept for multivariate tests / Isolation Forest
# the fewest successful samples a baseline is learned from: the drift tests compare two distributions
# (chi-square, KS, PSI need several rows of each), and a reference of 1 row fails every later analysis
MIN_BASELINE_SAMPLES = 10


def baseline_size_problem(n: int, what: str = "successful samples") -> str | None:
    """The one-line reason ``n`` samples are too few for a baseline, or ``None`` when they are enough.

    >>> baseline_size_problem(10) is None
    True
    >>> baseline_size_problem(1, "rows")
    'a baseline needs at least 10 rows, got 1: the drift tests compare distributions and cannot from fewer'
    """
    if n >= MIN_BASELINE_SAMPLES:
        return None
    return (f"a baseline needs at least {MIN_BASELINE_SAMPLES} {what}, got {n}: "
            "the drift tests compare distributions and cannot from fewer")


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _feature_reference(values: list[Any], rng: np.random.Generator) -> FeatureReference:
    present = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    nan_rate = 1.0 - len(present) / len(values) if values else 0.0
    if present and all(_is_number(v) for v in present):
        arr = np.asarray(present, dtype=float)
        keep = arr if arr.size <= MAX_REFERENCE_VALUES else rng.choice(arr, MAX_REFERENCE_VALUES, replace=False)
        q = np.quantile(arr, [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99])
        return FeatureReference(kind="numeric", values=[float(x) for x in keep], mean=float(arr.mean()),
                                std=float(arr.std(ddof=1)) if arr.size > 1 else 0.0, min=float(arr.min()),
                                max=float(arr.max()),
                                quantiles={k: float(x) for k, x in zip(["p01", "p05", "p25", "p50", "p75", "p95", "p99"], q)},
                                nan_rate=nan_rate, dtype="float")
    cats = Counter(str(v) for v in present)
    total = sum(cats.values()) or 1
    keep_vals = [str(v) for v in present][:MAX_REFERENCE_VALUES]
    return FeatureReference(kind="categorical", values=keep_vals,
                            categories={k: c / total for k, c in cats.most_common()}, nan_rate=nan_rate,
                            dtype="str")


def _cap(values: list[float], rng: np.random.Generator) -> list[float]:
    if len(values) <= MAX_REFERENCE_VALUES:
        return values
    idx = sorted(rng.choice(len(values), MAX_REFERENCE_VALUES, replace=False).tolist())
    return [values[i] for i in idx]


def learn_baseline(name: str, samples: list[Sample], protocol: str | None = None, *, seed: int = 0,
                   task: str | None = None) -> Baseline:
    """Summarise a window of samples into a Baseline (not yet saved; version 0).

    ``task`` (``classification``/``regression``; ``None``/``auto`` = decide from the predictions,
    see :func:`app.detection.task.infer_task`) selects how predictions and labels are compared: a
    regression baseline keeps the numeric predictions and the residuals (prediction - label)
    instead of class counts and 1/0 correctness. Raises InputError when the window has fewer than
    ``MIN_BASELINE_SAMPLES`` successful samples to learn from.
    """
    ok = [s for s in samples if s.ok]
    if not ok:
        kinds = Counter(s.error_kind for s in samples)
        raise InputError(f"cannot learn a baseline: none of the {len(samples)} probes succeeded "
                         f"({', '.join(f'{k}: {n}' for k, n in kinds.items())})")
    problem = baseline_size_problem(len(ok))
    if problem:
        raise InputError(f"cannot learn a baseline: {problem}")
    rng = np.random.default_rng(seed)
    feats: dict[str, list[Any]] = {}
    rows: list[dict[str, Any]] = []
    for s in ok:
        if s.inputs:
            rows.append(s.inputs)
            for k in s.inputs:
                feats.setdefault(k, [])
    for s in ok:
        if s.inputs:
            for k, column in feats.items():
                column.append(s.inputs.get(k))
    if len(rows) > MAX_REFERENCE_ROWS:
        idx = sorted(rng.choice(len(rows), MAX_REFERENCE_ROWS, replace=False).tolist())
        rows = [rows[i] for i in idx]
    kind = resolve_task(task, [s.prediction for s in ok if s.prediction is not None])
    regression = kind == "regression"
    values = [as_float(s.prediction) for s in ok] if regression else []
    pairs = [(v - t, t) for v, t in zip(values, (as_float(s.label) for s in ok)) if v is not None and t is not None]
    if len(pairs) > MAX_REFERENCE_VALUES:
        pairs = [pairs[i] for i in sorted(rng.choice(len(pairs), MAX_REFERENCE_VALUES, replace=False).tolist())]
    calib = [] if regression else [(float(s.confidence), int(bool(s.correct))) for s in ok
                                    if s.confidence is not None and s.correct is not None]
    if len(calib) > MAX_REFERENCE_VALUES:
        calib = [calib[i] for i in sorted(rng.choice(len(calib), MAX_REFERENCE_VALUES, replace=False).tolist())]
    return Baseline(
        endpoint=name, version=0, created_at=time.time(), protocol=protocol, n_samples=len(samples),
        metrics=compute_metrics(samples, task=kind), task=kind,
        prediction_values=_cap([v for v in values if v is not None], rng),
        residuals=[r for r, _ in pairs], label_values=[t for _, t in pairs],
        confidences=[float(s.confidence) for s in ok if s.confidence is not None],
        latencies_ms=[float(s.latency_ms) for s in ok if s.latency_ms is not None],
        class_counts={} if regression else dict(Counter(str(s.prediction) for s in ok if s.prediction is not None)),
        correct=[] if regression else [int(c) for c in (s.correct for s in ok) if c is not None],
        calibration_pairs=calib,
        features={k: _feature_reference(v, rng) for k, v in feats.items()},
        feature_rows=rows,
        notes={"error_kinds": dict(Counter(s.error_kind for s in samples if s.error_kind))},
    )
