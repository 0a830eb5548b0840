"""The dashboard's pure-Python queries (app.views) against a seeded temporary database."""

from __future__ import annotations

import json
import socket
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import ui_seed

from app.errors import ConflictError, InputError
from app.schemas import Metrics
from app.views import decisions, drift_map, endpoint_form, export, incidents, kpis, overview, series, status


@pytest.fixture
def seeded(settings, store):
    return ui_seed.seed(settings, store)


def test_overview_status_and_counts(store, seeded):
    rows = overview.overview(store)
    assert len(rows) == 1
    row = rows[0]
    assert row.status == "failing"                    # newest report is a high-severity alert
    assert row.samples == store.count_samples(seeded["name"]) == 600
    newest = store.latest_report(seeded["name"])
    assert row.error_rate == newest.metrics.error_rate > 0           # the newest window's error rate
    assert [r.name for r in overview.overview(store, name=seeded["name"])] == [seeded["name"]]
    assert overview.overview(store, name="nope") == []
    assert row.open_incidents == 1 and row.last_verdict == "feature_drift"
    store.set_enabled(seeded["name"], False)
    assert overview.overview(store)[0].status == "stopped"
    assert overview.status_counts(overview.overview(store))["stopped"] == 1


def test_new_endpoint_is_pending_then_unreachable(store):
    store.upsert_endpoint("http://x/predict", url="http://x/predict")
    assert overview.overview(store)[0].status == "pending"
    eid = int(store.get_endpoint("http://x/predict").id)
    store.record_probe_status(eid, time.time(), "connection_error", status.UNREACHABLE_AFTER)
    assert overview.overview(store)[0].status == "unreachable"


def test_watcher_info_reads_heartbeat(store, settings):
    assert status.watcher_info(store, settings).alive is False
    store.heartbeat(pid=999_999_999, status="running", started_at=time.time())  # a pid that cannot exist
    info = status.watcher_info(store, settings)
    # a recent "running" beat whose process is gone: the watcher died (killed), not stopped
    assert info.status == "died" and info.last_beat_age_s is not None and info.last_beat_age_s < 5
    assert info.alive is False


def test_kpis_against_stored_baseline(store, seeded):
    base, version = kpis.baseline_metrics(store, seeded["name"])
    assert version == 1 and base is not None and base.avg_confidence == seeded["baseline"].metrics.avg_confidence
    cur = kpis.window_metrics(store, seeded["name"], last_n=150)
    assert cur.total_samples == 150 and cur.error_rate == pytest.approx(0.1)  # every 10th drifted probe failed
    tiles = {k.key: k for k in kpis.kpis(cur, base)}
    assert tiles["error_rate"].delta == pytest.approx(cur.error_rate - base.error_rate)
    assert tiles["error_rate"].better == "lower" and tiles["accuracy"].better == "higher"


def test_timeseries_is_bounded_whatever_the_count(store):
    now = time.time()
    ui_seed.bulk_samples(store, "big", 20_000, start=now - 20_000, step=1.0)
    df = series.timeseries(store, "big", max_points=100)
    assert 50 <= len(df) <= 101
    assert int(df["n"].sum()) == 20_000               # every sample is counted once
    recent = series.timeseries(store, "big", since=now - 3600, max_points=100)
    assert int(recent["n"].sum()) == pytest.approx(3600, abs=2) and len(recent) <= 101
    with pytest.raises(ValueError):
        series.timeseries(store, "big", max_points=1)


def test_alert_markers_and_band(store, seeded):
    marks = series.alert_markers(store, seeded["name"])
    n_alerts = sum(1 for r in store.list_reports(seeded["name"], limit=1000) if r.alert)
    assert len(marks) == n_alerts > 0
    assert set(marks["root_cause"]) == {"feature_drift"} and "mean radius" in marks["message"].iloc[0]
    band = series.baseline_band(seeded["baseline"].metrics)
    assert band is not None and band.low < band.centre < band.high <= 1.0


