"""Leakage is not named on a sentence that describes a safeguard, the concept or a fixed leak (issue 13, session 16).

The independent review of session 15 (``tests/fixtures/diagnosis_review_s15.json``) wrote write-ups whose only
leakage words describe how the leak was kept out, explain the concept, or report a leak already fixed. The older
leakage checks (prose cues, set-up checks, stated concerns) named leakage on six of them; none may now.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.diagnosis.signatures.prose import CUES, LEAK_CUES, prose_facts
from app.diagnosis.text.safeguards import describes_no_leak

REVIEW = json.loads((Path(__file__).parent / "fixtures" / "diagnosis_review_s15.json").read_text(encoding="utf-8"))
NAMED_BEFORE = ("each_patient", "leak_fixed", "oversample", "ruled_leakage_concept", "lookback", "removed_cols")

SAFEGUARDS = [
    "Each patient appears in exactly one of the train, validation and test splits.",
    "We oversample the minority class by duplicating training samples after the train/test split.",
    "Leakage happens when the same patients appear in train and test; we grouped by patient to avoid that.",
    "The model uses a 30-day lookback window to forecast future values of demand.",
    "Information from the future could not have been known at prediction time, so we removed those columns.",
    "We used the same random seed for the train/test split so test rows stay identical across runs.",
    "The augmentation generates duplicates of training images, while test images remain original.",
    "The leak where test images appeared in the training set was fixed last week.",
]
LEAKS = [
    "Then I noticed test files are also in the training folder.",
    "The same patients appear in both the train and the test split.",
    "We scaled the features on the whole dataset before the split.",
    "About 30% of the validation images are duplicates of training images.",
    "days_since_cancellation is only populated after the customer has churned.",
    "We oversampled with SMOTE on the whole dataset before the train/test split.",
]


def test_every_leak_cue_is_a_known_cue() -> None:
    assert LEAK_CUES <= {c.name for c in CUES}


@pytest.mark.parametrize("sentence", SAFEGUARDS)
def test_a_safeguard_states_no_leak(sentence: str) -> None:
    assert describes_no_leak(sentence)
    assert not LEAK_CUES & set(prose_facts(sentence)), sentence


@pytest.mark.parametrize("sentence", LEAKS)
def test_a_stated_leak_still_reads(sentence: str) -> None:
    assert not describes_no_leak(sentence)


def test_the_guard_takes_no_stated_leak_from_the_cues(monkeypatch: pytest.MonkeyPatch) -> None:
    guarded = [sorted(LEAK_CUES & set(prose_facts(s))) for s in LEAKS]
    monkeypatch.setattr("app.diagnosis.signatures.prose.describes_no_leak", lambda _s: False)
    assert guarded == [sorted(LEAK_CUES & set(prose_facts(s))) for s in LEAKS]
    assert sum(map(bool, guarded)) >= 3


@pytest.mark.parametrize("name", NAMED_BEFORE)
def test_the_reviews_healthy_write_ups_are_not_leakage(name: str) -> None:
    from app.diagnosis import diagnose

    d = diagnose(prompt=REVIEW["write_ups"][name]).payload()
    assert d["primary_category"] != "data_leakage", name
    assert not any(e["category"] == "data_leakage" and e["concrete"] for e in d["evidence"]), name


def test_a_stated_leak_is_still_named() -> None:
    from app.diagnosis import diagnose

    d = diagnose(prompt=("Validation accuracy is 0.99 and test accuracy 0.98. Then I noticed the same patients "
                         "appear in both the train and the test split.")).payload()
    assert d["primary_category"] == "data_leakage"


def test_a_leak_removed_before_these_runs_is_not_named() -> None:
    """A fresh user test (session 16): the feature named in "found a leak (the x column ...) and removed it" was still
    read as a future-information input, so a healthy run after the fix was blocked as leakage."""
    from app.diagnosis import diagnose

    d = diagnose(prompt=("Fraud detector v3. Last sprint we found a leak (the chargeback_date column was in the "
                         "features) and removed it before these runs; the numbers below are after the fix. Train AUC "
                         "0.84, val AUC 0.82, held-out test AUC 0.81.")).payload()
    assert d["primary_category"] != "data_leakage"
    assert not any(e["category"] == "data_leakage" and e["concrete"] for e in d["evidence"])
    still = diagnose(prompt=("Fraud detector v3: train AUC 0.99, test AUC 0.99. The chargeback_date column is in the "
                             "features and is only filled in after the chargeback arrives.")).payload()
    assert still["primary_category"] == "data_leakage"
