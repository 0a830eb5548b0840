"""AppTest of the forms: Add endpoint (against the real demo model) and Recommendations (approve / reject)."""

from __future__ import annotations

import json
import socket
import sys
import threading
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).parent))
import ui_seed

from app.governance import audit
from app.storage import tables as t

PAGES = Path(__file__).resolve().parents[1] / "ui" / "pages"
SECRET = "Bearer TOPSECRET-123"


def page(name: str) -> AppTest:
    return AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=30)


def texts(at: AppTest) -> str:
    parts = [e.value for kind in ("markdown", "success", "error", "warning", "info", "caption") for e in at.get(kind)]
    return "\n".join(str(p) for p in parts)


@pytest.fixture
def ui_env(settings, store, monkeypatch):
    monkeypatch.setenv("MLFI_HOME", str(settings.home))
    for var in ("MLFI_DATABASE_URL", "MLFI_OPERATOR_NAME", "MLFI_COMMAND_HOOK", "MLFI_WEBHOOK_URL"):
        monkeypatch.delenv(var, raising=False)
    st.cache_data.clear()
    yield settings, store
    st.cache_data.clear()


@pytest.fixture(scope="module")
def demo_url():
    from app.demo.model import make_server

    server = make_server(port=0)
    th = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    th.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/predict"
    server.shutdown()
    server.server_close()


def fill(at: AppTest, **values) -> AppTest:
    for key, value in values.items():
        at.text_input(key=key).set_value(value)
    return at


# ---- Add endpoint ---------------------------------------------------------------------------------
def test_test_connection_auto_detects_the_demo_model(ui_env, demo_url):
    at = page("add_endpoint").run()
    fill(at, add_url=demo_url, add_headers=f"Authorization: {SECRET}")
    at.button(key="add_test").click().run()
    assert not at.exception and not at.error, texts(at)
    assert "protocol **generic**" in at.success[0].value
    assert "TOPSECRET" not in texts(at)


def test_add_endpoint_saves_it_with_masked_headers(ui_env, demo_url):
    _, store = ui_env
    at = page("add_endpoint").run()
    assert at.text_input(key="add_headers").proto.type == at.text_input(key="add_headers").proto.PASSWORD
    fill(at, add_url=demo_url, add_name="demo", add_headers=f"Authorization: {SECRET}", add_label="")
    at.number_input(key="add_interval").set_value(2.0)
    at.button(key="add_submit").click().run()
    assert not at.exception and not at.error, texts(at)
    ep = store.get_endpoint("demo")
    assert ep.url == demo_url and ep.protocol == "generic" and ep.interval_s == 2.0 and ep.enabled
    assert ep.headers == {"Authorization": SECRET}
    assert "Added **demo**" in texts(at) and "TOPSECRET" not in texts(at)
    assert at.text_input(key="add_headers_1").value == "" and at.text_input(key="add_url_1").value == ""  # reset
    fill(at, add_url_1=demo_url, add_name_1="demo")
    at.button(key="add_submit").click().run()          # same name again: a clear conflict message
    assert "already exists" in at.error[0].value and not at.exception


@pytest.mark.parametrize("values,needle", [
    ({"add_url": ""}, "URL must not be empty"),
    ({"add_url": "ftp://models/predict"}, "must start with http:// or https://"),
    ({"add_url": "http://127.0.0.1:9000/predict", "add_headers": "Authorization Bearer x"}, "header entry 1"),
])
def test_bad_input_shows_a_message_not_a_traceback(ui_env, values, needle):
    _, store = ui_env
    at = page("add_endpoint").run()
    fill(at, **values)
    at.button(key="add_submit").click().run()
    assert not at.exception and needle in texts(at)
    assert store.list_endpoints() == []


def test_bad_interval(ui_env):
    at = page("add_endpoint").run()
    fill(at, add_url="http://127.0.0.1:9000/predict")
    at.number_input(key="add_interval").set_value(0.0)
    at.button(key="add_test").click().run()
    assert not at.exception and "interval must be between" in at.error[0].value


