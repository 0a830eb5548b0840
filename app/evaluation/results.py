"""Typed, frozen results of an evaluation; the contract's JSON is ``EvaluationReport.model_dump()``."""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = [
    "Interval",
    "CalibrationBin",
    "Calibration",
    "SliceResult",
    "ErrorCase",
    "ErrorCluster",
    "SliceConfusion",
    "Errors",
    "CostPoint",
    "SliceCost",
    "Decision",
    "ModelSummary",
    "RatioWin",
    "SliceComparison",
    "Comparison",
    "EvaluationReport",
    "json_safe",
]

Number = float | None


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Interval(_Frozen):
    low: float
    high: float
    method: str  # "wilson" or "percentile bootstrap, 200 resamples, seed 0 (per-slice stream)"


class CalibrationBin(_Frozen):
    bin: int
    lower: float
    upper: float
    mean_score: float
    observed_rate: float
    count: int


class Calibration(_Frozen):
    bins: int
    strategy: str
    binning: str
    ece: Number
    curve: list[CalibrationBin]


class SliceResult(_Frozen):
    column: str
    value: str
    n: int
    positives: int | None  # binary only
    metrics: dict[str, Number]
    ci: dict[str, Interval | None]
    gap: Number  # slice value of the ranking metric minus the overall value
    unstable: bool
    unstable_reasons: list[str]


class ErrorCase(_Frozen):
    row: int  # 0-based data row of the input CSV (header excluded)
    id: str | None
    label: str
    predicted: str
    score: float  # positive-class score (binary) or confidence of the predicted class (multiclass)
    kind: str  # "false_positive", "false_negative" or "misclassified"
    slices: dict[str, str]


class ErrorCluster(_Frozen):
    cluster: int
    size: int
    false_positives: int
    false_negatives: int
    mean_score: float
    profile: dict[str, float]  # feature -> centroid in standard deviations from the all-rows mean
    representative: ErrorCase


class SliceConfusion(_Frozen):
    column: str
    value: str
    n: int
    tp: int | None = None
    fp: int | None = None
    tn: int | None = None
    fn: int | None = None
    errors: int
    error_rate: float


class Errors(_Frozen):
    threshold: Number
    n_errors: int
    n_false_positives: int | None
    n_false_negatives: int | None
    top_false_positives: list[ErrorCase]
    top_false_negatives: list[ErrorCase]
    top_misclassified: list[ErrorCase]
    per_slice_confusion: list[SliceConfusion]
    clusters: list[ErrorCluster]
    cluster_features: list[str]
    cluster_method: str


class CostPoint(_Frozen):
    threshold: float
    expected_cost: float


class SliceCost(_Frozen):
    column: str
    value: str
    n: int
    expected_cost: float  # per row, at the overall cost-minimising threshold
    false_positives: int
    false_negatives: int
    own_threshold: float  # the threshold that would minimise this slice's cost alone
    own_expected_cost: float


class Decision(_Frozen):
    cost_fp: float
    cost_fn: float
    threshold: float
    expected_cost: float
    false_positives: int
    false_negatives: int
    reference_threshold: float
    expected_cost_at_reference: float
    bayes_threshold: float
    expected_cost_at_bayes: float
    candidates: int  # distinct cut points searched (all distinct scores + "nobody positive")
    cost_curve: list[CostPoint]
    per_slice: list[SliceCost]


class ModelSummary(_Frozen):
    n: int
    metrics: dict[str, Number]
    calibration: Calibration
    slices: list[SliceResult]
    decision: Decision | None


class RatioWin(_Frozen):
    ratio_from: float  # cost_fn / cost_fp
    ratio_to: float
    winner: str | None  # None when models tie
    costs: dict[str, float] | None = None


class SliceComparison(_Frozen):
    column: str
    value: str
    values: dict[str, Number]
    n: dict[str, int]
    winner: str | None
    differs_from_overall: bool


class Comparison(_Frozen):
    metric: str
    overall: dict[str, Number]
    overall_winner: str | None
    slices: list[SliceComparison]
    winner_at_given_costs: str | None
    by_cost_ratio: list[RatioWin]
    wins: list[RatioWin]


class EvaluationReport(_Frozen):
    source: str
    task: str  # "binary" or "multiclass"
    n: int
    label: str
    score_columns: list[str]
    classes: list[str]
    positive_label: str | None
    threshold: Number  # threshold used by `metrics` (None for multiclass: argmax)
    metrics: dict[str, Number]
    calibration: Calibration
    slice_metric: str
    slices: list[SliceResult]
    errors: Errors
    decision: Decision | None
    model: str | None = None  # which model the top-level fields describe
    models: dict[str, ModelSummary]
    comparison: Comparison | None = None
    notes: list[str]

    def to_json_dict(self) -> dict[str, Any]:
        """The contract document (JSON-safe: undefined or non-finite values are ``None``)."""
        return json_safe(self.model_dump(mode="json"))  # type: ignore[no-any-return]


def json_safe(obj: Any) -> Any:
    """``obj`` with every NaN/inf float replaced by ``None`` (so ``json.dumps(allow_nan=False)`` works).

    >>> json_safe({"a": [1.0, float("nan")], "b": {"c": float("inf")}})
    {'a': [1.0, None], 'b': {'c': None}}
    """
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    return obj
