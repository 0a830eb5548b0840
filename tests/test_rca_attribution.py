"""SHAP attribution and segments: the responsible feature comes first, regions read like conditions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer

from app.detection.suite import WindowData, run_suite
from app.rca.attribution import Target, explain_drift, explain_outcome
from app.rca.explain import explain
from app.rca.segments import drift_segments, outcome_segments, render_conditions

NAMES = ["age", "income", "score", "tenure", "visits", "clicks"]


def windows(seed: int, shifted: str = "score", n: int = 600) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ref, cur = rng.normal(size=(n, 6)), rng.normal(size=(n, 6))
    cur[:, NAMES.index(shifted)] += 0.8
    return ref, cur


@pytest.mark.parametrize("seed,shifted", [(0, "score"), (1, "age"), (2, "clicks")])
def test_drift_attribution_names_the_shifted_feature_first(seed: int, shifted: str) -> None:
    ref, cur = windows(seed, shifted)
    suite = run_suite(WindowData(features=pd.DataFrame(ref, columns=NAMES)), WindowData(features=pd.DataFrame(cur, columns=NAMES)))
    feats = explain_drift(ref, cur, NAMES, suite, seed=0)
    assert feats[0].name == shifted and feats[0].score > 0.5
    assert "SHAP" in feats[0].evidence and "flagged" in feats[0].evidence
    assert [f.score for f in feats] == sorted((f.score for f in feats), reverse=True)


def test_surrogate_attribution_finds_what_drives_errors() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(400, 6))
    wrong = ((x[:, NAMES.index("income")] > 0.7) & (rng.random(400) < 0.9)).astype(float)
    feats = explain_outcome(x, NAMES, Target(wrong, "binary", "a wrong answer"), seed=0)
    assert feats[0].name == "income" and "surrogate" in feats[0].evidence
    segs = outcome_segments(x, wrong, NAMES, what="error rate", higher_is_worse=True, binary=True)
    assert segs and segs[0].description.startswith("income > 0.") and "error rate" in segs[0].metric
    assert 0.1 < segs[0].share < 0.4


def test_continuous_surrogate_and_low_confidence_segments() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=(300, 6))
    conf = 0.95 - 0.3 * (x[:, NAMES.index("tenure")] < -0.5) + rng.normal(0, 0.01, 300)
    feats = explain_outcome(x, NAMES, Target(conf, "continuous", "the confidence"), seed=0)
    assert feats[0].name == "tenure" and "Spearman" in feats[0].evidence
    segs = outcome_segments(x, conf, NAMES, what="mean confidence", higher_is_worse=False, binary=False)
    assert segs[0].description.startswith("tenure <= -0.")


def test_outcome_attribution_skips_rows_without_an_outcome() -> None:
    # failed requests have no confidence/latency: NaN rows must not break the univariate evidence (user test:
    # "operands could not be broadcast together with shapes (79,) (80,)")
    rng = np.random.default_rng(5)
    x = rng.normal(size=(300, 6))
    lat = 5 + 200 * (x[:, NAMES.index("visits")] > 0.5) + rng.normal(0, 1, 300)
    lat[::40] = np.nan
    feats = explain_outcome(x, NAMES, Target(lat, "continuous", "the latency"), seed=0)
    assert feats[0].name == "visits" and "Spearman" in feats[0].evidence


def test_drift_segments_describe_the_new_region() -> None:
    rng = np.random.default_rng(5)
    ref = rng.normal(size=(800, 6))
    cur = rng.normal(size=(800, 6))
    cur[:300, 1] = rng.uniform(3.0, 4.0, 300)  # a new cluster of high incomes
    segs = drift_segments(ref, cur, NAMES)
    assert segs and segs[0].description.startswith("income > ")
    assert segs[0].share == pytest.approx(300 / 800, abs=0.05) and "current rows" in segs[0].metric


def test_render_conditions_merges_bounds_and_names_categories() -> None:
    assert render_conditions({2: [-np.inf, 20.1], 0: [17.2, np.inf]}, ["mean radius", "x", "mean texture"]) == \
        "mean radius > 17.2 and mean texture <= 20.1"
    assert render_conditions({1: [0.5, 2.5]}, ["x", "city"], {1: ["a", "b", "c", "d"]}) == "city in {'b', 'c'}"
    assert render_conditions({}, ["x"]) == "all rows"


def test_explain_picks_the_model_by_root_cause_and_stays_empty_when_nothing_to_explain() -> None:
    data = load_breast_cancer(as_frame=True).data
    ref, cur = data.iloc[:280].reset_index(drop=True), data.iloc[280:].reset_index(drop=True).copy()
    cur["mean smoothness"] *= 1.4
    r, c = WindowData(features=ref), WindowData(features=cur)
    suite = run_suite(r, c)
    feats, segs = explain("feature_drift", suite, r, c)
    assert feats[0].name == "mean smoothness" and segs
    assert explain("none", suite, r, c) == ([], [])
    assert explain("silent_failure", suite, r, c) == ([], [])
    assert explain("accuracy_drop", suite, r, c) == ([], [])  # no labels: nothing honest to say
