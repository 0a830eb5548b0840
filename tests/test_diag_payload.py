"""Canonical payload, hash, gate rules and the fail-closed validator."""

from __future__ import annotations

import copy

import pytest

from app.diagnosis import CONTRACT_KEYS, canonical_json, diagnose, payload_hash, verify_payload
from app.diagnosis.models import Diagnosis
from app.diagnosis.payload import HASH_EXCLUDED, confidence
from app.diagnosis.validate import validate

OVERFIT = "Train accuracy 99%, validation accuracy 72%."


@pytest.fixture(scope="module")
def overfit() -> Diagnosis:
    return diagnose(prompt=OVERFIT)


def test_contract_keys_and_types(overfit: Diagnosis) -> None:
    p = overfit.payload()
    assert set(CONTRACT_KEYS) <= set(p)
    assert isinstance(p["secondary_risks"], list) and isinstance(p["evidence"], list)
    assert set(p["remediation_plan"]) == {"3_day", "7_day"}
    assert set(p["grounding"]) >= {"provider", "proof_level", "remote_used"}
    for c in p["citations"]:
        assert set(c) == {"doc_id", "title", "path", "section", "snippet", "score", "source_type", "permission_scope"}
    for e in p["evidence"]:
        assert e["statement"] and e["sources"], "evidence is structured: statement + numbers + sources"


def test_hash_covers_content_but_not_run_fields(overfit: Diagnosis) -> None:
    p = overfit.payload()
    assert verify_payload(p)
    for key in HASH_EXCLUDED[1:]:
        q = copy.deepcopy(p)
        q[key] = "changed" if isinstance(p.get(key), str) else []   # queued_recommendations: only when stored
        assert verify_payload(q), key
    tampered = copy.deepcopy(p)
    tampered["deployment_gate"] = "CLEAR"
    assert not verify_payload(tampered)
    tampered = copy.deepcopy(p)
    tampered["evidence"][0]["values"]["gap_train_heldout"] = 0.01
    assert not verify_payload(tampered)


def test_hash_is_sha256_of_canonical_json(overfit: Diagnosis) -> None:
    import hashlib

    p = overfit.payload()
    body = {k: v for k, v in p.items() if k not in HASH_EXCLUDED}
    assert p["payload_hash"] == hashlib.sha256(canonical_json(body).encode()).hexdigest() == payload_hash(p)
    assert canonical_json({"b": [1.23456789], "a": None}) == '{"a":null,"b":[1.234568]}'


def test_determinism_across_runs_and_dict_order() -> None:
    rec = {"metrics": {"train": {"accuracy": 0.99}, "validation": {"accuracy": 0.72}}, "notes": "n"}
    flipped = {"notes": "n", "metrics": {"validation": {"accuracy": 0.72}, "train": {"accuracy": 0.99}}}
    hashes = {diagnose(experiment=r).payload_hash for r in (rec, flipped, rec)}
    assert len(hashes) == 1


def test_confidence_formula() -> None:
    assert confidence(0.8, 0.0) == pytest.approx(0.95 * 0.8)
    assert confidence(0.8, 0.8) == pytest.approx(0.95 * 0.4)
    assert confidence(0.1, 0.0, unknown=True) == pytest.approx(0.95 * 0.45, abs=1e-3)
    assert confidence(0.3, 0.0, n_contradictions=5) == 0.0


def test_gates() -> None:
    healthy = diagnose(prompt="Train accuracy 0.91, validation accuracy 0.90, test accuracy 0.90.").payload()
    assert healthy["primary_category"] == "unknown" and healthy["deployment_gate"] == "CLEAR"
    assert healthy["deployment_ready"] is True and healthy["human_review_required"] is False
    vague = diagnose(prompt="The model is disappointing.").payload()
    assert vague["deployment_gate"] == "REVIEW_RECOMMENDED" and vague["deployment_ready"] is False
    assert healthy["confidence"] > 0.4 and vague["confidence"] == 0.0, "nothing to check: no confidence"
    assert diagnose(prompt="asdf").payload()["confidence"] == 0.0
    one_split = diagnose(prompt="Validation accuracy 0.9.").payload()
    assert one_split["deployment_gate"] == "REVIEW_RECOMMENDED"


