"""Feature-level drift between two tables: per-feature verdicts, a ranking, a dataset verdict.

``feature_drift(reference, current, alpha=...)`` runs the numeric tests (KS, Welch, Brown-Forsythe
by default), chi-square on categorical columns and the multivariate domain-classifier test, with
Benjamini-Hochberg across all of them and the per-test effect floors (see ``app.detection.suite``).

- A feature is flagged when any of its tests is flagged; its reported result is its most
  significant flagged test (else its most significant test), with every test under ``tests``.
- Ranking: flagged first, then by smallest adjusted p-value, then by effect size over floor.
  When no single feature is flagged but a joint test is (a correlation-only change, a shift
  spread thinly over many features), that ordering is chance; the ranking then follows the
  flagged joint test's attribution (the features of the pairs whose correlation moved, or the
  largest standardised mean differences), and ``ranking_basis`` says which. A joint flag without
  an attribution (the domain classifier) gives ``ranking_basis == "not informative"``.
- Dataset drift: any feature flagged, or a joint / multivariate test flagged.
"""

from __future__ import annotations

import math
from typing import Any, Self

import pandas as pd

from app.detection.base import TestResult
from app.detection.frames import select
from app.detection.suite import DetectionConfig, SuiteResult, WindowData, run_suite
from app.errors import InputError
from app.schemas import DriftResult

__all__ = ["FeatureDrift", "attribute", "feature_drift", "feature_results", "rank_features"]


class FeatureDrift(tuple):  # type: ignore[type-arg]
    """``(features, ranking, dataset_drift)`` -- unpacks as three -- plus ``.suite`` with every decided test.

    >>> fd = FeatureDrift({}, [], False)
    >>> features, ranking, drift = fd
    >>> fd.dataset_drift, fd.suite is None
    (False, True)
    """

    suite: SuiteResult | None
    ranking_basis: str

    def __new__(cls, features: dict[str, DriftResult], ranking: list[str], dataset_drift: bool,
                suite: SuiteResult | None = None, ranking_basis: str = "features") -> Self:
        obj = super().__new__(cls, (features, ranking, dataset_drift))
        obj.suite = suite
        obj.ranking_basis = ranking_basis
        return obj

    @property
    def ranking_informative(self) -> bool:
        """False when drift was found but nothing can say which feature is responsible."""
        return self.ranking_basis != "not informative"

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
    blocks = [t.to_drift() for t in tests]
    head = blocks[0].model_dump()
    extra: dict[str, Any] = {t.method: {"statistic": b.statistic, "p_value": b.p_value,
                                        "p_value_adjusted": b.p_value_adjusted, "effect_size": b.effect_size,
                                        "effect_floor": t.effect_floor, "drift_detected": t.drift_detected}
                             for t, b in zip(tests, blocks)}
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
    suite = run_suite(WindowData(features=select(reference, cols)), WindowData(features=select(current, cols)), cfg,
                      verdict_only=True)
    per = feature_results(suite)
    ranking = rank_features(per)
    joint = [r for k in ("joint", "multivariate") for r in suite.groups.get(k, []) if r.drift_detected]
    feature_flag = any(t.drift_detected for tests in per.values() for t in tests)
    basis = "features"
    if joint and not feature_flag:
        ranking, basis = attribute(ranking, joint)
    features = {name: to_drift_result(per[name]) for name in ranking}
    dataset = feature_flag or bool(joint)
    return FeatureDrift(features, ranking, dataset, suite, basis)


def attribute(ranking: list[str], joint: list[TestResult]) -> tuple[list[str], str]:
    """Re-rank by the most significant flagged joint test that attributes ("not informative" if none does).

    >>> j = TestResult("rows", "correlation", 5.0, 1e-6, 0.7, 0.1, p_adjusted=1e-5, drift_detected=True,
    ...                attribution=(("c", 0.4), ("b", 0.4), ("a", 0.2)))
    >>> attribute(["a", "b", "c"], [j])
    (['c', 'b', 'a'], 'correlation')
    """
    with_attr = [r for r in joint if r.attribution]
    if not with_attr:
        return ranking, "not informative"
    best = min(with_attr, key=lambda r: (r.p_adjusted if r.p_adjusted is not None else 1.0, -r.strength))
    order = [name for name, _ in best.attribution if name in ranking]
    return order + [n for n in ranking if n not in order], best.method


def _finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)
