"""The shared-items sentence (issue 13, session 15): a stated fact that evaluation and training items are shared."""

from __future__ import annotations

import pytest

from app.diagnosis.text.shared_items import shared_item_sentence

STATES = [
    "It turned out the validation clips were cut from the same recordings as the training clips.",
    "Roughly a third of the test molecules are duplicates of training molecules after canonicalisation.",
    "The normaliser was fit on the entire dataset before the train/test split.",
    "Our evaluation windows overlap with the training windows by 90 percent.",
    ("Several patients have scans in the training set and the held-out set alike, since we split by scan: the same "
     "patients appear in both."),
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
