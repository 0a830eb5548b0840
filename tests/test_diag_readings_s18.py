"""Readings fixed in session 18 by the idea behind each (issue 13).

Batches Z and AA were measured held-out in session 17; their misses, read this session, showed these misreadings.
The sentences below are written for the tests (none is copied from a batch):

- A metric logged once per epoch under its own key (``train_rmse_epoch_60``) was an unknown metric, so a test RMSE
  above the training RMSE read as a held-out score above training (an evaluation error) instead of overfitting.
- A number in a record's notes with no split named became a second validation figure beside the record's own test
  figure ("ratings 1-5" gave a validation RMSE of 1).
- ``model.fit(..., shuffle=True)`` and ``DataLoader(..., shuffle=True)`` shuffle batches inside the training set; they
  were read as a random split of time-ordered rows (leakage).
- "The training loss goes to zero but validation accuracy stays at 55%" was read as the training metric stuck
  (underfitting), which also silenced the widening-gap signature.
- "5 classes, and the classes are balanced" set a 50/50 class mix, so chance was 0.5 instead of 0.2.
- Loss spikes that recover and gradient-norm spikes in a pasted log were not read (training instability).
- Perplexity was no metric ("ppl 6.9" became a score of 0.069), and a validation perplexity below the training
  perplexity with dropout was not the healthy regularised gap.
- A training character or word error rate of 30 % or more is a model that does not fit what it trains on.
- "On the new machine pip says ERROR ..." was read as another population; an install, import, memory or deadlock
  failure is now its own cue.
- A confusion-matrix row written ``label [ 1 2 3 ]`` was not read as a matrix row (its first count became a score).
- "Am I reading the 96% wrong?" became 96 % wrong labels.
- A value with no split named, in a sentence about data from another site or device, is production, not validation.
- Code vocabulary (``target_size=``, ``f1_score(pred_list, label_list)``, ``.flow_from_directory(``) was read as
  model features, and names with "target" or "label" as information from the future.
- "first 400 train / last 100 test" gave error values of 400 and 100.
- Code: a regression loss compiled with accuracy, a centred rolling window, and a selector fit on all the data before
  a cross-validation call that is not scikit-learn's (``rfe.train(data)`` then ``SVM().stratifiedCV(data)``).
- A NaN loss in a write-up that says the inputs have empty cells names missing values (data quality).
- A classifier that tells training rows from test rows (adversarial validation) is drift.
- "Another visit of the same person lands in the test set": persons, visits, compounds are items too; test items
  "over 80% identical to some training sequence" are shared items.
- "Other users' interactions from months after that point are still in train" is information from the future.
- A write-up about a software failure (the cue above) keeps the learned reader from naming a category.
"""

from __future__ import annotations

import pytest

from app.diagnosis import diagnose
from app.diagnosis.intake import from_dict
from app.diagnosis.normalise import normalise
from app.diagnosis.signatures.code import code_facts
from app.diagnosis.signatures.facts import read_facts
from app.diagnosis.signatures.healthy import healthy_facts
from app.diagnosis.signatures.logs import log_facts
from app.diagnosis.text.future_information import future_information_sentence
from app.diagnosis.text.parse import parse_text
from app.diagnosis.text.safeguards import without_batch_shuffle
from app.diagnosis.text.shared_items import shared_item_sentence


def _features(text: str) -> list[str]:
    return [f["name"] for f in parse_text(text).get("features", [])]


def test_per_epoch_metric_keys_become_the_last_value_and_a_curve() -> None:
    rec, warn = normalise({"train_mae_epoch_3": 5.0, "train_mae_epoch_10": 2.0, "val_mae_epoch_3": 5.5,
                           "val_mae_epoch_10": 6.5, "val_auc": 0.8})
    assert rec["metrics"] == {"validation": {"roc_auc": 0.8, "mae": 6.5}, "train": {"mae": 2.0}}
    assert any("val_mae at step 10" in w for w in warn)
    record = from_dict({k: v for k, v in (("train_mae_epoch_3", 5.0), ("train_mae_epoch_10", 2.0),
                                          ("val_mae_epoch_3", 5.5), ("val_mae_epoch_10", 6.5))})
    assert record.metrics["validation"]["mae"] == 6.5 and record.curves["validation_mae"] == [5.5, 6.5]


def test_a_test_error_above_the_training_error_logged_per_epoch_is_overfitting() -> None:
    run = {"info": {"run_id": "r1"}, "data": {"params": {"note": "20k ratings on a 1-10 scale, random split"},
                                              "metrics": {"train_mae_epoch_2": 1.4, "train_mae_epoch_30": 0.3,
                                                          "test_mae_epoch_2": 1.5, "test_mae_epoch_30": 1.9}}}
    p = diagnose(experiment=run).payload()
    assert p["primary_category"] == "overfitting"
    assert all(e["rule_id"] != "eval.test_beats_train" for e in p["evidence"])


