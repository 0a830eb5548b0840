"""Classification metrics computed from scratch (checked against scikit-learn in the tests).

Binary conventions: ``y`` holds 0/1, ``s`` the score of the positive class, and a row is predicted
positive when ``s >= threshold``. A metric that is undefined on the data (precision with no predicted
positive, ROC AUC with one class, ...) is ``None`` instead of NaN, so the JSON stays valid.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.stats import rankdata

__all__ = [
    "METRIC_NAMES",
    "LOWER_IS_BETTER",
    "confusion",
    "roc_auc",
    "average_precision",
    "log_loss",
    "brier",
    "binary_metrics",
    "multiclass_metrics",
    "wilson_interval",
    "bootstrap_interval",
    "bootstrap_auc_interval",
    "finite_or_none",
]

METRIC_NAMES = ("accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "log_loss", "brier", "ece")
LOWER_IS_BETTER = frozenset({"log_loss", "brier", "ece", "expected_cost"})
_EPS = float(np.finfo(np.float64).eps)  # scikit-learn's log-loss clipping
_Z95 = 1.959963984540054  # scipy.stats.norm.ppf(0.975)


def finite_or_none(x: float | None) -> float | None:
    """``float(x)`` or ``None`` when ``x`` is missing, NaN or infinite.

    >>> finite_or_none(float("nan")) is None, finite_or_none(np.float64(0.5))
    (True, 0.5)
    """
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _ratio(num: float, den: float) -> float | None:
    return float(num) / float(den) if den > 0 else None


def confusion(y: np.ndarray, s: np.ndarray, threshold: float = 0.5) -> tuple[int, int, int, int]:
    """Counts ``(tp, fp, tn, fn)`` when rows with ``s >= threshold`` are predicted positive.

    >>> confusion(np.array([1, 0, 1, 0]), np.array([0.9, 0.6, 0.2, 0.1]))
    (1, 1, 1, 1)
    """
    pred = s >= threshold
    pos = y == 1
    tp = int(np.sum(pred & pos))
    fp = int(np.sum(pred & ~pos))
    fn = int(np.sum(~pred & pos))
    return tp, fp, int(len(y) - tp - fp - fn), fn


def roc_auc(y: np.ndarray, s: np.ndarray) -> float | None:
    """Area under the ROC curve via the Mann-Whitney rank sum (ties count one half).

    >>> roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    0.75
    """
    n_pos = int(np.sum(y == 1))
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = rankdata(s)
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def average_precision(y: np.ndarray, s: np.ndarray) -> float | None:
    """Area under the precision-recall curve as scikit-learn's ``average_precision_score``.

    AP = sum over distinct score cut points of (recall_k - recall_{k-1}) * precision_k.

    >>> average_precision(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    0.8333333333333333
    """
    n_pos = int(np.sum(y == 1))
    if n_pos == 0:
        return None
    order = np.argsort(-s, kind="mergesort")
    s_sorted, y_sorted = s[order], y[order]
    last_of_group = np.r_[np.flatnonzero(np.diff(s_sorted)), len(s_sorted) - 1]
    tps = np.cumsum(y_sorted)[last_of_group]
    precision = tps / (last_of_group + 1)
    recall = tps / n_pos
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def log_loss(y: np.ndarray, p: np.ndarray) -> float:
    """Mean negative log-likelihood; ``p`` is (n,) for binary or (n, k) per-class, clipped at machine eps.

    >>> round(log_loss(np.array([1, 0]), np.array([0.8, 0.4])), 6)
    0.366985
    """
    if p.ndim == 1:
        q = np.clip(p, _EPS, 1 - _EPS)
        return float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))
    q = np.clip(p[np.arange(len(y)), y], _EPS, 1 - _EPS)
    return float(-np.mean(np.log(q)))


def brier(y: np.ndarray, p: np.ndarray) -> float:
    """Brier score: mean squared error of the probabilities (multiclass: summed over classes).

    >>> brier(np.array([1, 0]), np.array([0.8, 0.4]))
    0.1
    """
    if p.ndim == 1:
        return float(np.mean((p - y) ** 2))
    onehot = np.zeros_like(p)
    onehot[np.arange(len(y)), y] = 1.0
    return float(np.mean(np.sum((p - onehot) ** 2, axis=1)))


def binary_metrics(y: np.ndarray, s: np.ndarray, threshold: float = 0.5) -> dict[str, float | None]:
    """Accuracy, precision, recall, F1 (at ``threshold``), ROC AUC, PR AUC, log loss and Brier score.

    >>> m = binary_metrics(np.array([1, 0, 1, 0]), np.array([0.9, 0.6, 0.2, 0.1]))
    >>> m["accuracy"], m["precision"], m["recall"], m["f1"], m["roc_auc"]
    (0.5, 0.5, 0.5, 0.5, 0.75)
    """
    tp, fp, tn, fn = confusion(y, s, threshold)
    return {
        "accuracy": _ratio(tp + tn, len(y)),
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "roc_auc": roc_auc(y, s),
        "pr_auc": average_precision(y, s),
        "log_loss": log_loss(y, s) if len(y) else None,
        "brier": brier(y, s) if len(y) else None,
    }


def multiclass_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float | None]:
    """Multiclass metrics: argmax accuracy; macro precision/recall/F1 (a class never predicted or never
    present counts 0, as in scikit-learn); one-vs-rest macro ROC AUC and PR AUC (``None`` unless every class
    occurs); log loss; Brier summed over classes.

    >>> p = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.3, 0.5], [0.5, 0.4, 0.1]])
    >>> m = multiclass_metrics(np.array([0, 1, 2, 1]), p)
    >>> m["accuracy"], round(m["f1"], 4), m["roc_auc"]
    (0.75, 0.7778, 1.0)
    """
    k = p.shape[1]
    pred = np.argmax(p, axis=1)
    prec, rec, f1s, aucs, aps = [], [], [], [], []
    for c in range(k):
        tp = int(np.sum((pred == c) & (y == c)))
        n_pred, n_true = int(np.sum(pred == c)), int(np.sum(y == c))
        prec.append(tp / n_pred if n_pred else 0.0)
        rec.append(tp / n_true if n_true else 0.0)
        f1s.append(2 * tp / (n_pred + n_true) if n_pred + n_true else 0.0)
        yc = (y == c).astype(int)
        aucs.append(roc_auc(yc, p[:, c]))
        aps.append(average_precision(yc, p[:, c]))
    return {
        "accuracy": float(np.mean(pred == y)) if len(y) else None,
        "precision": float(np.mean(prec)),
        "recall": float(np.mean(rec)),
        "f1": float(np.mean(f1s)),
        "roc_auc": None if any(a is None for a in aucs) else float(np.mean(aucs)),  # type: ignore[arg-type]
        "pr_auc": None if any(a is None for a in aps) else float(np.mean(aps)),  # type: ignore[arg-type]
        "log_loss": log_loss(y, p) if len(y) else None,
        "brier": brier(y, p) if len(y) else None,
    }


def wilson_interval(successes: int, n: int, z: float = _Z95) -> tuple[float, float] | None:
    """Wilson score interval for a proportion (95 % by default); ``None`` when ``n == 0``.

    >>> tuple(round(v, 4) for v in wilson_interval(8, 10))
    (0.4902, 0.9433)
    """
    if n <= 0:
        return None
    phat = successes / n
    den = 1 + z * z / n
    centre = (phat + z * z / (2 * n)) / den
    half = z * math.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n)) / den
    return max(0.0, centre - half), min(1.0, centre + half)


def bootstrap_interval(
    y: np.ndarray,
    p: np.ndarray,
    metric: Callable[[np.ndarray, np.ndarray], float | None],
    *,
    n_resamples: int = 200,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float] | None:
    """Percentile bootstrap interval of ``metric(y, p)`` over rows resampled with replacement.

    Resamples where the metric is undefined are skipped; ``None`` when fewer than half are usable.

    >>> y = np.array([0, 1] * 20); s = np.where(y == 1, 0.7, 0.3)
    >>> [round(v, 6) for v in bootstrap_interval(y, s, brier, n_resamples=50, seed=1)]
    [0.09, 0.09]
    >>> lo, hi = bootstrap_interval(y, np.where(y == 1, 0.9, 0.6), brier, n_resamples=200, seed=0)
    >>> bool(0.1 < lo < 0.185 < hi < 0.27)
    True
    """
    n = len(y)
    if n == 0 or n_resamples <= 0:
        return None
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_resamples):
        idx = rng.integers(0, n, n)
        v = metric(y[idx], p[idx])
        if v is not None and math.isfinite(v):
            values.append(v)
    return _percentile_interval(values, n_resamples, level)


def _percentile_interval(values: list[float], n_resamples: int, level: float) -> tuple[float, float] | None:
    if len(values) < n_resamples / 2:
        return None
    alpha = (1 - level) / 2
    lo, hi = np.quantile(values, [alpha, 1 - alpha])
    return float(lo), float(hi)


def bootstrap_auc_interval(
    y: np.ndarray, s: np.ndarray, *, n_resamples: int = 200, seed: int = 0, level: float = 0.95
) -> tuple[float, float] | None:
    """Same result as ``bootstrap_interval(y, s, roc_auc, ...)`` (same resamples), in O(n) per resample.

    Scores are sorted once; a resample is a vector of row counts, and the AUC of the weighted rows is
    sum over tie groups of pos_g * (neg below g + neg_g / 2) / (P * N).

    >>> y = np.array([0, 1] * 30); s = np.round(np.linspace(0, 1, 60) ** 2, 1)
    >>> bool(np.allclose(bootstrap_auc_interval(y, s, seed=3), bootstrap_interval(y, s, roc_auc, seed=3)))
    True
    """
    n = len(y)
    if n == 0 or n_resamples <= 0:
        return None
    order = np.argsort(s, kind="mergesort")
    s_sorted, pos = s[order], (y[order] == 1).astype(float)
    group = np.r_[0, np.cumsum(np.diff(s_sorted) != 0)]
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_resamples):
        w = np.bincount(rng.integers(0, n, n), minlength=n)[order].astype(float)
        g_pos = np.bincount(group, weights=w * pos)
        g_neg = np.bincount(group, weights=w * (1 - pos))
        n_pos, n_neg = g_pos.sum(), g_neg.sum()
        if n_pos == 0 or n_neg == 0:
            continue
        below = np.cumsum(g_neg) - g_neg
        values.append(float(np.sum(g_pos * (below + g_neg / 2)) / (n_pos * n_neg)))
    return _percentile_interval(values, n_resamples, level)
