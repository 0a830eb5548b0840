"""Pydantic models shared by every layer; the contract's JSON is their ``model_dump``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ROOT_CAUSES", "SEVERITIES", "PRIORITIES", "ERROR_KINDS",
    "Sample", "Metrics", "DriftResult", "Anomaly", "FeatureAttribution", "Segment", "RCA",
    "Recommendation", "EstimatedPerformance", "Report", "Baseline", "FeatureReference", "severity_rank",
]

ROOT_CAUSES = ("none", "feature_drift", "prediction_drift", "confidence_drop", "accuracy_drop",
               "latency_degradation", "error_spike", "silent_failure", "data_quality")
SEVERITIES = ("none", "low", "medium", "high", "critical")
PRIORITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "NONE")
# error kinds recorded for failed probes
ERROR_KINDS = ("timeout", "connection_error", "http_error", "malformed_response", "protocol_error")

RootCause = Literal["none", "feature_drift", "prediction_drift", "confidence_drop", "accuracy_drop",
                    "latency_degradation", "error_spike", "silent_failure", "data_quality"]
Severity = Literal["none", "low", "medium", "high", "critical"]
Priority = Literal["CRITICAL", "HIGH", "MEDIUM", "LOW", "NONE"]


def severity_rank(sev: str) -> int:
    """Order of a severity, ``none`` = 0 ... ``critical`` = 4.

    >>> severity_rank("high") > severity_rank("low")
    True
    """
    return SEVERITIES.index(sev)


class Sample(BaseModel):
    """One observation of an endpoint: a probe (or an ingested log row) and what came back."""

    endpoint: str
    ts: float
    source: Literal["probe", "ingest"] = "probe"
    inputs: dict[str, Any] | None = None
    prediction: str | None = None
    confidence: float | None = None
    probabilities: dict[str, float] | None = None
    label: str | None = None
    latency_ms: float | None = None
    error_kind: str | None = None
    error_detail: str | None = None
    status_code: int | None = None

    @property
    def ok(self) -> bool:
        return self.error_kind is None

    @property
    def correct(self) -> bool | None:
        if self.label is None or self.prediction is None or not self.ok:
            return None
        return str(self.label) == str(self.prediction)


class Metrics(BaseModel):
    """Summary metrics of a window of samples (contract keys first, extras after)."""

    avg_confidence: float | None = None
    confidence_std: float | None = None
    error_rate: float = 0.0
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    accuracy: float | None = None
    total_samples: int = 0
    labelled_samples: int = 0
    class_distribution: dict[str, float] = Field(default_factory=dict)
    error_kinds: dict[str, int] = Field(default_factory=dict)
    # regression endpoints (numeric predictions): accuracy stays None, these carry the error instead
    task: Literal["classification", "regression"] | None = None
    mae: float | None = None
    rmse: float | None = None
    r2: float | None = None
    mean_prediction: float | None = None
    prediction_std: float | None = None


class DriftResult(BaseModel):
    """Outcome of one statistical test on one variable."""

    model_config = ConfigDict(extra="allow")

    method: str
    statistic: float | None = None
    p_value: float | None = None
    p_value_adjusted: float | None = None
    effect_size: float | None = None
    effect_floor: float | None = None
    drift_detected: bool = False
    detail: str | None = None


class Anomaly(BaseModel):
    detector: str
    severity: Severity = "medium"
    message: str
    value: float | None = None
    threshold: float | None = None


class FeatureAttribution(BaseModel):
    name: str
    score: float
    evidence: str = ""


class Segment(BaseModel):
    description: str
    share: float
    metric: str
    value: float | None = None


class RCA(BaseModel):
    root_cause: RootCause = "none"
    severity: Severity = "none"
    failure_reason: str = "No significant change from the baseline."
    features: list[FeatureAttribution] = Field(default_factory=list)
    segments: list[Segment] = Field(default_factory=list)
    contributing: list[str] = Field(default_factory=list, description="other root causes that also fired")
    evidence: list[str] = Field(default_factory=list)


class Recommendation(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    action: str
    priority: Priority = "MEDIUM"
    rationale: str = ""
    status: Literal["pending", "approved", "rejected", "executed", "superseded"] = "pending"
    action_type: str | None = None
    rule_id: str | None = None
    knowledge_id: str | None = None


class EstimatedPerformance(BaseModel):
    """Label-free accuracy estimate of a window (confidence calibrated on the labelled reference)."""

    metric: str = "accuracy"
    method: str = "cbpe_isotonic"
    estimate: float | None = None
    band: list[float] = Field(default_factory=list, description="[low, high] at ``level``")
    level: float = 0.95
    std_error: float | None = None
    sampling_sd: float | None = None
    calibration_sd: float | None = None
    n_rows: int = 0
    reference_accuracy: float | None = None
    realised: float | None = Field(default=None, description="accuracy on the window's labelled rows, when any")
    n_labelled: int = 0
    error: float | None = Field(default=None, description="estimate - realised")
    within_band: bool | None = None
    unreliable: bool = False
    reasons: list[str] = Field(default_factory=list)
    domain_auc: float | None = None
    notes: list[str] = Field(default_factory=list,
                             description="what changed without making the estimate unreliable (an input mix shift)")


class Report(BaseModel):
    """A monitoring report (analyze, compare, watcher window). Contract keys first."""

    model_config = ConfigDict(extra="allow")

    endpoint: str
    metrics: Metrics
    drift: dict[str, Any] = Field(default_factory=dict)
    anomalies: list[Anomaly] = Field(default_factory=list)
    rca: RCA = Field(default_factory=RCA)
    recommendations: list[Recommendation] = Field(default_factory=list)
    samples_collected: int = 0
    baseline_metrics: Metrics | None = None
    baseline_version: int | None = None
    created_at: float | None = None
    report_id: int | None = None
    alert: bool = False
    estimated_performance: EstimatedPerformance | None = None


class FeatureReference(BaseModel):
    """Reference description of one input feature."""

    kind: Literal["numeric", "categorical"]
    values: list[Any] = Field(default_factory=list, description="reference sample (capped)")
    mean: float | None = None
    std: float | None = None
    min: float | None = None
    max: float | None = None
    quantiles: dict[str, float] = Field(default_factory=dict)
    categories: dict[str, float] = Field(default_factory=dict)
    nan_rate: float = 0.0
    dtype: str = "float"


class Baseline(BaseModel):
    """What normal looks like for one endpoint, learned from N probes (versioned)."""

    endpoint: str
    version: int = 0
    created_at: float = 0.0
    protocol: str | None = None
    n_samples: int = 0
    metrics: Metrics
    confidences: list[float] = Field(default_factory=list)
    latencies_ms: list[float] = Field(default_factory=list)
    class_counts: dict[str, int] = Field(default_factory=dict)
    correct: list[int] = Field(default_factory=list, description="1/0 per labelled probe")
    calibration_pairs: list[tuple[float, int]] = Field(
        default_factory=list, description="(confidence, 1/0 correct) per labelled probe with a confidence (capped)")
    task: Literal["classification", "regression"] = Field(
        default="classification", description="decided from the predictions when the baseline is learnt")
    prediction_values: list[float] = Field(default_factory=list, description="numeric predictions (regression)")
    residuals: list[float] = Field(default_factory=list, description="prediction - label per labelled probe (regression)")
    label_values: list[float] = Field(default_factory=list, description="numeric labels aligned with residuals (regression)")
    features: dict[str, FeatureReference] = Field(default_factory=dict)
    feature_rows: list[dict[str, Any]] = Field(default_factory=list, description="joint reference rows (capped)")
    notes: dict[str, Any] = Field(default_factory=dict)
