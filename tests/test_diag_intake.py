"""Free-text intake: numbers in every form, split attribution, metrics, features, class ratios; JSON records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.diagnosis.intake import from_dict, from_file, from_prompt
from app.diagnosis.record import ExperimentRecord
from app.errors import InputError


@pytest.mark.parametrize(
    "text",
    [
        "validation accuracy 98%",
        "validation accuracy 0.98",
        "validation accuracy .98",
        "validation accuracy 98 percent",
        "validation accuracy of 98",
        "val acc: 98.0%",
    ],
)
def test_numbers_in_every_form(text: str) -> None:
    assert from_prompt(text).metrics == {"validation": {"accuracy": 0.98}}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Train 99%, validation 71%.", {"train": {"score": 0.99}, "validation": {"score": 0.71}}),
        (
            "Accuracy is 99% on train but 71% on validation.",
            {"train": {"accuracy": 0.99}, "validation": {"accuracy": 0.71}},
        ),
        ("Train and validation AUC are 0.62 and 0.60.", {"train": {"roc_auc": 0.62}, "validation": {"roc_auc": 0.6}}),
        (
            "It reaches 100% training accuracy and 81% validation accuracy.",
            {"train": {"accuracy": 1.0}, "validation": {"accuracy": 0.81}},
        ),
        (
            "AUC dropped from 0.91 offline to 0.70 in production.",
            {"test": {"roc_auc": 0.91}, "production": {"roc_auc": 0.7}},
        ),
        (
            "Test F1 0.61; dev F1 0.83; prod F1 0.55.",
            {"test": {"f1": 0.61}, "validation": {"f1": 0.83}, "production": {"f1": 0.55}},
        ),
        ("Train RMSE 2.1, validation RMSE 9.8", {"train": {"rmse": 2.1}, "validation": {"rmse": 9.8}}),
        ("Both training and validation F1 are around 0.42.", {"train": {"f1": 0.42}, "validation": {"f1": 0.42}}),
    ],
)
def test_split_and_metric_attribution(text: str, expected: dict) -> None:
    assert from_prompt(text).metrics == expected


def test_counts_years_epochs_and_ratios_are_not_metric_values() -> None:
    r = from_prompt(
        "In 2024 we trained for 30 epochs with 5 seeds on an 80/20 split; after epoch 12 validation accuracy was 0.91."
    )
    assert r.metrics == {"validation": {"accuracy": 0.91}}


def test_from_to_keeps_the_earlier_value_as_history_and_marks_the_feature() -> None:
    r = from_prompt("Validation AUC jumped from 0.74 to 0.99 after adding `claim_approved_flag`.")
    assert r.metrics == {"validation": {"roc_auc": 0.99}}
    assert r.history[0].metrics == {"validation": {"roc_auc": 0.74}}
    assert r.features[0].name == "claim_approved_flag" and r.features[0].added_recently


def test_feature_names_backticked_and_snake_case() -> None:
    r = from_prompt("We use `Account Age` and days_since_signup; I suspect that column leaks the label.")
    assert [f.name for f in r.features] == ["Account Age", "days_since_signup"]
    assert r.features[1].suspected_leak and not r.features[0].suspected_leak


@pytest.mark.parametrize(
    "text, minority",
    [
        ("class ratio 1:99", 0.01),
        ("2% positives", 0.02),
        ("only 0.5% of transactions are fraud", 0.005),
        ("the positive rate is 3 percent", 0.03),
        ("1 in 50 users churn", 0.02),
        ("50/50 classes", 0.5),
    ],
)
def test_class_ratios(text: str, minority: float) -> None:
    assert from_prompt(text).minority_rate == pytest.approx(minority)


def test_metric_of_the_minority_class() -> None:
    r = from_prompt("Accuracy 99.2%, fraud is 0.8% of rows, and recall on fraud is 10%.")
    assert r.metrics["validation"] == {"accuracy": 0.992, "minority_recall": 0.1}


def test_data_checks_and_setup_facts() -> None:
    r = from_prompt(
        "40% of rows have missing `income`; 12% of rows are duplicates; 20% of test rows also appear in "
        "the training set; Cohen's kappa is 0.41; PSI of `age` is 0.3. We tuned the threshold on the test "
        "set. We scaled the whole dataset before splitting. The test set has 50 examples."
    )
    dc = r.data_checks
    assert (dc.missing_fraction, dc.missing_by_feature, dc.duplicate_fraction) == (0.4, {"income": 0.4}, 0.12)
    assert (dc.train_test_overlap_fraction, dc.annotator_agreement, dc.psi) == (0.2, 0.41, {"age": 0.3})
    assert r.evaluation.test_used_for_tuning and r.evaluation.preprocessing_fit_on == "all"
    assert r.split_sizes == {"test": 50}


def test_hedged_and_negated_concerns() -> None:
    r = from_prompt("I worry about leakage. There is no sign of drift. We found overfitting.")
    assert [(c.category, c.hedged) for c in r.concerns] == [("data_leakage", True), ("overfitting", False)]


def test_conflicting_numbers_are_reported() -> None:
    r = from_prompt("Validation accuracy is 0.90. Validation accuracy is 0.80.")
    assert r.metrics["validation"]["accuracy"] == 0.8 and r.input_conflicts


def test_provenance_quotes_the_prompt() -> None:
    r = from_prompt("Train accuracy 99%, validation accuracy 71%.")
    assert r.provenance["metrics.validation.accuracy"] == 'prompt: "Train accuracy 99%, validation accuracy 71%."'


@pytest.mark.parametrize("text", ["", "   \n", None])
def test_empty_prompt_is_an_input_error(text: str | None) -> None:
    with pytest.raises(InputError, match="empty prompt"):
        from_prompt(text)


def test_json_record_normalises_aliases_and_percentages() -> None:
    r = from_dict(
        {
            "metrics": {"val": {"AUC": 98}, "Train": {"acc": 0.99}},
            "class_distribution": {"0": 980, "1": 20},
            "data_checks": {"missing_fraction": 25},
        }
    )
    assert r.metrics == {"validation": {"roc_auc": 0.98}, "train": {"accuracy": 0.99}}
    assert r.minority_rate == pytest.approx(0.02) and r.data_checks.missing_fraction == 0.25


def test_record_fields_win_over_notes_and_notes_fill_the_gaps() -> None:
    r = from_dict(
        {
            "metrics": {"validation": {"accuracy": 0.7}},
            "notes": "Validation accuracy 0.95 and train accuracy 0.99; 2% positives.",
        }
    )
    assert r.metrics == {"validation": {"accuracy": 0.7}, "train": {"accuracy": 0.99}}
    assert r.minority_rate == pytest.approx(0.02)


@pytest.mark.parametrize(
    "data, message",
    [
        ([1, 2], "JSON object, got an array"),
        ("text", "JSON object, got a string"),
        (None, "JSON object, got null"),
        (3, "JSON object, got a number"),
    ],
)
def test_bad_records_are_one_line_input_errors(data: object, message: str) -> None:
    with pytest.raises(InputError, match=message) as exc:
        from_dict(data)
    assert "\n" not in str(exc.value)


def test_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        from_file(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"metrics": {')
    with pytest.raises(InputError, match="malformed JSON in bad.json"):
        from_file(bad)
    ok = tmp_path / "ok.json"
    ok.write_text(json.dumps({"metrics": {"train": {"accuracy": 0.9}}}))
    rec, base = from_file(ok)
    assert isinstance(rec, ExperimentRecord) and base == tmp_path.resolve()


def test_shipped_schema_example_is_valid() -> None:
    rec, _ = from_file(Path(__file__).resolve().parents[1] / "data" / "samples" / "experiment_schema_example.json")
    assert rec.features[2].available_at_prediction_time is False and rec.fairness
