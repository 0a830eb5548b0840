"""Intake normalises the record shapes people have (issue 13 item 1) and names what it ignored in intake_warnings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import main
from app.diagnosis import diagnose
from app.diagnosis.intake import from_dict
from app.diagnosis.normalise import number_from_text
from app.errors import InputError

# The layout of MlflowClient().get_run(run_id).to_dictionary() (also what `mlflow runs describe` prints):
# info is RunInfo's properties, data holds metrics/params/tags as {key: value} maps (latest metric value only).
MLFLOW_RUN = {
    "info": {
        "artifact_uri": "mlruns/12/8c1f0e2b7a4d4c39/artifacts",
        "end_time": 1717003600000,
        "experiment_id": "12",
        "lifecycle_stage": "active",
        "run_id": "8c1f0e2b7a4d4c39",
        "run_name": "churn-gbdt-v7",
        "run_uuid": "8c1f0e2b7a4d4c39",
        "start_time": 1717000000000,
        "status": "FINISHED",
        "user_id": "ana",
    },
    "data": {
        "metrics": {"train_accuracy": 0.99, "val_accuracy": 0.71, "test_auc": 0.69},
        "params": {"max_depth": "12", "n_estimators": "500"},
        "tags": {
            "mlflow.note.content": "Training accuracy 0.99 but validation 0.71 after raising max_depth.",
            "mlflow.runName": "churn-gbdt-v7",
            "mlflow.source.type": "LOCAL",
            "mlflow.user": "ana",
            "team": "retention",
        },
    },
    "inputs": {"dataset_inputs": []},
}


def warnings_of(data: dict) -> tuple[object, list[str]]:
    warn: list[str] = []
    rec = from_dict(data, warn)
    return rec, warn


def test_features_as_names_and_as_objects() -> None:
    rec, warn = warnings_of({"features": ["age", "income"], "metrics": {"validation": {"accuracy": 0.8}}})
    assert [f.name for f in rec.features] == ["age", "income"] and warn == []
    rec, warn = warnings_of({
        "features": [
            {"name": "leak.deviance", "type": "numeric", "definition": "deviation of realised margin from plan"},
            {"name": "age", "available_at_prediction_time": True},
            42,
        ],
        "metrics": {"validation": {"accuracy": 0.8}},
    })
    assert [f.name for f in rec.features] == ["leak.deviance", "age"]
    assert rec.features[0].description == "definition: deviation of realised margin from plan"
    assert rec.features[1].available_at_prediction_time is True
    assert "features[0] (leak.deviance): ignored field(s) definition, type" in warn
    assert "ignored features[2]: neither a name nor an object with a name" in warn


def test_unknown_fields_are_ignored_and_their_prose_kept_as_notes() -> None:
    rec, warn = warnings_of({
        "model": {"type": "LogisticRegression", "class_weight": None},
        "data_summary": {"fraud_share": "5%", "comment": "almost every transaction is labelled non-fraud"},
        "metrics": {"test": {"accuracy": 0.95}},
    })
    assert "ignored unknown field 'model'" in warn
    assert "ignored unknown field 'data_summary' (its text kept as notes)" in warn
    # the field's name labels its text with spaces, so it is never read as a model feature's identifier
    assert rec.notes == "data summary.comment: almost every transaction is labelled non-fraud"
    assert rec.metrics["test"] == {"accuracy": 0.95}


@pytest.mark.parametrize(
    "text, value",
    [("0.87", 0.87), ("about 0.87 on holdout", 0.87), ("87%", 87.0), ("85-90%", 87.5), ("~ 3e-4", 3e-4),
     ("very low", None), ("published CIFAR-10 test accuracy", None), ("more than half of 900 runs", None)],
)
def test_number_from_text(text: str, value: float | None) -> None:
    assert number_from_text(text)[0] == (pytest.approx(value) if value is not None else None)


def test_text_where_a_number_was_expected() -> None:
    rec, warn = warnings_of({
        "metrics": {"test": {"accuracy": "85-90%", "recall": "very low"}, "validation": {"f1": "good"}},
        "data_checks": {"missing_fraction": "a lot: blanks and 'Null' placeholders", "duplicate_fraction": "12%"},
        "seed_scores": "more than half of the runs stay at 0.50 accuracy",
        "task": "object detection (person), grayscale",
    })
    assert rec.metrics["test"] == {"accuracy": 0.875}  # (the notes text may add what the parser reads in it)
    assert rec.data_checks.duplicate_fraction == pytest.approx(0.12)
    assert rec.data_checks.missing_fraction is None and rec.seed_scores == [] and rec.task is None
    assert "metrics.test.accuracy: read the range 85-90 as its midpoint 87.5 from the text '85-90%'" in warn
    assert "dropped metrics.test.recall: no number in 'very low' (kept as notes text)" in warn
    assert "dropped metrics.validation.f1: no number in 'good'" in warn
    assert any(w.startswith("dropped data_checks.missing_fraction:") for w in warn)
    assert any(w.startswith("dropped seed_scores:") and "kept as notes" in w for w in warn)
    assert any(w.startswith("dropped task:") for w in warn)
    assert "metrics.test.recall: very low" in rec.notes
    assert "seed_scores: more than half of the runs stay at 0.50 accuracy" in rec.notes


def test_flat_metrics_with_split_prefixes_and_suffixes() -> None:
    rec, warn = warnings_of({
        "val_accuracy": 0.71, "train_loss": 0.05, "test_auc": 0.69, "validation/f1": 0.6, "auc_holdout": 0.7,
        "prod_auc": "0.55", "train_size": 8000, "val_loss": [0.9, 0.7, 0.8, 1.1], "baseline_val_precision": 0.78,
    })
    assert rec.metrics["validation"] == {"accuracy": 0.71, "f1": 0.6}
    assert rec.metrics["train"]["loss"] == 0.05
    assert rec.metrics["test"]["roc_auc"] == 0.69  # test_auc wins over auc_holdout (both are the test split)
    assert rec.metrics["production"]["roc_auc"] == 0.55
    assert rec.split_sizes == {"train": 8000} and rec.curves["validation_loss"] == [0.9, 0.7, 0.8, 1.1]
    assert "read 'val_accuracy' as metrics.validation.accuracy" in warn
    assert "ignored 'auc_holdout': metrics.test.roc_auc already read from an earlier key" in warn
    assert "ignored unknown field 'baseline_val_precision'" in warn


def test_mlflow_run_export() -> None:
    rec, warn = warnings_of(json.loads(json.dumps(MLFLOW_RUN)))
    assert rec.experiment_id == "8c1f0e2b7a4d4c39" and rec.title == "churn-gbdt-v7"
    assert rec.metrics["train"]["accuracy"] == 0.99 and rec.metrics["validation"]["accuracy"] == 0.71
    assert rec.metrics["test"]["roc_auc"] == 0.69
    assert rec.notes.startswith("Training accuracy 0.99 but validation 0.71")
    assert warn[0] == "read an MLflow run export (info, data.metrics, data.params, data.tags)"
    assert "ignored MLflow run key 'inputs'" in warn
    assert "ignored 2 MLflow system tag(s): mlflow.source.type, mlflow.user" in warn
    assert "ignored MLflow tag 'team'" in warn and "ignored MLflow param max_depth=12" in warn


def test_mlflow_rest_layout_with_key_value_lists() -> None:
    run = {"run": {"info": {"run_id": "r1"}, "data": {
        "metrics": [{"key": "val_f1", "value": 0.4, "timestamp": 1, "step": 3}],
        "params": [{"key": "lr", "value": "0.1"}],
        "tags": [{"key": "mlflow.note.content", "value": "F1 fell after the relabel."}]}}}
    rec, warn = warnings_of(run)
    assert "ignored MLflow param lr=0.1" in warn
    assert rec.metrics["validation"]["f1"] == 0.4 and rec.notes.startswith("F1 fell after the relabel.")


def test_schema_records_give_no_warning_and_old_refusals_are_warnings() -> None:
    _, warn = warnings_of({"metrics": {"validation": {"accuracy": 0.7}, "train": {"accuracy": 0.99}}})
    assert warn == []
    for data, phrase in [
        ({"metrics": {"banana": {"acc": 0.9}, "validation": {"acc": 0.8}}}, "dropped metrics.banana: unknown split"),
        ({"metrics": {"validation": {"acc": 0.9}}, "unexpected": 1}, "ignored unknown field 'unexpected'"),
        ({"metrics": {"validation": {"acc": 0.9}}, "data_checks": {"annotator_agreement": 3}},
         "dropped data_checks.annotator_agreement: annotator_agreement (kappa) must be in [-1, 1], got 3.0"),
        ({"title": "nothing else"}, "the record gives nothing to diagnose"),
    ]:
        _, warn = warnings_of(data)
        assert any(w.startswith(phrase) for w in warn), (phrase, warn)


def test_diagnosis_payload_carries_intake_warnings_and_a_lossy_intake_is_never_clear() -> None:
    healthy = {"metrics": {"train": {"accuracy": 0.91}, "validation": {"accuracy": 0.9}, "test": {"accuracy": 0.9}}}
    p = diagnose(experiment=json.loads(json.dumps(healthy))).payload()
    assert p["intake_warnings"] == [] and p["deployment_gate"] == "CLEAR"
    lossy = {**healthy, "metrics": {**healthy["metrics"], "production": {"accuracy": "not measured yet"}}}
    p = diagnose(experiment=lossy).payload()
    assert p["intake_warnings"] == [
        "dropped metrics.production.accuracy: no number in 'not measured yet' (kept as notes text)"
    ]
    assert p["deployment_gate"] != "CLEAR"
    assert diagnose(prompt="Train accuracy 0.99, validation 0.71").payload()["intake_warnings"] == []


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def test_cli_diagnoses_an_mlflow_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "run.json"
    path.write_text(json.dumps(MLFLOW_RUN))
    rc, out, err = run_cli(["diagnose", "--experiment", str(path), "--no-store", "--json"], capsys)
    p = json.loads(out)
    assert rc == 0 and err == "" and p["intake_warnings"][0].startswith("read an MLflow run export")
    assert p["primary_category"] == "overfitting" and p["deployment_gate"] == "BLOCKED_PENDING_HUMAN_REVIEW"


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "malformed JSON in e.json"),
        ("[1, 2]", "experiment record must be a JSON object, got an array"),
        ('"a string"', "experiment record must be a JSON object, got a string"),
        (json.dumps({"dataset": {"train_csv": "train.csv", "test_csv": "test.csv", "target": "y"}}),
         "train_csv not found"),
    ],
)
def test_the_three_remaining_input_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    path = tmp_path / "e.json"
    path.write_text(content)
    rc, out, err = run_cli(["diagnose", "--experiment", str(path), "--no-store", "--json"], capsys)
    assert rc == 2 and out == "" and message in err and err.count("\n") == 1 and "Traceback" not in err


def test_from_dict_refuses_only_non_objects() -> None:
    with pytest.raises(InputError, match="must be a JSON object"):
        from_dict([{"metrics": {}}])


def test_values_of_the_wrong_shape_are_dropped_not_a_traceback() -> None:
    rec, warn = warnings_of({"class_distribution": "very high", "intervals": 0.5, "curves": {"a": 1},
                             "metrics": {"validation": {"accuracy": 0.8}}})
    assert rec.class_distribution == {} and rec.intervals == {} and rec.curves == {}
    assert rec.metrics == {"validation": {"accuracy": 0.8}}
    assert {w.split(":")[0] for w in warn if w.startswith("dropped")} >= {
        "dropped class_distribution", "dropped intervals", "dropped curves"}
