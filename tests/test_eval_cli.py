"""`mlfi evaluate` through the CLI: the contract JSON, exports, and one-line errors with exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from app.cli import main

REPO = Path(__file__).resolve().parents[1]


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


@pytest.fixture()
def preds(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    n = 400
    y = rng.integers(0, 2, n)
    f = pd.DataFrame(
        {
            "truth": y,
            "prob": np.round(np.clip(0.25 + 0.5 * y + rng.normal(0, 0.2, n), 0, 1), 4),
            "region": rng.choice(["north", "south"], n),
            "age": rng.normal(50, 10, n),
        }
    )
    p = tmp_path / "preds.csv"
    f.to_csv(p, index=False)
    return p


def test_json_document_has_the_contract_keys(preds: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        [
            "evaluate",
            str(preds),
            "--label",
            "truth",
            "--score",
            "prob",
            "--slices",
            "region",
            "--cost-fp",
            "1",
            "--cost-fn",
            "5",
            "--json",
            "--bootstrap",
            "50",
        ],
        capsys,
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["n"] == 400
    assert set(doc["metrics"]) >= {
        "accuracy",
        "precision",
        "recall",
        "f1",
        "roc_auc",
        "pr_auc",
        "log_loss",
        "brier",
        "ece",
    }
    assert doc["calibration"]["bins"] == 10 and doc["calibration"]["strategy"] == "uniform"
    assert set(doc["calibration"]["curve"][0]) >= {"bin", "mean_score", "observed_rate", "count"}
    assert {s["value"] for s in doc["slices"]} == {"north", "south"}
    assert set(doc["slices"][0]) >= {"column", "value", "n", "metrics", "ci", "unstable"}
    assert set(doc["errors"]) >= {"top_false_positives", "top_false_negatives", "clusters"}
    d = doc["decision"]
    assert d["cost_fp"] == 1 and d["cost_fn"] == 5 and 0 <= d["threshold"] <= 1 and d["cost_curve"]
    assert doc["models"] == {}
    assert "NaN" not in out and "Infinity" not in out


def test_threshold_flag_changes_metrics_not_the_decision(preds: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["evaluate", str(preds), "--label", "truth", "--score", "prob", "--json", "--bootstrap", "20"]
    a = json.loads(_run(base, capsys)[1])
    b = json.loads(_run([*base, "--threshold", "0.8"], capsys)[1])
    assert b["threshold"] == 0.8 and a["metrics"]["recall"] > b["metrics"]["recall"]
    assert a["metrics"]["roc_auc"] == b["metrics"]["roc_auc"]
    assert a["decision"]["threshold"] == b["decision"]["threshold"]


def test_human_output_and_exports(preds: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    html = tmp_path / "out" / "report.html"
    code, out, err = _run(
        [
            "evaluate",
            str(preds),
            "--label",
            "truth",
            "--score",
            "prob",
            "--slices",
            "region",
            "--export",
            str(html),
            "--bootstrap",
            "20",
        ],
        capsys,
    )
    assert code == 0 and "decision: threshold" in out and "report written" in err
    page = html.read_text()
    assert page.startswith("<!doctype html>") and "plotly" in page.lower()
    for fig in ("fig-reliability", "fig-cost_curve", "fig-slice_heatmap", "fig-score_distribution"):
        assert fig in page
    js = tmp_path / "report.json"
    code, _, _ = _run(
        [
            "evaluate",
            str(preds),
            "--label",
            "truth",
            "--score",
            "prob",
            "--export",
            str(js),
            "--json",
            "--bootstrap",
            "20",
        ],
        capsys,
    )
    doc = json.loads(js.read_text())
    assert code == 0 and doc["n"] == 400 and "reliability" in doc["figures"] and doc["figures"]["cost_curve"]["data"]


def _bad_input_cases(tmp_path: Path, preds: Path) -> dict[str, tuple[list[str], str]]:
    f = pd.read_csv(preds)
    outside = tmp_path / "outside.csv"
    f.assign(prob=f.prob * 1.5).to_csv(outside, index=False)
    one = tmp_path / "one.csv"
    f.assign(truth=1).to_csv(one, index=False)
    text = tmp_path / "text.csv"
    f.assign(prob=f.prob.astype(str).where(f.index != 3, "high")).to_csv(text, index=False)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\x00\x01\xff\xfe garbage \x00" * 50)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    strings = tmp_path / "strings.csv"
    f.assign(truth=np.where(f.truth == 1, "M", "B")).to_csv(strings, index=False)
    one_model = tmp_path / "one_model.csv"
    pd.concat([f.assign(m="a"), f[f.truth == 1].assign(m="b")]).to_csv(one_model, index=False)
    base = ["--label", "truth", "--score", "prob"]
    return {
        "model with one class": ([str(one_model), *base, "--model-column", "m"], "model 'b' has only one class"),
        "missing label": ([str(preds), "--label", "nope", "--score", "prob"], "label column 'nope' not found"),
        "missing score": ([str(preds), "--label", "truth", "--score", "p"], "score column 'p' not found"),
        "missing slice": ([str(preds), *base, "--slices", "zone"], "slice column 'zone' not found"),
        "outside [0,1]": ([str(outside), *base], "outside [0, 1]"),
        "one class": ([str(one), *base], "only one class"),
        "non-numeric score": ([str(text), *base], "non-numeric value 'high' at row 3"),
        "unreadable": ([str(binary), *base], "cannot read"),
        "empty": ([str(empty), *base], "empty"),
        "no such file": ([str(tmp_path / "nope.csv"), *base], "not found"),
        "ambiguous labels": ([str(strings), *base], "--positive-label"),
        "bad threshold": ([str(preds), *base, "--threshold", "1.5"], "--threshold must be in [0, 1]"),
        "negative cost": ([str(preds), *base, "--cost-fp", "-2"], "--cost-fp must be"),
        "bad export": ([str(preds), *base, "--export", str(tmp_path / "r.pdf")], "--export must end in"),
    }


def test_bad_input_gives_one_line_and_exit_2(preds: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name, (args, needle) in _bad_input_cases(tmp_path, preds).items():
        code, out, err = _run(["evaluate", *args, "--json"], capsys)
        assert code == 2, name
        assert out == "", name
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), (name, err)
        assert needle in lines[0], (name, lines[0])
        assert "Traceback" not in err


def test_infinite_and_missing_feature_values_do_not_break_clustering(
    preds: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = pd.read_csv(preds)
    f.loc[::7, "age"] = np.inf
    f.loc[::5, "age"] = np.nan
    p = tmp_path / "odd.csv"
    f.to_csv(p, index=False)
    code, out, err = _run(
        ["evaluate", str(p), "--label", "truth", "--score", "prob", "--json", "--bootstrap", "0"], capsys
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["errors"]["cluster_features"] == ["age"] and doc["errors"]["clusters"]


def test_string_labels_work_with_positive_label(
    preds: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = pd.read_csv(preds)
    p = tmp_path / "s.csv"
    f.assign(truth=np.where(f.truth == 1, "M", "B")).to_csv(p, index=False)
    code, out, _ = _run(
        [
            "evaluate",
            str(p),
            "--label",
            "truth",
            "--score",
            "prob",
            "--positive-label",
            "M",
            "--json",
            "--bootstrap",
            "0",
        ],
        capsys,
    )
    doc = json.loads(out)
    assert code == 0 and doc["positive_label"] == "M" and doc["classes"] == ["B", "M"]


def test_real_process_one_line_error_and_success(preds: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    pd.read_csv(preds).assign(prob=-0.2).to_csv(bad, index=False)
    r = subprocess.run(
        [sys.executable, "-m", "app", "evaluate", str(bad), "--label", "truth", "--score", "prob", "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2 and r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and "outside [0, 1]" in r.stderr
    ok = subprocess.run(
        [
            sys.executable,
            "-m",
            "app",
            "evaluate",
            str(preds),
            "--label",
            "truth",
            "--score",
            "prob",
            "--json",
            "--bootstrap",
            "10",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["n"] == 400


def test_multiclass_scores_as_comma_separated_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(2)
    n = 150
    y = rng.integers(0, 3, n)
    logits = rng.normal(size=(n, 3)) + 2 * np.eye(3)[y]
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    names = np.array(["setosa", "versicolor", "virginica"])
    f = pd.DataFrame(p, columns=names).assign(species=names[y], width=rng.normal(size=n))
    path = tmp_path / "multi.csv"
    f.to_csv(path, index=False)
    code, out, _ = _run(
        [
            "evaluate",
            str(path),
            "--label",
            "species",
            "--score",
            "setosa,versicolor,virginica",
            "--slices",
            "width",
            "--json",
            "--bootstrap",
            "20",
        ],
        capsys,
    )
    doc = json.loads(out)
    assert code == 0 and doc["task"] == "multiclass" and doc["decision"] is None
    assert doc["classes"] == list(names) and len(doc["slices"]) == 4  # numeric slice column -> quartiles
    assert doc["slices"][0]["value"].startswith("Q")
    f.assign(setosa=f.setosa * 0.5).to_csv(path, index=False)
    code, _, err = _run(["evaluate", str(path), "--label", "species", "--score", "setosa,versicolor,virginica"], capsys)
    assert code == 2 and "sum to 1" in err


def test_rows_of_several_models_are_not_pooled_silently(capsys: pytest.CaptureFixture[str]) -> None:
    sample = str(REPO / "data" / "samples" / "eval_breast_cancer.csv")
    rc, out, _ = _run(["evaluate", sample, "--label", "label", "--score", "score", "--json"], capsys)
    assert rc == 0
    doc = json.loads(out)
    assert doc["comparison"] is not None and len(doc["models"]) == 2, "the 'model' column is used by default"
    rc, out, _ = _run(["evaluate", sample, "--label", "label", "--score", "score", "--model-column", "", "--json"], capsys)
    assert rc == 0 and json.loads(out)["comparison"] is None, "'' pools all rows on purpose"
