"""Per-feature drift over time (a heatmap grid) built from a bounded number of stored reports."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.storage import Store
from app.storage.read.reports import thinned_reports

__all__ = ["OUTPUT_ROWS", "DriftGrid", "drift_grid", "feature_values", "grid_from_reports", "pick_evenly"]

# distribution tests on the model's outputs, shown above the input features
OUTPUT_ROWS = {"confidence_distribution": "[confidence]", "prediction_distribution": "[prediction]"}


@dataclass(frozen=True)
class DriftGrid:
    """Rows = variables, columns = report times; ``score`` is the effect size, ``flag`` the verdict."""

    times: list[float] = field(default_factory=list)
    report_ids: list[int] = field(default_factory=list)
    variables: list[str] = field(default_factory=list)
    score: list[list[float | None]] = field(default_factory=list)
    flag: list[list[bool]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.times or not self.variables


def pick_evenly(n: int, k: int) -> list[int]:
    """``k`` indices spread evenly over ``range(n)``, always keeping the last one.

    >>> pick_evenly(10, 4)
    [0, 3, 6, 9]
    >>> pick_evenly(3, 10)
    [0, 1, 2]
    """
    if n <= k:
        return list(range(n))
    return sorted({round(x) for x in np.linspace(0, n - 1, k)})


def _score(res: Any) -> float | None:
    if not isinstance(res, dict):
        return None
    for key in ("effect_size", "statistic"):
        v = res.get(key)
        if isinstance(v, (int, float)) and np.isfinite(v):
            return float(v)
    return None


def grid_from_reports(reports: list[tuple[int, float, dict[str, Any]]]) -> DriftGrid:
    """Build the grid from ``(report_id, ts, drift_dict)`` tuples (oldest first).

    Variables are ordered: output distributions first, then features drifting in the newest report,
    then by how many reports flagged them, then by their peak score.

    >>> g = grid_from_reports([(1, 10.0, {"features": {"a": {"method": "ks", "effect_size": 0.1}}}),
    ...                        (2, 20.0, {"features": {"a": {"method": "ks", "effect_size": 0.6,
    ...                                                      "drift_detected": True},
    ...                                                "b": {"method": "ks", "effect_size": 0.2}}})])
    >>> g.variables, g.score[0], g.flag[0], g.score[1]
    (['a', 'b'], [0.1, 0.6], [False, True], [None, 0.2])
    """
    per_var: dict[str, dict[int, dict[str, Any]]] = {}
    for col, (_rid, _ts, drift) in enumerate(reports):
        for key, label in OUTPUT_ROWS.items():
            if isinstance(drift.get(key), dict):
                per_var.setdefault(label, {})[col] = drift[key]
        for feat, res in (drift.get("features") or {}).items():
            per_var.setdefault(str(feat), {})[col] = res
    n = len(reports)

    def peak(v: str) -> float:
        return max((_score(r) or 0.0) for r in per_var[v].values())

    outs = [lbl for lbl in OUTPUT_ROWS.values() if lbl in per_var]
    def flagged(v: str, col: int | None = None) -> int:
        return sum(bool(r.get("drift_detected")) for c, r in per_var[v].items()
                   if isinstance(r, dict) and (col is None or c == col))

    feats = sorted((v for v in per_var if v not in outs),
                   key=lambda v: (-flagged(v, n - 1), -flagged(v), -peak(v), v))
    variables = outs + feats
    score = [[_score(per_var[v].get(c)) for c in range(n)] for v in variables]
    flag = [[bool((per_var[v].get(c) or {}).get("drift_detected", False)) for c in range(n)] for v in variables]
    return DriftGrid(times=[float(r[1]) for r in reports], report_ids=[int(r[0]) for r in reports],
                     variables=variables, score=score, flag=flag)


def drift_grid(store: Store, name: str, *, since: float | None = None, max_columns: int = 60) -> DriftGrid:
    """Drift grid of an endpoint from at most ``max_columns`` reports spread evenly over the range.

    Only report ids and times are read for the whole range; the JSON of the chosen reports is
    parsed, so the cost stays bounded whatever the number of stored reports.
    """
    ep = store.find_endpoint(name)
    if ep is None:
        return DriftGrid()
    rows = thinned_reports(store.engine, ep.id, since=since, pick=lambda n: pick_evenly(n, max_columns))
    reports = [(rid, ts, json.loads(raw).get("drift") or {}) for rid, ts, raw in rows]
    return grid_from_reports(reports)


def feature_values(settings: Any, store: Store, name: str, feature: str, *, last_n: int = 500
                   ) -> tuple[list[Any], list[Any]]:
    """(reference values from the active baseline, values of the newest ``last_n`` samples) of one input feature.

    Empty lists when there is no baseline or the feature is unknown; the page draws the two histograms.
    """
    from app.errors import MlfiError
    from app.storage.baselines import load_baseline

    try:
        ref = load_baseline(settings, store, name).features.get(feature)
    except (MlfiError, OSError, ValueError):
        ref = None
    if ref is None:
        return [], []
    cur = [s.inputs.get(feature) for s in store.recent_samples(name, last_n=last_n) if s.inputs]
    return list(ref.values), [v for v in cur if v is not None]
