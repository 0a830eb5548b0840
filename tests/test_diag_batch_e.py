"""Batch E (issue 13, held-out goal): 37 cases written before this session's rule changes, measured before and after.

fixtures/diagnosis_batch_e.json holds 37 cases (29 prompts, 8 experiment records) rephrased from public write-ups
(Q&A threads, issue trackers, papers, blog posts, a competition post-mortem), each naming its source. It was
committed (d846fe1) before any rule change of the session and measured on that code: 20/37 (54.1 %), one safety
violation (an error metric that tripled, MAPE 3.1 % -> 11 %, got CLEAR). The rule changes were then made on the
misses of batches C and D only (never on E); E was measured once after: 29/37 (78.4 %), no safety violation
(bench/results/diagnosis_batch_e.md). Seven cases turned out, after freezing, to share a source with batch C or
D; on the 30 others the figures are 15/30 before and 23/30 after.

These tests pin its content (sha256), check its shape, guard that accuracy does not fall below the measured value
minus a small margin, and that the safety rules hold on every case.
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
FIXTURE = ROOT / "tests" / "fixtures" / "diagnosis_batch_e.json"
# Updating this hash is a deliberate act: the batch is frozen and its figures were measured on this exact content.
E_SHA256 = "8dd92399cde7c4e5a9b1682dc1e6d7c61db8d147e04b55c0988e024eea444236"
E_MEASURED = 29 / 37  # measured once after the session's changes; 20/37 on the code before them
E_MARGIN = 0.05
SHARED_WITH_C_OR_D = [
    "he_007_training_instability", "he_012_class_imbalance", "he_023_data_quality", "he_026_evaluation_error",
    "he_032_unknown", "he_035_unknown", "he_036_unknown",
]

DOC: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
CASES: list[dict[str, Any]] = DOC["cases"]
CATEGORIES = {
    "data_leakage", "overfitting", "underfitting", "class_imbalance", "data_drift",
    "label_noise", "data_quality", "training_instability", "evaluation_error", "unknown",
}


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("measure_batch", ROOT / "bench" / "diagnosis" / "measure_batch.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def summary() -> dict[str, Any]:
    return _load_script().measure(FIXTURE)  # type: ignore[no-any-return]


def test_batch_e_is_frozen() -> None:
    assert hashlib.sha256(FIXTURE.read_bytes()).hexdigest() == E_SHA256, (
        "diagnosis_batch_e.json changed: the batch is frozen; update E_SHA256 only on purpose"
    )
    assert DOC["frozen"] is True and "frozen" in DOC["description"].lower()


def test_batch_e_shape_and_coverage() -> None:
    assert len(CASES) >= 30
    ids = [c["id"] for c in CASES]
    assert len(set(ids)) == len(ids)
    for c in CASES:
        assert re.fullmatch(r"he_\d{3}_[a-z_]+", c["id"]) and c["id"].endswith(c["expect"]["primary_category"])
        assert ("prompt" in c) != ("record" in c), c["id"]
        assert re.match(r"https?://\S+$", c["source"]) and c["source_kind"] and c["domain"], c["id"]
        if c["expect"]["primary_category"] != "unknown":
            assert c["expect"]["deployment_gate"] == "BLOCKED_PENDING_HUMAN_REVIEW", c["id"]
    assert {c["expect"]["primary_category"] for c in CASES} == CATEGORIES
    assert {"prose", "log", "confusion_matrix", "code", "table", "record"} <= {c["input_kind"] for c in CASES}
    assert sum(c["expect"]["primary_category"] == "unknown" for c in CASES) >= 5  # hard negatives
    earlier = set()
    for name in ("diagnosis_batch_c.json", "diagnosis_batch_d.json"):
        earlier |= {c["source"] for c in json.loads((FIXTURE.parent / name).read_text())["cases"]}
    # Found after freezing; reported separately in bench/results/diagnosis_batch_e.md. No other overlap.
    assert sorted(c["id"] for c in CASES if c["source"] in earlier) == SHARED_WITH_C_OR_D


def test_batch_e_accuracy_does_not_regress(summary: dict[str, Any]) -> None:
    assert summary["cases"] == len(CASES) and summary["refused_at_intake"] == 0
    assert summary["accuracy"] >= E_MEASURED - E_MARGIN, (
        f"batch E accuracy {summary['accuracy']:.3f} ({summary['correct']}/{summary['cases']}): "
        f"{[f['id'] for f in summary['failing']]}"
    )


def test_batch_e_safety_rules_hold_on_every_case(summary: dict[str, Any]) -> None:
    """Leakage only on concrete evidence, every failure blocked, never CLEAR a failure or a stated collapse."""
    assert summary["safety_violation_ids"] == {}
