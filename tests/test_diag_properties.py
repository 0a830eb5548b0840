"""Property tests: any text gives a record or a one-line InputError; every payload keeps the gate invariants."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.diagnosis import diagnose, verify_payload
from app.diagnosis.intake import from_prompt
from app.errors import InputError
from app.knowledge import build_retriever

WORDS = [
    "train",
    "validation",
    "val",
    "test",
    "production",
    "accuracy",
    "AUC",
    "F1",
    "loss",
    "NaN",
    "from",
    "to",
    "after adding",
    "`x_after_30d`",
    "%",
    "0.98",
    ".5",
    "98",
    "1:99",
    "seeds",
    "kappa",
    "PSI",
    "missing",
    "duplicates",
    "and",
    "but",
    ",",
    ";",
    ".",
    "/",
    "both",
    "or",
    "50/50",
    "5,000",
    "half of",
    "rows",
    "test set of",
    "examples",
    "I worry about leakage",
    "overfitting",
    "collapsed",
    "jumped",
    "RMSE",
    "R2",
    "minority recall",
    "positives",
    "same patients in both train and test",
    "we tuned on the test set",
    "random split",
    "time series",
    "1e6",
    "-3",
    "+5%",
    "by 2 points",
    "2024",
    "epoch 5",
]
RETRIEVER = build_retriever()
PHRASES = st.lists(st.sampled_from(WORDS) | st.text(max_size=6), min_size=1, max_size=25).map(" ".join)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(PHRASES)
def test_any_text_is_a_record_or_a_one_line_input_error(text: str) -> None:
    try:
        from_prompt(text)
    except InputError as exc:
        assert "\n" not in str(exc)


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=25).map(" ".join))
def test_payload_invariants(text: str) -> None:
    try:
        p = diagnose(prompt=text, retriever=RETRIEVER).payload()
    except InputError:
        return
    assert verify_payload(p)
    if p["primary_category"] != "unknown":
        assert p["deployment_gate"] == "BLOCKED_PENDING_HUMAN_REVIEW" and p["human_review_required"]
    if p["primary_category"] == "data_leakage":
        assert p["active_leakage_signal"] and p["leakage_audit_recommended"]
    assert p["deployment_ready"] == (p["deployment_gate"] == "CLEAR" and p["report_ready"])
    assert p["primary_category"] not in p["secondary_risks"] and 0.0 <= p["confidence"] <= 1.0
    assert p["responsible_ai_status"] == "NOT_EVALUATED"
