"""Executors: webhook, command hook, accept-new-baseline. Only ever for approved recommendations, once each."""

from __future__ import annotations

import json
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sklearn.datasets import load_breast_cancer

sys.path.insert(0, str(Path(__file__).parent))
from gov_helpers import EP, make_report

from app.config import Settings
from app.detection.baseline import learn_baseline
from app.errors import ConflictError
from app.governance import approve, audit, execute, list_recommendations, on_report, reject
from app.governance.audit import mirror_path
from app.governance.executors import WebhookExecutor
from app.schemas import Sample
from app.storage import Store
from app.storage.baselines import load_baseline, save_baseline


class _Hook(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.bodies.append(json.loads(body))  # type: ignore[attr-defined]
        self.send_response(self.server.status)  # type: ignore[attr-defined]
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def hook_server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    srv.bodies, srv.status = [], 200  # type: ignore[attr-defined]
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def hook(hook_server):
    hook_server.bodies.clear()
    hook_server.status = 200
    return hook_server


def _url(srv, secret="s3cr3t-token"):
    return f"http://127.0.0.1:{srv.server_address[1]}/hook?token={secret}"


# ---- the property: no executor runs unless approved, and never twice ---------------------------------------
OPS = st.lists(st.tuples(st.sampled_from(["approve", "approve_run", "reject", "execute"]), st.integers(0, 2)),
               min_size=1, max_size=10)


@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_property_no_executor_runs_for_pending_or_rejected(hook, ops):
    with tempfile.TemporaryDirectory() as d:
        s = Settings(home=Path(d), _env_file=None, webhook_url=_url(hook))  # type: ignore[call-arg]
        store = Store.from_settings(s)
        try:
            ids = [r.id for r in on_report(store, make_report("accuracy_drop"), s).recommendations][:3]
            model = {i: "pending" for i in ids}       # what the statuses must be
            ran: list[str] = []
            hook.bodies.clear()
            for op, k in ops:
                rid = ids[k % len(ids)]
                before = model[rid]
                try:
                    if op in ("approve", "approve_run"):
                        dec = approve(store, s, rid, by="ana", reason="ok", execute_now=op == "approve_run")
                        ran += [rid for _ in dec.executions]
                        model[rid] = "executed" if dec.executions else "approved"
                    elif op == "reject":
                        reject(store, s, rid, by="bob", reason="no")
                        model[rid] = "rejected"
                    else:
                        runs = execute(store, s, rid, actor="ana")
                        ran += [rid for _ in runs]
                        model[rid] = "executed"
                    assert before == "pending" or op == "execute"
                    if op == "execute":
                        assert before == "approved"      # execute succeeded only for an approved one
                except ConflictError:
                    assert (op != "execute" and before != "pending") or (op == "execute" and before != "approved")
            posted = [b["recommendation"]["id"] for b in hook.bodies]
            assert posted == ran                                   # what ran is exactly what was posted
            assert len(posted) == len(set(posted))                 # never twice
            final = {r.id: r.status for r in list_recommendations(store)}
            for rid in posted:
                assert final[rid] == "executed" and model[rid] == "executed"
            for rid in ids:
                if final[rid] in ("pending", "rejected", "approved"):
                    assert rid not in posted
            assert audit.verify(store, s).ok
        finally:
            store.dispose()


# ---- webhook ---------------------------------------------------------------------------------------
def test_webhook_posts_the_approved_action_and_keeps_secrets_out_of_the_log(store, settings, hook):
    s = settings.model_copy(update={"webhook_url": _url(hook)})
    rid = on_report(store, make_report("accuracy_drop"), s).recommendations[0].id
    d = approve(store, s, rid, by="ana", reason="rollback please")
    assert [x.ok for x in d.executions] == [True] and d.recommendation.status == "executed"
    body = hook.bodies[-1]
    assert body["recommendation"]["id"] == rid and body["approved_by"] == "ana" and body["reason"] == "rollback please"
    assert body["recommendation"]["action_type"] == "rollback"
    events = [e.event for e in audit.entries(store)]
    assert events[-2:] == ["execution_started", "executed"]
    assert "s3cr3t-token" not in mirror_path(s).read_text() and "s3cr3t-token" not in json.dumps(
        [e.model_dump() for e in audit.entries(store)])
    with pytest.raises(ConflictError, match="already executed"):
        execute(store, s, rid, actor="ana")
    assert len(hook.bodies) == 1


def test_webhook_failure_is_recorded(store, settings, hook):
    hook.status = 500
    s = settings.model_copy(update={"webhook_url": _url(hook)})
    rid = on_report(store, make_report("error_spike", error_rate=0.4, error_kinds={"http_error": 60}),
                    s).recommendations[0].id
    d = approve(store, s, rid, by="ana", reason="try")
    assert d.executions[0].ok is False and "HTTP 500" in d.executions[0].detail
    last = audit.entries(store)[-1]
    assert last.event == "execution_failed" and last.payload["result"]["status_code"] == 500


def test_unreachable_webhook_is_a_failed_run_not_a_crash(store, settings):
    s = settings.model_copy(update={"webhook_url": "http://127.0.0.1:9/nothing"})
    rid = on_report(store, make_report("accuracy_drop"), s).recommendations[0].id
    d = approve(store, s, rid, by="ana", reason="try")
    assert d.executions[0].ok is False and "failed" in d.executions[0].detail


# ---- command hook ----------------------------------------------------------------------------------
def test_command_hook_receives_json_on_stdin(store, settings, tmp_path):
    out = tmp_path / "got.json"
    script = tmp_path / "hook.py"
    script.write_text(f"import sys\nopen({str(out)!r}, 'w').write(sys.stdin.read())\nprint('rolled back')\n")
    s = settings.model_copy(update={"command_hook": f"{sys.executable} {script}"})
    rid = on_report(store, make_report("accuracy_drop"), s).recommendations[0].id
    d = approve(store, s, rid, by="ana", reason="go")
    got = json.loads(out.read_text())
    assert got["recommendation"]["id"] == rid and got["kind"] == "mlfi.approved_action"
    run = d.executions[0]
    assert run.ok and run.result["returncode"] == 0 and "rolled back" in run.result["stdout"]


def test_failing_command_hook_is_recorded(store, settings, tmp_path):
    s = settings.model_copy(update={"command_hook": f"{sys.executable} -c \"import sys; sys.exit(3)\""})
    rid = on_report(store, make_report("accuracy_drop"), s).recommendations[0].id
    d = approve(store, s, rid, by="ana", reason="go")
    assert d.executions[0].ok is False and "exited 3" in d.executions[0].detail
    assert audit.entries(store)[-1].event == "execution_failed"


def test_no_executor_configured_leaves_it_approved_then_execute_later(store, settings, hook):
    rid = on_report(store, make_report("accuracy_drop"), settings).recommendations[0].id
    d = approve(store, settings, rid, by="ana", reason="go")
    assert d.executions == [] and d.recommendation.status == "approved"
    assert "no executor applies" in d.message
    runs = execute(store, settings.model_copy(update={"webhook_url": _url(hook)}), rid, actor="ana")
    assert [r.ok for r in runs] == [True] and len(hook.bodies) == 1


# ---- accept a new baseline -------------------------------------------------------------------------
def _samples(n, shift=0.0, seed=0):
    data = load_breast_cancer()
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(data.data), n, replace=True)
    out = []
    for j, i in enumerate(idx):
        row = {name: float(v) for name, v in zip(data.feature_names, data.data[i])}
        row["mean radius"] += shift
        out.append(Sample(endpoint=EP, ts=1000.0 + j, inputs=row, prediction=str(data.target[i]),
                          confidence=0.9, label=str(data.target[i]), latency_ms=3.0))
    return out