def test_a_number_in_the_notes_with_no_split_does_not_join_the_records_held_out_figure() -> None:
    rec = from_dict({"metrics": {"train": {"rmse": 0.3}, "test": {"rmse": 1.2}},
                     "notes": "Ratings go from 1 to 5, RMSE 2 in an older run."})
    assert "validation" not in rec.metrics or "rmse" not in rec.metrics["validation"]


@pytest.mark.parametrize(("code", "changed"), [
    ("model.fit(X[:-24], y[:-24], epochs=3, shuffle=True)", True),
    ("loader = DataLoader(train_ds, batch_size=32, shuffle=True)", True),
    ("cv = KFold(n_splits=5, shuffle=True)", False),
    ("X_tr, X_te = train_test_split(X, shuffle=True)", False),
])
def test_batch_shuffling_is_not_a_split(code: str, changed: bool) -> None:
    assert ("shuffle=True" not in without_batch_shuffle(code)) is changed


def test_a_chronological_split_with_batch_shuffling_is_no_temporal_leak() -> None:
    text = ("Hourly load forecasting with an LSTM on three years of readings; the last 30 days are the test set.\n"
            "X_tr, y_tr = X[:-720], y[:-720]\nmodel.fit(X_tr, y_tr, epochs=20, batch_size=64, shuffle=True)\n"
            "Training MSE stays near the variance of y.")
    facts = read_facts(text)[0]
    assert not facts.get("said_random_split_time")
    rec = parse_text(text)
    assert rec.get("evaluation", {}).get("split_strategy") != "random"


def test_a_training_loss_that_falls_is_not_a_stuck_training_metric() -> None:
    text = ("The training loss drops to almost zero in four epochs, but the validation loss rises from epoch 2 and "
            "validation accuracy stays around 48%. Six classes, balanced.")
    facts = read_facts(text)[0]
    assert not facts.get("said_train_metric_stuck")
    assert diagnose(prompt=text).payload()["primary_category"] == "overfitting"
    assert read_facts("Training accuracy stays around 40% whatever I try.")[0].get("said_train_metric_stuck")


def test_balanced_classes_take_the_number_of_classes() -> None:
    rec = parse_text("A 4-class problem and the classes are balanced.")
    assert sorted(rec["class_distribution"].values()) == [0.25] * 4
    assert parse_text("The classes are balanced.")["class_distribution"] == {"class_a": 0.5, "class_b": 0.5}


LOSS_SPIKES = ("step 1000 loss 4.10 grad_norm 0.6\nstep 2000 loss 3.70 grad_norm 0.5\n"
               "step 3000 loss 6.20 grad_norm 35.0\nstep 4000 loss 3.90 grad_norm 1.1\n"
               "step 5000 loss 3.50 grad_norm 0.5")


def test_loss_and_gradient_norm_spikes_are_read_from_a_log() -> None:
    facts = log_facts(LOSS_SPIKES)
    assert facts.get("log_loss_spikes") and facts.get("log_grad_norm_spikes")
    steady = "step 1 loss 2.0 grad_norm 1.0\nstep 2 loss 1.8 grad_norm 1.2\nstep 3 loss 1.7 grad_norm 0.9"
    assert not log_facts(steady).get("log_loss_spikes") and not log_facts(steady).get("log_grad_norm_spikes")
    p = diagnose(prompt="Pretraining a small decoder with AdamW, no clipping configured.\n" + LOSS_SPIKES).payload()
    assert p["primary_category"] == "training_instability"
    assert any(e["rule_id"] == "sig.loss_and_gradient_spikes" for e in p["evidence"])


def test_perplexity_is_an_error_metric_and_a_lower_validation_perplexity_with_dropout_is_healthy() -> None:
    rec = parse_text("train ppl 12.4 and valid ppl 10.9 after 6 epochs")
    assert rec["metrics"]["train"]["perplexity"] == pytest.approx(12.4)
    text = ("Our LSTM language model uses dropout 0.3 between layers. The validation perplexity stays below the "
            "training perplexity for the whole run, 88 against 97 at the end.")
    assert healthy_facts(text).get("said_regularised_gap")
    assert diagnose(prompt=text).payload()["primary_category"] == "unknown"


def test_a_high_training_error_rate_is_underfitting() -> None:
    p = diagnose(prompt="After 30 epochs the WER on the training set itself is still 41% and the curve is flat; "
                        "the model is a single small GRU layer.").payload()
    assert p["primary_category"] == "underfitting"
    assert any(e["rule_id"] == "underfit.train_error_rate" for e in p["evidence"])


def test_an_install_failure_is_no_new_population() -> None:
    text = ("On the new machine conda install fails and then `import torch` gives ImportError: DLL load failed, "
            "so the retraining job cannot start.")
    facts = read_facts(text)[0]
    assert not facts.get("said_other_population") and facts.get("said_environment_failure")
    assert read_facts("The model was tested on a new machine on the production line and accuracy fell to 0.7.")[0] \
        .get("said_other_population")


