"""The shipped worked example is reproducible and really shows a slice where the better model is worse."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from app.evaluation import EvalOptions, evaluate, load
from app.evaluation.plots import all_figures
from app.evaluation.sample import SAMPLE_PATH, build_breast_cancer_example


@pytest.fixture(scope="module")
def shipped() -> pd.DataFrame:
    return pd.read_csv(SAMPLE_PATH)


def test_shipped_file_is_what_the_generator_builds(shipped: pd.DataFrame) -> None:
    rebuilt = build_breast_cancer_example()
    assert list(rebuilt.columns) == list(shipped.columns)
    assert rebuilt["case_id"].tolist() == shipped["case_id"].tolist()
    np.testing.assert_allclose(rebuilt["score"], shipped["score"], atol=2e-6)
    assert (rebuilt["size_bucket"] == shipped["size_bucket"]).all()


def test_better_on_average_model_is_worse_on_large_tumours(shipped: pd.DataFrame) -> None:
    def brier(model: str, bucket: str | None = None) -> float:
        f = shipped[shipped.model == model]
        if bucket:
            f = f[f.size_bucket == bucket]
        return skm.brier_score_loss(f.label, f.score)

    def acc(model: str, bucket: str) -> float:
        f = shipped[(shipped.model == model) & (shipped.size_bucket == bucket)]
        return skm.accuracy_score(f.label, f.score >= 0.5)

    assert brier("logistic_regression") < brier("gradient_boosting")  # better on average
    assert brier("gradient_boosting", "large") < brier("logistic_regression", "large")  # worse on large tumours
    assert acc("gradient_boosting", "large") > acc("logistic_regression", "large")


def test_mlfi_reports_the_slice_reversal_on_the_worked_example() -> None:
    data = load(
        str(SAMPLE_PATH),
        label="label",
        score="score",
        slices=["size_bucket", "texture_bucket"],
        model_column="model",
        id_column="case_id",
    )
    r = evaluate(data, EvalOptions(cost_fp=1, cost_fn=5, bootstrap=50))
    c = r.comparison
    assert c is not None and c.overall_winner == "logistic_regression"
    large = next(s for s in c.slices if s.column == "size_bucket" and s.value == "large")
    assert large.winner == "gradient_boosting" and large.differs_from_overall
    assert r.decision is not None and r.decision.expected_cost < r.decision.expected_cost_at_reference
    figs = all_figures(r, data)
    assert set(figs) == {
        "reliability",
        "cost_curve",
        "slice_heatmap",
        "score_distribution",
        "model_slice_heatmap",
        "cost_ratio",
    }
    assert len(figs["cost_curve"].data) == 4  # a curve and an optimum marker per model


def test_report_tables_cover_every_section_of_the_worked_example() -> None:
    from app.evaluation.tables import report_tables

    data = load(str(SAMPLE_PATH), label="label", score="score", slices=["size_bucket"], model_column="model")
    t = report_tables(evaluate(data, EvalOptions(cost_fp=1, cost_fn=5, bootstrap=20)))
    assert {k for k, v in t.items() if v} == {
        "metrics",
        "slices",
        "decision",
        "slice_costs",
        "errors",
        "clusters",
        "models",
    }
    assert t["models"][0]["slice"] == "overall" and t["models"][0]["winner"] == "logistic_regression"
    assert len(t["slices"]) == 3 and t["decision"][0]["cost_fn"] == 5
