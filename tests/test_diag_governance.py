"""A stored diagnosis feeds governance: pending 3-day actions and a gate release, decided once, audited."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import main
from app.config import Settings
from app.diagnosis import diagnose
from app.diagnosis.payload import verify_payload
from app.errors import ConflictError, InputError
from app.governance import approve, audit, list_recommendations, reject
from app.governance.diagnosis_queue import GATE_ACTION_TYPE, file_diagnosis, gate_status, items_of, queue_of
from app.storage import Store

LEAK = (
    "Validation accuracy jumped to 98% after adding `renewal_status_after_30d`. Test performance collapsed, "
    "and I suspect the feature contains future target information."
)


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def test_cli_leakage_example_queues_pending_items_and_an_approval_verifies(
    mlfi_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, _ = run(["diagnose", "--prompt", LEAK, "--json"], capsys)
    assert rc == 0
    p = json.loads(out)
    assert verify_payload(p), "queued_recommendations must not break the payload hash"
    did = p["diagnosis_id"]
    assert p["deployment_gate"] == "BLOCKED_PENDING_HUMAN_REVIEW"
    assert len(p["queued_recommendations"]) == len(p["remediation_plan"]["3_day"]) + 1
    rc, out, _ = run(["recommendations", "--status", "pending", "--json"], capsys)
    items = [r for r in json.loads(out) if r["diagnosis_id"] == did]
    assert {r["id"] for r in items} == set(p["queued_recommendations"])
    assert all(r["status"] == "pending" and r["source"] == "diagnosis" for r in items)
    actions = [r for r in items if r["action_type"] == "diagnosis_action"]
    assert [r["action"] for r in sorted(actions, key=lambda r: r["id"])] == [
        i["action"] for i in p["remediation_plan"]["3_day"]]
    assert {r["category"] for r in actions} >= {"data_leakage"}
    assert all(r["citation"]["path"].startswith("knowledge/") and r["citation"]["section"] for r in actions)
    first = min(r["id"] for r in actions)
    rc, _, _ = run(["approve", first, "--by", "ana", "--reason", "removed the feature"], capsys)
    assert rc == 0
    rc, _, err = run(["approve", first, "--by", "bo", "--reason", "again"], capsys)
    assert rc == 2 and "already approved by ana" in err
    rc, out, _ = run(["audit", "--verify", "--json"], capsys)
    assert rc == 0 and json.loads(out)["ok"]
    rc, out, _ = run(["audit", "--json"], capsys)
    entries = json.loads(out)["entries"]
    decided = [e for e in entries if e["event"] == "approved"]
    assert len(decided) == 1 and decided[0]["payload"]["diagnosis_id"] == did
    assert decided[0]["payload"]["source"] == "diagnosis" and decided[0]["payload"]["reason"] == "removed the feature"
    queued = [e for e in entries if e["event"] == "recommended"]
    assert len(queued) == 1 and queued[0]["payload"]["diagnosis_id"] == did


def test_no_store_queues_nothing(mlfi_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(["diagnose", "--prompt", LEAK, "--no-store", "--json"], capsys)
    assert rc == 0 and "queued_recommendations" not in json.loads(out)
    rc, out, _ = run(["recommendations", "--json"], capsys)
    assert json.loads(out) == []


def test_gate_release_is_an_explicit_reasoned_audited_decision(store: Store, settings: Settings) -> None:
    p = diagnose(prompt=LEAK, settings=settings).payload()
    file_diagnosis(store, settings, p)
    did = p["diagnosis_id"]
    assert gate_status(store, did, p["deployment_gate"]).state == "blocked"
    gate = [r for r in queue_of(store, did) if r.action_type == GATE_ACTION_TYPE]
    assert len(gate) == 1 and gate[0].priority == "HIGH"
    with pytest.raises(InputError, match="reason"):
        approve(store, settings, gate[0].id, by="ana", reason="  ")
    assert gate_status(store, did, p["deployment_gate"]).state == "blocked"
    approve(store, settings, gate[0].id, by="ana", reason="leak removed, re-evaluated on a fresh test set")
    st = gate_status(store, did, p["deployment_gate"])
    assert (st.state, st.decided_by, st.reason) == ("released", "ana", "leak removed, re-evaluated on a fresh test set")
    with pytest.raises(ConflictError):
        reject(store, settings, gate[0].id, by="bo", reason="too late")
    entry = [e for e in audit.entries(store) if e.event == "approved"][-1]
    assert entry.payload["action_type"] == GATE_ACTION_TYPE and entry.payload["diagnosis_id"] == did
    assert audit.verify(store, settings).ok


def test_rejecting_the_release_keeps_it_blocked_and_refiling_does_not_duplicate(
    store: Store, settings: Settings
) -> None:
    p = diagnose(prompt=LEAK, settings=settings).payload()
    ids = file_diagnosis(store, settings, p)
    gate_id = next(i for i in ids if i.endswith("-gate"))
    reject(store, settings, gate_id, by="ana", reason="audit not done")
    from app.governance.diagnosis_queue import enqueue

    assert enqueue(store, settings, p) == []       # same diagnosis again: nothing new, decision kept
    assert gate_status(store, p["diagnosis_id"], p["deployment_gate"]).state == "kept_blocked"
    assert len(list_recommendations(store, settings)) == len(ids)
    assert sum(e.event == "recommended" for e in audit.entries(store)) == 1


def test_items_follow_the_gate_no_release_item_when_not_blocked() -> None:
    cite = {"doc_id": "playbook-overfitting", "title": "t", "path": "knowledge/playbooks/overfitting.md",
            "section": "Remediation: first 3 days", "snippet": "s", "score": 1.0}
    plan = {"3_day": [{"action": "Add regularisation.", "category": "overfitting", "origin": "playbook",
                       "citation": cite}], "7_day": []}
    base = {"diagnosis_id": "dx-1-2", "primary_category": "unknown", "subtype": None, "remediation_plan": plan,
            "citations": [cite], "input": {}}
    review = items_of({**base, "deployment_gate": "REVIEW_RECOMMENDED"})
    assert [(i["id"], i["priority"]) for i in review] == [("dx-1-2-r01", "MEDIUM")]
    assert review[0]["payload"]["citation"]["section"] == "Remediation: first 3 days"
    blocked = items_of({**base, "deployment_gate": "BLOCKED_PENDING_HUMAN_REVIEW"})
    assert [i["action_type"] for i in blocked] == ["diagnosis_action", GATE_ACTION_TYPE]
    assert [i["priority"] for i in items_of({**base, "deployment_gate": "CLEAR"})] == ["LOW"]
