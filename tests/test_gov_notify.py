"""Incident notifications: one POST when an incident opens, one when it resolves; secrets and failures."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).parent))
from gov_helpers import EP, make_report

from app.governance import audit, on_report
from tests.probing_unseen_stub import Req, Resp, StubServer


class _Receiver(StubServer):
    """A webhook receiver: every POST body in ``received``; answers ``status``."""

    def __init__(self) -> None:
        self.status = 200
        self.received: list[dict[str, Any]] = []
        super().__init__(self._app)

    def _app(self, req: Req) -> Resp:
        self.received.append(req.body)
        return Resp(self.status, text="ok")


@pytest.fixture()
def receiver() -> Iterator[_Receiver]:
    with _Receiver() as srv:
        yield srv


def test_open_and_resolve_each_notify_once_and_are_audited(store, settings, receiver) -> None:
    secret_url = f"{receiver.url}/hooks/T0KEN-abc123"
    settings.alert_webhook_url = SecretStr(secret_url)
    for i in range(3):                                         # one incident, three alerts: one message
        on_report(store, make_report("accuracy_drop", severity="critical", created_at=100.0 + i), settings)
    assert [m["event"] for m in receiver.received] == ["incident_opened"]
    opened = receiver.received[0]
    assert opened["endpoint"] == EP and opened["root_cause"] == "accuracy_drop" and opened["severity"] == "critical"
    assert opened["text"].startswith("[CRITICAL] mlfi: incident #") and opened["recommendations"]
    on_report(store, make_report("none", created_at=200.0), settings)
    assert [m["event"] for m in receiver.received] == ["incident_opened", "incident_resolved"]
    assert receiver.received[1]["incident_id"] == opened["incident_id"]
    notes = [e for e in audit.entries(store) if e.event == "notified"]
    assert [n.payload["delivered"] for n in notes] == [True, True]
    mirror = (settings.audit_dir / "approvals.jsonl").read_text()
    assert "T0KEN-abc123" not in json.dumps([e.payload for e in audit.entries(store)]) + mirror
    assert "T0KEN-abc123" not in repr(settings)
    assert audit.verify(store, settings).ok


def test_a_failing_receiver_never_stops_monitoring(store, settings, receiver) -> None:
    receiver.status = 500
    settings.alert_webhook_url = SecretStr(f"{receiver.url}/x")
    rep = on_report(store, make_report("accuracy_drop"), settings)
    assert rep.report_id and rep.incident_id                   # saved and tracked despite the failure
    settings.alert_webhook_url = SecretStr("http://127.0.0.1:9/refused")
    on_report(store, make_report("none"), settings)
    notes = [e.payload for e in audit.entries(store) if e.event == "notified"]
    assert [(n["event"], n["delivered"]) for n in notes] == [("incident_opened", False), ("incident_resolved", False)]
    assert "HTTP 500" in notes[0]["detail"] and "ConnectionError" in notes[1]["detail"]


def test_no_webhook_configured_sends_nothing_and_audits_nothing(store, settings) -> None:
    on_report(store, make_report("accuracy_drop"), settings)
    assert not [e for e in audit.entries(store) if e.event == "notified"]


def test_a_new_failure_replacing_the_open_one_is_one_message_and_recovery_names_its_own_cause(
        store, settings, receiver) -> None:
    settings.alert_webhook_url = SecretStr(f"{receiver.url}/x")
    first = on_report(store, make_report("accuracy_drop", created_at=100.0), settings)
    second = on_report(store, make_report("confidence_drop", created_at=101.0), settings)
    assert second.incident_id != first.incident_id
    assert [m["event"] for m in receiver.received] == ["incident_opened", "incident_opened"]
    swap = receiver.received[1]
    assert swap["root_cause"] == "confidence_drop"
    assert swap["replaces"] == [{"incident_id": first.incident_id, "root_cause": "accuracy_drop"}]
    assert f"replaces incident #{first.incident_id} (accuracy_drop)" in swap["text"]
    on_report(store, make_report("none", created_at=102.0), settings)
    done = receiver.received[2]
    assert done["event"] == "incident_resolved" and done["incident_id"] == second.incident_id
    assert done["root_cause"] == "confidence_drop" and done["outcome"] == "recovered"
    assert {r["id"] for r in done["recommendations"]} == {r.id for r in second.recommendations}
    assert "healthy again" in done["summary"]