def test_unreachable_endpoint(ui_env):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    at = page("add_endpoint").run()
    fill(at, add_url=f"http://127.0.0.1:{port}/predict")
    at.button(key="add_submit").click().run()
    assert not at.exception and at.error and at.error[0].value.startswith("Endpoint not added:")
    assert ui_env[1].list_endpoints() == []


def test_probe_set_without_the_models_columns(ui_env, demo_url):
    at = page("add_endpoint").run()
    fill(at, add_url=demo_url)
    at.file_uploader(key="add_probe_file").set_value(("wrong.csv", b"colour,size\nred,3\nblue,4\n", "text/csv"))
    at.button(key="add_test").click().run()
    assert not at.exception and at.error, texts(at)
    assert at.error[0].value.startswith("Connection test failed:")
    at.button(key="add_submit").click().run()
    assert not at.exception and at.error[0].value.startswith("Endpoint not added:")
    assert ui_env[1].list_endpoints() == []


def test_probe_set_upload_is_kept_under_the_state_dir(ui_env, demo_url):
    settings, store = ui_env
    csv = (Path(__file__).resolve().parents[1] / "data" / "samples" / "demo_probe_set.csv").read_bytes()
    at = page("add_endpoint").run()
    fill(at, add_url=demo_url, add_name="with-probes", add_label="target")
    at.file_uploader(key="add_probe_file").set_value(("probes.csv", csv, "text/csv"))
    at.button(key="add_submit").click().run()
    assert not at.exception and not at.error, texts(at)
    ep = store.get_endpoint("with-probes")
    assert Path(ep.probe_set).parent == settings.data_dir / "probe_sets" and ep.label_column == "target"
    assert Path(ep.probe_set).read_bytes() == csv


# ---- Recommendations ------------------------------------------------------------------------------
@pytest.fixture
def seeded(ui_env, tmp_path, monkeypatch):
    settings, store = ui_env
    marker = tmp_path / "executed.json"
    monkeypatch.setenv("MLFI_COMMAND_HOOK", f"tee {marker}")   # a real executor: writes what it receives
    return {**ui_seed.seed(settings, store), "marker": marker}


def test_cards_are_ranked_by_priority(seeded):
    at = page("recommendations").run()
    assert not at.exception
    md = [m.value for m in at.markdown if "Retrain" in m.value or "feature pipeline" in m.value]
    assert "CRITICAL" in md[0] and "HIGH" in md[1]
    assert any("Chain verified" in s.value for s in at.success)


def test_approve_writes_the_audit_log_and_runs_the_executor(seeded, ui_env):
    settings, store = ui_env
    at = page("recommendations").run()
    at.text_input(key="rec_operator").set_value("Ana Ops")
    at.text_input(key="reason_rec-retrain").set_value("drift confirmed by the data team")
    at.button(key="approve_rec-retrain").click().run()
    assert not at.exception and not at.error, texts(at)
    assert any("rec-retrain approved by Ana Ops" in s.value for s in at.success)
    entries = audit.entries(store)
    assert [e.event for e in entries][:2] == ["approved", "execution_started"] and entries[0].actor == "Ana Ops"
    assert entries[0].payload["recommendation_id"] == "rec-retrain"
    assert entries[0].payload["reason"] == "drift confirmed by the data team"
    assert audit.verify(store, settings).ok
    sent = json.loads(seeded["marker"].read_text())
    assert sent["recommendation"]["id"] == "rec-retrain" and sent["approved_by"] == "Ana Ops"
    log = at.dataframe[-1].value
    assert "approved" in set(log["event"]) and "Ana Ops" in set(log["actor"])
    assert any("Chain verified" in s.value for s in at.success)


