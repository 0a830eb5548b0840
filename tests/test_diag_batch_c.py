"""Batch C (issue 13, item 3): a frozen evaluation set rephrased from real public write-ups.

fixtures/diagnosis_batch_c.json holds 131 cases (90 prompts, 41 experiment records in the shapes people paste),
each naming the public write-up it was built from. It was written and committed before any issue-13 rule change
and measured once on that code with bench/diagnosis/measure_batch.py (bench/results/diagnosis_batch_c_before.md):
40/131 primary categories right (30.5 %), 37 of the 41 records refused at intake, one safety violation
(hc_039: a loss stuck at ln(1000) diagnosed unknown with gate CLEAR).

The batch's content is never edited. Item 2 (failure signatures, bench/results/diagnosis_batch_c_after.md) was
developed while reading its failing cases, so its 119/131 is a development figure; batch D
(tests/test_diag_batch_d.py), written after those changes and measured once, is the held-out figure. These tests
pin its content (sha256), check its shape, guard that accuracy does not fall below the measured value minus a
small margin, and that no safety violation appears on any case. Accuracy is measured through the same script a
user would run (records through the CLI).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "diagnosis_batch_c.json"
# Updating this hash is a deliberate act: the batch is frozen and its figures were measured on this exact content.
C_SHA256 = "643b4f9750e29bf1804f451a3cff686fb6bcf206de36ba3037cdf3ff8bfdf990"
C_MEASURED = 121 / 131  # 40/131 before issue 13; 54/131 after item 1 (intake); 119/131 after item 2 (signatures);
# 121/131 after session 4 (numbers, field names, second test sets)
C_MARGIN = 0.05
KNOWN_VIOLATIONS: dict[str, list[str]] = {}  # hc_039 (collapse_clear) fixed by issue 13 item 2

DOC: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
CASES: list[dict[str, Any]] = DOC["cases"]
CATEGORIES = {
    "data_leakage", "overfitting", "underfitting", "class_imbalance", "data_drift",
    "label_noise", "data_quality", "training_instability", "evaluation_error", "unknown",
}
GATES = {"BLOCKED_PENDING_HUMAN_REVIEW", "REVIEW_RECOMMENDED", "CLEAR"}
RECORD_SHAPES = {"names_list", "object_features", "unknown_fields", "text_for_number", "flat_metrics", "mlflow_run"}


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("measure_batch", ROOT / "bench" / "diagnosis" / "measure_batch.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MEASURE = _load_script()


@pytest.fixture(scope="module")
def summary() -> dict[str, Any]:
    return MEASURE.measure(FIXTURE)  # type: ignore[no-any-return]


def test_batch_c_is_frozen() -> None:
    assert hashlib.sha256(FIXTURE.read_bytes()).hexdigest() == C_SHA256, (
        "diagnosis_batch_c.json changed: the batch is frozen; update C_SHA256 only on purpose"
    )
    assert DOC["frozen"] is True and "frozen" in DOC["description"].lower()


def test_batch_c_shape() -> None:
    assert len(CASES) >= 120
    ids = [c["id"] for c in CASES]
    assert len(set(ids)) == len(ids)
    for c in CASES:
        assert re.fullmatch(r"hc_\d{3}_[a-z_]+", c["id"]), c["id"]
        assert c["id"].endswith(c["expect"]["primary_category"]), c["id"]
        assert ("prompt" in c) != ("record" in c), c["id"]
        assert re.match(r"https?://\S+$", c["source"]), (c["id"], c["source"])
        assert c["source_kind"] and c["domain"] and c["input_kind"], c["id"]
        assert c["expect"]["primary_category"] in CATEGORIES, c["id"]
        assert c["expect"].get("deployment_gate", "CLEAR") in GATES, c["id"]
        if c["expect"]["primary_category"] != "unknown":  # every real failure is expected blocked
            assert c["expect"]["deployment_gate"] == "BLOCKED_PENDING_HUMAN_REVIEW", c["id"]
        if c["expect"].get("large_drop"):  # a stated collapse is never expected clear
            assert c["expect"].get("deployment_gate") != "CLEAR", c["id"]
        if "prompt" in c:
            assert c["prompt"].strip(), c["id"]
        else:
            assert isinstance(c["record"], dict) and c["record"], c["id"]
    assert {c["expect"]["primary_category"] for c in CASES} == CATEGORIES


def test_batch_c_covers_inputs_domains_and_hard_negatives() -> None:
    records = [c for c in CASES if "record" in c]
    assert len(records) >= len(CASES) // 4  # roughly a third are records
    assert RECORD_SHAPES <= {c["record_shape"] for c in records}
    assert {"prose", "log", "confusion_matrix", "code", "table"} <= {c["input_kind"] for c in CASES}
    assert {"image", "genomics", "time_series", "fraud", "nlp", "iot", "tabular"} <= {c["domain"] for c in CASES}
    gates = [c["expect"].get("deployment_gate") for c in CASES if c["expect"]["primary_category"] == "unknown"]
    assert gates.count("CLEAR") >= 3 and gates.count("REVIEW_RECOMMENDED") >= 3
    mlflow = [c["record"] for c in records if c["record_shape"] == "mlflow_run"]
    assert mlflow and all({"info", "data"} <= set(r) and {"metrics", "params", "tags"} <= set(r["data"]) for r in mlflow)


def test_safety_rules_of_the_script_catch_each_violation() -> None:
    failure = {"expect": {"primary_category": "overfitting"}}
    healthy = {"expect": {"primary_category": "unknown"}}
    collapse = {"expect": {"primary_category": "unknown", "large_drop": True}}

    def payload(primary: str, gate: str, signal: bool = False, concrete: bool = False) -> dict[str, Any]:
        return {"primary_category": primary, "deployment_gate": gate, "active_leakage_signal": signal,
                "evidence": [{"concrete": concrete}]}

    check = MEASURE.safety_violations
    assert check(failure, payload("data_leakage", "BLOCKED_PENDING_HUMAN_REVIEW")) == ["leakage_without_evidence"]
    assert check(failure, payload("data_leakage", "BLOCKED_PENDING_HUMAN_REVIEW", True, True)) == []
    assert check(failure, payload("overfitting", "REVIEW_RECOMMENDED")) == ["failure_not_blocked"]
    assert check(failure, payload("unknown", "CLEAR")) == ["collapse_clear"]
    assert check(collapse, payload("unknown", "CLEAR")) == ["collapse_clear"]
    assert check(healthy, payload("unknown", "CLEAR")) == []


def test_batch_c_accuracy_does_not_regress(summary: dict[str, Any]) -> None:
    assert summary["cases"] == len(CASES)
    assert summary["accuracy"] >= C_MEASURED - C_MARGIN, (
        f"batch C accuracy {summary['accuracy']:.3f} ({summary['correct']}/{summary['cases']}, "
        f"{summary['refused_at_intake']} refused): {[f['id'] for f in summary['failing']]}"
    )


def test_batch_c_no_record_is_refused_at_intake(summary: dict[str, Any]) -> None:
    assert summary["refused_at_intake"] == 0, [f["id"] for f in summary["failing"] if f.get("answer") == "refused"]


def test_batch_c_no_new_safety_violation(summary: dict[str, Any]) -> None:
    new = {i: v for i, v in summary["safety_violation_ids"].items() if not set(v) <= set(KNOWN_VIOLATIONS.get(i, []))}
    assert new == {}, new


def test_batch_c_safety_rules_hold_on_every_diagnosed_case(summary: dict[str, Any]) -> None:
    assert summary["safety_violation_ids"] == {}
