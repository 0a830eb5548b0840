"""The readers added in session 8 of issue 13: scikit-learn classification reports, train/val accuracy pairs in
epoch logs, prose cues for heuristic labels, annotator disagreement and a rare class, annotator agreement numbers,
and numbers that label a class (``class 1``) instead of giving a value. Each is checked on what it must read and on
what it must leave alone, then end to end through ``diagnose``."""

from __future__ import annotations

import pytest

from app.diagnosis import diagnose
from app.diagnosis.signatures import read_facts
from app.diagnosis.signatures.epochs import accuracy_pairs, epoch_facts
from app.diagnosis.signatures.healthy import healthy_facts
from app.diagnosis.signatures.numbers import number_facts
from app.diagnosis.signatures.prose import prose_facts
from app.diagnosis.signatures.report import read_report, report_facts

REPORT = """              precision    recall  f1-score   support

           0       0.74      1.00      0.85        50
           1       0.00      0.00      0.00        18

    accuracy                           0.74        68
   macro avg       0.37      0.50      0.43        68
weighted avg       0.54      0.74      0.62        68
"""


def test_classification_report_rows_are_classes_and_summary_rows_are_not() -> None:
    rows = read_report(REPORT)
    assert [(r.label, r.recall, r.support) for r in rows] == [("0", 1.0, 50), ("1", 0.0, 18)]
    old = "             precision    recall  f1-score   support\n\n  class A  0.59  0.54  0.56  80\n" \
          "  class B  0.77  0.80  0.78  151\n\navg / total       0.70      0.71      0.71       231"
    assert [r.label for r in read_report(old)] == ["class A", "class B"]
    assert read_report("precision and recall were both fine\n0 0.9 0.9 0.9 10") == []  # one row is not a report


def test_classification_report_facts_compare_the_smallest_class_with_the_largest() -> None:
    f = report_facts(REPORT)
    assert f["report_min_recall"] == 0.0 and f["report_minority_recall_gap"] == 1.0
    assert f["report_minority_share"] == pytest.approx(18 / 68, abs=1e-6)
    balanced = "precision recall f1-score support\ncat 0.91 0.90 0.90 100\ndog 0.90 0.91 0.90 100"
    assert "report_minority_recall_gap" not in report_facts(balanced)  # equal supports: no minority class


def test_epoch_logs_pair_training_and_validation_accuracy() -> None:
    log = "\n".join(f"epoch {i} loss 0.08 acc {a} val_loss 0.28 val_acc {v}"
                    for i, (a, v) in enumerate([(0.8755, 0.5857), (0.8874, 0.5286), (0.9011, 0.55)], 1))
    assert accuracy_pairs(log)[0] == (0.8755, 0.5857)
    f = epoch_facts(log)
    assert f["log_acc_gap_last"] == pytest.approx(0.3511) and f["log_train_acc_last"] == 0.9011
    assert f["log_acc_gap_max"] == pytest.approx(0.3588) and f["log_acc_gap_grows"] is True  # 0.29 -> 0.35
    keras = "50000/50000 - 32s - loss: 1.7436 - acc: 0.5749 - val_loss: 1.5925 - val_acc: 0.6434"
    assert epoch_facts(keras)["log_acc_gap_last"] == pytest.approx(0.5749 - 0.6434)  # validation above training
    assert epoch_facts("loss: 0.1535 - acc: 0.9568") == {}  # no held-out figure on the line
    assert accuracy_pairs("Epoch 3 - train acc 97% - test acc 61%") == [(0.97, 0.61)]


def test_label_cues_and_annotator_numbers() -> None:
    assert "said_heuristic_labels" in prose_facts("The labels came from a regex that marked every review with 'bad' "
                                                  "as negative.")
    assert "said_heuristic_labels" not in prose_facts("Were the labels produced by a keyword rule?")
    assert "said_annotator_disagreement" in prose_facts("The same request is labelled 'refund' by some annotators "
                                                        "and 'after_sales' by others.")
    assert "said_annotator_disagreement" not in prose_facts("The annotators do not disagree on any class.")
    assert number_facts("Cohen's kappa between the two raters was 0.41.") == {"annotator_agreement": 0.41}
    assert number_facts("labelers averaged about 80 % accuracy on the gold items")["annotator_accuracy"] == 0.8
    assert "said_rare_class" in prose_facts("Active molecules are far fewer than inactive ones. Accuracy is much "
                                            "higher on the inactive class.")


