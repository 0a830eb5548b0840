"""Readings fixed in session 17 by the idea behind each (issue 13).

Three misreadings left open by session 16's user test:

- A safeguard read as a model that saw one kind of data only: "the scaler is fitted on the training rows only, then
  applied to val and test" blocked a healthy write-up as data unlike training.
- Another model's figure read as this model's test score: "against 41 % for the base model" became the test accuracy
  and an input contradiction, then overfitting.
- Evaluation items inside the fine-tuning data read as something else than leakage: "the test documents had been
  part of the fine-tuning corpus".

Two from the held-out batches X and Y, read after they were measured (development data now):
- A number after "chapter", "line", "page" or "cell" is a label, not a score ("chapter 3" became a score of 0.03
  and made a validation copy of the training set read as underfitting).
- "I get the same picture" is the same outcome, not the same image in train and test (a hard negative was named
  leakage on it).
- A bracketed literal assigned to a variable in code ("x = csc_matrix(np.array([[0., 1.], ...") is data the code
  builds, not a confusion matrix it printed.
- Numbers that name rather than measure: a version ("anomalib 2.2.0" became a 2.2 % minority class), a date or a
  clock time in a log line, a file's line ("utils.py:21" became a training score), a module path
  ("redshells.train.utils" is no training split), a count after an index word ("crashes before epoch 100 with NaN
  loss" became 100 % missing values), a class's share ("70% of them class 1 and 30% class 0" became a training
  score), a change written with a hedge ("raises testing accuracy by ~10%" became a 10 % test accuracy), a count of
  photos or points, and thousands in a list ("Hate 11,034, Extreme Hate 2,698" became three training scores).
- From a second fresh user test: an MLflow param kept as notes ("label_source") became a feature and concrete
  leakage; the people's disagreement rates ("disagreed with the vendor's label on 21% of them") became scores; the
  rows of a pasted epoch log were counted as contradictions (confidence 0); a confusion-matrix row of counts, "R^2",
  "3-second windows", "1-D CNN" and "8 filters each" gave scores; another team's or a vendor's model gave the test
  score; a second PSI value became a ROC AUC (each PSI now goes to the feature named before it); "one axis of the plot
  is the target itself" was a target copy; "a field filled in by the billing team about a week after the patient goes
  home" was not read as information from after the prediction, and "the hospital pilot" was not production.
- Classes balanced (undersampled) before the split leave a test set with a class mix the model never meets: an
  evaluation error, cited to imbalanced-learn's common pitfalls (``test_set_resampled``).
- A forecast that is "almost a straight line" is a constant output, like "a flat line".
- A loss that is NaN from the first step, before any update could diverge, points at non-finite inputs: the
  diagnosis names data quality as a risk, with the check that confirms it (half precision overflows there too, so it
  does not count then).
"""

from __future__ import annotations

import pytest

from app.diagnosis import diagnose
from app.diagnosis.signatures.concepts import concept_facts
from app.diagnosis.signatures.confusion import confusion_facts
from app.diagnosis.signatures.facts import read_facts
from app.diagnosis.text.parse import parse_text
from app.diagnosis.text.shared_items import shared_item_sentence

HEALTHY_SCALER = (
    "We trained a gradient boosting model on 40k loan applications. The scaler is fitted on the training rows only, "
    "then applied to val and test. Train AUC 0.86, validation AUC 0.85, test AUC 0.85."
)
BASE_MODEL = (
    "Our fine-tuned classifier reaches 0.74 accuracy on the held-out test set, against 41% for the base model. "
    "Train accuracy is 0.77."
)
FINE_TUNING_LEAK = (
    "We fine-tuned a retriever and got recall@10 of 0.93 on our test queries, far above the 0.61 of last quarter's "
    "model. Later we found that the test documents had been part of the fine-tuning corpus."
)


@pytest.mark.parametrize("sentence", [
    "The scaler is fitted on the training rows only, then applied to val and test.",
    "The encoder was fitted only on the training split.",
    "The imputer is fitted on train only.",
])
def test_a_step_fitted_on_the_training_split_only_is_no_data_difference(sentence: str) -> None:
    assert "said_data_differs" not in concept_facts(sentence)[0]