def test_drift_grid_bounded_and_flags_the_drifted_feature(store, seeded):
    grid = drift_map.drift_grid(store, seeded["name"], max_columns=5)
    assert len(grid.times) == 5 and grid.report_ids[-1] == seeded["report_ids"][-1]
    assert grid.variables[0] == "[confidence]" and grid.variables[1] == "mean radius"
    row = grid.variables.index("mean radius")
    assert grid.flag[row][-1] is True and grid.flag[row][0] is False


def test_incident_detail_with_attribution_and_similar(store, seeded):
    frame = incidents.list_incidents(store)
    assert list(frame["id"]) == [seeded["incident_id"]]
    d = incidents.incident_detail(store, seeded["incident_id"])
    assert d.report is not None and d.report.rca.root_cause == "feature_drift"
    attr = incidents.attribution_frame(d.report)
    assert attr["feature"].iloc[0] == "mean radius"
    assert d.similar == [] and d.similar_source == "app.governance"   # nothing older to compare with


def test_export_never_contains_headers(store, seeded):
    blobs = [export.metrics_csv(store, seeded["name"]), export.reports_csv(store, seeded["name"]),
             export.audit_csv(store)]
    for blob in blobs:
        assert b"SECRET-TOKEN" not in blob and b"Authorization" not in blob
    assert blobs[0].splitlines()[0].startswith(b"endpoint,time_utc,ts,n")
    assert len(blobs[1].splitlines()) == len(seeded["report_ids"]) + 1


def test_decisions_rank_and_audit(store, settings, seeded):
    recs = decisions.ranked(store)
    assert [r.priority for r in recs] == ["CRITICAL", "HIGH"]
    with pytest.raises(InputError, match="reason"):
        decisions.decide(store, settings, recs[0].id, "approve", by="ana", reason="  ")
    with pytest.raises(InputError, match="name"):
        decisions.decide(store, settings, recs[0].id, "reject", by="", reason="x")
    msg = decisions.decide(store, settings, recs[0].id, "reject", by="ana", reason="not our pipeline")
    assert "rejected by ana" in msg
    with pytest.raises(ConflictError):
        decisions.decide(store, settings, recs[0].id, "approve", by="bo", reason="again")
    st = decisions.audit_status(store, settings)
    assert st["ok"] and st["entries"] == 1
    log = export.audit_frame(store)
    assert log["event"].tolist() == ["rejected"] and json.loads(log["payload"][0])["reason"] == "not our pipeline"


@pytest.mark.parametrize("field,kwargs,needle", [
    ("url", {"url": "localhost:9000"}, "http://"),
    ("url", {"url": ""}, "must not be empty"),
    ("interval", {"interval_s": 0}, "interval"),
    ("interval", {"interval_s": "soon"}, "number of seconds"),
    ("headers", {"headers_text": "Authorization Bearer x"}, "header entry 1"),
    ("protocol", {"protocol": "grpc"}, "unknown protocol"),
])
def test_form_validation_messages(field, kwargs, needle):
    args = {"name": "", "url": "http://127.0.0.1:9000/predict", "protocol": "auto", "headers_text": "",
            "interval_s": 5, **kwargs}
    req, errors = endpoint_form.validate_form(**args)
    assert req is None and len(errors) == 1 and needle in errors[0]
    assert "Bearer" not in errors[0]                  # header values never echoed


def test_form_defaults_name_to_url_and_parses_headers():
    req, errors = endpoint_form.validate_form(name=" ", url="http://h:1/p", protocol="auto",
                                              headers_text="X-Key: abc; A: b:c", interval_s="2")
    assert errors == [] and req is not None
    assert req.name == "http://h:1/p" and req.headers == {"X-Key": "abc", "A": "b:c"} and req.interval_s == 2.0
    assert "abc" not in repr(req)


