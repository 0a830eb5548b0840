"""Run the whole evaluation of a predictions file: metrics, calibration, slices, errors, decision, models."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from app.errors import InputError
from app.evaluation.calibration import STRATEGIES, reliability, top_label
from app.evaluation.compare import COMPARE_METRICS, compare_models
from app.evaluation.decision import decide, validate_costs
from app.evaluation.errors_analysis import analyze_errors
from app.evaluation.loader import EvalData
from app.evaluation.results import Errors, EvaluationReport, ModelSummary
from app.evaluation.slices import SLICE_METRICS, all_metrics, slice_metrics

__all__ = ["EvalOptions", "evaluate", "split_models"]


@dataclass(frozen=True)
class EvalOptions:
    """Parameters of an evaluation (validated by :meth:`validate`)."""

    threshold: float = 0.5
    cost_fp: float = 1.0
    cost_fn: float = 1.0
    bins: int = 10
    strategy: str = "uniform"
    slice_metric: str = "accuracy"
    min_slice_n: int = 30
    min_slice_gap: float = 0.05
    bootstrap: int = 200
    seed: int = 0
    top_k: int = 10
    max_clusters: int = 4
    compare_metric: str = "brier"

    def validate(self) -> None:
        """Raise ``InputError`` naming the first bad parameter."""
        if not (math.isfinite(self.threshold) and 0.0 <= self.threshold <= 1.0):
            raise InputError(f"--threshold must be in [0, 1], got {self.threshold}")
        validate_costs(self.cost_fp, self.cost_fn)
        if self.bins < 1:
            raise InputError(f"--bins must be >= 1, got {self.bins}")
        if self.strategy not in STRATEGIES:
            raise InputError(f"unknown calibration strategy {self.strategy!r}; use one of {', '.join(STRATEGIES)}")
        if self.slice_metric not in SLICE_METRICS:
            raise InputError(f"unknown slice metric {self.slice_metric!r}; use one of {', '.join(SLICE_METRICS)}")
        if self.compare_metric not in COMPARE_METRICS:
            raise InputError(f"unknown compare metric {self.compare_metric!r}; use one of {', '.join(COMPARE_METRICS)}")
        for name, v in (("--min-slice-n", self.min_slice_n), ("--bootstrap", self.bootstrap), ("--top", self.top_k)):
            if v < 0:
                raise InputError(f"{name} must be >= 0, got {v}")
        if not (math.isfinite(self.min_slice_gap) and self.min_slice_gap >= 0):
            raise InputError(f"--min-slice-gap must be >= 0, got {self.min_slice_gap}")
        if self.max_clusters < 1:
            raise InputError(f"--max-clusters must be >= 1, got {self.max_clusters}")


def split_models(data: EvalData) -> dict[str, EvalData]:
    """One :class:`EvalData` per model, in order of first appearance; without a model column, ``{}``."""
    if not data.model_column:
        return {}
    col = data.frame[data.model_column].astype(str).to_numpy()
    out = {}
    for name in dict.fromkeys(col):
        sub = data.subset(col == name)
        if len(np.unique(sub.y)) < 2:
            raise InputError(f"model {name!r} has only one class in {data.label!r}; evaluation needs both classes")
        out[name] = sub
    return out


@dataclass(frozen=True)
class _One:
    metrics: dict[str, float | None]
    summary: ModelSummary
    errors: Errors


def _evaluate_one(data: EvalData, o: EvalOptions) -> _One:
    binary = data.task == "binary"
    thr = o.threshold
    metrics = all_metrics(data, thr, o.bins, o.strategy)
    outcome, conf = top_label(data.y, data.proba)
    calibration = reliability(outcome, conf, o.bins, o.strategy)
    slices = slice_metrics(
        data,
        metrics,
        threshold=thr,
        rank_metric=o.slice_metric,
        min_n=o.min_slice_n,
        min_gap=o.min_slice_gap,
        n_boot=o.bootstrap,
        seed=o.seed,
        bins=o.bins,
        strategy=o.strategy,
    )
    decision = decide(data, o.cost_fp, o.cost_fn, reference_threshold=thr) if binary else None
    errors = analyze_errors(data, thr, top_k=o.top_k, max_clusters=o.max_clusters, seed=o.seed)
    summary = ModelSummary(n=len(data.y), metrics=metrics, calibration=calibration, slices=slices, decision=decision)
    return _One(metrics, summary, errors)


def evaluate(data: EvalData, options: EvalOptions | None = None, *, source: str = "<frame>") -> EvaluationReport:
    """Evaluate ``data``; with a model column, every model, and the top level describes the first one."""
    o = options or EvalOptions()
    o.validate()
    per_model = split_models(data)
    if not per_model and len(np.unique(data.y)) < 2:
        raise InputError(f"label column {data.label!r} has only one class; evaluation needs both classes")
    results = {name: _evaluate_one(sub, o) for name, sub in per_model.items()}
    first_name = next(iter(results), None)
    first = results[first_name] if first_name else _evaluate_one(data, o)
    notes = [
        f"metrics use threshold {o.threshold} (score >= threshold is positive)"
        if data.task == "binary"
        else "multiclass: predicted class is the argmax; no threshold or cost analysis",
        f"calibration: {first.summary.calibration.binning}",
        f"slice CIs: Wilson for proportions, percentile bootstrap ({o.bootstrap} resamples, seed {o.seed}) "
        f"for roc_auc and brier; unstable = n < {o.min_slice_n}, or overall outside the slice CI "
        f"with |gap| >= {o.min_slice_gap:g}",
    ]
    if data.task == "binary":
        notes.append(
            "decision threshold is the exact cost minimiser on these rows (in-sample); "
            "confirm it on held-out data before deploying"
        )
    comparison = None
    if len(results) > 1:
        comparison = compare_models({m: r.summary for m, r in results.items()}, per_model, o.compare_metric)
    s = first.summary
    return EvaluationReport(
        source=source,
        task=data.task,
        n=s.n,
        label=data.label,
        score_columns=data.score_columns,
        classes=data.classes,
        positive_label=data.classes[1] if data.task == "binary" else None,
        threshold=o.threshold if data.task == "binary" else None,
        metrics=first.metrics,
        calibration=s.calibration,
        slice_metric=o.slice_metric,
        slices=s.slices,
        errors=first.errors,
        decision=s.decision,
        model=first_name,
        models={m: r.summary for m, r in results.items()},
        comparison=comparison,
        notes=notes,
    )
