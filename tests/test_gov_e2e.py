"""End to end on the demo model over real HTTP: degrade it -> an incident opens with ranked recommendations ->
a person approves the rollback (CLI, command hook really rolls the demo back) -> the executor runs once ->
the endpoint recovers, the incident resolves with outcome "recovered" -> the audit log verifies."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from app.analysis.run import run_analyze, run_baseline
from app.analysis.target import EndpointSpec
from app.config import Settings
from app.governance import audit, list_incidents, list_recommendations
from app.recommend.engine import priority_rank
from app.storage import Store

pytestmark = pytest.mark.integration

ROOT = Path(__file__).parents[1]

HOOK = """import json, sys, urllib.request
action = json.load(sys.stdin)
base, log = sys.argv[1], sys.argv[2]
if action["recommendation"]["action_type"] == "rollback":
    req = urllib.request.Request(base + "/_control", data=json.dumps({"mode": "healthy"}).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    urllib.request.urlopen(req, timeout=10).read()
with open(log, "a") as fh:
    fh.write(json.dumps({"id": action["recommendation"]["id"], "by": action["approved_by"]}) + "\\n")
print("rolled back to healthy")
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def demo() -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "app", "serve-demo-model", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=str(ROOT))
    base = f"http://127.0.0.1:{port}"
    try:
        end = time.time() + 60
        while time.time() < end:
            try:
                if requests.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        else:
            raise RuntimeError("demo model did not come up")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _mode(base: str, mode: str | None = None) -> str:
    if mode is not None:
        assert requests.post(f"{base}/_control", json={"mode": mode}, timeout=5).status_code == 200
    return str(requests.get(f"{base}/_control", timeout=5).json()["mode"])


