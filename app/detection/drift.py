"""Feature-level drift between two tables: per-feature verdicts, a ranking, a dataset verdict.

``feature_drift(reference, current, alpha=...)`` runs the numeric tests (KS, Welch, Brown-Forsythe
by default), chi-square on categorical columns and the multivariate domain-classifier test, with
Benjamini-Hochberg across all of them and the per-test effect floors (see ``app.detection.suite``).

- A feature is flagged when any of its tests is flagged; its reported result is its most
  significant flagged test (else its most significant test), with every test under ``tests``.
- Ranking: flagged first, then by smallest adjusted p-value, then by effect size over floor.
- Dataset drift: any feature flagged, or the multivariate test flagged.
"""

from __future__ import annotations

import math
from typing import Any, Self

import pandas as pd

from app.detection.base import TestResult
from app.detection.suite import DetectionConfig, SuiteResult, WindowData, run_suite
from app.errors import InputError
from app.schemas import DriftResult

__all__ = ["FeatureDrift", "feature_drift", "feature_results", "rank_features"]


class FeatureDrift(tuple):  # type: ignore[type-arg]
    """``(features, ranking, dataset_drift)`` -- unpacks as three -- plus ``.suite`` with every decided test.

    >>> fd = FeatureDrift({}, [], False)
    >>> features, ranking, drift = fd
    >>> fd.dataset_drift, fd.suite is None
    (False, True)
    """

    suite: SuiteResult | None

    def __new__(cls, features: dict[str, DriftResult], ranking: list[str], dataset_drift: bool,
                suite: SuiteResult | None = None) -> Self:
        obj = super().__new__(cls, (features, ranking, dataset_drift))
        obj.suite = suite
        return obj

    @property
    def features(self) -> dict[str, DriftResult]:
        return self[0]  # type: ignore[no-any-return]

    @property
    def ranking(self) -> list[str]:
        return self[1]  # type: ignore[no-any-return]

    @property
    def dataset_drift(self) -> bool:
        return bool(self[2])


def _key(r: TestResult) -> tuple[int, float, float]:
    p = r.p_adjusted if r.p_adjusted is not None else 1.0
    return (0 if r.drift_detected else 1, p, -r.strength)


def feature_results(suite: SuiteResult) -> dict[str, list[TestResult]]:
    """The decided tests of each feature, most telling first."""
    per: dict[str, list[TestResult]] = {}
    for r in suite.groups.get("features", []):
        per.setdefault(r.name, []).append(r)
    return {k: sorted(v, key=_key) for k, v in per.items()}


def rank_features(per: dict[str, list[TestResult]]) -> list[str]:
    """Features ordered: flagged first, then smallest adjusted p, then largest effect/floor.

    >>> a = TestResult("a", "ks", 0.1, 0.01, 0.1, 0.05, p_adjusted=0.02, drift_detected=True)
    >>> b = TestResult("b", "ks", 0.3, 1e-9, 0.3, 0.05, p_adjusted=1e-8, drift_detected=True)
    >>> c = TestResult("c", "ks", 0.01, 0.5, 0.01, 0.05, p_adjusted=0.6)
    >>> rank_features({"a": [a], "b": [b], "c": [c]})
    ['b', 'a', 'c']
    """
    def key(name: str) -> tuple[int, float, float]:
        tests = per[name]
        flagged = any(t.drift_detected for t in tests)
        p = min((t.p_adjusted for t in tests if t.p_adjusted is not None), default=1.0)
        return (0 if flagged else 1, p, -max((t.strength for t in tests), default=0.0))

    return sorted(per, key=key)


def to_drift_result(tests: list[TestResult]) -> DriftResult:
    """The feature's headline result plus a compact view of all its tests."""
    head = tests[0].to_drift().model_dump()
    extra: dict[str, Any] = {t.method: {"statistic": t.to_drift().statistic, "p_value": t.to_drift().p_value,
                                        "p_value_adjusted": t.to_drift().p_value_adjusted,
                                        "effect_size": t.to_drift().effect_size, "effect_floor": t.effect_floor,
                                        "drift_detected": t.drift_detected} for t in tests}
    return DriftResult.model_validate({**head, "drift_detected": any(t.drift_detected for t in tests), "tests": extra})


def feature_drift(reference: pd.DataFrame, current: pd.DataFrame, *, alpha: float = 0.05,
                  config: DetectionConfig | None = None, multivariate: bool = True,
                  columns: list[str] | None = None) -> FeatureDrift:
    """Per-feature drift verdicts, the ranking and the dataset-level verdict (see module docstring)."""
    if not isinstance(reference, pd.DataFrame) or not isinstance(current, pd.DataFrame):
        raise InputError("feature_drift needs two pandas DataFrames")
    cols = columns if columns is not None else [c for c in reference.columns if c in current.columns]
    if not cols:
        raise InputError(f"no common columns between reference ({', '.join(map(str, reference.columns[:8]))}) "
                         f"and current ({', '.join(map(str, current.columns[:8]))})")
    base = config or DetectionConfig.model_validate({})
    cfg = base.model_copy(update={"alpha": alpha, "multivariate": multivariate and base.multivariate,
                                  "isolation_forest": False, "data_quality": False})
    suite = run_suite(WindowData(features=reference[cols]), WindowData(features=current[cols]), cfg)
    per = feature_results(suite)
    ranking = rank_features(per)
    features = {name: to_drift_result(per[name]) for name in ranking}
    multi = suite.first("multivariate")
    dataset = any(r.drift_detected for r in features.values()) or bool(multi and multi.drift_detected)
    return FeatureDrift(features, ranking, dataset, suite)


def _finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)
