"""``compare_frames``: batch mode (``mlfi compare``) -- logged reference rows vs logged current rows.

Columns play roles: ``target`` (true label), ``prediction_column``, ``confidence_column``; every
other column present in the reference is an input feature. The output is the same Report as a
live analysis (no latency or error rate: logs do not carry them).

Bad input raises :class:`~app.errors.InputError` with one line: not a table, fewer than 2 rows,
no column in common, a role column missing or (confidence) not numeric, no usable feature.
Problems that *are* findings about the data -- a feature missing from the current file, a column
that became empty, numbers turned into text, values far outside the reference range -- are not
errors: they come back as a ``data_quality`` verdict.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from app.analysis.estimated import pairs_of_window
from app.analysis.report import build_report
from app.analysis.window import detection_config
from app.checks import check_unit_interval
from app.config import Settings
from app.detection.frames import cat_value
from app.detection.metrics import frame_metrics
from app.detection.suite import DetectionConfig, WindowData, run_suite
from app.detection.task import resolve_task
from app.errors import InputError
from app.schemas import Metrics, Report

__all__ = ["MIN_ROWS", "compare_frames", "validate_frames"]

MIN_ROWS = 2


def _cols(df: pd.DataFrame) -> str:
    names = [str(c) for c in df.columns[:6]]
    return ", ".join(names) + (" ..." if df.shape[1] > 6 else "")


def validate_frames(reference: object, current: object, roles: dict[str, str | None]) -> list[str]:
    """Check the two tables and the role columns; return the feature columns (reference order)."""
    for label, df in (("reference", reference), ("current", current)):
        if not isinstance(df, pd.DataFrame):
            raise InputError(f"{label} must be a table (pandas DataFrame), got {type(df).__name__}")
        if len(df) < MIN_ROWS:
            raise InputError(f"{label} has {len(df)} row{'s' if len(df) != 1 else ''}: need at least {MIN_ROWS} to compare")
    assert isinstance(reference, pd.DataFrame) and isinstance(current, pd.DataFrame)
    common = [c for c in reference.columns if c in set(current.columns)]
    if not common:
        raise InputError(f"no common columns between reference ({_cols(reference)}) and current ({_cols(current)})")
    for role, col in roles.items():
        if col is None:
            continue
        missing = [label for label, df in (("reference", reference), ("current", current)) if col not in df.columns]
        if missing:
            raise InputError(f"{role} column {col!r} not found in the {' and '.join(missing)} file")
    conf = roles.get("confidence")
    if conf is not None:
        for label, df in (("reference", reference), ("current", current)):
            parsed = pd.to_numeric(df[conf], errors="coerce")
            if parsed.notna().sum() < df[conf].notna().sum() * 0.99 or parsed.notna().sum() == 0:
                raise InputError(f"confidence column {conf!r} in the {label} file is not numeric")
            check_unit_interval(parsed, f"confidence column {conf!r} in the {label} file")
    role_cols = {c for c in roles.values() if c is not None}
    features = [c for c in reference.columns if c not in role_cols]
    if not features and not role_cols:
        raise InputError("nothing to compare: no feature columns and no target/prediction/confidence column")
    return features


def _regression(df: pd.DataFrame, target: str | None, pred: str | None) -> dict[str, Any]:
    """Numeric predictions, residuals and labels of a regression batch (rows where both parse)."""
    p = pd.to_numeric(df[pred], errors="coerce").to_numpy(dtype=float) if pred else np.empty(0)
    out: dict[str, Any] = {"pred_values": p[np.isfinite(p)] if pred else None}
    if target and pred:
        y = pd.to_numeric(df[target], errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(p) & np.isfinite(y)
        out.update(residuals=(p - y)[ok], label_values=y[ok], abs_error=np.abs(p - y))
    return out


def _window(df: pd.DataFrame, features: list[str], target: str | None, pred: str | None, conf: str | None,
            task: str = "classification") -> WindowData:
    present = [c for c in features if c in df.columns]
    confidence = pd.to_numeric(df[conf], errors="coerce").to_numpy(dtype=float) if conf else None
    predictions = np.asarray([cat_value(v) for v in df[pred].tolist()], dtype=object) if pred else None
    reg = _regression(df, target, pred) if task == "regression" else {}
    abs_error = reg.pop("abs_error", None)
    correct = None
    if target and predictions is not None and task != "regression":
        t = [cat_value(v) for v in df[target].tolist()]
        correct = np.asarray([np.nan if a is None or b is None else float(a == b) for a, b in zip(t, predictions)])
    outcomes = pd.DataFrame(index=df.index)
    if confidence is not None:
        outcomes["confidence"] = confidence
    if correct is not None:
        outcomes["correct"] = correct
    if predictions is not None:
        outcomes["prediction"] = predictions
    if abs_error is not None:
        outcomes["abs_error"] = abs_error
    return WindowData(task=task, **reg,
        features=df[present] if present else None,
        confidence=confidence[np.isfinite(confidence)] if confidence is not None else None,
        predictions=np.asarray([p for p in predictions if p is not None], dtype=object) if predictions is not None else None,
        correct=correct[np.isfinite(correct)] if correct is not None else None,
        outcomes=outcomes if outcomes.shape[1] else None)


def _batch_metrics(df: pd.DataFrame, w: WindowData, target: str | None, task: str) -> Metrics:
    """The Metrics of one logged batch from its window's per-row outcomes."""
    o = w.outcomes

    def col(name: str) -> pd.Series | None:
        return o[name] if o is not None and name in o else None

    conf, pred, correct = col("confidence"), col("prediction"), col("correct")
    return frame_metrics(len(df), conf.to_numpy() if conf is not None else None,
                         pred.tolist() if pred is not None else None,
                         correct.to_numpy() if correct is not None else None,
                         task=task, labels=df[target].tolist() if target else None)


