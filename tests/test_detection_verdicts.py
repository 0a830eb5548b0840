"""Verdict = BH-adjusted p < alpha AND effect >= floor: quiet on huge negligible shifts, loud on small real ones."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from app.detection import feature_drift
from app.detection.base import TestResult, decide
from app.detection.suite import DetectionConfig

COLS = [f"f{i}" for i in range(5)]


def frames(n: int, seed: int, shift: dict[str, float] | None = None, scale: dict[str, float] | None = None):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    ref = pd.DataFrame(rng.standard_normal((n, len(COLS))), columns=COLS)
    cur = pd.DataFrame(rng.standard_normal((n, len(COLS))), columns=COLS)
    for c, v in (shift or {}).items():
        cur[c] += v
    for c, v in (scale or {}).items():
        cur[c] *= v
    return ref, cur


def test_feature_drift_unpacks_as_results_ranking_verdict() -> None:
    ref, cur = frames(1000, 0, {"f3": 0.3})
    results, ranking, dataset = feature_drift(ref, cur, alpha=0.05)
    assert dataset and ranking[0] == "f3" and set(ranking) == set(COLS)
    assert results["f3"].drift_detected and not any(results[c].drift_detected for c in COLS if c != "f3")
    assert results["f3"].p_value_adjusted is not None and results["f3"].effect_size >= results["f3"].effect_floor


def test_a_million_rows_with_a_negligible_shift_stay_quiet() -> None:
    ref, cur = frames(1_000_000, 1, {"f2": 0.02}, {"f4": 1.02})
    t = time.perf_counter()
    res = feature_drift(ref, cur)
    elapsed = time.perf_counter() - t
    assert not res.dataset_drift, {k: v.detail for k, v in res.features.items() if v.drift_detected}
    # the tests are hugely significant at this size; only the effect floors keep them quiet
    assert res.features["f2"].tests["welch"]["p_value"] < 1e-3
    assert elapsed < 60, elapsed  # bench/ measures speed properly; this only guards against a regression


def test_a_million_rows_with_a_small_real_shift_are_flagged_and_ranked_first() -> None:
    ref, cur = frames(1_000_000, 2, {"f1": 0.2})
    res = feature_drift(ref, cur)
    assert res.dataset_drift and res.ranking[0] == "f1"
    assert [c for c, r in res.features.items() if r.drift_detected] == ["f1"]


@pytest.mark.parametrize("shift,scale", [({"f0": 0.5}, None), (None, {"f0": 1.6})])
def test_small_samples_catch_a_clear_shift_in_mean_or_spread(shift, scale) -> None:  # type: ignore[no-untyped-def]
    ref, cur = frames(300, 3, shift, scale)
    res = feature_drift(ref, cur)
    assert res.dataset_drift and res.ranking[0] == "f0"


def test_variance_change_is_caught_where_ks_alone_is_weak() -> None:
    ref, cur = frames(1000, 4, None, {"f2": np.sqrt(1.5)})
    res = feature_drift(ref, cur)
    assert res.features["f2"].drift_detected and res.features["f2"].method == "variance"


def test_many_null_features_do_not_raise_the_false_alarm_rate() -> None:
    alarms = sum(feature_drift(*frames(200, 100 + r), multivariate=False).dataset_drift for r in range(40))
    assert alarms <= 4  # BH across features: the family-wise rate stays near alpha, not 1 - 0.95**d


def test_floors_are_configurable() -> None:
    ref, cur = frames(5000, 5, {"f0": 0.2})
    strict = DetectionConfig(floors={"ks": 0.5, "welch": 0.5, "variance": 0.5})
    assert feature_drift(ref, cur).features["f0"].drift_detected
    assert not feature_drift(ref, cur, config=strict).features["f0"].drift_detected


def test_decide_needs_both_significance_and_effect() -> None:
    tiny_effect = TestResult("a", "ks", 0.01, 1e-12, 0.01, 0.05)
    no_evidence = TestResult("b", "ks", 0.4, 0.2, 0.4, 0.05)
    both = TestResult("c", "ks", 0.4, 1e-9, 0.4, 0.05)
    out = decide([tiny_effect, no_evidence, both], 0.05)
    assert [r.drift_detected for r in out] == [False, False, True]


def test_tests_of_one_feature_form_one_hypothesis() -> None:
    # three tests of one feature with p=0.02 each: one hypothesis among two, not three among four
    r = [TestResult("x", m, 1.0, 0.02, 1.0, 0.05) for m in ("ks", "welch", "variance")]
    r.append(TestResult("y", "ks", 0.0, 0.9, 0.0, 0.05))
    out = decide(r, 0.05, hypotheses=["x", "x", "x", "y"])
    assert out[0].p_adjusted == pytest.approx(0.04) and all(o.drift_detected for o in out[:3])
