"""End to end over real HTTP on loopback: demo model -> baseline (150 labelled probes) -> each failure mode
(150 probes after the switch) -> the right root cause. Also the CLI's bad-input paths (one line, exit 2)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import requests

from app.analysis.run import run_analyze, run_baseline
from app.analysis.target import EndpointSpec
from app.config import Settings
from app.probing import default_probe_set_path
from app.storage import Store

pytestmark = pytest.mark.integration

EXPECTED = {
    "healthy": "none",
    "degraded_accuracy": "accuracy_drop",
    "low_confidence": "confidence_drop",
    "latency": "latency_degradation",
    "errors": "error_spike",
    "silent_failure": "silent_failure",
    "prediction_drift": "prediction_drift",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, timeout: float = 60.0) -> None:
    end = time.time() + timeout
    while time.time() < end:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


@pytest.fixture(scope="module")
def demo() -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "app", "serve-demo-model", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(f"http://127.0.0.1:{port}/health")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _mode(base: str, mode: str) -> None:
    r = requests.post(f"{base}/_control", json={"mode": mode}, timeout=5)
    assert r.status_code == 200, r.text


@pytest.fixture(scope="module")
def learned(demo: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Store, str]:
    home = tmp_path_factory.mktemp("e2e")
    settings = Settings(home=home, _env_file=None)  # type: ignore[call-arg]
    store = Store.from_settings(settings)
    url = f"{demo}/predict"
    _mode(demo, "healthy")
    b = run_baseline(settings, store, EndpointSpec(url), 150, seed=0, concurrency=4)
    assert b.protocol == "generic" and b.metrics.accuracy and b.metrics.accuracy > 0.9
    return settings, store, url


@pytest.mark.parametrize("mode", list(EXPECTED))
def test_failure_mode_root_cause(demo: str, learned: tuple[Settings, Store, str], mode: str) -> None:
    settings, store, url = learned
    _mode(demo, mode)
    try:
        rep = run_analyze(settings, store, EndpointSpec(url), 150, seed=7, concurrency=4)
    finally:
        _mode(demo, "healthy")
    assert rep.rca.root_cause == EXPECTED[mode], (mode, rep.rca.model_dump())
    assert rep.alert == (mode != "healthy")
    if mode != "healthy":
        assert rep.rca.severity != "none" and rep.recommendations


def test_malformed_responses_are_recorded_and_flagged(demo: str, learned: tuple[Settings, Store, str]) -> None:
    settings, store, url = learned
    _mode(demo, "malformed")
    try:
        rep = run_analyze(settings, store, EndpointSpec(url), 150, seed=8, concurrency=4)
    finally:
        _mode(demo, "healthy")
    assert rep.rca.root_cause in ("error_spike", "data_quality")
    assert rep.metrics.error_kinds.get("malformed_response", 0) > 50


def test_feature_drift_from_shifted_traffic(learned: tuple[Settings, Store, str], tmp_path: Path) -> None:
    settings, store, url = learned
    df = pd.read_csv(default_probe_set_path())
    df["mean radius"] = df["mean radius"] * 1.35           # upstream unit/scaling bug on one feature
    shifted = tmp_path / "shifted.csv"
    df.to_csv(shifted, index=False)
    rep = run_analyze(settings, store, EndpointSpec(url, probe_set=str(shifted), label_column="target"), 150,
                      seed=9, concurrency=4)
    assert rep.drift["features"]["mean radius"]["drift_detected"] is True
    assert rep.rca.root_cause in ("feature_drift", "accuracy_drop", "prediction_drift")
    assert rep.rca.features and rep.rca.features[0].name == "mean radius"


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, env=env, timeout=120)


def test_cli_bad_input_is_one_line_exit_2(demo: str, tmp_path: Path) -> None:
    env = {**os.environ, "MLFI_HOME": str(tmp_path / "cli")}
    dead = f"http://127.0.0.1:{_free_port()}/predict"
    bad_probe = tmp_path / "bad.csv"
    bad_probe.write_text("foo,bar\n1,2\n3,4\n")
    cases = [
        ("baseline", dead, "--samples", "10"),                                      # unreachable URL
        ("baseline", f"{demo}/predict", "--protocol", "nope"),                       # unknown protocol
        ("baseline", f"{demo}/predict", "--probe-set", str(bad_probe), "--protocol", "generic"),  # wrong columns
        ("analyze", f"{demo}/predict", "--samples", "10"),                           # no baseline yet
        ("baseline", f"{demo}/predict", "--samples", "many"),                        # non-numeric count
        ("baseline", "not-a-url"),
        ("export", "--endpoint", "ghost", "--out", str(tmp_path / "x.csv")),
    ]
    for args in cases:
        out = _cli(*args, env=env)
        assert out.returncode == 2, (args, out.returncode, out.stderr)
        lines = [ln for ln in out.stderr.strip().splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("Error:"), (args, out.stderr)
        assert "Traceback" not in out.stderr


def test_cli_baseline_analyze_export_json(demo: str, tmp_path: Path) -> None:
    env = {**os.environ, "MLFI_HOME": str(tmp_path / "cli2")}
    url = f"{demo}/predict"
    b = _cli("baseline", url, "--samples", "60", "--header", "Authorization: Bearer s3cr3t-token", "--json", env=env)
    assert b.returncode == 0, b.stderr
    assert json.loads(b.stdout)["version"] == 1
    a = _cli("analyze", url, "--samples", "60", "--json", env=env)
    assert a.returncode == 0, a.stderr
    rep = json.loads(a.stdout)
    for key in ("endpoint", "metrics", "drift", "anomalies", "rca", "recommendations", "samples_collected"):
        assert key in rep
    for key in ("avg_confidence", "confidence_std", "error_rate", "latency_p50_ms", "latency_p95_ms", "accuracy",
                "total_samples"):
        assert key in rep["metrics"]
    out = tmp_path / "m.csv"
    e = _cli("export", "--endpoint", url, "--out", str(out), "--bucket", "1", env=env)
    assert e.returncode == 0, e.stderr
    text = out.read_text()
    assert "error_rate" in text.splitlines()[0]
    # the secret header never reaches logs or exports
    logs = "".join(p.read_text() for p in (tmp_path / "cli2").rglob("*.log"))
    assert "s3cr3t-token" not in logs + text + a.stdout + a.stderr + b.stdout + b.stderr


def test_failed_run_with_wrong_probe_set_keeps_the_working_configuration(
        demo: str, learned: tuple[Settings, Store, str], tmp_path: Path) -> None:
    from app.errors import MlfiError

    settings, store, url = learned
    before = store.get_endpoint(url).probe_set
    bad = tmp_path / "wrong_columns.csv"
    bad.write_text("foo,bar\n1,2\n3,4\n")
    with pytest.raises(MlfiError):      # no label column, or every probe refused: either way exit 2
        run_analyze(settings, store, EndpointSpec(url, probe_set=str(bad)), 20, seed=1)
    with pytest.raises(MlfiError):
        run_analyze(settings, store, EndpointSpec(url, probe_set=str(bad), label_column="bar"), 20, seed=1)
    assert store.get_endpoint(url).probe_set == before
    rep = run_analyze(settings, store, EndpointSpec(url), 30, seed=2)   # the stored probe set still works
    assert rep.metrics.error_rate == 0.0
