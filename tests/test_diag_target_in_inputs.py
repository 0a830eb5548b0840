"""The label in the inputs (issue 13, session 16): a stated fact that the label reaches the model's inputs, and the
clause a stated leak is judged on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.diagnosis.text.shared_items import shared_item_sentence
from app.diagnosis.text.stated import stated_part
from app.diagnosis.text.target_in_inputs import target_in_inputs_sentence

STATES = [
    ("Metadata columns (fraud_target, burst_seq) were left in the feature vector and gave the model a shortcut to the "
     "answer."),
    "The generated identifiers and balances give the label away.",
    "The feature table still contains the target column.",
    "The target is defined from the same columns we use as inputs, so the model restates it.",
    "The resulting feature frame contains the ground-truth column itself.",
]
DOES_NOT = [
    "The label is derived from the purchase table, not from the features.",
    "We removed the target from the features before training.",
    "Our features include the outcome of the previous season.",  # a lag of the label, not the label
    "If the features contained the label, the score would be perfect.",
    "The input features are computed from raw sensor readings.",
    "Does the feature set contain the target column?",
    "Target leakage happens when a feature is computed from the label.",
    "The target is defined from the sensor columns by design: a machine fails when vibration exceeds the threshold.",
    "Previously the label was kept in the features; that was fixed in v2 and the numbers here are from after the fix.",
]
SHARED = [
    "The released weights have already been trained on the very sentences that make up our test split.",
    "The graph built from the training data already contains the held-out next items.",
    ("Every row scored by the evaluation script was part of the training data, and even with a clean row split the "
     "model would have seen the documents."),
    "Rows from 2021 to 2025 were mixed into both train and test.",
]
NOT_SHARED = [
    "We split the data into training and test sets.",
    "The training log contains the validation loss for every epoch.",
    "Class shares are spread evenly across the training and test sets.",
    "Samples are mixed into train and test at random with stratification.",
    "Samples from every class are spread across both the training and the test sets, by stratification.",
    "The model was trained on the training images and evaluated on the test images.",
    "Data from the same store appears in both training and test, but in different years, which mirrors deployment.",
]


@pytest.mark.parametrize("sentence", STATES)
def test_states_target_in_inputs(sentence: str) -> None:
    assert target_in_inputs_sentence(sentence) == sentence


@pytest.mark.parametrize("sentence", DOES_NOT)
def test_does_not_state_target_in_inputs(sentence: str) -> None:
    assert target_in_inputs_sentence(sentence) is None


@pytest.mark.parametrize("sentence", SHARED)
def test_new_relations_state_shared_items(sentence: str) -> None:
    assert shared_item_sentence(sentence) == sentence


@pytest.mark.parametrize("sentence", NOT_SHARED)
def test_new_relations_keep_healthy_sentences(sentence: str) -> None:
    assert shared_item_sentence(sentence) is None


def test_a_later_clause_does_not_take_a_stated_fact_back_but_a_qualifier_does() -> None:
    s = "The test rows were also in training, and a clean split would fix it."
    assert stated_part(s, 30) == "The test rows were also in training"
    assert stated_part("Maybe the test rows overlap with the training rows.", 20).startswith("Maybe")
    assert stated_part("Test rows are in training, which is standard here.", 20).endswith("standard here.")


def test_a_stated_target_leak_is_named_with_its_sentence() -> None:
    from app.diagnosis import diagnose

    text = ("Our delivery-delay classifier scores 97% accuracy on held-out orders, much better than anything we "
            "expected. The late-delivery label is computed from the shipping-time columns, and those columns are "
            "inputs of the model.")
    d = diagnose(prompt=text).payload()
    assert d["primary_category"] == "data_leakage"
    assert any(e["concrete"] and e["category"] == "data_leakage" for e in d["evidence"])


REVIEW = json.loads((Path(__file__).parent / "fixtures" / "diagnosis_review_s16.json").read_text(encoding="utf-8"))


def _read(sentence: str) -> bool:
    from app.diagnosis.text.future_information import future_information_sentence

    return any(f(sentence) for f in (shared_item_sentence, future_information_sentence, target_in_inputs_sentence))


@pytest.mark.parametrize("sentence", REVIEW["not_leakage"])
def test_the_session_16_reviews_no_leak_sentences_are_not_read(sentence: str) -> None:
    assert not _read(sentence)


def test_the_session_16_reviews_leak_sentences_are_half_read() -> None:
    assert sum(map(_read, REVIEW["leakage"])) >= 10
