"""Concept detectors (issue 13, session 9): one idea, several phrasings, and the near misses that must not count.

The examples are written for these tests, not taken from the frozen batches."""

from __future__ import annotations

import pytest

from app.diagnosis import diagnose
from app.diagnosis.reading import read
from app.diagnosis.signatures import read_facts
from app.diagnosis.signatures.concepts import class_count_share, concept_facts, detect_rate
from app.diagnosis.signatures.epochs import epoch_facts

PHRASINGS = {
    "said_data_differs": [
        "The hospital B scans look quite different from the hospital A scans we trained on.",
        "Our validation images are not representative of what users upload from their phones.",
        "The tagger was trained on newswire only, and it is now used on forum posts.",
        "Live traffic looks nothing like the training sample.",
        "There is a domain shift between the synthetic training renders and real photos.",
        "Since 2021 the vocabulary of the support tickets has shifted a lot.",
    ],
    "said_gap_widens": [
        "After epoch 10 the difference between training and validation loss grows every epoch.",
        "The train-val gap keeps getting bigger as training continues.",
    ],
    "said_val_loss_rises": [
        "Training loss keeps falling but the validation loss starts to increase after epoch 4.",
    ],
    "said_train_metric_stuck": [
        "Training accuracy is stuck around 0.55 no matter how long I train.",
        "Even the training loss does not go below 1.2.",
    ],
    "said_category_spelt_apart": [
        "The country column has 12 distinct values instead of 6 because some files write 'USA' and others 'usa'.",
        "Class names have a trailing space in the second CSV, so 'cat ' and 'cat' become separate classes.",
        "The gender field is coded inconsistently across the two exports.",
    ],
    "said_inputs_blank": [
        "After loading, I noticed every pixel in the input array was 0 because of integer division.",
        "For one day the sensor readings are all zeros, but nothing marks the day as missing.",
        "The spectrograms came out as all NaN after the resampling step.",
        "The images are black after normalisation.",
    ],
    "said_values_misaligned": [
        "The feature columns were shifted by one relative to the header after the merge.",
        "The labels are out of sync with the images because the two lists were sorted differently.",
    ],
    "said_split_reported_as_other": [
        "The notebook evaluates the dev set as the test set, so the reported test F1 is the tuning F1.",
    ],
    "said_majority_beats": [
        "Always predicting 'no default' would get 97% accuracy, the same accuracy as our model.",
        "A dummy classifier scores as high as the network.",
    ],
    "said_item_two_labels": [
        "Around 300 sentences occur twice with opposite labels.",
        "Some identical images are labelled as both cat and dog.",
    ],
    "said_one_answer_for_all": [
        "The classifier outputs 'negative' for every input.",
    ],
    "said_constant_output": [
        "The LSTM forecaster outputs nearly the same value for every hour of the week.",
        "The regressor just predicts the mean for all houses.",
    ],
    "said_metric_low": [
        "On the partner site the recall comes out extremely low.",
    ],
}


@pytest.mark.parametrize(("fact", "text"), [(k, t) for k, ts in PHRASINGS.items() for t in ts])
def test_each_concept_is_read_from_several_phrasings(fact: str, text: str) -> None:
    assert concept_facts(text)[0].get(fact) is True


@pytest.mark.parametrize("text", [
    "We compared the training and validation distributions and they do not differ.",
    "Is the validation set representative of the test distribution?",
    "Training accuracy 0.99, validation 0.98; the gap is small and stable.",
    "The label column has the two values we expect.",
    "Every model was trained with the same seed.",
    "The model predicts all zeros for the minority class.",
    "The segmentation masks are all zeros for images without lesions, as intended.",
    "Sequences are zero-padded, so the last frames are all zeros.",
    "The classifier outputs all zeros on the test samples.",
    "The predictions for the test images are all zeros.",
    "The gradients with respect to the input images are all zeros.",
    "y_train is all zeros for 90% of the samples.",
    "One-hot columns are all zeros for unseen categories.",
    "The model outputs an all-zero mask.",
])
def test_negations_questions_and_mentions_state_no_concept(text: str) -> None:
    assert not [k for k, v in concept_facts(text)[0].items() if k.startswith("said_") and v]


def test_one_class_for_every_input_is_a_classification_idea_only() -> None:
    assert concept_facts("The classifier outputs 'negative' for every input.")[0].get("said_one_answer_for_all")
    assert not concept_facts("The forecaster predicts the same value for every day.")[0].get("said_one_answer_for_all")


