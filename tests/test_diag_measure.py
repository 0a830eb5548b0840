"""Dataset measurement on real sklearn data: leaking column named, duplicates, shift, missing, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import false_discovery_control, ks_2samp
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import roc_auc_score

from app.diagnosis import diagnose
from app.diagnosis.measure import benjamini_hochberg, measure_dataset, single_feature_power
from app.diagnosis.record import DatasetRef
from app.diagnosis.samples import LEAK_COLUMN, MISSING_COLUMN, make_leakage_dataset, write_leakage_sample
from app.errors import InputError

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"


def _write(tmp: Path, train: pd.DataFrame, test: pd.DataFrame, target: str) -> DatasetRef:
    train.to_csv(tmp / "train.csv", index=False)
    test.to_csv(tmp / "test.csv", index=False)
    return DatasetRef(train_csv="train.csv", test_csv="test.csv", target=target)


def test_planted_leak_is_found_and_named(tmp_path: Path) -> None:
    train, test = make_leakage_dataset(seed=3)
    m = measure_dataset(_write(tmp_path, train, test, "high_progression"), tmp_path)
    assert m.leaking_columns == [LEAK_COLUMN]
    assert m.missing_columns.keys() == {MISSING_COLUMN}
    power = {f.name: f.power_train for f in m.features}
    assert power[LEAK_COLUMN] == pytest.approx(roc_auc_score(train["high_progression"], train[LEAK_COLUMN]))
    assert max(v for k, v in power.items() if k != LEAK_COLUMN) < 0.85


def test_real_strong_features_are_not_called_leaks(tmp_path: Path) -> None:
    """Breast cancer's best genuine feature reaches AUC ~0.975 alone: strong, not leaking."""
    df = load_breast_cancer(as_frame=True).frame
    train, test = df.iloc[::2].reset_index(drop=True), df.iloc[1::2].reset_index(drop=True)
    m = measure_dataset(_write(tmp_path, train, test, "target"), tmp_path)
    assert m.leaking_columns == [] and 0.95 < m.leak_power_max < 0.99
    assert m.overlap_rows == 0 and m.shifted_columns == []


def test_duplicates_shift_and_missing_are_counted_exactly(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    train = pd.DataFrame(
        {
            "a": rng.normal(size=400),
            "b": rng.normal(size=400),
            "c": rng.choice(["x", "y"], 400),
            "y": rng.integers(0, 2, 400),
        }
    )
    test = pd.DataFrame(
        {
            "a": rng.normal(1.0, 1, 200),
            "b": rng.normal(size=200),
            "c": rng.choice(["x", "y"], 200),
            "y": rng.integers(0, 2, 200),
        }
    )
    test.iloc[:30, :3] = train.iloc[:30, :3].to_numpy()  # 30 test rows copied from train
    train.loc[:39, "b"] = np.nan  # 10% missing
    m = measure_dataset(_write(tmp_path, train, test, "y"), tmp_path)
    assert m.overlap_rows == 30 - int(train.loc[:29, "b"].isna().sum()) and m.overlap_fraction == m.overlap_rows / 200
    assert m.missing_columns["b"] == pytest.approx(0.1)
    a = next(f for f in m.features if f.name == "a")
    ks = ks_2samp(train["a"], test["a"])
    assert a.shift_statistic == pytest.approx(ks.statistic) and a.shift_p_value == pytest.approx(ks.pvalue)
    assert m.shifted_columns == ["a"]
    ps = [f.shift_p_value for f in m.features]
    assert [f.shift_p_adjusted for f in m.features] == pytest.approx(list(false_discovery_control(ps)))


def test_benjamini_hochberg_matches_scipy() -> None:
    p = list(np.random.default_rng(1).uniform(0, 0.2, 25))
    assert benjamini_hochberg(p) == pytest.approx(list(false_discovery_control(p)))


def test_single_feature_power_is_symmetric_and_handles_regression() -> None:
    y = pd.Series([0, 0, 0, 1, 1, 1])
    assert single_feature_power(pd.Series([6, 5, 4, 3, 2, 1]), y, "binary_classification") == 1.0
    assert single_feature_power(pd.Series([1.0, 2, 3, 4, 5, 6]), pd.Series([2.0, 4, 6, 8, 10, 12]), "regression") == 1.0


def test_shipped_dataset_case_finds_and_names_the_column() -> None:
    p = diagnose(experiment=SAMPLES / "experiment_leakage_dataset.json").payload()
    assert p["primary_category"] == "data_leakage" and p["active_leakage_signal"]
    leak = [e for e in p["evidence"] if e["rule_id"] == "leak.measured_column"]
    assert leak and LEAK_COLUMN in leak[0]["statement"] and leak[0]["concrete"]
    assert any(LEAK_COLUMN in e["statement"] and e["kind"] == "measurement" for e in p["evidence"])
    assert p["measurements"]["leaking_columns"] == [LEAK_COLUMN]
    assert any(LEAK_COLUMN in i["action"] for i in p["remediation_plan"]["3_day"])


def test_sample_generator_reproduces_the_shipped_files(tmp_path: Path) -> None:
    path = write_leakage_sample(tmp_path)
    assert json.loads(path.read_text()) == json.loads((SAMPLES / "experiment_leakage_dataset.json").read_text())
    for part in ("train", "test"):
        shipped = pd.read_csv(SAMPLES / f"experiment_leakage_dataset_{part}.csv")
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / f"experiment_leakage_dataset_{part}.csv"), shipped)


def _record(tmp: Path, **dataset: str) -> Path:
    path = tmp / "exp.json"
    path.write_text(
        json.dumps({"dataset": {"train_csv": "train.csv", "test_csv": "test.csv", "target": "y", **dataset}})
    )
    return path


def test_missing_csv_and_absent_target_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="train_csv not found"):
        diagnose(experiment=_record(tmp_path))
    pd.DataFrame({"a": [1, 2, 3], "y": [0, 1, 0]}).to_csv(tmp_path / "train.csv", index=False)
    pd.DataFrame({"a": [1, 2, 3], "label": [0, 1, 0]}).to_csv(tmp_path / "test.csv", index=False)
    with pytest.raises(InputError, match="target column 'y' not found in test_csv"):
        diagnose(experiment=_record(tmp_path))
    (tmp_path / "test.csv").write_text("")
    with pytest.raises(InputError, match="cannot read test_csv"):
        diagnose(experiment=_record(tmp_path))
