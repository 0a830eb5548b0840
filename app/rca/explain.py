"""Choose what to explain for a root cause, and explain it: ranked features and segments.

| root cause                         | features (attribution)              | segments                          |
|------------------------------------|-------------------------------------|-----------------------------------|
| feature_drift, data_quality        | reference-vs-current classifier     | regions over-represented now      |
| accuracy_drop                      | surrogate of "answer was wrong"     | where the error rate concentrates |
| error_spike                        | surrogate of "request failed"       | where failures concentrate        |
| confidence_drop                    | surrogate of confidence             | where confidence is lowest        |
| latency_degradation                | surrogate of latency                | where answers are slowest         |
| prediction_drift                   | surrogate of "answered <the class that grew>" | where that class is answered |
| regression: accuracy_drop, prediction_drift | surrogate of the absolute error (needs labels) | where the error is largest |
| silent_failure, none               | nothing (constant outputs explain nothing; quiet when nothing changed) |  |

Each needs the current window's input rows (and, for drift, the reference's); without them the
lists stay empty.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np
import pandas as pd

from app.detection.frames import category_codes, category_matrix, numeric_matrix
from app.detection.suite import SuiteResult, WindowData
from app.rca.attribution import Target, explain_drift, explain_outcome
from app.rca.segments import drift_segments, outcome_segments
from app.schemas import FeatureAttribution, Segment

__all__ = ["MAX_ROWS", "explain"]

MAX_ROWS = 5000  # rows per window used to fit and explain the attribution models


def _matrix(df: pd.DataFrame, suite: SuiteResult, levels: list[list[str]]) -> np.ndarray:
    plan = suite.plan
    x = numeric_matrix(df, plan.numeric)
    if plan.categorical:
        x = np.column_stack([x, category_codes(category_matrix(df, plan.categorical), levels)])
    return x


def _outcome(cur: WindowData, root_cause: str, ref_predictions: np.ndarray | None) -> tuple[Target, str, bool, bool] | None:
    """(target, segment metric name, higher is worse, binary) for a surrogate, or None."""
    o = cur.outcomes
    if o is None:
        return None

    def col(c: str) -> np.ndarray | None:
        return o[c].to_numpy(dtype=float, na_value=np.nan) if c in o else None

    if root_cause in ("accuracy_drop", "prediction_drift") and cur.task == "regression":
        v = col("abs_error")
        if v is None or np.isfinite(v).sum() < 10:
            return None
        return Target(v, "continuous", "the absolute error"), "mean absolute error", True, False
    if root_cause == "accuracy_drop" and (v := col("correct")) is not None:
        return Target(1.0 - v, "binary", "a wrong answer"), "error rate", True, True
    if root_cause == "error_spike" and (v := col("error")) is not None:
        return Target(v, "binary", "a failed request"), "failure rate", True, True
    if root_cause == "confidence_drop" and (v := col("confidence")) is not None:
        return Target(v, "continuous", "the confidence"), "mean confidence", False, False
    if root_cause == "latency_degradation" and (v := col("latency_ms")) is not None:
        return Target(v, "continuous", "the latency"), "mean latency (ms)", True, False
    if root_cause == "prediction_drift" and "prediction" in o:
        grown = _grown_class(o, ref_predictions)
        if grown is None:
            return None
        preds = o["prediction"]
        v = np.where(preds.isna(), np.nan, (preds.astype(str) == grown).astype(float))
        return Target(v, "binary", f"answering {grown!r}"), f"share answering {grown!r}", True, True
    return None


def _grown_class(o: pd.DataFrame, ref_preds: np.ndarray | None) -> str | None:
    now = Counter(str(p) for p in o["prediction"].dropna())
    if not now:
        return None
    if ref_preds is None:
        return now.most_common(1)[0][0]
    before = Counter(str(p) for p in ref_preds)
    nb, nn = sum(before.values()) or 1, sum(now.values())
    return max(now, key=lambda k: now[k] / nn - before.get(k, 0) / nb)


def _small(w: WindowData, seed: int, max_rows: int = MAX_ROWS) -> WindowData:
    """The window with its feature rows (and aligned outcomes) subsampled to ``max_rows``."""
    if w.features is None or len(w.features) <= max_rows:
        return w
    idx = np.sort(np.random.default_rng(seed).choice(len(w.features), max_rows, replace=False))
    outcomes = w.outcomes.iloc[idx] if w.outcomes is not None and len(w.outcomes) == len(w.features) else None
    return replace(w, features=w.features.iloc[idx], outcomes=outcomes)


def explain(root_cause: str, suite: SuiteResult, ref: WindowData, cur: WindowData, *,
            seed: int = 0) -> tuple[list[FeatureAttribution], list[Segment]]:
    """Ranked features and segments for ``root_cause`` (empty lists when there is nothing to explain)."""
    plan = suite.plan
    if root_cause in ("none", "silent_failure") or cur.features is None or not plan.all or len(cur.features) < 10:
        return [], []
    names = plan.numeric + plan.categorical
    ref, cur = _small(ref, seed), _small(cur, seed + 1)
    levels: list[list[str]] = []
    if plan.categorical and ref.features is not None:
        cats = category_matrix(ref.features, plan.categorical)
        levels = [sorted({v for v in cats[:, j] if v is not None}) for j in range(cats.shape[1])]
    elif plan.categorical:
        levels = [[] for _ in plan.categorical]
    level_map = {len(plan.numeric) + j: lv for j, lv in enumerate(levels)}
    x_cur = _matrix(cur.features, suite, levels)
    if root_cause in ("feature_drift", "data_quality"):
        if ref.features is None or len(ref.features) < 10:
            return [], []
        x_ref = _matrix(ref.features, suite, levels)
        return (explain_drift(x_ref, x_cur, names, suite, seed=seed),
                drift_segments(x_ref, x_cur, names, levels=level_map, seed=seed))
    spec = _outcome(cur, root_cause, ref.predictions)
    if spec is None:
        return [], []
    target, what, worse_high, binary = spec
    feats = explain_outcome(x_cur, names, target, seed=seed)
    segs = outcome_segments(x_cur, target.values, names, what=what, higher_is_worse=worse_high, binary=binary,
                            levels=level_map, seed=seed)
    return feats, segs
