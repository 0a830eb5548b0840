"""Slice metrics: every value of every slice column, with sample size, 95 % CIs and an instability flag.

CIs: Wilson score intervals for accuracy, precision and recall (proportions); a seeded percentile bootstrap
for ROC AUC and the Brier score. A slice is ``unstable`` when it is small (``n < min_n``) or when the
slice's ranking metric is far from the whole: the overall value lies outside the slice's CI (statistical) AND
the gap is at least ``min_gap`` (practical), so a large healthy slice is not flagged for a trivial difference.
Slices are returned worst first on the ranking metric.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import numpy as np
import pandas as pd

from app.errors import InputError
from app.evaluation.calibration import expected_calibration_error, top_label
from app.evaluation.loader import EvalData
from app.evaluation.metrics import (
    LOWER_IS_BETTER,
    binary_metrics,
    bootstrap_auc_interval,
    bootstrap_interval,
    brier,
    confusion,
    multiclass_metrics,
    roc_auc,
    wilson_interval,
)
from app.evaluation.results import Interval, SliceResult

__all__ = ["SLICE_METRICS", "slice_labels", "iter_slices", "all_metrics", "slice_metrics"]

SLICE_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "log_loss", "brier", "ece")
MAX_CATEGORIES = 12  # a numeric slice column with more distinct values is cut into quartiles


def slice_labels(col: pd.Series) -> pd.Series:
    """String slice values: categories as they are, many-valued numeric columns cut into quartile ranges.

    >>> slice_labels(pd.Series(["a", None, "b"])).tolist()
    ['a', '(missing)', 'b']
    >>> sorted(slice_labels(pd.Series(range(100))).value_counts().items())
    [('Q1 [0, 24.75]', 25), ('Q2 (24.75, 49.5]', 25), ('Q3 (49.5, 74.25]', 25), ('Q4 (74.25, 99]', 25)]
    """
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col) and col.nunique() > MAX_CATEGORIES:
        edges = np.unique(np.nanquantile(col.to_numpy(dtype=float), [0, 0.25, 0.5, 0.75, 1]))
        fmt = "{:.4g}" if len({f"{e:.4g}" for e in edges}) == len(edges) else "{!r}"
        labels = [
            f"Q{i + 1} {'[' if i == 0 else '('}{fmt.format(edges[i])}, {fmt.format(edges[i + 1])}]"
            for i in range(len(edges) - 1)
        ]
        binned = pd.cut(col, edges, labels=labels, include_lowest=True)
        return binned.astype(object).where(col.notna(), "(missing)").astype(str)
    return col.astype(object).where(col.notna(), "(missing)").astype(str)


def iter_slices(data: EvalData) -> Iterator[tuple[str, str, np.ndarray]]:
    """Yield ``(column, value, mask)`` for every value of every slice column, in a stable order."""
    for col in data.slice_columns:
        labels = slice_labels(data.frame[col]).to_numpy()
        for value in sorted(set(labels)):
            yield col, value, labels == value


def _seed(base: int, col: str, value: str) -> int:
    return (base * 1_000_003 + zlib.crc32(f"{col}\x00{value}".encode())) % (2**32)


def _cis(data: EvalData, threshold: float, n_boot: int, seed: int, base_seed: int) -> dict[str, Interval | None]:
    y, p = data.y, data.proba
    boot = f"percentile bootstrap, {n_boot} resamples, seed {base_seed} (per-slice stream)"

    def wil(k: int, n: int) -> Interval | None:
        ci = wilson_interval(k, n)
        return Interval(low=ci[0], high=ci[1], method="wilson") if ci else None

    def bs(fn) -> Interval | None:  # type: ignore[no-untyped-def]
        if fn is roc_auc:
            ci = bootstrap_auc_interval(y, p, n_resamples=n_boot, seed=seed)
        else:
            ci = bootstrap_interval(y, p, fn, n_resamples=n_boot, seed=seed)
        return Interval(low=ci[0], high=ci[1], method=boot) if ci else None

    if data.task == "binary":
        tp, fp, tn, fn = confusion(y, p, threshold)
        return {
            "accuracy": wil(tp + tn, len(y)),
            "precision": wil(tp, tp + fp),
            "recall": wil(tp, tp + fn),
            "roc_auc": bs(roc_auc),
            "brier": bs(brier),
        }
    correct = int(np.sum(np.argmax(p, axis=1) == y))
    return {"accuracy": wil(correct, len(y)), "brier": bs(brier)}


def all_metrics(data: EvalData, threshold: float, bins: int = 10, strategy: str = "uniform") -> dict[str, float | None]:
    """The contract's metric dict (incl. ECE) for ``data``."""
    if data.task == "binary":
        m = binary_metrics(data.y, data.proba, threshold)
    else:
        m = multiclass_metrics(data.y, data.proba)
    outcome, conf = top_label(data.y, data.proba)
    m["ece"] = expected_calibration_error(outcome, conf, bins, strategy)
    return m


def slice_metrics(
    data: EvalData,
    overall: dict[str, float | None],
    *,
    threshold: float = 0.5,
    rank_metric: str = "accuracy",
    min_n: int = 30,
    min_gap: float = 0.05,
    n_boot: int = 200,
    seed: int = 0,
    bins: int = 10,
    strategy: str = "uniform",
) -> list[SliceResult]:
    """Metrics, CIs and instability for every slice value, worst first on ``rank_metric``."""
    if rank_metric not in SLICE_METRICS:
        raise InputError(f"unknown slice metric {rank_metric!r}; use one of {', '.join(SLICE_METRICS)}")
    out: list[SliceResult] = []
    ref = overall.get(rank_metric)
    for col, value, mask in iter_slices(data):
        sub = data.subset(mask)
        m = all_metrics(sub, threshold, bins, strategy)
        ci = _cis(sub, threshold, n_boot, _seed(seed, col, value), seed)
        v = m.get(rank_metric)
        reasons = []
        if len(sub.y) < min_n:
            reasons.append(f"small_n(<{min_n})")
        band = ci.get(rank_metric)
        if (
            ref is not None
            and v is not None
            and band is not None
            and not (band.low <= ref <= band.high)
            and abs(v - ref) >= min_gap
        ):
            reasons.append(f"far_from_overall(overall outside slice CI, |gap| >= {min_gap:g})")
        out.append(
            SliceResult(
                column=col,
                value=value,
                n=int(len(sub.y)),
                positives=int(np.sum(sub.y == 1)) if data.task == "binary" else None,
                metrics=m,
                ci=ci,
                gap=None if v is None or ref is None else float(v - ref),
                unstable=bool(reasons),
                unstable_reasons=reasons,
            )
        )
    sign = 1.0 if rank_metric in LOWER_IS_BETTER else -1.0
    # worst first; slices where the metric is undefined go last; ties: larger slices first
    out.sort(
        key=lambda s: (
            s.metrics.get(rank_metric) is None,
            -sign * (s.metrics.get(rank_metric) or 0.0),
            -s.n,
            s.column,
            s.value,
        )
    )
    return out