def test_a_number_after_a_class_name_is_a_label_not_a_value() -> None:
    d = diagnose(prompt="Training accuracy reaches about 99 %, but on an unseen set of samples the accuracy "
                        "stagnates around 60 %, and the network is far more sensitive to class 1 than to the rest.")
    assert d.input["record"]["metrics"]["test"]["accuracy"] == pytest.approx(0.60)
    assert d.primary_category == "overfitting"


def test_new_readers_end_to_end() -> None:
    d = diagnose(prompt="Banana detector, every prediction is class 0:\n" + REPORT)
    assert d.primary_category == "class_imbalance" and d.deployment_gate == "BLOCKED_PENDING_HUMAN_REVIEW"
    assert any(c.section.startswith("The smallest class has far lower recall") for c in d.citations)
    log = "epoch 1 acc 0.80 val_acc 0.62\nepoch 2 acc 0.90 val_acc 0.60\nepoch 3 acc 0.97 val_acc 0.58"
    assert diagnose(prompt="Pretrained CNN, two balanced classes.\n" + log).primary_category == "overfitting"
    healthy = "epoch 1 acc 0.80 val_acc 0.79\nepoch 2 acc 0.86 val_acc 0.85\nepoch 3 acc 0.89 val_acc 0.88"
    assert "log_acc_gap_last" in read_facts(healthy)[0]
    assert diagnose(prompt="FordA classifier, curves stay together.\n" + healthy).primary_category == "unknown"
    weak = diagnose(prompt="Sentiment classifier: the labels came from a regex preprocessing step that marked every "
                           "review containing 'bad' as negative, so reviews saying 'not bad' were labelled negative.")
    assert weak.primary_category == "label_noise"
    assert any("1605.07723" in (c.path or "") or c.section == "Labels from a heuristic or weak source"
               for c in weak.citations)


def test_a_healthy_write_up_can_be_clear_but_a_collapse_or_a_failure_cue_never_is() -> None:
    healthy = ("Small ViT on cats vs dogs: validation accuracy is consistently a little higher than training accuracy. "
               "It comes from the RandomResizedCrop and RandomHorizontalFlip applied to the training images only.")
    d = diagnose(prompt=healthy)
    assert (d.primary_category, d.deployment_gate) == ("unknown", "CLEAR")
    assert "said_regularised_gap" in healthy_facts(healthy)
    asked = "Validation accuracy stays above training accuracy with dropout 0.5. Is this normal?"
    assert "said_expected_behaviour" not in healthy_facts(asked)  # a question states nothing
    collapse = healthy + " On last month's production traffic the F1 is 0.41 against 0.97 in validation."
    assert diagnose(prompt=collapse).deployment_gate != "CLEAR"
    nan = "The evaluation mAP matches the fp32 run, but after step 4000 the loss became nan."
    assert "said_matches_reference" in healthy_facts(nan)
    assert diagnose(prompt=nan).deployment_gate != "CLEAR"  # a failure cue: not healthy
    assert not healthy_facts("I cannot match the paper's reported accuracy; mine is far lower.")


def test_a_value_that_becomes_nan_is_instability_not_missing_data() -> None:
    d = diagnose(prompt="Training blew up: loss went from 0.7 to NaN around step 1200 with lr 3e-3 and no gradient "
                        "clipping.")
    assert d.primary_category == "training_instability"
    assert "data_checks" not in d.input["record"] or "missing_fraction" not in d.input["record"]["data_checks"]
    assert diagnose(prompt="30% of the incomes are missing.").primary_category == "data_quality"


def test_a_share_of_the_data_is_not_a_score_and_the_loss_scaler_message_is_not_a_divergence() -> None:
    d = diagnose(prompt="Validation accuracy plateaued at 81%. An out-of-fold check flagged about 8% of training reviews "
                        "whose label disagrees with the text; an audit confirmed most were annotated wrongly.")
    assert "train" not in d.input["record"].get("metrics", {})  # 8 % of the reviews is not a training accuracy
    assert d.primary_category == "label_noise"
    amp = ("3D detector with fp16 mixed precision:\nGradient overflow.  Skipping step, loss scaler 0 reducing loss "
           "scale to 256.0\nstep 2000 loss 1.21\nstep 4000 loss 0.87\nThe loss keeps going down and the evaluation mAP "
           "matches the fp32 run.")
    assert "said_nan_or_explosion" not in read_facts(amp)[0]
    assert "said_nan_or_explosion" in read_facts("Gradient overflow everywhere: the loss exploded to 1e9.")[0]
