"""Experiment diagnosis page: runs a diagnosis, shows gate/evidence/hash, stores history, no tracebacks."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.config import Settings
from app.storage import Store

PAGE = str(Path(__file__).resolve().parents[1] / "ui" / "pages" / "diagnosis.py")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MLFI_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MLFI_DATABASE_URL", raising=False)
    return tmp_path / "home"


def _app() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception
    return at


def test_page_renders_and_history_starts_empty(home: Path) -> None:
    at = _app()
    assert at.title[0].value == "Experiment diagnosis"
    assert at.info and "No stored diagnoses" in at.info[0].value


def test_run_shows_diagnosis_hash_and_stores_it_for_the_heatmap(home: Path) -> None:
    at = _app()
    at.text_input(key="dx_team").set_value("growth-ml")
    at.button(key="dx_run").click().run()
    assert not at.exception and not at.error
    assert at.metric[0].value == "data leakage"                                     # words, not snake_case
    assert any("Blocked until a person reviews it" in m.value for m in at.markdown)
    assert not any("BLOCKED_PENDING" in m.value or "True" in m.value for m in at.markdown)
    hashes = [c.value for c in at.code if len(c.value) == 64]
    assert hashes, "payload_hash not shown"
    st = Store(Settings().db_url)
    rows = st.list_diagnoses()
    st.dispose()
    assert len(rows) == 1 and rows[0]["team"] == "growth-ml" and rows[0]["payload_hash"] == hashes[0]
    assert at.selectbox(key="dx_hist_team").options == ["All teams", "growth-ml"]


def test_empty_prompt_is_one_error_not_a_traceback(home: Path) -> None:
    at = _app()
    at.button(key="dx_run").click().run()                   # a good run first ...
    assert at.metric
    at.text_area(key="dx_prompt").set_value("   ")
    at.button(key="dx_run").click().run()
    assert not at.exception
    assert len(at.error) == 1 and "empty prompt" in at.error[0].value
    assert not at.metric, "the previous run's result must not stay under the error"


def test_shipped_dataset_example_names_the_leaking_column(home: Path) -> None:
    at = _app()
    at.radio(key="dx_mode").set_value("Shipped dataset example").run()
    at.checkbox(key="dx_save").uncheck()
    at.button(key="dx_run").click().run()
    assert not at.exception and not at.error
    assert at.metric[0].value == "data leakage"
    evidence = at.dataframe[0].value
    assert evidence["statement"].str.contains("progression_score_at_followup").any()


def test_readiness_questions_and_governance_items_are_decided_on_the_page(home: Path) -> None:
    at = _app()
    at.button(key="dx_run").click().run()
    assert not at.exception and not at.error
    assert [s.value for s in at.subheader if s.value in ("Readiness questions", "Governance")] == [
        "Readiness questions", "Governance"]
    assert 3 <= sum(e.label.startswith("Answer key") for e in at.expander) <= 5
    assert any("Deployment gate: **blocked**" in m.value for m in at.markdown)
    from app.governance import list_recommendations

    st = Store(Settings().db_url)
    recs = list_recommendations(st)
    st.dispose()
    gate = next(r for r in recs if r.id.endswith("-gate"))
    at.text_input(key="dx_operator").set_value("ana")
    at.text_input(key=f"dx_reason_{gate.id}").set_value("audit done, leak removed")
    at.button(key=f"dx_approve_{gate.id}").click().run()
    assert not at.exception and not at.error
    assert any("Deployment gate: **released** by ana" in m.value for m in at.markdown)
    assert any(f"{gate.id} approved by ana" in s.value for s in at.success)
