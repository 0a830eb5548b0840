"""The Evaluation page renders the shipped example, reacts to costs, and shows bad input as one error."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[1] / "ui" / "pages" / "evaluation.py")


def _app() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception
    return at


def test_page_renders_the_shipped_example() -> None:
    at = _app()
    assert at.title[0].value == "Evaluation"
    assert [m.label for m in at.metric][:3] == ["accuracy", "precision", "recall"]
    assert "gradient_boosting" in at.code[0].value and "decision: threshold" in at.code[0].value
    assert not at.error
    assert any(
        df.value.columns.tolist()[:3] == ["column", "value", "n"] and df.value["value"].tolist()[0] == "medium"
        for df in at.dataframe
    )


def test_costs_change_the_decision() -> None:
    at = _app()
    before = at.code[0].value
    at.number_input(key="ev_cost_fn").set_value(1.0).run()
    assert not at.exception
    after = at.code[0].value
    assert before != after and "cost_fn=1" in after


def test_bad_column_choice_shows_one_error_not_a_traceback() -> None:
    at = _app()
    at.multiselect(key="ev_score").set_value(["mean radius"]).run()
    assert not at.exception
    assert len(at.error) == 1 and "outside [0, 1]" in at.error[0].value


def test_upload_mode_waits_for_a_file() -> None:
    at = _app()
    at.radio(key="ev_source").set_value("Upload a CSV").run()
    assert not at.exception
    assert at.info and "Upload a CSV" in at.info[0].value


def test_a_new_file_gets_its_own_column_choices() -> None:
    at = _app()
    at.multiselect(key="ev_score").set_value(["mean radius"]).run()
    assert len(at.error) == 1
    at.session_state["ev_columns"] = ["columns", "of", "the", "previous", "upload"]   # as after another upload
    at.run()
    assert not at.exception and not at.error
    assert at.multiselect(key="ev_score").value == ["score"]
