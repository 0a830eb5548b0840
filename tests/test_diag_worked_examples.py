"""The two worked examples of the issue, checked field by field against the contract."""

from __future__ import annotations

from app.diagnosis import CONTRACT_KEYS, diagnose, verify_payload
from app.diagnosis.vocab import CATEGORIES, GATES

LEAK = (
    "Validation accuracy jumped to 98% after adding `renewal_status_after_30d`. Test performance collapsed, "
    "and I suspect the feature contains future target information."
)
OVERFIT = "train 99% / validation 71%, I worry about leakage"


def test_leakage_example() -> None:
    p = diagnose(prompt=LEAK).payload()
    assert list(p)[: len(CONTRACT_KEYS)] == list(CONTRACT_KEYS)
    assert p["primary_category"] == "data_leakage"
    assert "target" in p["subtype"] and "future" in p["subtype"]
    assert p["deployment_gate"] == "BLOCKED_PENDING_HUMAN_REVIEW"
    assert p["leakage_audit_recommended"] is True and p["active_leakage_signal"] is True
    assert p["responsible_ai_status"] == "NOT_EVALUATED"
    assert p["report_ready"] is True and p["deployment_ready"] is False and p["human_review_required"] is True
    certs = [i["certification"] for i in p["learning_path"]]
    assert "DP-100" in certs and "DP-203" not in certs
    assert all(set(i) >= {"id", "title", "certification"} for i in p["learning_path"])
    concrete = [e for e in p["evidence"] if e["concrete"]]
    assert concrete and any("renewal_status_after_30d" in e["statement"] for e in concrete)
    assert any("98%" in s for e in concrete for s in e["sources"]), "evidence must quote the prompt"
    assert p["remediation_plan"]["3_day"] and p["remediation_plan"]["7_day"]
    assert any("renewal_status_after_30d" in i["action"] for i in p["remediation_plan"]["3_day"])
    assert p["grounding"] == {
        **p["grounding"],
        "provider": "local",
        "proof_level": "local_knowledge_base",
        "remote_used": False,
    }
    assert 0.0 < p["confidence"] <= 1.0 and p["contradictions"] == []
    assert p["primary_category"] in CATEGORIES and p["deployment_gate"] in GATES
    assert verify_payload(p)


def test_overfitting_with_a_leakage_worry() -> None:
    p = diagnose(prompt=OVERFIT).payload()
    assert p["primary_category"] == "overfitting"
    assert "data_leakage" in p["secondary_risks"]
    assert p["leakage_audit_recommended"] is True and p["active_leakage_signal"] is False
    assert p["deployment_gate"] == "BLOCKED_PENDING_HUMAN_REVIEW"
    gap = [e for e in p["evidence"] if e["rule_id"] == "overfit.gap"][0]
    assert abs(gap["values"]["gap_train_heldout"] - 0.28) < 1e-9
    assert any(e["kind"] == "absence" and e["category"] == "data_leakage" for e in p["counter_evidence"])
    assert any(i["origin"] == "leakage_audit" for i in p["remediation_plan"]["3_day"])
    assert p["responsible_ai_status"] == "NOT_EVALUATED"


def test_same_input_same_hash_different_ids() -> None:
    a, b = diagnose(prompt=LEAK).payload(), diagnose(prompt=LEAK).payload()
    assert a["payload_hash"] == b["payload_hash"] and a["diagnosis_id"] != b["diagnosis_id"]
    c = diagnose(prompt=LEAK.replace("98%", "97%")).payload()
    assert c["payload_hash"] != a["payload_hash"]
