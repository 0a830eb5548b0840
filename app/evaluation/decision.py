"""Decision analysis: expected cost per row under false-positive/false-negative costs, the exact
cost-minimising threshold, the cost curve and per-slice cost (binary tasks).

A row is predicted positive when ``score >= threshold``. Expected cost per row at a threshold is
``(cost_fp * FP + cost_fn * FN) / n``. It only changes at the distinct scores, so searching every distinct
score plus one "nobody positive" cut finds the exact minimiser; ties go to the cut closest to the Bayes
threshold ``cost_fp / (cost_fp + cost_fn)`` (the optimum for perfectly calibrated scores).
"""

from __future__ import annotations

import math

import numpy as np

from app.errors import InputError
from app.evaluation.loader import EvalData
from app.evaluation.results import CostPoint, Decision, SliceCost
from app.evaluation.slices import iter_slices

__all__ = ["validate_costs", "cut_points", "errors_at", "expected_cost", "optimal_threshold", "decide"]


def validate_costs(cost_fp: float, cost_fn: float) -> None:
    """Raise ``InputError`` unless both costs are finite, non-negative and not both zero."""
    for name, v in (("--cost-fp", cost_fp), ("--cost-fn", cost_fn)):
        if not math.isfinite(v) or v < 0:
            raise InputError(f"{name} must be a finite number >= 0, got {v}")
    if cost_fp == 0 and cost_fn == 0:
        raise InputError("--cost-fp and --cost-fn cannot both be 0")


def cut_points(s: np.ndarray) -> np.ndarray:
    """Every distinct score, ascending, plus a last cut above all scores (nobody predicted positive).

    >>> cut_points(np.array([0.2, 0.7, 0.2])).tolist()
    [0.2, 0.7, 1.0]
    """
    u = np.unique(s)
    top = 1.0 if u[-1] < 1.0 else float(np.nextafter(1.0, 2.0))
    return np.asarray(np.r_[u, top], dtype=float)


def errors_at(y: np.ndarray, s: np.ndarray, thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False positives and false negatives at each threshold (vectorised, exact).

    >>> fp, fn = errors_at(np.array([0, 0, 1, 1]), np.array([0.1, 0.6, 0.4, 0.9]), np.array([0.5]))
    >>> int(fp[0]), int(fn[0])
    (1, 1)
    """
    neg = np.sort(s[y == 0])
    pos = np.sort(s[y == 1])
    fp = len(neg) - np.searchsorted(neg, thresholds, side="left")
    fn = np.searchsorted(pos, thresholds, side="left")
    return fp, fn


def expected_cost(y: np.ndarray, s: np.ndarray, threshold: float, cost_fp: float, cost_fn: float) -> float:
    """Expected cost per row at one threshold.

    >>> expected_cost(np.array([0, 0, 1, 1]), np.array([0.1, 0.6, 0.4, 0.9]), 0.5, 1.0, 5.0)
    1.5
    """
    fp, fn = errors_at(y, s, np.array([threshold]))
    return float((cost_fp * fp[0] + cost_fn * fn[0]) / len(y))


def optimal_threshold(
    y: np.ndarray, s: np.ndarray, cost_fp: float, cost_fn: float
) -> tuple[float, float, int, int, int]:
    """``(threshold, expected_cost, fp, fn, candidates)`` minimising expected cost over all cut points.

    >>> optimal_threshold(np.array([0, 0, 1, 1]), np.array([0.1, 0.6, 0.4, 0.9]), 1.0, 5.0)
    (0.4, 0.25, 1, 0, 5)
    """
    cuts = cut_points(s)
    fp, fn = errors_at(y, s, cuts)
    cost = (cost_fp * fp + cost_fn * fn) / len(y)
    best = cost.min()
    tied = np.flatnonzero(cost <= best + 1e-12 * max(1.0, abs(best)))
    bayes = cost_fp / (cost_fp + cost_fn)
    i = min(tied, key=lambda j: (abs(cuts[j] - bayes), -cuts[j]))
    return float(cuts[i]), float(cost[i]), int(fp[i]), int(fn[i]), int(len(cuts))


def decide(
    data: EvalData,
    cost_fp: float = 1.0,
    cost_fn: float = 1.0,
    *,
    reference_threshold: float = 0.5,
    grid_points: int = 101,
) -> Decision:
    """Full decision analysis of a binary task: optimum, cost curve on a threshold grid, per-slice cost."""
    validate_costs(cost_fp, cost_fn)
    if data.task != "binary":
        raise InputError("decision analysis needs a binary task (one --score column)")
    y, s = data.y, data.proba
    t, c, fp, fn, k = optimal_threshold(y, s, cost_fp, cost_fn)
    grid = np.linspace(0.0, 1.0, grid_points)
    gfp, gfn = errors_at(y, s, grid)
    curve = [
        CostPoint(threshold=float(g), expected_cost=float((cost_fp * a + cost_fn * b) / len(y)))
        for g, a, b in zip(grid, gfp, gfn, strict=True)
    ]
    bayes = cost_fp / (cost_fp + cost_fn)
    per_slice = []
    for col, value, mask in iter_slices(data):
        ys, ss = y[mask], s[mask]
        sfp, sfn = errors_at(ys, ss, np.array([t]))
        ot, oc, _, _, _ = optimal_threshold(ys, ss, cost_fp, cost_fn)
        per_slice.append(
            SliceCost(
                column=col,
                value=value,
                n=int(mask.sum()),
                expected_cost=float((cost_fp * sfp[0] + cost_fn * sfn[0]) / mask.sum()),
                false_positives=int(sfp[0]),
                false_negatives=int(sfn[0]),
                own_threshold=ot,
                own_expected_cost=oc,
            )
        )
    per_slice.sort(key=lambda p: (-p.expected_cost, -p.n, p.column, p.value))
    return Decision(
        cost_fp=cost_fp,
        cost_fn=cost_fn,
        threshold=t,
        expected_cost=c,
        false_positives=fp,
        false_negatives=fn,
        reference_threshold=reference_threshold,
        expected_cost_at_reference=expected_cost(y, s, reference_threshold, cost_fp, cost_fn),
        bayes_threshold=bayes,
        expected_cost_at_bayes=expected_cost(y, s, bayes, cost_fp, cost_fn),
        candidates=k,
        cost_curve=curve,
        per_slice=per_slice,
    )
