"""Real parts: promtool checks the rules, a real Prometheus scrapes /metrics served by real uvicorn and answers a
PromQL query with the stored value, a real Alertmanager lists an incident and drops it once it resolves.

Debian ``prometheus`` and ``prometheus-alertmanager`` are installed by scripts/test.sh; these tests skip only
when a binary is absent and this is not root (a root run without them is a broken install: it fails).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).parent))
from gov_helpers import EP, make_report

from app.alerting import incidents as am_incidents
from app.alerting.alertmanager import AlertmanagerClient
from app.api.tokens import issue_token
from app.config import Settings
from app.governance import on_report
from app.schemas import Sample
from app.storage import Store

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[1]
PROMETHEUS, PROMTOOL, ALERTMANAGER = "/usr/bin/prometheus", "/usr/bin/promtool", "/usr/bin/prometheus-alertmanager"


def _need(binary: str) -> None:
    if not os.access(binary, os.X_OK):
        if os.geteuid() != 0:
            pytest.skip(f"{binary} is absent and this is not root (scripts/test.sh installs it as root)")
        pytest.fail(f"{binary} is absent: scripts/test.sh installs it (apt-get install prometheus prometheus-alertmanager)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as r:     # loopback only
        return json.loads(r.read())


def _until(fn: Callable[[], Any], timeout: float, what: str, proc: subprocess.Popen[bytes] | None = None) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = fn()
            if last:
                return last
        except OSError as exc:
            last = exc
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{what}: the process exited ({proc.returncode})")
        time.sleep(0.2)
    raise AssertionError(f"{what} not within {timeout} s (last: {last!r})")


def _start(cmd: list[str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_promtool_accepts_the_rules_and_the_example_config(tmp_path: Path) -> None:
    _need(PROMTOOL)
    res = subprocess.run([PROMTOOL, "check", "rules", str(ROOT / "docker/prometheus/mlfi-rules.yml")],
                         capture_output=True, text=True, timeout=60, check=False)
    assert res.returncode == 0 and "SUCCESS: 5 rules found" in res.stdout, res.stdout + res.stderr
    token = tmp_path / "mlfi-token"
    token.write_text("t")
    cfg = (ROOT / "docker/prometheus/prometheus.yml").read_text().replace("/etc/prometheus/mlfi-token", str(token))
    (tmp_path / "prometheus.yml").write_text(cfg)
    shutil.copy(ROOT / "docker/prometheus/mlfi-rules.yml", tmp_path / "mlfi-rules.yml")
    res = subprocess.run([PROMTOOL, "check", "config", str(tmp_path / "prometheus.yml")],
                         capture_output=True, text=True, timeout=60, check=False)
    assert res.returncode == 0, res.stdout + res.stderr


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Store, str, str]]:
    """A stored state and mlfi's API on real uvicorn (a thread of this process) on a free loopback port."""
    import uvicorn

    from app.api import create_app

    home = tmp_path_factory.mktemp("prom")
    settings = Settings(home=home / "state", _env_file=None)  # type: ignore[call-arg]
    settings.ensure_dirs()
    store = Store.from_settings(settings)
    token = issue_token(store.engine, "prometheus", ("read",))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, store=store), host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    _until(lambda: server.started, 15, "uvicorn start")
    yield settings, store, f"127.0.0.1:{port}", token
    server.should_exit = True
    thread.join(timeout=10)
    store.dispose()


