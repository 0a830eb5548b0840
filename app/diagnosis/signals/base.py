"""The signal set and the helpers every signal module shares (metric choice, Wilson interval, name patterns)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from app.diagnosis.record import ExperimentRecord
from app.diagnosis.vocab import BOUNDED_METRICS

__all__ = [
    "PREFERENCE",
    "QUAL",
    "Signals",
    "chance_level",
    "choose_metric",
    "is_future_name",
    "metric_value",
    "wilson_halfwidth",
]

PREFERENCE = (
    "roc_auc",
    "accuracy",
    "balanced_accuracy",
    "f1",
    "macro_f1",
    "micro_f1",
    "pr_auc",
    "score",
    "r2",
    "log_loss",
    "loss",
    "rmse",
    "mae",
    "mse",
    "mape",
    "precision",
    "recall",
)
QUAL = {"large": 1.0, "moderate": 0.5, "small": 0.25}


@dataclass
class Signals:
    """Signal values (numbers, booleans, names) plus where each came from and the assumptions made."""

    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    assumptions: list[str] = field(default_factory=list)

    def set(self, name: str, value: Any, source: str) -> None:
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return
        self.values[name] = round(value, 6) if isinstance(value, float) else value
        self.sources[name] = source

    def get(self, name: str) -> Any:
        return self.values.get(name)


def wilson_halfwidth(p: float, n: int, z: float = 1.959964) -> float:
    """Half-width of the Wilson score interval for a proportion ``p`` measured on ``n`` items.

    >>> round(wilson_halfwidth(0.9, 50), 4), round(wilson_halfwidth(0.9, 5000), 4)
    (0.0851, 0.0083)
    """
    denom = 1 + z * z / n
    return float(z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom)


def is_future_name(name: str, patterns: list[str]) -> bool:
    """True when a column name describes a state after the prediction point.

    >>> pats = [r"(^|_)(after|post|future|next)(_|$)"]
    >>> is_future_name("renewal_status_after_30d", pats), is_future_name("days_active", pats)
    (True, False)
    """
    low = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower().replace("-", "_").replace(" ", "_")
    return any(re.search(p, low) for p in patterns)


def choose_metric(rec: ExperimentRecord) -> str | None:
    """The primary metric: the declared one, else the one reported on most splits (ties by PREFERENCE)."""
    if rec.primary_metric and any(rec.primary_metric in m for m in rec.metrics.values()):
        return rec.primary_metric
    counts: dict[str, int] = {}
    for per in rec.metrics.values():
        for m in per:
            if not m.startswith("minority_"):
                counts[m] = counts.get(m, 0) + 1
    for name in rec.curves:
        split, _, m = name.partition("_")
        if split in ("train", "validation", "test") and m and "loss" not in m and m not in rec.metrics.get(split, {}):
            counts[m] = counts.get(m, 0) + 1
    if not counts:  # only minority-class metrics were given ("spam precision fell from .95 to .80")
        for per in rec.metrics.values():
            for m in per:
                counts[m] = counts.get(m, 0) + 1
    if not counts:
        return None
    has_named = any(m != "score" for m in counts)
    rank = {m: (i if m in PREFERENCE else len(PREFERENCE)) for i, m in enumerate(PREFERENCE)}
    best = max(
        counts,
        key=lambda m: (
            counts[m] + (counts.get("score", 0) if has_named and m in BOUNDED_METRICS and m != "score" else 0),
            -rank.get(m, len(PREFERENCE)),
            m,
        ),
    )
    return best


def metric_value(rec: ExperimentRecord, split: str, metric: str) -> tuple[float | None, str]:
    per = rec.metrics.get(split, {})
    if metric in per:
        return per[metric], rec.provenance.get(f"metrics.{split}.{metric}", f"record: metrics.{split}.{metric}")
    if metric in BOUNDED_METRICS and "score" in per:  # an unnamed percentage next to a named metric
        return per["score"], rec.provenance.get(
            f"metrics.{split}.score", "record"
        ) + f" (unnamed score read as {metric})"
    return None, ""


def chance_level(rec: ExperimentRecord, metric: str, sig: Signals) -> float | None:
    if metric in ("roc_auc", "balanced_accuracy"):
        return 0.5
    if metric == "r2":
        return 0.0
    if metric in ("accuracy", "score", "f1", "macro_f1", "micro_f1"):
        if (rec.n_classes and rec.n_classes > len(rec.class_distribution) >= 2
                and rec.majority_rate == rec.minority_rate):
            return 1.0 / rec.n_classes  # "the classes are balanced" with the number of classes said elsewhere
        if rec.majority_rate is not None and rec.minority_rate is not None:
            binary_f1 = metric in ("f1", "macro_f1") and len(rec.class_distribution) == 2
            return rec.minority_rate if binary_f1 else rec.majority_rate
        if rec.n_classes:
            return 1.0 / rec.n_classes
        sig.assumptions.append(f"no class distribution given: chance level of {metric} assumed 0.5 (balanced binary)")
        return 0.5
    if metric == "pr_auc" and rec.minority_rate is not None:
        return rec.minority_rate
    return None
