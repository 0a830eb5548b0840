"""The experiment record: one pydantic schema for both free-text intake and ``--experiment FILE.json``."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.diagnosis.vocab import BOUNDED_METRICS, CATEGORIES, canonical_metric, canonical_split

__all__ = [
    "Concern",
    "DataChecks",
    "DatasetRef",
    "EvaluationSetup",
    "ExperimentRecord",
    "FairnessRecord",
    "FeatureInfo",
    "HistoryEntry",
    "Observation",
    "as_fraction",
    "normalise_metrics",
]

Split = Literal["train", "validation", "test", "production"]


def as_fraction(value: float) -> float:
    """Read a share given as a fraction (0.98) or a percentage (98): values above 1 are divided by 100.

    >>> as_fraction(98), as_fraction(0.98), as_fraction(1)
    (0.98, 0.98, 1.0)
    """
    v = float(value)
    if not math.isfinite(v) or v < 0 or v > 100:
        raise ValueError(f"expected a share in [0, 1] or a percentage in [0, 100], got {value}")
    return round(v / 100.0, 10) if v > 1 else v


def _split_key(name: str) -> str:
    split = canonical_split(str(name))
    if split is None:
        raise ValueError(f"unknown split {name!r} (use train, validation, test or production)")
    return split


def normalise_metrics(raw: Any) -> dict[str, dict[str, float]]:
    """``{split: {metric: value}}`` with canonical split/metric names; bounded metrics read as fractions.

    >>> normalise_metrics({"val": {"AUC": 98}, "Train": {"acc": 0.99}})
    {'validation': {'roc_auc': 0.98}, 'train': {'accuracy': 0.99}}
    """
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValueError("metrics must be an object {split: {metric: value}}")
    out: dict[str, dict[str, float]] = {}
    for split_name, per_metric in raw.items():
        split = _split_key(split_name)
        if not isinstance(per_metric, dict):
            raise ValueError(f"metrics.{split_name} must be an object {{metric: value}}")
        for metric_name, value in per_metric.items():
            metric = canonical_metric(str(metric_name))
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"metrics.{split_name}.{metric_name} must be a number, got {value!r}")
            v = as_fraction(value) if metric in BOUNDED_METRICS else float(value)
            if not math.isfinite(v):
                raise ValueError(f"metrics.{split_name}.{metric_name} is not finite")
            out.setdefault(split, {})[metric] = v
    return out


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FeatureInfo(_Strict):
    """One input feature and what is known about when its value exists."""

    name: str = Field(min_length=1)
    description: str | None = None
    available_at_prediction_time: bool | None = None
    added_recently: bool = False
    suspected_leak: bool = Field(False, description="the author suspects it carries target/future information")
    importance: float | None = None
    dominant: bool = Field(False, description="stated to be the most important feature by far")


class DataChecks(_Strict):
    """Data statistics (stated, or measured from the CSVs). Shares accept 0.2 or 20."""

    missing_fraction: float | None = Field(None, description="worst missing share of any feature")
    missing_by_feature: dict[str, float] = Field(default_factory=dict)
    duplicate_fraction: float | None = Field(None, description="duplicate rows within the training set")
    train_test_overlap_fraction: float | None = Field(None, description="test rows also present in train")
    invalid_row_fraction: float | None = None
    label_error_rate: float | None = None
    annotator_agreement: float | None = Field(None, description="Cohen's/Fleiss' kappa in [-1, 1]")
    psi: dict[str, float] = Field(default_factory=dict, description="population stability index per feature")
    ks: dict[str, float] = Field(default_factory=dict, description="KS statistic per feature")
    shifted_feature_fraction: float | None = None
    shift_p_value: float | None = Field(None, ge=0.0, le=1.0, description="smallest p-value of a stated shift test")

    @field_validator(
        "missing_fraction",
        "duplicate_fraction",
        "train_test_overlap_fraction",
        "invalid_row_fraction",
        "label_error_rate",
        "shifted_feature_fraction",
        mode="before",
    )
    @classmethod
    def _share(cls, v: Any) -> Any:
        return None if v is None else as_fraction(v)

    @field_validator("missing_by_feature", mode="before")
    @classmethod
    def _shares(cls, v: Any) -> Any:
        return {str(k): as_fraction(x) for k, x in (v or {}).items()}

    @field_validator("annotator_agreement")
    @classmethod
    def _kappa(cls, v: float | None) -> float | None:
        if v is not None and not -1.0 <= v <= 1.0:
            raise ValueError(f"annotator_agreement (kappa) must be in [-1, 1], got {v}")
        return v


class EvaluationSetup(_Strict):
    """How splits and preprocessing were done (facts, not guesses)."""

    split_strategy: Literal["random", "stratified", "temporal", "group", "unknown"] | None = None
    temporal_data: bool | None = None
    preprocessing_fit_on: Literal["train", "all"] | None = None
    test_used_for_tuning: bool | None = None
    group_overlap: bool | None = Field(None, description="the same entity (user, patient) in train and test")
    balanced_offline_sample: bool | None = Field(None, description="offline metrics came from a re-balanced sample")
    target_in_features: bool | None = Field(None, description="the label itself (or a copy) was used as an input")
    test_population_differs: bool | None = Field(None, description="test drawn from another site, period or population")


class DatasetRef(_Strict):
    """Paths of the data itself (relative to the record file) and the target column."""

    train_csv: str = Field(min_length=1)
    test_csv: str = Field(min_length=1)
    target: str = Field(min_length=1)


class FairnessRecord(_Strict):
    """Per-group values of one metric for one protected attribute."""

    protected_attribute: str
    metric: str
    groups: dict[str, float] = Field(min_length=2)


class HistoryEntry(_Strict):
    """An earlier run or change and its metrics."""

    change: str
    metrics: dict[str, dict[str, float]] = Field(default_factory=dict)

    _norm = field_validator("metrics", mode="before")(lambda cls, v: normalise_metrics(v))


class Observation(_Strict):
    """A qualitative statement about a split ("test performance collapsed")."""

    split: Split
    metric: str | None = None
    direction: Literal["drop", "rise"]
    magnitude: Literal["large", "moderate", "small"] = "moderate"
    quote: str = ""


class Concern(_Strict):
    """A category the author names; ``hedged`` when voiced as a worry rather than a finding."""

    category: str
    hedged: bool = True
    finding: bool = Field(False, description="stated as an observed symptom (not a worry, not just a name)")
    quote: str = ""

    @field_validator("category")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in CATEGORIES:
            raise ValueError(f"unknown category {v!r}")
        return v


class ExperimentRecord(_Strict):
    """A failed experiment as data. Documented in docs/experiment_record.md."""

    schema_version: Literal[1] = 1
    experiment_id: str | None = None
    title: str | None = None
    team: str | None = None
    task: Literal["binary_classification", "multiclass_classification", "regression"] | None = None
    n_classes: int | None = Field(None, ge=2, description="number of classes (chance level when no distribution)")
    platform: str | None = Field(None, description="e.g. azure_openai, azure_ai_vision, sklearn, pytorch")
    primary_metric: str | None = None
    target_score: float | None = Field(None, description="the score the model had to reach (same metric)")
    baseline_score: float | None = Field(
        None, description="a reference model's score on the same metric (previous version, naive/majority baseline)"
    )
    intervals: dict[str, list[float]] = Field(default_factory=dict, description="stated CI/bootstrap range per split")
    predicts_single_class: bool | None = Field(None, description="the model (almost) never predicts the minority class")
    metrics: dict[str, dict[str, float]] = Field(default_factory=dict)
    split_sizes: dict[str, int] = Field(default_factory=dict)
    class_distribution: dict[str, float] = Field(default_factory=dict)
    curves: dict[str, list[float]] = Field(default_factory=dict)
    seed_scores: list[float] = Field(default_factory=list, description="primary metric on validation, one per seed")
    seed_std: float | None = Field(None, description="stated standard deviation across seeds")
    training_issues: list[Literal["nan_loss", "divergence", "loss_spikes", "oscillation"]] = Field(default_factory=list)
    features: list[FeatureInfo] = Field(default_factory=list)
    data_checks: DataChecks = Field(default_factory=DataChecks)
    evaluation: EvaluationSetup = Field(default_factory=EvaluationSetup)
    fairness: list[FairnessRecord] = Field(default_factory=list)
    history: list[HistoryEntry] = Field(default_factory=list)
    observations: list[Observation] = Field(default_factory=list)
    concerns: list[Concern] = Field(default_factory=list)
    notes: str | None = None
    dataset: DatasetRef | None = None
    provenance: dict[str, str] = Field(default_factory=dict, description="field path -> where the value came from")
    input_conflicts: list[str] = Field(default_factory=list)

    @field_validator("metrics", mode="before")
    @classmethod
    def _metrics(cls, v: Any) -> Any:
        return normalise_metrics(v)

    @field_validator("target_score", mode="before")
    @classmethod
    def _target(cls, v: Any) -> Any:
        return None if v is None else as_fraction(v) if 1 < float(v) <= 100 else float(v)

    @field_validator("intervals", mode="before")
    @classmethod
    def _intervals(cls, v: Any) -> Any:
        out = {}
        for k, pair in (v or {}).items():
            lo, hi = sorted(as_fraction(x) for x in pair)
            out[_split_key(k)] = [lo, hi]
        return out

    @field_validator("primary_metric")
    @classmethod
    def _primary(cls, v: str | None) -> str | None:
        return None if v is None else canonical_metric(v)

    @field_validator("split_sizes", mode="before")
    @classmethod
    def _sizes(cls, v: Any) -> Any:
        out = {}
        for k, n in (v or {}).items():
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise ValueError(f"split_sizes.{k} must be a positive integer, got {n!r}")
            out[_split_key(k)] = n
        return out

    @field_validator("class_distribution", mode="before")
    @classmethod
    def _classes(cls, v: Any) -> Any:
        if not v:
            return {}
        vals = {str(k): float(x) for k, x in v.items()}
        if any(x < 0 or not math.isfinite(x) for x in vals.values()):
            raise ValueError("class_distribution values must be non-negative numbers")
        total = sum(vals.values())
        if total <= 0:
            raise ValueError("class_distribution must not be all zero")
        if total > 1.0 + 1e-9 and not (len(vals) == 1 and total <= 100):
            return {k: x / total for k, x in vals.items()}  # counts or percentages summing to 100
        vals = {k: as_fraction(x) for k, x in vals.items()}
        rest = 1.0 - sum(vals.values())
        if rest > 1e-9:
            vals["(other)"] = rest  # one share given: the rest is the other class
        return vals

    @field_validator("curves", mode="before")
    @classmethod
    def _curves(cls, v: Any) -> Any:
        out = {}
        for k, series in (v or {}).items():
            name = str(k).lower().replace("val_", "validation_").replace("valid_", "validation_")
            out[name] = [float(x) for x in series]  # "nan"/"inf" strings become floats
        return out

    @model_validator(mode="after")
    def _consistent(self) -> ExperimentRecord:
        for f in self.fairness:
            if len(f.groups) < 2:
                raise ValueError("fairness groups need at least two groups")
        return self

    @property
    def minority_rate(self) -> float | None:
        return min(self.class_distribution.values()) if len(self.class_distribution) >= 2 else None

    @property
    def majority_rate(self) -> float | None:
        return max(self.class_distribution.values()) if len(self.class_distribution) >= 2 else None