def test_a_question_the_rules_did_not_read_is_never_clear() -> None:
    """Healthy-looking numbers and a doubt nothing matched: a person should look (session 9, batch H)."""
    numbers = "Train accuracy 0.91, validation accuracy 0.90, test accuracy 0.90."
    asked = diagnose(prompt=numbers + " Were the test rows really scored by this model?").payload()
    assert asked["primary_category"] == "unknown" and asked["deployment_gate"] == "REVIEW_RECOMMENDED"
    stated = diagnose(prompt=numbers + " Is this normal? It matches the published paper.").payload()
    assert stated["deployment_gate"] == "CLEAR"   # a stated healthy result still clears although it asks


@pytest.mark.parametrize("drop", ["way lower than", "far lower than", "much lower than", "significantly below"])
def test_an_intensified_drop_in_words_is_never_clear(drop: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """"Way lower than expected" is a large drop in plain words, whatever healthy words stand beside it (session 15:
    a held-out write-up whose only drop was told so was CLEARed because its training accuracy was "fine" and the
    reader read no failure). The reader here reads none either, so only the drop can keep the gate from CLEAR."""
    import app.diagnosis.learned.decide as decide_mod
    from tests.test_diag_reader import fake, probs

    monkeypatch.setattr(decide_mod, "load_model", lambda: fake(probs("unknown", 0.9)))
    text = f"Training accuracy is fine, but the test accuracy is {drop} I expected."
    assert diagnose(prompt=text).payload()["deployment_gate"] != "CLEAR", text
    fine = "Training accuracy is fine, and the test accuracy is about what I expected."
    assert diagnose(prompt=fine).payload()["deployment_gate"] == "CLEAR"


def test_validator_fails_closed(overfit: Diagnosis) -> None:
    bad = overfit.model_copy(deep=True)
    bad.deployment_gate = "CLEAR"
    bad.deployment_ready = True
    bad.secondary_risks = ["overfitting"]
    bad.responsible_ai_status = "EVALUATED_NO_MAJOR_GAPS"
    fixed = validate(bad)
    codes = {c.code for c in fixed.contradictions}
    assert {"gate_not_blocked", "primary_in_secondary", "rai_without_data"} <= codes
    assert fixed.deployment_gate == "BLOCKED_PENDING_HUMAN_REVIEW" and fixed.deployment_ready is False
    assert fixed.responsible_ai_status == "NOT_EVALUATED" and "overfitting" not in fixed.secondary_risks


def test_leakage_primary_without_concrete_evidence_is_not_report_ready(overfit: Diagnosis) -> None:
    bad = overfit.model_copy(deep=True)
    bad.primary_category = "data_leakage"
    fixed = validate(bad)
    assert "leakage_without_concrete_evidence" in {c.code for c in fixed.contradictions}
    assert fixed.report_ready is False and fixed.deployment_ready is False and fixed.human_review_required


def test_report_ready_and_deployment_ready_are_separate(overfit: Diagnosis) -> None:
    p = overfit.payload()
    assert p["report_ready"] is True and p["deployment_ready"] is False


def test_input_conflicts_become_contradictions_and_cost_confidence() -> None:
    a = diagnose(prompt="Train accuracy 0.99, validation accuracy 0.70.").payload()
    b = diagnose(prompt="Train accuracy 0.99, validation accuracy 0.60. Validation accuracy 0.70.").payload()
    assert [c["code"] for c in b["contradictions"]] == ["input_conflict"]
    assert b["confidence"] == pytest.approx(a["confidence"] - 0.1, abs=1e-3)