def test_several_patients_on_both_sides_is_an_entity_split_statement() -> None:
    facts, _ = read_facts("Several patients have scans in both the training and the test set.")
    assert facts.get("said_entity_both_sides") is True
    assert not read_facts("Patients in the training and the test set come from one hospital.")[0].get(
        "said_entity_both_sides")


def test_class_counts_give_the_minority_share_and_skip_units_splits_and_years() -> None:
    assert class_count_share("We have 9,500 legitimate and 500 fraudulent transactions.")[0] == pytest.approx(0.05)
    assert class_count_share("Positives: 120, negatives: 9,880 in the label distribution.")[0] == pytest.approx(0.012)
    assert class_count_share("We have 500 cats and 480 dogs.")[0] == pytest.approx(480 / 980, abs=1e-4)
    assert class_count_share("Trained for 30 epochs and 500 steps on 2000 train and 500 test rows.") is None
    assert class_count_share("Data from 2019 and 2024 customers.") is None
    assert class_count_share("seed: 42, depth: 6") is None  # no class word: settings, not class counts


def test_detected_k_of_n_is_a_recall_and_feeds_the_stated_minimum() -> None:
    assert detect_rate("The model catches only 4 of the 40 lesions.")[0] == pytest.approx(0.1)
    assert detect_rate("It detects 3 of 4 cases.") is None  # too few to weigh
    facts, src = read_facts("The detector finds 2 of the 50 defects.")
    assert facts["stated_recall_min"] == pytest.approx(0.04) and "finds 2 of the 50" in src["stated_recall_min"]


def test_frozen_held_out_accuracy_in_an_epoch_log() -> None:
    log = "\n".join(f"epoch {i} acc: {0.55 + 0.02 * i:.2f} - val_acc: 0.6410" for i in range(1, 6))
    f = epoch_facts(log)
    assert f["log_heldout_acc_range"] == 0.0 and f["log_train_acc_max"] == pytest.approx(0.65)
    moving = "\n".join(f"epoch {i} acc: {0.6 + 0.05 * i:.2f} - val_acc: {0.55 + 0.04 * i:.2f}" for i in range(1, 6))
    assert epoch_facts(moving)["log_heldout_acc_range"] == pytest.approx(0.16)


@pytest.mark.parametrize(("text", "category"), [
    ("The tagger was trained on newswire only; on forum posts its F1 degrades badly.", "data_drift"),
    (("There are 19,000 good parts and 300 defective ones. Accuracy is 98% but the model catches only 12 of the "
      "300 defects."), "class_imbalance"),
    ("After epoch 5 training keeps improving while validation stalls, and the gap keeps widening.", "overfitting"),
    ("Training accuracy never gets past 0.58 on this binary task and validation sits at 0.57.", "underfitting"),
    ("Some identical images are labelled as both cat and dog in the annotation export.", "label_noise"),
    ("The status column has 5 distinct values instead of 3 because one export adds a trailing space.", "data_quality"),
    ("The evaluation script reports the validation split as the test score.", "evaluation_error"),
    (("The demand regressor predicts almost the same value for every store; training and validation MAE are both "
      "close to the spread of the target."), "underfitting"),
])
def test_concepts_decide_the_category_end_to_end(text: str, category: str) -> None:
    p = diagnose(prompt=text).payload()
    assert p["primary_category"] == category and p["deployment_gate"] == "BLOCKED_PENDING_HUMAN_REVIEW"


def test_a_concrete_leak_explains_the_production_drop_that_drift_reads_as_its_sign() -> None:
    text = ("Offline AUC 0.91, online AUC 0.74. The session features were aggregated from events logged after each "
            "scored request, which the live service cannot see yet.")
    facts, _ = read_facts(text)
    assert facts.get("said_future_info") is True
    p = diagnose(prompt=text).payload()
    assert p["primary_category"] == "data_leakage" and p["deployment_gate"] == "BLOCKED_PENDING_HUMAN_REVIEW"
    assert "data_drift" not in p["secondary_risks"]  # the drop is explained, not a second failure
    # without the cause, the same drop stays a drift sign
    assert diagnose(prompt="Offline AUC 0.91, online AUC 0.74 since the spring campaign changed the traffic mix."
                    ).payload()["primary_category"] == "data_drift"