@pytest.mark.parametrize("sentence", [
    "The model was trained only on the training data from 2019.",
    "We trained on hospital A scans only.",
    "It was fine-tuned only on news articles.",
])
def test_a_model_trained_on_one_kind_of_data_only_still_differs(sentence: str) -> None:
    assert concept_facts(sentence)[0].get("said_data_differs") is True


def test_the_healthy_scaler_write_up_is_not_blocked() -> None:
    p = diagnose(prompt=HEALTHY_SCALER).payload()
    assert p["primary_category"] == "unknown"
    assert p["deployment_gate"] != "BLOCKED_PENDING_HUMAN_REVIEW"


@pytest.mark.parametrize(("text", "score", "baseline"), [
    (BASE_MODEL, 0.74, 0.41),
    (FINE_TUNING_LEAK, 0.93, 0.61),
    ("Test F1 is 0.70, while the pretrained checkpoint scored 0.52.", 0.70, 0.52),
    ("We get 0.81 on test, the 0.78 the risk team usually gets is our bar.", 0.81, 0.78),
])
def test_another_models_figure_is_a_baseline_not_the_test_score(text: str, score: float, baseline: float) -> None:
    rec = parse_text(text)
    assert list(rec["metrics"]["test"].values()) == [pytest.approx(score)]
    assert rec["baseline_score"] == pytest.approx(baseline)
    assert "input_conflicts" not in rec


def test_the_base_model_write_up_has_no_contradiction_and_no_failure() -> None:
    p = diagnose(prompt=BASE_MODEL).payload()
    assert p["contradictions"] == []
    assert p["primary_category"] == "unknown"


def test_evaluation_items_in_the_fine_tuning_data_are_shared_items() -> None:
    assert shared_item_sentence(FINE_TUNING_LEAK) == (
        "Later we found that the test documents had been part of the fine-tuning corpus."
    )
    assert shared_item_sentence("The test documents were included in the fine-tuning set.") is not None
    assert shared_item_sentence("The test documents were never part of the fine-tuning corpus.") is None
    p = diagnose(prompt=FINE_TUNING_LEAK).payload()
    assert p["primary_category"] == "data_leakage"
    assert p["deployment_gate"] == "BLOCKED_PENDING_HUMAN_REVIEW"


@pytest.mark.parametrize("text", [
    "Working through chapter 3 of the book, the validation images are the training images.",
    "In train.py (around line 53) I decode the sequences; see page 12 and cell 4 of the notebook.",
])
def test_a_number_that_names_a_chapter_line_page_or_cell_is_no_score(text: str) -> None:
    assert "metrics" not in parse_text(text)


def test_a_validation_copy_of_the_training_set_is_not_underfitting() -> None:
    p = diagnose(prompt=(
        "Working through chapter 3: the two cells that fetch the training and the validation data download the "
        "same file. So the 'validation' images are the training images.")).payload()
    assert p["primary_category"] != "underfitting"
    assert p["deployment_gate"] == "BLOCKED_PENDING_HUMAN_REVIEW"


@pytest.mark.parametrize(("text", "fact", "read"), [
    # a NaN loss before any update could diverge
    ("When I train, the loss is NaN for every single step, from the start.", "said_nan_from_start", True),
    ("The loss is nan at the very first iteration.", "said_nan_from_start", True),
    ("Loss is nan right away.", "said_nan_from_start", True),
    ("The loss goes to nan right after the first epoch.", "said_nan_from_start", False),
    ("The loss was fine for 3 epochs and then became nan.", "said_nan_from_start", False),
    ("With fp16 the loss is NaN from the very first step; in fp32 it trains fine.", "said_nan_from_start", False),
    # classes balanced before the split
    (("I applied the undersampling to the dataset and then split, so both the training and the test sets have "
      "roughly balanced classes."), "said_undersampled_before_split", True),
    ("We downsampled the majority class before the train/test split.", "said_undersampled_before_split", True),
    ("Both training and validation accuracy plateau around 55% for a binary task with balanced classes.",
     "said_undersampled_before_split", False),
    ("We undersample the training split only; the test set keeps the real class mix.",
     "said_undersampled_before_split", False),
])
def test_a_stated_fact_is_read_where_it_is_stated_and_only_there(text: str, fact: str, read: bool) -> None:
    assert bool(read_facts(text)[0].get(fact)) is read


