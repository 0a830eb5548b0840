"""Every frozen diagnosis batch (C to L) through the same checks: see tests/diag_batches.py."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.diag_batches import BATCHES, CATEGORIES, GATES, Batch, earlier_sources, measure_script, sha256_of, summary

IDS = [b.name for b in BATCHES]


@pytest.mark.parametrize("batch", BATCHES, ids=IDS)
def test_batch_is_frozen(batch: Batch) -> None:
    assert sha256_of(batch) == batch.sha256, (
        f"{batch.file} changed: the batch is frozen; update its sha256 in tests/diag_batches.py only on purpose"
    )
    assert batch.doc()["frozen"] is True and "frozen" in batch.doc()["description"].lower()


@pytest.mark.parametrize("batch", BATCHES, ids=IDS)
def test_batch_shape(batch: Batch) -> None:
    cases = batch.cases()
    assert len(cases) >= batch.min_cases
    ids = [c["id"] for c in cases]
    assert len(set(ids)) == len(ids)
    for c in cases:
        want = c["expect"]
        assert re.fullmatch(rf"{batch.prefix}_\d{{3}}_[a-z_]+", c["id"]), c["id"]
        assert c["id"].endswith(want["primary_category"]) and want["primary_category"] in CATEGORIES, c["id"]
        assert ("prompt" in c) != ("record" in c), c["id"]
        assert re.match(r"https?://\S+$", c["source"]), (c["id"], c["source"])
        assert c["source_kind"] and c["domain"] and c["input_kind"], c["id"]
        assert want.get("deployment_gate", "CLEAR") in GATES, c["id"]
        if want["primary_category"] != "unknown":  # every real failure is expected blocked
            assert want["deployment_gate"] == "BLOCKED_PENDING_HUMAN_REVIEW", c["id"]
        if want.get("large_drop"):  # a stated collapse is never expected clear
            assert want.get("deployment_gate") != "CLEAR", c["id"]
        if "prompt" in c:
            assert c["prompt"].strip(), c["id"]
        else:
            assert isinstance(c["record"], dict) and c["record"], c["id"]
    assert {c["expect"]["primary_category"] for c in cases} == CATEGORIES
    assert sum(c["expect"]["primary_category"] == "unknown" for c in cases) >= batch.min_hard_negatives


@pytest.mark.parametrize("batch", BATCHES, ids=IDS)
def test_batch_coverage(batch: Batch) -> None:
    cases = batch.cases()
    assert batch.kinds <= {c["input_kind"] for c in cases} | ({"record"} if any("record" in c for c in cases) else set())
    assert batch.domains <= {c["domain"] for c in cases}
    records = [c for c in cases if "record" in c]
    assert len(records) >= batch.min_record_share * len(cases)
    assert batch.record_shapes <= {c.get("record_shape") for c in records}
    gates = [c["expect"].get("deployment_gate") for c in cases if c["expect"]["primary_category"] == "unknown"]
    for gate, least in batch.unknown_gates.items():
        assert gates.count(gate) >= least, gate
    if batch.mlflow_records:
        mlflow = [c["record"] for c in records if c.get("record_shape") == "mlflow_run"]
        assert mlflow and all({"info", "data"} <= set(r) and {"metrics", "params", "tags"} <= set(r["data"])
                              for r in mlflow)


@pytest.mark.parametrize("batch", [b for b in BATCHES if b.earlier], ids=[b.name for b in BATCHES if b.earlier])
def test_batch_sources_shared_with_earlier_batches(batch: Batch) -> None:
    """Exactly the listed cases were built from a write-up an earlier batch used (found after freezing)."""
    earlier = earlier_sources(batch)
    assert sorted(c["id"] for c in batch.cases() if c["source"] in earlier) == sorted(batch.shared_with_earlier)


@pytest.mark.parametrize("batch", BATCHES, ids=IDS)
def test_batch_accuracy_does_not_regress(batch: Batch) -> None:
    s = summary(batch.name)
    assert s["cases"] == len(batch.cases())
    assert s["refused_at_intake"] == 0, [f["id"] for f in s["failing"] if f.get("answer") == "refused"]
    assert s["accuracy"] >= batch.measured - batch.margin, (
        f"batch {batch.name} accuracy {s['accuracy']:.3f} ({s['correct']}/{s['cases']}): "
        f"{[f['id'] for f in s['failing']]}"
    )


@pytest.mark.parametrize("batch", BATCHES, ids=IDS)
def test_batch_safety_rules_hold_on_every_case(batch: Batch) -> None:
    """Leakage only on concrete evidence, every failure blocked, never CLEAR a failure or a stated collapse."""
    found = {k: tuple(v) for k, v in summary(batch.name)["safety_violation_ids"].items()}
    assert found == batch.known_violations


def test_safety_rules_of_the_script_catch_each_violation() -> None:
    failure = {"expect": {"primary_category": "overfitting"}}
    healthy = {"expect": {"primary_category": "unknown"}}
    collapse = {"expect": {"primary_category": "unknown", "large_drop": True}}

    def payload(primary: str, gate: str, signal: bool = False, concrete: bool = False) -> dict[str, Any]:
        return {"primary_category": primary, "deployment_gate": gate, "active_leakage_signal": signal,
                "evidence": [{"concrete": concrete}]}

    check = measure_script().safety_violations
    assert check(failure, payload("data_leakage", "BLOCKED_PENDING_HUMAN_REVIEW")) == ["leakage_without_evidence"]
    assert check(failure, payload("data_leakage", "BLOCKED_PENDING_HUMAN_REVIEW", True, True)) == []
    assert check(failure, payload("overfitting", "REVIEW_RECOMMENDED")) == ["failure_not_blocked"]
    assert check(failure, payload("unknown", "CLEAR")) == ["collapse_clear"]
    assert check(collapse, payload("unknown", "CLEAR")) == ["collapse_clear"]
    assert check(healthy, payload("unknown", "CLEAR")) == []
