"""Regression endpoints without HTTP: task inference, backwards-compatible baselines, the statistics
against scipy/sklearn, and ``compare_frames`` / ``mlfi compare`` on the diabetes dataset."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

from app.analysis.compare import compare_frames
from app.analysis.window import analyze_window
from app.detection.base import decide
from app.detection.baseline import learn_baseline
from app.detection.metrics import regression_metrics
from app.detection.regression import CorrelationDropDetector, ErrorRiseDetector
from app.detection.task import infer_task, resolve_task
from app.errors import InputError
from app.schemas import Baseline, Sample


@pytest.fixture(scope="module")
def diabetes() -> pd.DataFrame:
    x, y = load_diabetes(return_X_y=True, as_frame=True)
    model = Ridge(alpha=0.1).fit(x.iloc[::2], y.iloc[::2])
    return x.assign(y=y, p=model.predict(x))


def _halves(df: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    idx = np.random.default_rng(seed).permutation(len(df))
    return df.iloc[idx[:221]].reset_index(drop=True), df.iloc[idx[221:]].reset_index(drop=True)


def _samples(df: pd.DataFrame, pred: np.ndarray, labelled: bool = True) -> list[Sample]:
    feats = [c for c in df.columns if c not in ("y", "p")]
    return [Sample(endpoint="e", ts=time.time(), inputs={c: float(r[c]) for c in feats}, prediction=repr(round(float(p), 4)),
                   label=repr(float(r["y"])) if labelled else None, latency_ms=3.0)
            for (_, r), p in zip(df.iterrows(), pred)]


# ---- task ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("preds", "task"), [
    (["153.2", "97.4", "210.0"], "regression"),
    ([str(i) for i in range(50)], "regression"),           # many distinct integer counts
    (["0", "1", "1", "0"], "classification"),
    ([str(i % 10) for i in range(200)], "classification"),  # ten class codes
    (["benign", "malignant"], "classification"),
    (["0.5", "cat"], "classification"),
])
def test_task_is_inferred_from_the_predictions(preds: list[str], task: str) -> None:
    assert infer_task(preds) == task


def test_explicit_task_wins_and_bad_task_is_input_error() -> None:
    assert resolve_task("regression", ["0", "1"]) == "regression"
    assert resolve_task("classification", ["1.5", "2.5"]) == "classification"
    with pytest.raises(InputError, match="unknown task 'ordinal'"):
        resolve_task("ordinal", ["1"])


def test_old_baseline_json_without_task_loads_as_classification() -> None:
    s = [Sample(endpoint="e", ts=0, prediction=str(i % 2), confidence=0.8, label="1", latency_ms=2.0) for i in range(40)]
    data = json.loads(learn_baseline("e", s).model_dump_json())
    for key in ("task", "prediction_values", "residuals", "label_values"):
        data.pop(key)
    data["metrics"].pop("task")
    old = Baseline.model_validate(data)
    assert old.task == "classification" and old.class_counts == {"0": 20, "1": 20}
    rep = analyze_window(old, s)
    assert rep.drift["prediction_distribution"]["method"] == "chi2" and rep.metrics.accuracy == 0.5


def test_task_override_through_the_endpoint_detection_settings(diabetes: pd.DataFrame) -> None:
    ref, cur = _halves(diabetes, 0)
    b = learn_baseline("e", _samples(ref, ref["p"].to_numpy()), task="classification")
    assert b.task == "classification"
    b = b.model_copy(update={"notes": {"detection": {"task": "regression"}}})
    rep = analyze_window(b, _samples(cur, cur["p"].to_numpy()))
    assert rep.metrics.task == "regression" and rep.drift["prediction_distribution"]["method"] in ("ks", "wasserstein")


# ---- statistics against scipy / sklearn -------------------------------------------------------------
def test_regression_metrics_match_sklearn(diabetes: pd.DataFrame) -> None:
    m = regression_metrics(diabetes["p"].astype(str).tolist(), diabetes["y"].tolist())
    y, p = diabetes["y"].to_numpy(), diabetes["p"].to_numpy()
    assert m["mae"] == pytest.approx(mean_absolute_error(y, p), abs=1e-5)
    assert m["rmse"] == pytest.approx(mean_squared_error(y, p) ** 0.5, abs=1e-5)
    assert m["r2"] == pytest.approx(r2_score(y, p), abs=1e-6)


def test_error_rise_is_scipys_one_sided_welch_on_absolute_errors() -> None:
    rng = np.random.default_rng(3)
    ref, cur = rng.normal(0, 40, 200), rng.normal(5, 55, 150)
    r = ErrorRiseDetector().fit(ref).score(cur)[0]
    want = stats.ttest_ind(np.abs(cur), np.abs(ref), equal_var=False, alternative="greater").pvalue
    assert r.p_value == pytest.approx(float(want), rel=1e-9)
    assert r.effect_size == pytest.approx(np.abs(cur).mean() / np.abs(ref).mean() - 1.0)
    assert r.statistic == pytest.approx(np.abs(cur).mean())
    better = ErrorRiseDetector().fit(ref).score(ref * 0.5)[0]   # smaller errors are never a finding
    assert better.p_value is not None and better.p_value > 0.99 and not decide([better], 0.05)[0].drift_detected


def test_correlation_drop_is_fisher_z_of_scipys_pearson_r() -> None:
    rng = np.random.default_rng(4)
    y1, y2 = rng.normal(0, 1, 200), rng.normal(0, 1, 180)
    ref = np.column_stack([y1 + rng.normal(0, 0.7, 200), y1])
    cur = np.column_stack([y2 + rng.normal(0, 1.5, 180), y2])
    r = CorrelationDropDetector().fit(ref).score(cur)[0]
    r1, r2 = stats.pearsonr(ref[:, 0], ref[:, 1])[0], stats.pearsonr(cur[:, 0], cur[:, 1])[0]
    z = (np.arctanh(r1) - np.arctanh(r2)) / np.sqrt(1 / 197 + 1 / 177)
    assert r.statistic == pytest.approx(r2) and r.effect_size == pytest.approx(r1 - r2)
    assert r.p_value == pytest.approx(float(stats.norm.sf(z)), rel=1e-9)


def test_prediction_tests_are_scipys_ks_and_wasserstein(diabetes: pd.DataFrame) -> None:
    ref, cur = _halves(diabetes, 1)
    cur = cur.assign(p=cur["p"] * 1.3)
    rep = compare_frames(ref, cur, target="y", prediction_column="p")
    tests = rep.drift["prediction_distribution"]["tests"]
    ks = stats.ks_2samp(ref["p"], cur["p"])
    assert tests["ks"]["statistic"] == pytest.approx(ks.statistic) and tests["ks"]["p_value"] == pytest.approx(ks.pvalue)
    w = stats.wasserstein_distance(ref["p"], cur["p"]) / ref["p"].std(ddof=1)
    assert tests["wasserstein"]["effect_size"] == pytest.approx(w)
    assert rep.rca.root_cause == "prediction_drift"


# ---- compare_frames: verdicts and false alarms ---------------------------------------------------
def test_compare_healthy_false_alarm_rate_on_random_halves(diabetes: pd.DataFrame) -> None:
    alerts = [r.rca.root_cause for seed in range(10)
              if (r := compare_frames(*_halves(diabetes, 100 + seed), target="y", prediction_column="p")).alert]
    print(f"\ncompare, healthy regressor on random halves: {len(alerts)}/10 alerted: {alerts}")
    assert len(alerts) <= 1, alerts


@pytest.mark.parametrize(("change", "expected"), [("offset", "prediction_drift"), ("noise", "accuracy_drop"),
                                                   ("bmi", "feature_drift")])
def test_compare_broken_regressor(diabetes: pd.DataFrame, change: str, expected: str) -> None:
    ref, cur = _halves(diabetes, 2)
    rng = np.random.default_rng(5)
    if change == "offset":
        cur = cur.assign(p=cur["p"] + 30.0)
    elif change == "noise":
        cur = cur.assign(p=cur["p"] + rng.normal(0, 60.0, len(cur)))
    else:
        cur = cur.assign(bmi=cur["bmi"] + 0.6 * diabetes["bmi"].std())
    rep = compare_frames(ref, cur, target="y", prediction_column="p")
    assert rep.rca.root_cause == expected, rep.rca.model_dump()
    assert rep.metrics.accuracy is None and rep.metrics.mae is not None
    if change == "bmi":
        assert rep.rca.features and rep.rca.features[0].name == "bmi"


def test_classification_is_unchanged() -> None:
    rng = np.random.default_rng(6)
    ref = pd.DataFrame({"x": rng.normal(size=300), "p": rng.choice([0, 1], 300), "y": rng.choice([0, 1], 300)})
    rep = compare_frames(ref, ref.copy(), target="y", prediction_column="p")
    assert rep.metrics.task == "classification" and rep.metrics.accuracy is not None and rep.metrics.mae is None
    assert rep.drift["prediction_distribution"]["method"] == "chi2"


def test_constant_regression_output_is_silent_failure(diabetes: pd.DataFrame) -> None:
    ref, cur = _halves(diabetes, 3)
    b = learn_baseline("e", _samples(ref, ref["p"].to_numpy()))
    rep = analyze_window(b, _samples(cur, np.full(len(cur), 152.0)))
    assert b.task == "regression" and rep.rca.root_cause == "silent_failure"


def test_cli_compare_on_regression_csvs(diabetes: pd.DataFrame, tmp_path: Path) -> None:
    ref, cur = _halves(diabetes, 4)
    ref.to_csv(tmp_path / "ref.csv", index=False)
    cur.assign(p=cur["p"] * 1.4).to_csv(tmp_path / "cur.csv", index=False)
    out = subprocess.run([sys.executable, "-m", "app", "compare", str(tmp_path / "ref.csv"), str(tmp_path / "cur.csv"),
                          "--prediction-column", "p", "--target", "y", "--json"], check=False, capture_output=True, text=True,
                         timeout=120, env={"MLFI_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    rep = json.loads(out.stdout)
    assert rep["rca"]["root_cause"] == "prediction_drift"
    m = rep["metrics"]
    assert m["accuracy"] is None and m["task"] == "regression" and {"mae", "rmse", "r2"} <= set(m)
    assert {"avg_confidence", "confidence_std", "error_rate", "latency_p50_ms", "latency_p95_ms", "accuracy",
            "total_samples"} <= set(m)


def test_dashboard_kpis_show_mae_for_a_regression_endpoint(settings, store, diabetes: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    from app.storage.baselines import save_baseline
    from app.views.kpis import baseline_metrics, endpoint_task, kpis, window_metrics
    from app.views.series import timeseries

    ref, cur = _halves(diabetes, 5)
    samples = [s.model_copy(update={"endpoint": "reg"}) for s in _samples(ref, ref["p"].to_numpy())]
    save_baseline(settings, store, learn_baseline("reg", samples))
    store.add_samples([s.model_copy(update={"endpoint": "reg", "ts": time.time() + 1})
                       for s in _samples(cur, cur["p"].to_numpy() + 40.0)])
    assert endpoint_task(store, "reg") == "regression"
    base, _ = baseline_metrics(store, "reg")
    tiles = {k.key: k for k in kpis(window_metrics(store, "reg", last_n=221), base)}
    assert "accuracy" not in tiles and tiles["mae"].value is not None and base is not None
    assert tiles["mae"].value > tiles["mae"].baseline and tiles["mae"].delta_color == "inverse"
    assert tiles["mae"].value == pytest.approx(mean_absolute_error(cur["y"], np.round(cur["p"] + 40.0, 4)), abs=1e-4)
    df = timeseries(store, "reg")
    assert not df.empty and df["labelled"].sum() == 0
    expected = mean_absolute_error(cur["y"], np.round(cur["p"] + 40.0, 4))
    assert df["mae"].notna().all()                           # the error chart's series: MAE per bucket
    assert float((df["mae"] * df["n"]).sum() / df["n"].sum()) == pytest.approx(expected, abs=1e-4)


def test_endpoint_page_charts_the_mae_of_a_regression_endpoint(settings, store, diabetes: pd.DataFrame,  # type: ignore[no-untyped-def]
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from app.config import REPO_ROOT
    from app.storage.baselines import save_baseline

    ref, cur = _halves(diabetes, 6)
    save_baseline(settings, store, learn_baseline("reg", [s.model_copy(update={"endpoint": "reg"})
                                                          for s in _samples(ref, ref["p"].to_numpy())]))
    store.add_samples([s.model_copy(update={"endpoint": "reg", "ts": time.time() - 5})
                       for s in _samples(cur, cur["p"].to_numpy())])
    monkeypatch.setenv("MLFI_HOME", str(settings.home))
    monkeypatch.delenv("MLFI_DATABASE_URL", raising=False)
    st.cache_data.clear()
    at = AppTest.from_file(str(REPO_ROOT / "ui" / "pages" / "endpoint.py"), default_timeout=60).run()
    assert not at.exception, at.exception
    assert "MAE" in {m.label for m in at.metric} and "Accuracy" not in {m.label for m in at.metric}
    titles = [str(c.proto.spec) for c in at.get("plotly_chart")]
    assert any("Mean absolute error" in t for t in titles) and not any("Accuracy (labelled" in t for t in titles)
    st.cache_data.clear()