def test_probe_set_upload_validation(settings):
    with pytest.raises(InputError, match="empty"):
        endpoint_form.save_probe_set(settings, "e", b"  ")
    path = endpoint_form.save_probe_set(settings, "http://e/p", b"a,b,target\n1,2,0\n3,4,1\n", label_column="target")
    assert path.parent == settings.data_dir / "probe_sets" and path.read_bytes().startswith(b"a,b,target")
    with pytest.raises(InputError):
        endpoint_form.save_probe_set(settings, "e", b"a,b\n1,2\n", label_column="missing_label")
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]   # rejected uploads leave nothing


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_endpoint_is_a_clear_message_and_nothing_is_stored(store):
    url = f"http://127.0.0.1:{_free_port()}/predict"
    req, _ = endpoint_form.validate_form(name="", url=url, protocol="auto", headers_text="", interval_s=5)
    res = endpoint_form.test_connection(req, timeout_s=1.0)
    assert res.ok is False and res.message and "Traceback" not in res.message
    with pytest.raises(Exception) as exc_info:
        endpoint_form.add_endpoint(store, req, timeout_s=1.0)
    assert type(exc_info.value).__name__ == "EndpointError"
    assert store.find_endpoint(url) is None
    row = endpoint_form.add_endpoint(store, req, verify=False)     # a person may add it while it is down
    assert row.enabled and row.headers == {}
    with pytest.raises(ConflictError):
        endpoint_form.add_endpoint(store, req, verify=False)


def test_kpi_text():
    k = kpis.kpis(Metrics(latency_p95_ms=12.0, accuracy=0.9), Metrics(latency_p95_ms=10.0, accuracy=0.95))
    by = {x.key: x for x in k}
    assert by["latency_p95_ms"].delta_text == "+2.0 ms" and by["accuracy"].delta_text == "-5.0 pp"


def test_long_ranges_aggregate_a_bounded_time_stratified_sample(store):
    now = time.time()
    ui_seed.bulk_samples(store, "dense", 40_000, start=now - 40_000, step=1.0)
    ui_seed.bulk_samples(store, "other", 40_000, start=now - 40_000, step=1.0, seed=1)   # interleaved ids
    exact = series.timeseries(store, "dense", max_points=50, row_budget=10**9)
    sampled = series.timeseries(store, "dense", max_points=50, row_budget=8_000)
    assert (exact["sample_rate"] == 1.0).all() and sampled["sample_rate"].iloc[0] == pytest.approx(0.2, rel=0.01)
    assert exact.attrs == {"n_range": 40_000, "n_exact": True}
    assert sampled.attrs["n_exact"] is False and sampled.attrs["n_range"] == pytest.approx(40_000, rel=0.01)
    assert series.estimate_in_range(store, "dense", since=None, budget=40_000) is None      # fits the budget
    assert series.estimate_in_range(store, "dense", since=now - 10_000, budget=1_000) == pytest.approx(10_000, rel=0.01)
    assert len(sampled) <= 50 and int(sampled["n"].sum()) == pytest.approx(8_000, rel=0.02)
    for col in ("avg_confidence", "avg_latency_ms", "error_rate", "accuracy"):
        assert sampled[col].mean() == pytest.approx(exact[col].mean(), rel=0.05, abs=0.003), col
    with pytest.raises(ValueError):
        series.sampled_timeseries(store, "dense", since=None, max_points=50, min_bucket_s=1, rate=0)


def test_sampled_series_still_shows_an_outage(store):
    now = time.time()
    ui_seed.bulk_samples(store, "spiky", 30_000, start=now - 30_000, step=1.0)
    eid = int(store.get_endpoint("spiky").id)
    from app.storage import tables as t
    with store.engine.begin() as conn:   # a 30-minute outage: every probe failed
        conn.execute(t.samples.update().where((t.samples.c.endpoint_id == eid) & (t.samples.c.ts >= now - 10_000)
                                              & (t.samples.c.ts < now - 8_200)).values(error_kind="timeout"))
    df = series.timeseries(store, "spiky", max_points=60, row_budget=3_000)
    assert df["sample_rate"].iloc[0] < 0.2 and df["error_rate"].max() > 0.9
    assert df.loc[df["error_rate"] > 0.9, "ts"].between(now - 10_600, now - 8_200).all()