def test_rolling_features_over_the_full_series_before_the_split_is_preprocessing_leakage() -> None:
    text = ("Energy demand model: lag features and rolling means were computed over the full series before splitting "
            "into train and validation; validation MAPE 4 %, live MAPE 21 %.")
    assert read_facts(text)[0].get("said_preprocess_on_all") is True
    assert diagnose(prompt=text).payload()["primary_category"] == "data_leakage"


@pytest.mark.parametrize("text", [
    "Our ranking looked too good, and it turned out the validation documents were part of the pretraining corpus.",
    "I found that the test windows are also in the training data because the split ran after the overlap step.",
    "The held-out images were images the network had already been trained on.",
    "So the evaluation set is literally the training set with a different file name.",
    "Several of the test recordings showed up in the training set as well.",
])
def test_evaluation_items_that_were_trained_on_are_concrete_leakage(text: str) -> None:
    """Session 14: the evaluation items themselves were in training, whatever they are called."""
    d = diagnose(prompt=text).payload()
    assert d["primary_category"] == "data_leakage" and d["active_leakage_signal"], text


@pytest.mark.parametrize("text", [
    "The validation loss is in the training log next to the learning rate.",
    "None of the test images are in the training set; I checked the hashes.",
    "The test images are not in the training set.",
    "The test set is separate from the training set and comes from another month.",
    "The eval script is in the training repo under tools/.",
    "Test images were resized the same way as in training.",
    "Zero of the test clips are in the training list.",
    # an independent review's sentences (session 14) that the first version read as leakage
    "The AUC in my validation set is much lower than in the training set.",
    "The loss on the validation data is higher than in training after epoch 10, and it keeps rising.",
    "Train accuracy 0.99, validation accuracy 0.70; the validation data is used during training for early stopping.",
    "Production precision fell from 0.82 to 0.55; the held-out data was part of the training period.",
    "The held-out images are unlike what the network was trained on.",
    "As a sanity check we also test on images that are in the training set.",
    "The test set is just the training set's last two weeks, held out chronologically.",
    "Our test data is simply the training data from the next year, a standard temporal holdout.",
    "The test fold is among the training folds in the next CV iteration.",
    # by design: cross-validation folds take turns, the final model is refitted on everything
    "In 5-fold cross-validation each validation fold is part of the training data in the other four folds.",
    ("After model selection we retrain on all data, so the validation set is part of the training data for the "
     "final model."),
])
def test_evaluation_items_kept_apart_from_training_are_no_leak(text: str) -> None:
    rd = read(prompt=text)
    assert not rd.sig.get("group_overlap"), text
    assert diagnose(prompt=text).payload()["primary_category"] != "data_leakage", text


@pytest.mark.parametrize("text", [
    "It transcribes 16 kHz, 16-bit mono audio well, but 8 kHz telephone audio badly.",
    "Inputs are 224 px crops at 30 fps on 8 GB GPUs.",
])
def test_physical_units_are_never_scores(text: str) -> None:
    facts, _ = read_facts(text)
    assert not any(k.startswith("score_") for k in facts), facts


@pytest.mark.parametrize(("text", "fact"), [
    ("Depth model MAE is 1.2 cm on the training scans and 4.8 cm on the test scans.", "error_test"),
    ("ETA prediction MAE is 40 seconds on train and 310 seconds on the validation week.", "error_validation"),
])
def test_an_error_stated_in_a_unit_is_still_read(text: str, fact: str) -> None:
    assert read(prompt=text).sig.get(fact) is not None, text


@pytest.mark.parametrize("text", [
    "We didn't hold out anything, the 0.97 accuracy is on the rows used for model selection.",
    "There was no independent test split: model selection and the final report used the same 2,000 rows.",
])
def test_a_negated_hold_out_is_still_an_evaluation_error(text: str) -> None:
    """The leakage concept's negation filter applies to it alone (its first version silenced these)."""
    assert diagnose(prompt=text).payload()["primary_category"] == "evaluation_error", text


def test_choosing_a_model_on_all_data_is_not_feature_selection() -> None:
    facts, _ = read_facts("After model selection we retrain on all data for the final model.")
    assert not facts.get("said_selection_on_all")
    facts, _ = read_facts("We selected the top 50 genes on the whole dataset before cross-validation.")
    assert facts.get("said_selection_on_all")
