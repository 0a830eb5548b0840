"""Dashboard polish: verdicts in words, progress before the first verdict, honest attribution, quiet KPI deltas."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).parent))
import ui_seed

from app.schemas import RCA, DriftResult, FeatureAttribution, Metrics, Report
from app.views import attribution, kpis, verdict

UI = Path(__file__).resolve().parents[1] / "ui"


def page(name: str) -> AppTest:
    return AppTest.from_file(str(UI / "pages" / f"{name}.py"), default_timeout=30)


@pytest.fixture
def ui_env(settings, store, monkeypatch):
    monkeypatch.setenv("MLFI_HOME", str(settings.home))
    monkeypatch.delenv("MLFI_DATABASE_URL", raising=False)
    st.cache_data.clear()
    yield settings, store
    st.cache_data.clear()


def test_verdict_text_is_words_not_codes():
    assert verdict.verdict_text("none", "none") == "Healthy (no change from baseline)"
    assert verdict.verdict_text("error_spike", "critical") == "Error spike · critical"
    assert "none" not in verdict.verdict_text("none", "none").lower().replace("no change", "")
    assert set(verdict.ROOT_CAUSE_LABELS) >= set(__import__("app.schemas", fromlist=["ROOT_CAUSES"]).ROOT_CAUSES)


def test_tiny_changes_are_grey_meaningful_worsening_is_red():
    base = Metrics(avg_confidence=0.93, error_rate=0.0, latency_p50_ms=3.0, latency_p95_ms=5.0, total_samples=150)
    noise = {k.key: k for k in kpis.kpis(Metrics(avg_confidence=0.928, error_rate=0.0, latency_p50_ms=3.4,
                                                 latency_p95_ms=5.9, total_samples=150), base)}
    for key in ("avg_confidence", "error_rate", "latency_p50_ms", "latency_p95_ms"):
        assert noise[key].delta_color == "off" and noise[key].delta_text == "no change", key
    bad = {k.key: k for k in kpis.kpis(Metrics(avg_confidence=0.70, error_rate=0.12, latency_p50_ms=40.0,
                                               latency_p95_ms=90.0, total_samples=150), base)}
    assert bad["error_rate"].delta_color == "inverse" and bad["error_rate"].delta_text == "+12.0 pp"
    assert bad["latency_p95_ms"].delta_color == "inverse" and bad["avg_confidence"].delta_color == "normal"


def test_readiness_counts_towards_the_window_then_announces_the_first_analysis():
    r = verdict.readiness(samples=8, window_size=150, baseline_created_at=None, has_report=False,
                          analysis_every_s=30, now=1000.0)
    assert r.message == "Collecting baseline: 8 / 150 samples" and r.fraction == pytest.approx(8 / 150)
    r = verdict.readiness(samples=150, window_size=150, baseline_created_at=995.0, has_report=False,
                          analysis_every_s=30, now=1000.0)
    assert r.phase == "first_analysis" and r.due_in_s == pytest.approx(25.0) and "about 25 s" in r.message


def _report(cause: str, evidence: str, score: float, *, drifted: bool) -> Report:
    feats = {f"f{i}": DriftResult(method="ks", statistic=0.05, p_value=0.6, effect_size=0.05,
                                  drift_detected=drifted and i == 0).model_dump() for i in range(30)}
    return Report(endpoint="e", metrics=Metrics(), drift={"features": feats},
                  rca=RCA(root_cause=cause, severity="high",  # type: ignore[arg-type]
                          features=[FeatureAttribution(name=f"f{i}", score=score / (i + 1), evidence=evidence)
                                    for i in range(5)]))


def test_accuracy_drop_without_drift_gets_a_note_not_drift_classifier_bars():
    rep = _report("accuracy_drop", "ks: D=0.05 (adjusted p 0.9); 6% of the mean |SHAP| of a reference-vs-current "
                  "classifier", 0.12, drifted=False)
    v = attribution.attribution_view(rep)
    assert not v.show_chart and "No input feature drifted" in (v.note or "")
    noise = _report("accuracy_drop", "9% of the mean |SHAP| of a surrogate model of a wrong answer; median 1 vs 1",
                    0.11, drifted=False)
    v = attribution.attribution_view(noise)
    assert v.method == "surrogate" and not v.show_chart and "No input stands out" in (v.note or "")
    real = _report("accuracy_drop", "55% of the mean |SHAP| of a surrogate model of a wrong answer; median 9 vs 3",
                   0.34, drifted=False)
    v = attribution.attribution_view(real)
    assert v.show_chart and v.title.startswith("What a wrong answer depends on") and "drift" not in v.title
    drift = _report("feature_drift", "ks: D=0.6 (adjusted p 1e-12, flagged); 70% of the mean |SHAP| of a "
                    "reference-vs-current classifier", 0.7, drifted=True)
    assert attribution.attribution_view(drift).title.startswith("Which inputs drifted")


def test_new_endpoint_shows_baseline_progress_on_overview_and_endpoint_pages(ui_env):
    _settings, store = ui_env
    name = "http://127.0.0.1:9/new"
    store.upsert_endpoint(name)
    now = time.time()
    store.add_samples(ui_seed.model_samples(name, 8, start=now - 8, step=1.0))
    at = page("overview").run()
    assert not at.exception, [e.value for e in at.exception]
    md = " ".join(m.value for m in at.markdown)
    assert "Collecting baseline: 8 / 150 samples" in md and len(at.get("progress")) == 1
    at = page("endpoint").run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Collecting baseline: 8 / 150 samples" in " ".join(m.value for m in at.markdown)
    assert len(at.get("progress")) == 1