def test_reject_records_but_executes_nothing(seeded, ui_env):
    _, store = ui_env
    at = page("recommendations").run()
    at.text_input(key="rec_operator").set_value("Bo")
    at.text_input(key="reason_rec-check-pipeline").set_value("planned migration")
    at.checkbox(key="false_alarm_rec-check-pipeline").check()
    at.button(key="reject_rec-check-pipeline").click().run()
    assert not at.exception and not at.error, texts(at)
    with store.engine.connect() as conn:
        status = conn.execute(t.recommendations.select().with_only_columns(t.recommendations.c.status)
                              .where(t.recommendations.c.id == "rec-check-pipeline")).scalar()
    assert status == "rejected"
    events = [e.event for e in audit.entries(store)]
    assert events[0] == "rejected" and not any(e.startswith("execut") for e in events)
    assert "sensitivity_changed" in events             # a false alarm makes the detectors less sensitive
    assert not seeded["marker"].exists()               # the command hook never ran


def test_reject_reason_text_alone_is_not_a_false_alarm(seeded, ui_env):
    _, store = ui_env
    at = page("recommendations").run()
    at.text_input(key="rec_operator").set_value("Carol")
    at.text_input(key="reason_rec-check-pipeline").set_value("this is not a false alarm; we prefer a rollback")
    at.button(key="reject_rec-check-pipeline").click().run()
    assert not at.exception and not at.error, texts(at)
    entries = audit.entries(store)
    assert entries[0].event == "rejected" and entries[0].payload["false_alarm"] is False
    assert "sensitivity_changed" not in [e.event for e in entries]


@pytest.mark.parametrize("who,reason,needle", [("Ana", "", "enter a reason"), ("", "ok", "Acting as")])
def test_missing_reason_or_name_is_a_message(seeded, ui_env, who, reason, needle):
    _, store = ui_env
    at = page("recommendations").run()
    at.text_input(key="rec_operator").set_value(who)
    at.text_input(key="reason_rec-retrain").set_value(reason)
    at.button(key="approve_rec-retrain").click().run()
    assert not at.exception and needle in at.error[0].value
    assert audit.entries(store) == [] and not seeded["marker"].exists()


def test_operator_name_defaults_from_settings(seeded, monkeypatch):
    monkeypatch.setenv("MLFI_OPERATOR_NAME", "on-call SRE")
    at = page("recommendations").run()
    assert at.text_input(key="rec_operator").value == "on-call SRE"


def test_tampered_audit_log_shows_failed_verification(seeded, ui_env):
    _, store = ui_env
    at = page("recommendations").run()
    at.text_input(key="rec_operator").set_value("Ana")
    at.text_input(key="reason_rec-retrain").set_value("ok")
    at.button(key="reject_rec-retrain").click().run()
    with store.engine.begin() as conn:
        conn.execute(t.audit_log.update().where(t.audit_log.c.seq == 1).values(actor="Mallory"))
    st.cache_data.clear()
    at = page("recommendations").run()
    assert not at.exception and any("verification FAILED" in e.value for e in at.error)


def test_behind_a_sign_in_proxy_the_name_comes_from_its_header(seeded, ui_env, monkeypatch):
    import types

    _, store = ui_env
    monkeypatch.setenv("MLFI_TRUSTED_USER_HEADER", "X-Forwarded-User")
    at = page("recommendations").run()                 # no header: not signed in, nothing can be decided
    assert not at.exception
    assert any("not signed in" in w.value for w in at.warning)
    assert at.button(key="approve_rec-retrain").disabled and at.button(key="reject_rec-retrain").disabled
    assert at.text_input(key="rec_operator").disabled
    monkeypatch.setattr(st, "context", types.SimpleNamespace(headers={"x-forwarded-user": "ana@corp.example"}))
    at = page("recommendations").run()
    at.text_input(key="reason_rec-retrain").set_value("confirmed")
    at.button(key="approve_rec-retrain").click().run()
    assert not at.exception and not at.error, texts(at)
    assert [e.actor for e in audit.entries(store) if e.event == "approved"] == ["ana@corp.example"]
