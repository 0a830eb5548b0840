"""Batch D (issue 13, item 3): 48 cases written after the failure signatures (item 2), measured once.

fixtures/diagnosis_batch_d.json holds 48 cases (37 prompts, 11 experiment records) rephrased from public write-ups
(Q&A threads, papers, issue trackers, post-mortems, docs), each naming its source. It was committed before it was
run, then measured once with bench/diagnosis/measure_batch.py (bench/results/diagnosis_batch_d.md): 27/48 primary
categories right (56.2 %) with the signatures, 17/48 (35.4 %) on the code before them, no safety violation. It is
the figure to expect on text the rules were not developed on; batch C (119/131) was the development set.

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
FIXTURE = ROOT / "tests" / "fixtures" / "diagnosis_batch_d.json"
# Updating this hash is a deliberate act: the batch is frozen and its figure was measured on this exact content.
D_SHA256 = "137a35bed237a3c700531f4c6b3d3b1f703a04386c6d641a28d0f4028aa3abef"
D_MEASURED = 42 / 48  # 27/48 measured once after item 2 (17/48 before it); 42/48 after session 4, which was
# developed on D's misses, so D is no longer held out (batch E is)
D_MARGIN = 0.05

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


def test_batch_d_is_frozen() -> None:
    assert hashlib.sha256(FIXTURE.read_bytes()).hexdigest() == D_SHA256, (
        "diagnosis_batch_d.json changed: the batch is frozen; update D_SHA256 only on purpose"
    )
    assert DOC["frozen"] is True and "frozen" in DOC["description"].lower()


def test_batch_d_shape_and_coverage() -> None:
    assert len(CASES) >= 40
    ids = [c["id"] for c in CASES]
    assert len(set(ids)) == len(ids)
    for c in CASES:
        assert re.fullmatch(r"hd_\d{3}_[a-z_]+", c["id"]) and c["id"].endswith(c["expect"]["primary_category"])
        assert ("prompt" in c) != ("record" in c), c["id"]
        assert re.match(r"https?://\S+$", c["source"]) and c["source_kind"] and c["domain"], c["id"]
        if c["expect"]["primary_category"] != "unknown":
            assert c["expect"]["deployment_gate"] == "BLOCKED_PENDING_HUMAN_REVIEW", c["id"]
    assert {c["expect"]["primary_category"] for c in CASES} == CATEGORIES
    assert {"prose", "log", "confusion_matrix", "code", "table", "record"} <= {c["input_kind"] for c in CASES}
    assert {"image", "genomics", "time_series", "fraud", "nlp", "iot", "tabular"} <= {c["domain"] for c in CASES}
    assert sum(c["expect"]["primary_category"] == "unknown" for c in CASES) >= 5  # hard negatives
    c_sources = {c["source"] for c in json.loads((FIXTURE.parent / "diagnosis_batch_c.json").read_text())["cases"]}
    shared = sorted(c["id"] for c in CASES if c["source"] in c_sources)
    # Found after freezing: three cases were built from a write-up batch C had also used (rephrased anew). They are
    # reported separately in bench/results/diagnosis_batch_d.md (25/45 right without them); no other overlap.
    assert shared == ["hd_017_class_imbalance", "hd_020_class_imbalance", "hd_026_data_quality"], shared


def test_batch_d_accuracy_does_not_regress(summary: dict[str, Any]) -> None:
    assert summary["cases"] == len(CASES) and summary["refused_at_intake"] == 0
    assert summary["accuracy"] >= D_MEASURED - D_MARGIN, (
        f"batch D accuracy {summary['accuracy']:.3f} ({summary['correct']}/{summary['cases']}): "
        f"{[f['id'] for f in summary['failing']]}"
    )


def test_batch_d_safety_rules_hold_on_every_case(summary: dict[str, Any]) -> None:
    assert summary["safety_violation_ids"] == {}
