"""Summary metrics of a window of samples (the contract's ``metrics`` block).

Conventions
-----------
- ``error_rate`` is the share of samples whose probe failed (``error_kind`` set).
- Confidence, latency and the class distribution are computed over successful samples only;
  a latency is only used when it is finite.
- ``accuracy`` is over successful, labelled samples; ``None`` when there are none.
- Every statistic that is undefined on the window is ``None`` (never NaN), so the JSON stays valid.
- Regression endpoints (``task="regression"``): ``accuracy`` and ``class_distribution`` stay empty;
  ``mae``, ``rmse`` and ``r2`` (``1 - SS_res / SS_tot``, sklearn's ``r2_score``) are over successful
  samples whose prediction and label both parse as finite numbers; ``mean_prediction`` and
  ``prediction_std`` over every successful numeric prediction.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from app.detection.task import as_float
from app.schemas import Metrics, Sample

__all__ = ["compute_metrics", "finite", "frame_metrics", "regression_metrics"]


def finite(values: Iterable[float | None]) -> np.ndarray:
    """Array of the finite values among ``values`` (``None``/NaN/inf dropped).

    >>> finite([1.0, None, float("nan"), 2.0, float("inf")]).tolist()
    [1.0, 2.0]
    """
    out = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    return np.asarray(out, dtype=float)


def _round(x: float | None, digits: int = 6) -> float | None:
    if x is None or not math.isfinite(x):
        return None
    return round(float(x), digits)


def regression_metrics(predictions: Sequence[Any], labels: Sequence[Any] | None = None) -> dict[str, Any]:
    """Regression fields of :class:`~app.schemas.Metrics` from aligned predictions and labels.

    >>> m = regression_metrics(["3", "5.5", "x"], ["2", "6.5", "1"])
    >>> m["mae"], m["rmse"], m["r2"], m["mean_prediction"]
    (1.0, 1.0, 0.802469, 4.25)
    """
    p = [as_float(v) for v in predictions]
    preds = np.asarray([v for v in p if v is not None], dtype=float)
    out: dict[str, Any] = {"task": "regression", "accuracy": None, "class_distribution": {},
                           "mean_prediction": _round(float(preds.mean())) if preds.size else None,
                           "prediction_std": _round(float(preds.std(ddof=1))) if preds.size > 1 else None}
    if labels is not None:
        pairs = [(a, b) for a, b in zip(p, (as_float(v) for v in labels)) if a is not None and b is not None]
        if pairs:
            yp, yt = np.asarray(pairs, dtype=float).T
            res = yp - yt
            ss_tot = float(((yt - yt.mean()) ** 2).sum())
            out.update(mae=_round(float(np.abs(res).mean())), rmse=_round(float(np.sqrt((res ** 2).mean()))),
                       r2=_round(1.0 - float((res ** 2).sum()) / ss_tot) if ss_tot > 0 and yt.size > 1 else None,
                       labelled_samples=int(yt.size))
        else:
            out["labelled_samples"] = 0
    return out


def _task_fields(task: str | None, predictions: Sequence[Any], labels: Sequence[Any] | None) -> dict[str, Any]:
    """The Metrics fields a known task sets: a regression's error metrics, or just the task's name."""
    if task == "regression":
        return regression_metrics(predictions, labels)
    return {"task": task} if task is not None else {}


def compute_metrics(samples: Sequence[Sample], task: str | None = None) -> Metrics:
    """Compute the window's :class:`~app.schemas.Metrics` from its samples.

    Parameters
    ----------
    samples : sequence of Sample
        The window (probes or ingested rows), in any order.

    Returns
    -------
    Metrics
        Contract keys plus ``labelled_samples``, ``class_distribution`` and ``error_kinds``.

    Examples
    --------
    >>> s = [Sample(endpoint="e", ts=0, prediction="a", confidence=0.9, label="a", latency_ms=2.0),
    ...      Sample(endpoint="e", ts=1, prediction="b", confidence=0.7, label="a", latency_ms=4.0),
    ...      Sample(endpoint="e", ts=2, error_kind="timeout", latency_ms=5000.0)]
    >>> m = compute_metrics(s)
    >>> (m.total_samples, round(m.error_rate, 3), m.accuracy, m.avg_confidence, m.latency_p50_ms)
    (3, 0.333, 0.5, 0.8, 3.0)
    >>> m.class_distribution, m.error_kinds
    ({'a': 0.5, 'b': 0.5}, {'timeout': 1})
    >>> compute_metrics([]).avg_confidence is None
    True
    >>> r = compute_metrics([Sample(endpoint="e", ts=0, prediction="150.5", label="140"),
    ...                      Sample(endpoint="e", ts=1, prediction="90", label="100")], task="regression")
    >>> r.task, r.accuracy, r.mae, r.class_distribution
    ('regression', None, 10.25, {})
    """
    total = len(samples)
    ok = [s for s in samples if s.ok]
    n_err = total - len(ok)
    conf = finite(s.confidence for s in ok)
    lat = finite(s.latency_ms for s in ok)
    correct = [c for c in (s.correct for s in ok) if c is not None]
    preds = Counter(str(s.prediction) for s in ok if s.prediction is not None)
    n_pred = sum(preds.values())
    kinds = Counter(str(s.error_kind) for s in samples if not s.ok)
    extra = _task_fields(task, [s.prediction for s in ok], [s.label for s in ok])
    return Metrics(
        avg_confidence=_round(float(conf.mean())) if conf.size else None,
        confidence_std=_round(float(conf.std(ddof=1))) if conf.size > 1 else (0.0 if conf.size == 1 else None),
        error_rate=(_round(n_err / total) or 0.0) if total else 0.0,
        latency_p50_ms=_round(float(np.percentile(lat, 50)), 3) if lat.size else None,
        latency_p95_ms=_round(float(np.percentile(lat, 95)), 3) if lat.size else None,
        accuracy=_round(sum(correct) / len(correct)) if correct else None,
        total_samples=total,
        labelled_samples=len(correct),
        class_distribution={k: _round(v / n_pred) or 0.0 for k, v in sorted(preds.items())} if n_pred else {},
        error_kinds=dict(sorted(kinds.items())),
    ).model_copy(update=extra)


def frame_metrics(n_rows: int, confidence: np.ndarray | None = None, predictions: Sequence[Any] | None = None,
                  correct: np.ndarray | None = None, *, task: str | None = None,
                  labels: Sequence[Any] | None = None) -> Metrics:
    """Metrics of a logged batch (``mlfi compare``): no latency or errors, the rest as for samples.

    >>> m = frame_metrics(4, np.array([0.9, 0.8, np.nan, 0.7]), ["a", "b", "a", None], np.array([1, 0, 1, 1]))
    >>> (m.avg_confidence, m.accuracy, m.class_distribution, m.total_samples)
    (0.8, 0.75, {'a': 0.666667, 'b': 0.333333}, 4)
    """
    conf = finite(confidence.tolist()) if confidence is not None else np.empty(0)
    preds = Counter(str(p) for p in (predictions if predictions is not None else [])
                    if p is not None and not (isinstance(p, float) and math.isnan(p)))
    n_pred = sum(preds.values())
    ok = finite(correct.tolist()) if correct is not None else np.empty(0)
    extra = _task_fields(task, list(predictions) if predictions is not None else [], labels)
    return Metrics(
        avg_confidence=_round(float(conf.mean())) if conf.size else None,
        confidence_std=_round(float(conf.std(ddof=1))) if conf.size > 1 else (0.0 if conf.size == 1 else None),
        error_rate=0.0, accuracy=_round(float(ok.mean())) if ok.size else None, total_samples=int(n_rows),
        labelled_samples=int(ok.size),
        class_distribution={k: _round(v / n_pred) or 0.0 for k, v in sorted(preds.items())} if n_pred else {},
    ).model_copy(update=extra)
