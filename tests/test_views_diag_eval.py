"""Read models behind the Diagnosis and Evaluation pages (app.views.diagnosis, app.views.evaluation)."""

from __future__ import annotations

import pytest

from app.errors import InputError, MlfiError
from app.evaluation import EvalOptions
from app.views import diagnosis, evaluation


def test_upload_mode_without_a_record_is_one_error(settings, store):
    with pytest.raises(MlfiError, match="upload an experiment record first"):
        diagnosis.run(store, settings, require_record=True)
    assert diagnosis.history(store) == []


def test_saved_run_reaches_history_and_heatmap_tables(settings, store):
    first = diagnosis.run(store, settings, prompt=diagnosis.EXAMPLE_PROMPT, team="growth-ml", save=True)
    diagnosis.run(store, settings, prompt=diagnosis.EXAMPLE_PROMPT, save=False)   # not saved: not in history
    assert first.payload["primary_category"] == "data_leakage"
    assert first.payload["payload_hash"] in first.html
    rows = diagnosis.history(store)
    assert [(r["team"], r["payload_hash"]) for r in rows] == [("growth-ml", first.payload["payload_hash"])]
    assert set(rows[0]) == set(diagnosis.HISTORY_COLUMNS)
    counts = diagnosis.heatmap_frame(rows)
    assert diagnosis.teams(counts) == ["All teams", "growth-ml"]
    assert diagnosis.heatmap_grid(counts, "growth-ml")["count"].tolist() == [1]
    assert diagnosis.team_table(counts).loc["data_leakage", "growth-ml"] == 1


def test_shipped_sample_is_measured(settings, store):
    run = diagnosis.run(store, settings, use_sample=True)
    assert any("progression_score_at_followup" in e["statement"] for e in run.payload["evidence"])


def test_malformed_upload_is_an_input_error():
    with pytest.raises(InputError, match="^malformed JSON: "):
        diagnosis.read_record(b"\xff\xfe not json")


def test_evaluation_of_the_shipped_example():
    raw = evaluation.sample_bytes()
    cols = evaluation.columns(raw)
    assert {"label", "score", "model", "case_id", "size_bucket"} <= set(cols)
    spec = evaluation.ColumnSpec("label", ("score",), ("size_bucket",), "model", "case_id")
    cheap = evaluation.run(raw, spec, EvalOptions(cost_fp=1.0, cost_fn=1.0))
    dear = evaluation.run(raw, spec, EvalOptions(cost_fp=1.0, cost_fn=50.0))
    assert cheap.report.source == evaluation.SAMPLE_PATH.name
    assert cheap.report.comparison is not None and "models" in cheap.tables
    assert cheap.summary and "<html" in cheap.html.lower() and "reliability" in cheap.figures
    assert dear.summary != cheap.summary          # the costs change the decision the page shows


def test_uploaded_bytes_are_labelled_upload_and_bad_columns_fail_cleanly():
    raw = evaluation.sample_bytes().replace(b"\n", b"\r\n")
    spec = evaluation.ColumnSpec("label", ("score",), model="model")
    assert evaluation.run(raw, spec, EvalOptions()).report.source == "upload"
    with pytest.raises(MlfiError):
        evaluation.run(raw, evaluation.ColumnSpec("label", ("no_such_column",)), EvalOptions())