def test_degrade_incident_approve_rollback_executes_once_and_recovers(demo: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    hook_py, hook_log = tmp_path / "hook.py", tmp_path / "hook.log"
    hook_py.write_text(HOOK)
    command = f"{sys.executable} {hook_py} {demo} {hook_log}"
    settings = Settings(home=home, command_hook=command, _env_file=None)  # type: ignore[call-arg]
    store = Store.from_settings(settings)
    url = f"{demo}/predict"
    spec = EndpointSpec(url)
    _mode(demo, "healthy")
    run_baseline(settings, store, spec, 150, seed=0, concurrency=1)

    # 1. the model degrades: two analyses -> ONE incident with ranked recommendations
    _mode(demo, "degraded_accuracy")
    first = run_analyze(settings, store, spec, 150, seed=1, concurrency=1)
    assert first.alert and first.rca.root_cause == "accuracy_drop", first.rca.model_dump()
    ranks = [priority_rank(r.priority) for r in first.recommendations]
    assert ranks == sorted(ranks) and first.recommendations[0].priority in ("CRITICAL", "HIGH")
    rollback = next(r for r in first.recommendations if r.action_type == "rollback")
    assert "accuracy" in rollback.rationale and rollback.knowledge_id == "playbook-rollback"
    second = run_analyze(settings, store, spec, 150, seed=2, concurrency=1)
    assert second.rca.root_cause == "accuracy_drop"
    assert rollback.id in {r.id for r in second.recommendations}
    (inc,) = list_incidents(store)
    assert inc.status == "open" and inc.alert_count == 2 and inc.root_cause == "accuracy_drop"
    assert all(r.status == "pending" for r in list_recommendations(store))
    assert not hook_log.exists()                                  # nothing ran without an approval

    # 2. a person approves the rollback through the CLI: the command hook runs exactly once
    env = {**os.environ, "MLFI_HOME": str(home), "MLFI_COMMAND_HOOK": command}
    env.pop("MLFI_DATABASE_URL", None)
    p = subprocess.run([sys.executable, "-m", "app", "approve", rollback.id, "--by", "ana",
                        "--reason", "accuracy fell after the last deploy", "--json"],
                       capture_output=True, text=True, env=env, cwd=str(ROOT), timeout=120, check=False)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert [(x["executor"], x["ok"]) for x in d["executions"]] == [("command", True)]
    assert d["recommendation"]["status"] == "executed"
    assert [json.loads(x) for x in hook_log.read_text().splitlines()] == [{"id": rollback.id, "by": "ana"}]
    assert _mode(demo) == "healthy"                               # the rollback really happened
    again = subprocess.run([sys.executable, "-m", "app", "approve", rollback.id, "--by", "bob", "--reason", "x"],
                           capture_output=True, text=True, env=env, cwd=str(ROOT), timeout=120, check=False)
    assert again.returncode == 2 and "already executed by ana" in again.stderr
    assert len(hook_log.read_text().splitlines()) == 1

    # 3. the next analysis is healthy: the incident resolves and the action is credited with the recovery
    #    (on a busy machine a window can show a latency blip: that is another incident, analyse again)
    for seed in (3, 4, 5):
        healthy = run_analyze(settings, store, spec, 150, seed=seed, concurrency=1)
        if healthy.rca.root_cause == "none":
            break
    assert healthy.rca.root_cause == "none" and healthy.recommendations == []
    inc = next(i for i in list_incidents(store) if i.root_cause == "accuracy_drop")
    assert inc.status == "resolved" and inc.outcome in ("recovered", "superseded")
    assert all(i.status == "resolved" for i in list_incidents(store))
    rec = next(r for r in list_recommendations(store) if r.id == rollback.id)
    assert rec.outcome is not None and rec.outcome["result"] == "recovered" and rec.outcome["metric"] == "accuracy"
    assert rec.outcome["after"] > rec.outcome["before"]
    others = {r.status for r in list_recommendations(store, incident_id=inc.id) if r.id != rollback.id}
    assert others <= {"superseded"}

    # 4. the audit log tells the whole story and verifies (CLI exit 0)
    events = [e.event for e in audit.entries(store)]
    story = [e for e in events if e in ("approved", "rejected", "execution_started", "executed", "execution_failed")]
    assert events[0] == "recommended" and "incident_closed" in events
    assert story == ["approved", "execution_started", "executed"], events
    v = subprocess.run([sys.executable, "-m", "app", "audit", "--verify", "--json"], capture_output=True, text=True,
                       env=env, cwd=str(ROOT), timeout=120, check=False)
    assert v.returncode == 0 and json.loads(v.stdout)["ok"] is True
    store.dispose()


def test_shifted_traffic_accept_new_baseline_relearns_it(demo: str, tmp_path: Path) -> None:
    """Traffic shifts for good, quality holds: a person accepts the new baseline -> a new version is learned
    from the recent samples -> the same traffic is normal from then on and the incident resolves."""
    import pandas as pd

    from app.governance import approve
    from app.probing import default_probe_set_path
    from app.storage.baselines import load_baseline

    settings = Settings(home=tmp_path / "home", _env_file=None)  # type: ignore[call-arg]
    store = Store.from_settings(settings)
    url = f"{demo}/predict"
    _mode(demo, "healthy")
    v1 = run_baseline(settings, store, EndpointSpec(url), 150, seed=0, concurrency=1)
    df = pd.read_csv(default_probe_set_path())
    df["mean radius"] = df["mean radius"] * 1.35            # the clinic now sends larger tumours
    shifted = tmp_path / "shifted.csv"
    df.to_csv(shifted, index=False)
    spec = EndpointSpec(url, probe_set=str(shifted), label_column="target")

    rep = run_analyze(settings, store, spec, 150, seed=4, concurrency=1)
    assert rep.rca.root_cause == "feature_drift", rep.rca.model_dump()
    acc = next(r for r in rep.recommendations if r.action_type == "accept_baseline")
    assert acc.priority == "LOW" and rep.recommendations[-1].id == acc.id       # least drastic, ranked last
    assert load_baseline(settings, store, url).version == v1.version           # nothing happened yet

    d = approve(store, settings, acc.id, by="ana", reason="new referral clinic: larger tumours are expected")
    assert [(x.executor, x.ok) for x in d.executions] == [("accept_baseline", True)]
    v2 = load_baseline(settings, store, url)
    assert v2.version == v1.version + 1 == d.executions[0].result["version"]
    assert v2.features["mean radius"].mean == pytest.approx(v1.features["mean radius"].mean * 1.35, rel=0.15)

    for seed in (5, 6, 7):          # a latency blip on a busy machine is another incident: analyse again
        after = run_analyze(settings, store, spec, 150, seed=seed, concurrency=1)
        if after.rca.root_cause == "none":
            break
    assert after.rca.root_cause == "none", after.rca.model_dump()
    inc = next(i for i in list_incidents(store) if i.root_cause == "feature_drift")
    assert inc.status == "resolved" and inc.outcome in ("recovered", "superseded")
    assert next(r for r in list_recommendations(store) if r.id == acc.id).outcome["result"] == "recovered"
    assert audit.verify(store, settings).ok
    store.dispose()