def test_a_nan_loss_from_the_start_names_data_quality_as_a_risk_with_its_check() -> None:
    p = diagnose(prompt="When I train, the loss is NaN for every single step, from the start. I built the "
                        "dataset myself from the sensor CSVs.").payload()
    assert "data_quality" in [p["primary_category"], *p["secondary_risks"]]
    assert any(e["rule_id"] == "sig.nonfinite_inputs" for e in p["evidence"])


def test_the_same_picture_as_an_outcome_is_no_duplicate() -> None:
    facts = read_facts("I reshuffled images between my train, valid and test folders and retrained, but I get the "
                       "same picture.")[0]
    assert "said_dupes_across" not in facts and "said_dupes_within" not in facts
    assert read_facts("The same picture appears in both the train and the test folder.")[0].get("said_dupes_across")


def test_a_literal_the_code_builds_is_no_confusion_matrix() -> None:
    code = "x = sp.sparse.csc_matrix(np.array([\n    [0., 1., 0., 1.],\n    [1., 0., 1., 0.],\n    [0., 1., 1., 0.],\n" \
           "    [1., 0., 0., 1.]]))"
    assert confusion_facts(code) == {}
    assert confusion_facts("cm = confusion_matrix(y, p)\nprint(cm)\n[[950 0]\n [50 0]]")["cm_min_recall"] == 0.0
    assert confusion_facts("conf_mat = np.array([[90, 10], [30, 70]])")["cm_min_recall"] == 0.7




def test_a_balanced_test_set_is_cited_as_an_evaluation_error() -> None:
    p = diagnose(prompt="I applied the undersampling to the dataset and then split, so both the training and the "
                        "test sets have roughly balanced classes. Test F1 is 0.93.").payload()
    scores = {c["category"]: c for c in p["category_scores"]}
    assert "sig.test_set_resampled" in scores["evaluation_error"]["rules"]


def test_a_forecast_that_is_a_straight_line_is_a_constant_output() -> None:
    assert concept_facts("When I plot the predicted RUL it is almost a straight line no matter which engine.")[0] \
        .get("said_constant_output") is True


@pytest.mark.parametrize("text", [
    "anomalib 2.2.0 (pip), PatchCore and Dinomaly.",
    "[2020/03/03 23:22:07][redshells.train.utils.utils][INFO](utils.py:21) started",
    "Every attempt crashes before epoch 100 with NaN training loss.",
    "~13k training images, 70% of them class 1 and 30% class 0.",
    "Training data counts: Not Hate 64,194, Hate 11,034, Extreme Hate 2,698.",
    "Run on 2024-05-01 with torch v2.1.0 and numpy 1.26.4.",
])
def test_numbers_that_name_rather_than_measure_are_no_scores_or_shares(text: str) -> None:
    rec = parse_text(text)
    assert "metrics" not in rec
    assert "missing_fraction" not in rec.get("data_checks", {})
    assert rec.get("class_distribution", {}).get("positive") != pytest.approx(0.022)


def test_values_beside_names_are_still_read() -> None:
    rec = parse_text("On 2024-05-01 (v2.1.0) validation accuracy was 0.81 and 30% of the incomes are missing; "
                     "the classes are 1:99.")
    assert rec["metrics"]["validation"]["accuracy"] == pytest.approx(0.81)
    assert rec["data_checks"]["missing_fraction"] == pytest.approx(0.3)
    assert parse_text("accuracy on test.csv is 0.81")["metrics"]["test"]["accuracy"] == pytest.approx(0.81)


def test_a_change_with_a_hedge_is_no_level() -> None:
    rec = parse_text("Increase dropout (raises testing accuracy by ~10%). Validation accuracy went from ~78% to 87%.")
    assert "test" not in rec.get("metrics", {})
    assert rec["metrics"]["validation"]["accuracy"] == pytest.approx(0.87)