def test_a_bracketed_confusion_matrix_row_is_a_row_of_counts() -> None:
    text = ("Confusion matrix, rows true, columns predicted (cat, dog, fox):\ncat [ 40  5  2]\ndog [  6 38  1]\n"
            "fox [ 19  3  4]\nTest accuracy 0.73.")
    facts = read_facts(text)[0]
    assert facts.get("cm_min_recall") == pytest.approx(4 / 26, abs=1e-3)
    assert "validation" not in parse_text(text).get("metrics", {})


def test_a_share_called_wrong_needs_labels_to_be_wrong_labels() -> None:
    assert "label_error_rate" not in parse_text("I get 93% accuracy. Am I reading the 93% wrong?").get(
        "data_checks", {})
    assert parse_text("An audit found 9% of the labels are wrong.")["data_checks"]["label_error_rate"] == 0.09


def test_a_value_from_another_site_is_production() -> None:
    rec = parse_text("Internal test AUC is 0.91. On 500 scans from a second hospital AUC falls to 0.74.")
    assert rec["metrics"]["test"]["roc_auc"] == 0.91 and rec["metrics"]["production"]["roc_auc"] == 0.74


@pytest.mark.parametrize("code", [
    "gen = datagen.flow_from_directory(path, target_size=(128, 128), class_mode='binary')",
    "print(metrics.f1_score(pred_list, label_list, average='macro'))",
    "df_windows = make_windows(df)\nmodel.fit(df_windows)",
])
def test_code_vocabulary_is_no_model_feature(code: str) -> None:
    names = _features(code)
    assert not {"target_size", "label_list", "flow_from_directory", "df_windows", "pred_list"} & set(names)


def test_columns_named_in_prose_stay_features() -> None:
    assert _features("The top features (days_active, plan_type) dominate; we added days_active last week.") == [
        "days_active", "plan_type"]


def test_a_first_or_last_count_is_no_metric_value() -> None:
    rec = parse_text("Split chronologically: first 800 train / last 200 test. Test MAE 0.41.")
    assert rec["metrics"] == {"test": {"mae": pytest.approx(0.41)}}


@pytest.mark.parametrize(("code", "fact"), [
    ("model.compile(optimizer='adam', loss='mse', metrics=['accuracy'])", "code_accuracy_on_regression"),
    ("df['roll_mean'] = df['load'].rolling(24, center=True).mean()", "code_centered_window"),
    ("sel = RFE(SVC(kernel='linear'))\nsel.fit(X, y)\nres = SVM().stratifiedCV(X)", "code_select_before_cv"),
])
def test_code_mistakes_are_read(code: str, fact: str) -> None:
    assert code_facts(code).get(fact)


def test_correct_code_is_not_flagged() -> None:
    assert not code_facts("model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy'])")
    assert not code_facts("df['roll_mean'] = df['load'].rolling(24).mean().shift(1)")


def test_a_nan_loss_with_empty_input_cells_is_missing_values() -> None:
    text = ("The regression net trains for two epochs, then the loss is nan and stays nan. The export from the new "
            "gateway has empty cells wherever a reading was dropped, and I feed the frame straight in.")
    p = diagnose(prompt=text).payload()
    assert any(e["rule_id"] == "sig.missing_values_reach_loss" for e in p["evidence"])


def test_a_classifier_that_separates_train_from_test_is_drift() -> None:
    text = ("Cross-validated AUC is 0.93 but the next quarter scores 0.84. I trained a classifier to tell training "
            "rows from test rows and it separates them with AUC 0.97; the top columns are the app version and date.")
    facts = read_facts(text)[0]
    assert facts.get("said_train_test_separable")
    assert any(e["rule_id"] == "sig.train_test_separable" for e in diagnose(prompt=text).payload()["evidence"])


def test_the_same_person_on_both_sides_is_a_shared_item() -> None:
    assert shared_item_sentence("One admission of a patient sits in the training fold while another admission of "
                                "the same person lands in the test set.")
    assert shared_item_sentence("Each person appears in exactly one of the training and test sets.") is None


def test_evaluation_items_nearly_identical_to_training_items_are_shared() -> None:
    assert shared_item_sentence("For test proteins that are over 90% identical to some training protein the "
                                "correlation is 0.88.")
    assert shared_item_sentence("No test protein is identical to any training protein.") is None


def test_later_events_in_the_training_data_are_information_from_the_future() -> None:
    assert future_information_sentence("With the per-user split, purchases from weeks after each test event still "
                                       "sit in the training data.")
    assert future_information_sentence("We never train on purchases from after the test event.") is None


def test_a_software_failure_keeps_the_reader_silent() -> None:
    p = diagnose(prompt="Since the driver update the training script hangs after the first epoch with num_workers=4: "
                        "no error, GPU at 0%, the worker processes sleep. It looks like a DataLoader deadlock; with "
                        "num_workers=0 it runs but three times slower.").payload()
    assert p["primary_category"] == "unknown" and p["deployment_gate"] == "REVIEW_RECOMMENDED"