def test_accepting_a_new_baseline_relearns_it_as_a_new_version(store, settings):
    store.add_samples(_samples(150))
    v1 = save_baseline(settings, store, learn_baseline(EP, store.recent_samples(EP)))
    shifted = _samples(150, shift=4.0, seed=1)
    for s_ in shifted:
        s_.ts += 10_000
    store.add_samples(shifted)
    rep = on_report(store, make_report("feature_drift", "medium", accuracy=0.95, confidence=0.93), settings)
    rec = next(r for r in rep.recommendations if r.action_type == "accept_baseline")
    d = approve(store, settings, rec.id, by="ana", reason="new clinic population is expected")
    assert [x.executor for x in d.executions] == ["accept_baseline"] and d.executions[0].ok
    v2 = load_baseline(settings, store, EP)
    assert v2.version == v1.version + 1 == d.executions[0].result["version"]
    ref_mean = v2.features["mean radius"].mean
    assert ref_mean == pytest.approx(np.mean([x.inputs["mean radius"] for x in shifted]), rel=1e-9)
    assert audit.entries(store)[-1].payload["result"]["version"] == v2.version


def test_accept_baseline_without_enough_samples_fails_cleanly(store, settings):
    store.add_samples(_samples(5))
    rep = on_report(store, make_report("feature_drift", "medium", accuracy=0.95, confidence=0.93), settings)
    rec = next(r for r in rep.recommendations if r.action_type == "accept_baseline")
    d = approve(store, settings, rec.id, by="ana", reason="ok")
    assert d.executions[0].ok is False and "not enough recent samples" in d.executions[0].detail
    assert store.baseline_versions(EP) == []


def test_webhook_executor_only_when_configured(settings):
    from app.governance.executors import default_executors
    names = [e.name for e in default_executors(settings)]
    assert names == ["accept_baseline"]
    s = settings.model_copy(update={"webhook_url": "http://x/y", "command_hook": "true"})
    assert [e.name for e in default_executors(s)] == ["accept_baseline", "webhook", "command"]
    assert isinstance(default_executors(s)[1], WebhookExecutor)