def test_an_mlflow_param_kept_as_notes_is_no_feature_and_no_leak() -> None:
    run = {"info": {"run_id": "r1", "status": "FINISHED"},
           "data": {"metrics": {"train_accuracy": 0.81, "val_accuracy": 0.78},
                    "params": {"lr": "0.0005", "label_source": "vendor annotation batch 3 (single annotator per image)"},
                    "tags": {"mlflow.note.content": "Accuracy stuck around 0.78. Two inspectors disagreed with the "
                                                    "vendor's label on 21% of the images, and with each other on 4%."}}}
    p = diagnose(experiment=run).payload()
    assert p["active_leakage_signal"] is False
    assert all(f["name"] != "label_source" for f in p["input"]["record"].get("features", []))
    assert p["contradictions"] == []


def test_the_rows_of_an_epoch_log_are_no_contradictions() -> None:
    log = ("Text classifier. Log:\n\nepoch 1  train_loss 0.912 val_loss 0.887 train_acc 0.612 val_acc 0.634\n"
           "epoch 10 train_loss 0.133 val_loss 0.744 train_acc 0.962 val_acc 0.758\n"
           "epoch 30 train_loss 0.004 val_loss 1.872 train_acc 0.999 val_acc 0.716\n")
    rec = parse_text(log)
    assert "input_conflicts" not in rec
    assert rec["metrics"]["validation"]["accuracy"] == pytest.approx(0.716)


@pytest.mark.parametrize("text", [
    ("Confusion matrix (rows = true):\n            pred_legit  pred_fraud\nlegit           49430          20\n"
     "fraud             530          20\n"),
    "After the migration the validation R^2 is what we track.",
    "We chopped every session into 3-second windows.",
    "Keras 1-D CNN with 2 conv layers of 8 filters each.",
])
def test_counts_and_names_in_set_ups_are_no_scores(text: str) -> None:
    assert "metrics" not in parse_text(text)


def test_another_teams_or_a_vendors_model_is_a_baseline() -> None:
    rec = parse_text("It gets 0.58 macro-F1 on the test set. The team's TF-IDF + logistic regression model got 0.86 "
                     "macro-F1 on the same test set last quarter, and the vendor's model claims 0.91.")
    assert rec["metrics"]["test"]["macro_f1"] == pytest.approx(0.58)
    assert "input_conflicts" not in rec


def test_each_psi_value_goes_to_its_feature_and_none_is_a_score() -> None:
    rec = parse_text("Offline test AUC 0.78. PSI on `age` is 0.41 and on `num_credit_lines` 0.33. Live AUC 0.64.")
    assert rec["data_checks"]["psi"] == {"age": 0.41, "num_credit_lines": 0.33}
    assert "validation" not in rec["metrics"]
    # a score before the statistic in the same sentence does not hide it
    rec = parse_text("Validation AUC 0.7 and PSI 0.2 on `age`, then test AUC 0.6.")
    assert rec["data_checks"]["psi"] == {"overall": 0.2}
    assert rec["metrics"]["validation"]["roc_auc"] == pytest.approx(0.7)


def test_the_target_as_a_plot_axis_is_no_target_copy() -> None:
    assert "said_target_copy" not in read_facts(
        "Because one axis of the plot is the target itself, it only looks as if a linear stretch would fix it.")[0]
    assert read_facts("One of the input columns is the target itself.")[0].get("said_target_copy") is True


def test_a_field_filled_in_a_week_after_the_event_is_future_information() -> None:
    text = ("Our readmission model scores 0.97 AUC in validation but only 0.62 in the hospital pilot. Turns out one of "
            "the inputs, discharge_disposition_code, is filled in by the billing team about a week after the patient "
            "goes home.")
    rec = parse_text(text)
    assert rec["metrics"]["production"]["roc_auc"] == pytest.approx(0.62)
    assert rec["features"][0]["available_at_prediction_time"] is False
    p = diagnose(prompt=text).payload()
    assert p["primary_category"] == "data_leakage" and p["deployment_gate"] == "BLOCKED_PENDING_HUMAN_REVIEW"
