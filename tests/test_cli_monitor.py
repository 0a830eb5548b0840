"""Batch/passive CLI paths on the shipped logged-prediction samples (no server needed)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from app.cli import main
from app.config import REPO_ROOT

SAMPLES = REPO_ROOT / "data" / "samples"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out, out.err


def test_compare_guesses_output_columns_and_names_the_shifted_feature(mlfi_env: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = _run(capsys, "compare", str(SAMPLES / "logged_reference.csv"),
                      str(SAMPLES / "logged_current_shifted.csv"), "--json")
    assert rc == 0
    rep = json.loads(out)
    assert rep["metrics"]["labelled_samples"] > 0 and rep["metrics"]["avg_confidence"] is not None
    assert "prediction" not in rep["drift"]["features"] and "confidence" not in rep["drift"]["features"]
    assert rep["rca"]["root_cause"] == "feature_drift"
    assert rep["rca"]["features"][0]["name"] == "mean radius"
    rc, out, _ = _run(capsys, "compare", str(SAMPLES / "logged_reference.csv"),
                      str(SAMPLES / "logged_current_ok.csv"), "--json")
    assert rc == 0 and json.loads(out)["rca"]["root_cause"] == "none"


def test_ingest_then_export(mlfi_env: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    rc, out, _ = _run(capsys, "ingest", "--endpoint", "fraud-v3", str(SAMPLES / "logged_reference.csv"),
                      "--as-baseline", "--json")
    assert rc == 0
    doc = json.loads(out)
    assert doc["ingested"] == 171 and doc["baseline_version"] == 1
    dest = tmp_path / "m.csv"
    rc, _, _ = _run(capsys, "export", "--endpoint", "fraud-v3", "--out", str(dest), "--bucket", "3600")
    assert rc == 0 and "accuracy" in dest.read_text().splitlines()[0]
    from app.config import Settings
    from app.storage import Store
    from app.views.export import metrics_csv

    st = Store.from_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    dashboard = metrics_csv(st, "fraud-v3").decode().splitlines()
    st.dispose()
    assert dest.read_text().splitlines()[0] == dashboard[0], "CLI export and dashboard download share columns"


@pytest.mark.parametrize("args", [
    ("compare", str(SAMPLES / "logged_reference.csv"), "/"),
    ("ingest", "--endpoint", "x", "/"),
    ("ingest", "--endpoint", "x", "/definitely/missing.csv"),
    ("compare", str(SAMPLES / "logged_reference.csv"), str(SAMPLES / "logged_current_ok.csv"),
     "--prediction-column", "nope"),
])
def test_bad_files_are_one_line_exit_2(mlfi_env: Path, capsys: pytest.CaptureFixture[str],
                                       args: tuple[str, ...]) -> None:
    rc, _, err = _run(capsys, *args)
    assert rc == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("Error:")


def test_dashboard_refuses_a_busy_port(mlfi_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        rc, _, err = _run(capsys, "dashboard", "--port", str(port))
    assert rc == 2 and "already in use" in err


def test_confidence_outside_unit_interval_is_rejected_and_stores_nothing(mlfi_env: Path, tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    import pandas as pd

    bad = tmp_path / "bad.csv"
    pd.read_csv(SAMPLES / "logged_current_ok.csv").assign(confidence=lambda d: d["confidence"] * 100).to_csv(bad, index=False)
    rc, _, err = _run(capsys, "compare", str(SAMPLES / "logged_reference.csv"), str(bad))
    assert rc == 2 and "outside [0, 1]" in err and len(err.strip().splitlines()) == 1
    rc, _, err = _run(capsys, "ingest", "--endpoint", "pct", str(bad))
    assert rc == 2 and "outside [0, 1]" in err
    rc, out, _ = _run(capsys, "endpoints", "list", "--json")
    assert rc == 0 and "pct" not in out


def test_ingest_refuses_a_probed_endpoint_and_keeps_its_protocol(mlfi_env: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    from app.config import Settings
    from app.storage import Store

    st = Store.from_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    st.upsert_endpoint("http://127.0.0.1:9/predict", url="http://127.0.0.1:9/predict", protocol="generic")
    rc, _, err = _run(capsys, "ingest", "--endpoint", "http://127.0.0.1:9/predict", str(SAMPLES / "logged_reference.csv"))
    assert rc == 2 and "is probed over HTTP" in err and len(err.strip().splitlines()) == 1
    ep = st.find_endpoint("http://127.0.0.1:9/predict")
    assert ep is not None and ep.protocol == "generic" and st.count_samples("http://127.0.0.1:9/predict") == 0
    st.dispose()


def test_missing_columns_are_the_named_cause_not_undrifted_features(mlfi_env: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = _run(capsys, "compare", str(SAMPLES / "logged_reference.csv"),
                      str(SAMPLES / "eval_breast_cancer.csv"), "--json")
    assert rc == 0
    rep = json.loads(out)
    missing = {q["column"] for q in rep["drift"]["data_quality"]["flagged"] if q["check"] == "missing_column"}
    assert rep["rca"]["root_cause"] == "data_quality" and "radius error" in missing
    assert [f["name"] for f in rep["rca"]["features"]] and all(f["name"] in missing for f in rep["rca"]["features"])
    named = [r for r in rep["recommendations"] if "feature" in r["action"]]
    assert named and all(any(m in r["action"] for m in missing) for r in named)
    assert all("failed the missing column check" in r["rationale"] for r in named)


@pytest.mark.parametrize("env,expected", [
    ({"MLFI_ALPHA": "abc"}, "invalid settings: MLFI_ALPHA:"),
    ({"MLFI_HOME": "/proc/mlfi-cannot-exist"}, "cannot use the state directory"),
])
def test_unusable_settings_are_one_line_exit_2(mlfi_env: Path, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                                               expected: str) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    rc, _, err = _run(capsys, "recommendations", "--json")
    assert rc == 2 and err.startswith(f"Error: {expected}") and len(err.strip().splitlines()) == 1