def compare_frames(reference: pd.DataFrame, current: pd.DataFrame, *, target: str | None = None,
                   prediction_column: str | None = None, confidence_column: str | None = None,
                   settings: Settings | None = None, endpoint: str = "batch",
                   config: DetectionConfig | None = None, task: str | None = None) -> Report:
    """Compare logged data; same Report shape as ``analyze_window`` (InputError on unusable input).

    ``task`` (``classification``/``regression``; default: ``config.task``, else decided from the
    reference's prediction column by :func:`app.detection.task.infer_task`) selects chi-square +
    accuracy or KS/Wasserstein + error tests for the predictions.
    """
    roles = {"target": target, "prediction": prediction_column, "confidence": confidence_column}
    features = validate_frames(reference, current, roles)
    cfg = config or detection_config(settings)
    explicit = task if task not in (None, "auto") else (cfg.task if cfg.task != "auto" else None)
    kind = resolve_task(explicit, reference[prediction_column].tolist() if prediction_column else [])
    ref = _window(reference, features, target, prediction_column, confidence_column, kind)
    cur = _window(current, features, target, prediction_column, confidence_column, kind)
    if ref.features is None and cur.features is None and ref.predictions is None and ref.confidence is None:
        raise InputError("nothing to compare: no usable column")
    suite = run_suite(ref, cur, cfg)
    if not suite.plan.all and not any(suite.groups.get(g) for g in ("confidence", "predictions", "accuracy")) \
            and not any(r.drift_detected for r in suite.groups.get("data_quality", [])):
        raise InputError(f"nothing to compare: every feature column is empty or unusable in the reference "
                         f"({', '.join(f'{k}: {v}' for k, v in list(suite.plan.skipped.items())[:3])})")
    metrics, base = _batch_metrics(current, cur, target, kind), _batch_metrics(reference, ref, target, kind)
    return build_report(endpoint, suite, ref, cur, metrics=metrics, baseline_metrics=base, config=cfg,
                        samples_collected=len(current), reference_pairs=pairs_of_window(ref))
