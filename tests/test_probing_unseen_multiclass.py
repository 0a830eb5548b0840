"""A 3-class model (sklearn wine) behind a TF-Serving-style server: baseline, analyze and export through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from app.cli import main
from tests.probing_unseen_stub import Req, Resp, StubServer, json_app


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out, out.err


def test_three_class_model_baseline_analyze_export(mlfi_env: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    data = load_wine(as_frame=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(data.data.to_numpy(), data.target)
    state = {"scale": 1.0}

    def predict(req: Req) -> Resp:
        x = np.asarray(req.body["instances"], dtype=float) * state["scale"]
        return Resp(200, {"predictions": model.predict_proba(x).tolist()})

    probe_csv = tmp_path / "wine.csv"
    frame = data.data.copy()
    frame["target"] = data.target
    frame.to_csv(probe_csv, index=False)
    with StubServer(json_app({("POST", "/v1/models/wine:predict"): predict})) as srv:
        url = srv.url + "/v1/models/wine"
        rc, out, err = _run(capsys, "baseline", url, "--probe-set", str(probe_csv), "--label-column", "target",
                            "--samples", "90", "--json")
        assert rc == 0, err
        base = json.loads(out)
        assert base["protocol"] == "kserve-v1" and base["metrics"]["error_rate"] == 0.0
        assert base["metrics"]["accuracy"] >= 0.95
        assert set(base["metrics"]["class_distribution"]) == {"0", "1", "2"}

        rc, out, err = _run(capsys, "analyze", url, "--samples", "90", "--json")
        assert rc == 0, err
        healthy = json.loads(out)
        assert healthy["rca"]["root_cause"] == "none" and healthy["samples_collected"] == 90

        state["scale"] = 1.3   # the serving side rescales its inputs: answers skew to one class
        rc, out, err = _run(capsys, "analyze", url, "--samples", "90", "--json")
        assert rc == 0, err
        broken = json.loads(out)
    assert broken["metrics"]["accuracy"] < 0.8
    assert broken["drift"]["prediction_distribution"]["drift_detected"] is True
    assert broken["rca"]["root_cause"] != "none"
    rc, _, err = _run(capsys, "export", "--endpoint", url, "--out", str(tmp_path / "m.csv"))
    assert rc == 0, err
    assert (tmp_path / "m.csv").read_text().count("\n") >= 2
