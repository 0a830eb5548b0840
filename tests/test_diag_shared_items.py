"""The shared-items sentence (issue 13, session 15): a stated fact that evaluation and training items are shared."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.diagnosis.text.shared_items import shared_item_sentence

STATES = [
    "It turned out the validation clips were cut from the same recordings as the training clips.",
    "Roughly a third of the test molecules are duplicates of training molecules after canonicalisation.",
    "The normaliser was fit on the entire dataset before the train/test split.",
    "Our evaluation windows overlap with the training windows by 90 percent.",
    "Several patients have scans in the training set and in the held-out set: the same patients appear in both.",
    "The benchmark documents were already part of the pretraining data.",
]
DOES_NOT = [
    "None of the test images are in the training set, we checked by hash.",
    "Do any users appear in both the training and the validation data?",
    "The test speakers must be different from the training speakers.",
    "If the same patients were in train and test, the score would be inflated.",
    "Training and validation accuracy are both 0.93 and the loss curves overlap.",  # no items
    "We keep the test rows in a separate file from the training rows.",
    "The training loss was the same for every seed.",  # no evaluation side
    "Test images were resized the same way as in training.",  # the same processing, not the same items
    "Production precision fell from 0.82 to 0.55; the held-out data was part of the training period.",
    "In 5-fold cross-validation each validation fold is part of the training data in the other four folds.",
    "Validation accuracy stays the same as the test accuracy across epochs.",  # no training side
]


@pytest.mark.parametrize("sentence", STATES)
def test_states_shared_items(sentence: str) -> None:
    assert shared_item_sentence("We trained a model last week. " + sentence) == sentence


@pytest.mark.parametrize("sentence", DOES_NOT)
def test_does_not_state_shared_items(sentence: str) -> None:
    assert shared_item_sentence(sentence) is None


def test_empty_and_huge_text() -> None:
    assert shared_item_sentence("") is None and shared_item_sentence(None) is None  # type: ignore[arg-type]
    assert shared_item_sentence("the model is fine. " * 50_000) is None


FUTURE_STATES = [
    ("The backtest fits each model on prices from later years and then predicts earlier years, so it uses data the "
     "trader could not have had."),
    "Our lag features are filled with future values during evaluation runs.",
    "The refund flag is only populated after the chargeback is settled, yet it is an input of the model.",
]
FUTURE_DOES_NOT = [
    "In the future we will retrain the model every month.",
    "We verified there is no future data in the lag features.",
    "Should the target be shifted so that no look-ahead is possible?",
    "The forecast covers the next seven days.",
]


@pytest.mark.parametrize("sentence", FUTURE_STATES)
def test_states_future_information(sentence: str) -> None:
    from app.diagnosis.text.future_information import future_information_sentence

    assert future_information_sentence("A demand model for stores. " + sentence) == sentence


@pytest.mark.parametrize("sentence", FUTURE_DOES_NOT)
def test_does_not_state_future_information(sentence: str) -> None:
    from app.diagnosis.text.future_information import future_information_sentence

    assert future_information_sentence(sentence) is None


REVIEW = json.loads((Path(__file__).parent / "fixtures" / "diagnosis_review_s15.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("sentence", REVIEW["not_leakage"])
def test_the_reviews_sentences_that_state_no_leak_ground_nothing(sentence: str) -> None:
    """An independent review's sentences (session 15): the first version of the readers took 58 of them for a stated
    leak (hedges, claims, fixes, checks, "the same distribution", forecasting words)."""
    from app.diagnosis.text.future_information import future_information_sentence

    assert shared_item_sentence(sentence) is None and future_information_sentence(sentence) is None


def test_the_reviews_leak_sentences_are_mostly_read() -> None:
    from app.diagnosis.text.future_information import future_information_sentence

    read_ = [s for s in REVIEW["leakage"] if shared_item_sentence(s) or future_information_sentence(s)]
    assert len(read_) >= 15, len(read_)  # 16 of 21 (the reader must agree too before any of them is evidence)


@pytest.mark.parametrize("name", sorted(REVIEW["write_ups"]))
def test_the_reviews_write_ups_are_never_grounded_leakage(name: str) -> None:
    from app.diagnosis import diagnose

    d = diagnose(prompt=REVIEW["write_ups"][name]).payload()
    assert not any(e["rule_id"] == "learned.grounded_leakage" for e in d["evidence"]), name