def test_real_prometheus_scrapes_metrics_and_answers_promql(served, tmp_path: Path) -> None:
    _need(PROMETHEUS)
    settings, store, target, token = served
    now = time.time()
    store.add_samples([Sample(endpoint=EP, ts=now - i, prediction="1", confidence=0.9, latency_ms=30.0)
                       for i in range(7)]
                      + [Sample(endpoint=EP, ts=now - 10, latency_ms=None, error_kind="timeout")])
    on_report(store, make_report("accuracy_drop", severity="critical", created_at=now), settings)
    (tmp_path / "token").write_text(token)
    shutil.copy(ROOT / "docker/prometheus/mlfi-rules.yml", tmp_path / "mlfi-rules.yml")
    (tmp_path / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "rule_files: [mlfi-rules.yml]\n"
        "scrape_configs:\n"
        "  - job_name: mlfi\n"
        f"    authorization: {{type: Bearer, credentials_file: {tmp_path / 'token'}}}\n"
        f"    static_configs: [{{targets: ['{target}']}}]\n")
    port = _free_port()
    proc = _start([PROMETHEUS, f"--config.file={tmp_path / 'prometheus.yml'}",
                   f"--storage.tsdb.path={tmp_path / 'tsdb'}", f"--web.listen-address=127.0.0.1:{port}"],
                  tmp_path / "prometheus.log")
    api = f"http://127.0.0.1:{port}/api/v1"
    try:
        def query(q: str) -> list[Any]:
            return _get(f"{api}/query?query={urllib.parse.quote(q)}")["data"]["result"]

        ok = _until(lambda: query('mlfi_probes_total{job="mlfi",outcome="ok"}'), 20, "a scraped mlfi_probes_total",
                    proc)
        assert ok[0]["metric"]["endpoint"] == EP and float(ok[0]["value"][1]) == 7
        assert float(query('mlfi_probes_total{outcome="timeout"}')[0]["value"][1]) == 1
        assert float(query("mlfi_incidents_open")[0]["value"][1]) == 1
        assert float(query("mlfi_verdict_severity")[0]["value"][1]) == 4          # critical
        targets = _get(f"{api}/targets")["data"]["activeTargets"]
        assert [t["health"] for t in targets] == ["up"]                           # the bearer token was accepted

        def tripped() -> list[dict[str, Any]]:     # evaluated after a scrape: the stored verdict trips the rule
            rules = [r for g in _get(f"{api}/rules")["data"]["groups"] for r in g["rules"]]
            acc = [r for r in rules if r["name"] == "MlfiAccuracyDrop" and r["state"] in ("pending", "firing")]
            return rules if acc else []

        rules = _until(tripped, 10, "MlfiAccuracyDrop pending on the stored accuracy_drop verdict", proc)
        assert {r["name"] for r in rules} >= {"MlfiWatcherStale", "MlfiEndpointFailing", "MlfiDriftDetected",
                                              "MlfiAccuracyDrop"}
        assert all(r["health"] == "ok" for r in rules), [(r["name"], r.get("lastError")) for r in rules]
        assert next(r for r in rules if r["name"] == "MlfiDriftDetected")["state"] == "inactive"
    finally:
        _stop(proc)


def test_real_alertmanager_lists_an_incident_then_drops_it_resolved(served, tmp_path: Path, monkeypatch) -> None:
    _need(ALERTMANAGER)
    settings, store, _target, _token = served
    monkeypatch.setattr(am_incidents, "CLIENT", AlertmanagerClient())
    (tmp_path / "am.yml").write_text("route: {receiver: none}\nreceivers: [{name: none}]\n")
    port = _free_port()
    proc = _start([ALERTMANAGER, f"--config.file={tmp_path / 'am.yml'}", f"--storage.path={tmp_path / 'am'}",
                   f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                  tmp_path / "alertmanager.log")
    base = f"http://127.0.0.1:{port}"
    try:
        _until(lambda: _get(f"{base}/api/v2/status")["cluster"]["status"], 15, "alertmanager ready", proc)
        settings.alertmanager_url = SecretStr(base)
        ep = "http://127.0.0.1:9/am-model"
        now = time.time()
        on_report(store, make_report("error_spike", severity="high", endpoint=ep, created_at=now - 5), settings)

        def ours() -> list[dict[str, Any]]:
            return [a for a in _get(f"{base}/api/v2/alerts") if a["labels"].get("endpoint") == ep]

        (alert,) = _until(ours, 10, "the incident listed by alertmanager", proc)
        assert alert["labels"]["alertname"] == "MlfiIncident" and alert["labels"]["root_cause"] == "error_spike"
        assert alert["labels"]["severity"] == "high" and alert["status"]["state"] == "active"
        assert alert["annotations"]["runbook_url"].endswith("playbook-endpoint-errors.md")
        assert am_incidents.CLIENT.pending == 0
        on_report(store, make_report("none", endpoint=ep, created_at=time.time()), settings)
        assert _until(lambda: not ours(), 10, "the resolved incident gone from the active alerts", proc)
    finally:
        settings.alertmanager_url = None
        _stop(proc)
