"""AppTest for every dashboard page against a seeded temporary MLFI_HOME (widgets found by key)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).parent))
import ui_seed

UI = Path(__file__).resolve().parents[1] / "ui"


def page(name: str) -> AppTest:
    return AppTest.from_file(str(UI / "pages" / f"{name}.py"), default_timeout=30)


def clean(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture
def ui_env(settings, store, monkeypatch):
    """A state dir the pages see through MLFI_HOME, with fresh Streamlit caches."""
    monkeypatch.setenv("MLFI_HOME", str(settings.home))
    monkeypatch.delenv("MLFI_DATABASE_URL", raising=False)
    monkeypatch.delenv("MLFI_OPERATOR_NAME", raising=False)
    st.cache_data.clear()
    yield settings, store
    st.cache_data.clear()


@pytest.fixture
def seeded(ui_env):
    settings, store = ui_env
    return ui_seed.seed(settings, store)


def test_every_page_renders_on_an_empty_database(ui_env):
    for name in ("overview", "endpoint", "investigation", "recommendations", "export", "add_endpoint"):
        at = clean(page(name).run())
        assert not at.error, (name, [e.value for e in at.error])


def test_overview_lists_status_and_toggles_monitoring(seeded, ui_env):
    _, store = ui_env
    at = clean(page("overview").run())
    html = " ".join(m.value for m in at.markdown)
    assert "FAILING" in html and seeded["name"] in html and "1 open" in html and "600" in html
    assert any("Watcher not running" in w.value for w in at.warning)
    at.button(key="ov_toggle_0").click().run()
    clean(at)
    assert store.get_endpoint(seeded["name"]).enabled is False
    assert "STOPPED" in " ".join(m.value for m in at.markdown)
    assert any("Monitoring stopped" in s.value for s in at.success)


def test_endpoint_page_kpis_charts_drift_alerts(seeded, ui_env):
    at = clean(page("endpoint").run())
    labels = {m.label: m for m in at.metric}
    assert {"Confidence", "Conf. std", "Error rate", "p50 latency", "p95 latency", "Accuracy", "Window"} <= set(labels)
    assert labels["Error rate"].value == "10.0%" and labels["Error rate"].delta.startswith("+")
    keys = {c.key for c in at.get("plotly_chart")}
    # rolling accuracy / errors / confidence / p95 latency, class mix, volume, label-free estimate, drift by verdict,
    # feature histograms
    assert keys == {"chart_accuracy", "chart_error_rate", "chart_confidence", "chart_latency_p95_ms", "chart_mix",
                    "chart_volume", "chart_estimate", "chart_drift", "chart_hist"}, keys
    assert any("estimate is unreliable" in c.value for c in at.caption)   # the seed's last window left the support
    assert "Alerts (" in at.subheader[0].value and at.dataframe
    at.segmented_control(key="ep_range").set_value("15 min").run()
    clean(at)
    at.segmented_control(key="ep_range").set_value("30 days").run()     # issue 17: from the aggregates
    captions = " ".join(c.value for c in clean(at).caption)
    assert "from the per-minute aggregates" in captions and "Kept: raw samples for 1 h" in captions


def test_endpoint_page_start_stop(seeded, ui_env):
    _, store = ui_env
    at = clean(page("endpoint").run())
    at.button(key="ep_toggle").click().run()
    assert store.get_endpoint(seeded["name"]).enabled is False
    assert clean(at).button(key="ep_toggle").label == "Start monitoring"
    at.button(key="ep_toggle").click().run()
    assert store.get_endpoint(seeded["name"]).enabled is True


def test_investigation_shows_root_cause_attribution_segments(seeded):
    at = clean(page("investigation").run())
    md = " ".join(m.value for m in at.markdown)
    assert "Feature drift" in md and "HIGH" in md
    assert "mean radius" in at.error[0].value          # the plain-English explanation, as a high-severity callout
    assert len(at.get("plotly_chart")) == 1           # SHAP attribution bar chart
    assert any("No similar past incident" in c.value for c in at.caption)
    at.segmented_control(key="inv_filter").set_value("all").run()
    clean(at)


def test_export_downloads_csv_without_secrets(seeded):
    at = clean(page("export").run())
    keys = {b.key for b in at.get("download_button")}
    assert {"dl_metrics", "dl_reports", "dl_audit"} <= keys
    for b in at.get("download_button"):
        assert b.proto.label


def test_dashboard_routes_and_sidebar(seeded):
    at = AppTest.from_file(str(UI / "dashboard.py"), default_timeout=30).run()
    clean(at)
    assert at.sidebar.button(key="watcher_start") and at.sidebar.button(key="watcher_stop").disabled
    assert at.title[0].value == "Overview"
    assert at.sidebar.select_slider(key="refresh_s").value == 2 and at.sidebar.toggle(key="refresh_paused").value is False
    at.sidebar.toggle(key="refresh_paused").set_value(True).run()      # a rerun keeps the routed layout
    at.sidebar.select_slider(key="refresh_s").set_value(10).run()
    assert clean(at).session_state["refresh_s"] == 10 and at.session_state["refresh_paused"] is True
    for path, title in (("pages/endpoint.py", "Endpoint"), ("pages/investigation.py", "Investigation"),
                        ("pages/recommendations.py", "Recommendations"), ("pages/export.py", "Export"),
                        ("pages/add_endpoint.py", "Add endpoint")):
        at.switch_page(path).run()
        assert clean(at).title[0].value == title
        assert at.sidebar.button(key="watcher_start")            # the sidebar is on every page


def _refresher(at: AppTest) -> list:
    return [e for e in at.main if getattr(e, "key", None) == "endpoint_refresh"]


def test_auto_refresh_component_can_be_paused(seeded):
    at = clean(page("endpoint").run())
    assert len(_refresher(at)) == 1 and _refresher(at)[0].proto.json_args
    assert '"interval": 2000' in _refresher(at)[0].proto.json_args
    at = page("endpoint")
    at.session_state["refresh_s"] = 10
    assert '"interval": 10000' in _refresher(clean(at.run()))[0].proto.json_args
    at = page("endpoint")
    at.session_state["refresh_paused"] = True
    assert _refresher(clean(at.run())) == []


def test_unusable_database_is_a_message_on_every_page(ui_env, monkeypatch):
    monkeypatch.setenv("MLFI_DATABASE_URL", "nosuchdialect://nowhere/db")
    for name in ("overview", "endpoint", "investigation", "recommendations", "export", "add_endpoint"):
        at = clean(page(name).run())
        assert at.error and "Cannot open the mlfi database" in at.error[0].value, name


def test_passive_endpoint_shows_no_probe_schedule_and_no_start_stop(ui_env):
    _settings, store = ui_env
    name = "fraud-v3"
    store.upsert_endpoint(name, url=None, protocol="ingest", interval_s=5.0)
    store.add_samples(ui_seed.model_samples(name, 30, start=1_000.0, step=1.0))
    at = clean(page("endpoint").run())
    text = " ".join(c.value for c in at.caption) + " ".join(m.value for m in at.markdown)
    assert "ingested data" in text and "every 5 s" not in text and "last probe" not in text
    assert not [b for b in at.button if b.key == "ep_toggle"]
    ov = clean(page("overview").run())
    assert not [b for b in ov.button if (b.key or "").startswith("ov_toggle")]
    assert "ingested data (passive)" in " ".join(m.value for m in ov.markdown)


def test_endpoint_page_shows_a_changed_input_mix_as_a_note_not_unreliable(seeded, ui_env):
    """Issue 11: a domain classifier that tells the windows apart (AUC 0.8-0.998) is a note on the estimate; the
    caption says so, and the reports export carries it in ``estimate_note``."""
    import time as _time

    from app.exporting import reports_frame

    _, store = ui_env
    last = store.list_reports(seeded["name"], limit=1)[0]
    note = ("the input mix changed (a classifier tells the window from the reference, AUC 0.93) but the inputs "
            "stay within the reference's range")
    ep = last.estimated_performance.model_copy(update={"unreliable": False, "reasons": [], "notes": [note]})
    store.save_report(last.model_copy(update={"estimated_performance": ep, "created_at": _time.time()}))
    at = clean(page("endpoint").run())
    captions = [c.value for c in at.caption]
    assert any(c.startswith("Latest label-free estimate, note: the input mix changed") for c in captions), captions
    assert not any("estimate is unreliable" in c for c in captions)
    df = reports_frame(store, seeded["name"])
    assert df["estimate_note"].iloc[-1] == note and (df["estimate_note"].iloc[:-1].fillna("") == "").all()
