"""compare_frames / `mlfi compare` on data generated from bundled datasets, and its bad-input handling."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from app.analysis.compare import compare_frames
from app.cli import main
from app.errors import InputError


def halves(loader, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:  # type: ignore[no-untyped-def]
    data = loader(as_frame=True)
    df = data.data.copy()
    df["target"] = data.target
    idx = np.random.default_rng(seed).permutation(len(df))
    h = len(df) // 2
    return df.iloc[idx[:h]].reset_index(drop=True), df.iloc[idx[h:]].reset_index(drop=True)


@pytest.mark.parametrize("loader,feature", [(load_breast_cancer, "mean texture"), (load_wine, "alcohol")])
def test_one_shifted_feature_is_named_first(loader, feature: str) -> None:  # type: ignore[no-untyped-def]
    ref, cur = halves(loader, 0)
    cur[feature] = cur[feature] + 0.8 * ref[feature].std()
    rep = compare_frames(ref.drop(columns="target"), cur.drop(columns="target"))
    assert rep.rca.root_cause == "feature_drift", rep.rca.failure_reason
    assert rep.rca.features[0].name == feature, [f.name for f in rep.rca.features[:4]]
    assert rep.drift["features"][feature]["drift_detected"]
    assert [n for n, r in rep.drift["features"].items() if r["drift_detected"]] == [feature]
    assert "SHAP" in rep.rca.features[0].evidence


@pytest.mark.parametrize("loader", [load_breast_cancer, load_wine])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_unshifted_halves_report_no_feature_drift(loader, seed: int) -> None:  # type: ignore[no-untyped-def]
    ref, cur = halves(loader, seed)
    rep = compare_frames(ref, cur, target="target")
    assert not any(r["drift_detected"] for r in rep.drift["features"].values())
    assert rep.rca.root_cause == "none" and not rep.alert


def test_logged_predictions_accuracy_drop_and_segments() -> None:
    ref, cur = halves(load_breast_cancer, 3)
    x = [c for c in ref.columns if c != "target"]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(ref[x], ref["target"])
    for df in (ref, cur):
        proba = model.predict_proba(df[x])
        df["pred"], df["conf"] = proba.argmax(axis=1), proba.max(axis=1)
    big = cur["worst area"] > cur["worst area"].median()  # the model now fails on large tumours
    cur.loc[big, "pred"] = 1 - cur.loc[big, "pred"]
    rep = compare_frames(ref, cur, target="target", prediction_column="pred", confidence_column="conf")
    assert rep.metrics.accuracy is not None and rep.metrics.accuracy < 0.7 < (rep.baseline_metrics.accuracy or 0)
    assert rep.rca.root_cause in ("accuracy_drop", "prediction_drift"), rep.rca.failure_reason
    assert rep.rca.segments, "errors concentrate on large tumours: a segment should say so"
    assert any(w in rep.rca.segments[0].description for w in ("area", "radius", "perimeter", "concave"))


def test_bad_input_is_one_line_input_error() -> None:
    ref, cur = halves(load_wine, 0)
    with pytest.raises(InputError, match="no common columns"):
        compare_frames(ref[["alcohol"]], cur[["hue"]].rename(columns={"hue": "x"}))
    with pytest.raises(InputError, match="current has 1 row: need at least 2"):
        compare_frames(ref, cur.iloc[:1])
    with pytest.raises(InputError, match="target column 'label' not found in the reference and current"):
        compare_frames(ref, cur, target="label")
    bad = cur.assign(conf=["high"] * len(cur))
    with pytest.raises(InputError, match="confidence column 'conf' in the reference file is not numeric"):
        compare_frames(ref.assign(conf="x"), bad, confidence_column="conf")
    with pytest.raises(InputError, match="every feature column is empty"):
        compare_frames(pd.DataFrame({"a": [np.nan] * 5}), pd.DataFrame({"a": [1.0, 2, 3, 4, 5]}))
    for err in (InputError("x"),):
        assert "\n" not in str(err)


def test_all_nan_column_and_garbage_text_are_data_quality() -> None:
    ref, cur = halves(load_wine, 1)
    empty = cur.assign(alcohol=np.nan)
    rep = compare_frames(ref, empty)
    assert rep.rca.root_cause == "data_quality", rep.rca.failure_reason
    assert "alcohol" in rep.rca.failure_reason and "missing values" in rep.rca.failure_reason
    garbage = cur.astype({"hue": object})
    garbage.loc[: len(cur) // 2, "hue"] = "#VALUE!"
    rep = compare_frames(ref, garbage)
    assert rep.rca.root_cause == "data_quality" and "hue" in rep.rca.failure_reason
    missing = compare_frames(ref, cur.drop(columns=["magnesium"]))
    assert missing.rca.root_cause == "data_quality" and "magnesium" in missing.rca.failure_reason


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def test_cli_compare_json_and_one_line_errors(tmp_path: Path, mlfi_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ref, cur = halves(load_breast_cancer, 4)
    cur["mean smoothness"] = cur["mean smoothness"] * 1.3
    ref.to_csv(tmp_path / "ref.csv", index=False)
    cur.to_csv(tmp_path / "cur.csv", index=False)
    code, out, _ = _run(["compare", str(tmp_path / "ref.csv"), str(tmp_path / "cur.csv"), "--json"], capsys)
    doc = json.loads(out)
    assert code == 0 and doc["rca"]["root_cause"] == "feature_drift"
    assert doc["rca"]["features"][0]["name"] == "mean smoothness"
    pd.DataFrame({"zzz": [1, 2, 3]}).to_csv(tmp_path / "other.csv", index=False)
    code, out, err = _run(["compare", str(tmp_path / "ref.csv"), str(tmp_path / "other.csv"), "--json"], capsys)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and "no common columns" in err
    (tmp_path / "one.csv").write_text("mean radius\n3.0\n")
    code, _, err = _run(["compare", str(tmp_path / "ref.csv"), str(tmp_path / "one.csv")], capsys)
    assert code == 2 and "1 row" in err and len(err.strip().splitlines()) == 1
