"""Model comparison: which model is better overall, on each slice, and at which cost ratio.

For the cost ratio r = cost_fn / cost_fp the costs are normalised to cost_fp = 1 / (1 + r),
cost_fn = r / (1 + r), and each model is charged its own minimum expected cost per row (its best
threshold), so the winner at r is the model whose best operating point is cheapest.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from app.errors import InputError
from app.evaluation.decision import cut_points, errors_at
from app.evaluation.loader import EvalData
from app.evaluation.metrics import LOWER_IS_BETTER
from app.evaluation.results import Comparison, ModelSummary, RatioWin, SliceComparison
from app.evaluation.slices import SLICE_METRICS

__all__ = ["COMPARE_METRICS", "RATIO_GRID", "winner", "min_cost_by_ratio", "compare_models"]

COMPARE_METRICS = (*SLICE_METRICS, "expected_cost")
RATIO_GRID = tuple(float(10 ** (k / 10)) for k in range(-20, 21))  # 0.01 .. 100, 10 points per decade


def winner(values: Mapping[str, float | None], metric: str) -> str | None:
    """Name of the best model on ``metric``; ``None`` when no value is defined or the best ones tie.

    >>> winner({"a": 0.1, "b": 0.2}, "brier"), winner({"a": 0.9, "b": 0.9}, "accuracy")
    ('a', None)
    """
    defined = {k: v for k, v in values.items() if v is not None}
    if not defined:
        return None
    sign = 1.0 if metric in LOWER_IS_BETTER else -1.0
    best = min(sign * v for v in defined.values())
    tops = [k for k, v in defined.items() if abs(sign * v - best) <= 1e-12]
    return tops[0] if len(tops) == 1 else None


def min_cost_by_ratio(y: np.ndarray, s: np.ndarray, ratios: tuple[float, ...] | np.ndarray) -> np.ndarray:
    """Minimum expected cost per row (over all thresholds) at each cost ratio, normalised costs.

    >>> min_cost_by_ratio(np.array([0, 0, 1, 1]), np.array([0.1, 0.6, 0.4, 0.9]), [1.0]).tolist()
    [0.125]
    """
    fp, fn = errors_at(y, s, cut_points(s))
    r = np.asarray(ratios, dtype=float)[:, None]
    cost = (fp[None, :] / (1 + r) + fn[None, :] * r / (1 + r)) / len(y)
    return np.asarray(cost.min(axis=1), dtype=float)


def _ratio_wins(per_model: dict[str, EvalData]) -> tuple[list[RatioWin], list[RatioWin]]:
    names = list(per_model)
    table = {m: min_cost_by_ratio(d.y, d.proba, RATIO_GRID) for m, d in per_model.items()}
    points = []
    for i, r in enumerate(RATIO_GRID):
        costs = {m: float(table[m][i]) for m in names}
        points.append(RatioWin(ratio_from=r, ratio_to=r, winner=winner(costs, "expected_cost"), costs=costs))
    merged: list[RatioWin] = []
    for p in points:
        if merged and merged[-1].winner == p.winner:
            merged[-1] = merged[-1].model_copy(update={"ratio_to": p.ratio_to})
        else:
            merged.append(RatioWin(ratio_from=p.ratio_from, ratio_to=p.ratio_to, winner=p.winner))
    return points, merged


def _value(summary: ModelSummary, metric: str) -> float | None:
    if metric == "expected_cost":
        return summary.decision.expected_cost if summary.decision else None
    return summary.metrics.get(metric)


def _slice_values(summary: ModelSummary, metric: str) -> dict[tuple[str, str], tuple[float | None, int]]:
    if metric == "expected_cost":
        per = summary.decision.per_slice if summary.decision else []
        return {(c.column, c.value): (c.expected_cost, c.n) for c in per}
    return {(s.column, s.value): (s.metrics.get(metric), s.n) for s in summary.slices}


def compare_models(
    summaries: dict[str, ModelSummary], per_model: dict[str, EvalData], metric: str = "brier"
) -> Comparison:
    """Compare models overall, per slice (on ``metric``) and across cost ratios (binary only)."""
    if metric not in COMPARE_METRICS:
        raise InputError(f"unknown comparison metric {metric!r}; use one of {', '.join(COMPARE_METRICS)}")
    overall = {m: _value(s, metric) for m, s in summaries.items()}
    best = winner(overall, metric)
    tables = {m: _slice_values(s, metric) for m, s in summaries.items()}
    keys = sorted({k for t in tables.values() for k in t})
    slices = []
    for key in keys:
        vals = {m: t[key][0] if key in t else None for m, t in tables.items()}
        ns = {m: t[key][1] for m, t in tables.items() if key in t}
        w = winner(vals, metric)
        slices.append(
            SliceComparison(
                column=key[0],
                value=key[1],
                values=vals,
                n=ns,
                winner=w,
                differs_from_overall=bool(w and best and w != best),
            )
        )
    slices.sort(key=lambda s: (not s.differs_from_overall, s.column, s.value))
    binary = all(d.task == "binary" for d in per_model.values())
    points, wins = _ratio_wins(per_model) if binary else ([], [])
    given = {m: s.decision.expected_cost if s.decision else None for m, s in summaries.items()}
    return Comparison(
        metric=metric,
        overall=overall,
        overall_winner=best,
        slices=slices,
        winner_at_given_costs=winner(given, "expected_cost") if binary else None,
        by_cost_ratio=points,
        wins=wins,
    )
