"""GET /metrics: the Prometheus exposition of the stored state, its auth, bounded labels, counters that never fall."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, str(Path(__file__).parent))
from gov_helpers import EP, make_report

from app.api import create_app
from app.api.tokens import issue_token
from app.governance import on_report
from app.observability.collector import OTHER
from app.schemas import Sample
from app.storage import tables as t
from app.storage.read.sample_counts import outcome_of


def _parse(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition as {(name, sorted labels): value}."""
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _probe(ep: str, ts: float, latency_ms: float | None = 40.0, kind: str | None = None,
           source: str = "probe") -> Sample:
    return Sample(endpoint=ep, ts=ts, source=source, prediction=None if kind else "1", confidence=None if kind else 0.9,
                  latency_ms=latency_ms, error_kind=kind)  # type: ignore[arg-type]


@pytest.fixture()
def client(store, settings) -> Iterator[tuple[TestClient, dict[str, str]]]:
    token = issue_token(store.engine, "prom", ("read",))
    with TestClient(create_app(settings, store=store)) as c:
        yield c, {"Authorization": f"Bearer {token}"}


def test_metrics_show_probes_latency_verdicts_incidents_and_watcher(store, settings, client) -> None:
    c, auth = client
    store.add_samples([_probe(EP, 1.0, 40.0), _probe(EP, 2.0, 300.0), _probe(EP, 3.0, None, "timeout"),
                       _probe(EP, 4.0, 20.0, source="ingest"), _probe(EP, 5.0, None, "made-up kind")])
    on_report(store, make_report("accuracy_drop", severity="critical", anomalies=("accuracy_drop",),
                                 created_at=100.0), settings)
    store.heartbeat(pid=1, status="running", host="h")
    r = c.get("/metrics", headers=auth)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    m = _parse(r.text)
    ep = (("endpoint", EP),)
    assert m[("mlfi_probes_total", (("endpoint", EP), ("outcome", "ok")))] == 2
    assert m[("mlfi_probes_total", (("endpoint", EP), ("outcome", "timeout")))] == 1
    assert m[("mlfi_probes_total", (("endpoint", EP), ("outcome", "other")))] == 1   # unknown kinds stay bounded
    assert m[("mlfi_ingested_predictions_total", (("endpoint", EP), ("outcome", "ok")))] == 1
    # latency in seconds: 20 ms and 40 ms at most 0.05 s, 300 ms above 0.25 s; errors carry no latency
    assert m[("mlfi_prediction_latency_seconds_bucket", (("endpoint", EP), ("le", "0.05")))] == 2
    assert m[("mlfi_prediction_latency_seconds_bucket", (("endpoint", EP), ("le", "0.25")))] == 2
    assert m[("mlfi_prediction_latency_seconds_bucket", (("endpoint", EP), ("le", "0.5")))] == 3
    assert m[("mlfi_prediction_latency_seconds_count", ep)] == 3
    assert m[("mlfi_prediction_latency_seconds_sum", ep)] == pytest.approx(0.36)
    assert m[("mlfi_verdict_severity", ep)] == 4
    assert m[("mlfi_verdict_root_cause", (("endpoint", EP), ("root_cause", "accuracy_drop")))] == 1
    assert m[("mlfi_verdict_root_cause", (("endpoint", EP), ("root_cause", "none")))] == 0
    assert m[("mlfi_detector_verdict", (("detector", "accuracy_drop"), ("endpoint", EP)))] == 3   # high
    assert m[("mlfi_detector_verdict", (("detector", "ks"), ("endpoint", EP)))] == 0
    assert m[("mlfi_accuracy_ratio", ep)] == pytest.approx(0.62)
    assert m[("mlfi_baseline_accuracy_ratio", ep)] == pytest.approx(0.95)
    assert m[("mlfi_incidents_open", ep)] == 1
    assert m[("mlfi_incident_open", (("endpoint", EP), ("root_cause", "accuracy_drop"), ("severity", "critical")))] == 1
    assert m[("mlfi_incidents_opened_total", ep)] == 1
    assert sum(v for (n, _), v in m.items() if n == "mlfi_recommendations_pending") >= 1
    assert m[("mlfi_store_up", ())] == 1
    assert 0 <= m[("mlfi_watcher_heartbeat_age_seconds", (("watcher", "1"),))] < 60
    assert m[("mlfi_watcher_running", (("watcher", "1"),))] == 1
    assert any(n == "mlfi_build_info" for n, _ in m)
    assert all(n.startswith("mlfi_") for n, _ in m)

    # healthy again: incident closed, verdict none; counters only grow, by the new rows only
    on_report(store, make_report("none", created_at=200.0), settings)
    store.add_samples([_probe(EP, 6.0, 10.0)])
    m = _parse(c.get("/metrics", headers=auth).text)
    assert m[("mlfi_incidents_open", ep)] == 0 and m[("mlfi_verdict_severity", ep)] == 0
    assert m[("mlfi_probes_total", (("endpoint", EP), ("outcome", "ok")))] == 3
    assert m[("mlfi_prediction_latency_seconds_count", ep)] == 4


def test_counters_do_not_fall_when_raw_samples_are_pruned(store, client) -> None:
    c, auth = client
    store.add_samples([_probe(EP, float(i)) for i in range(1, 11)])
    key = ("mlfi_probes_total", (("endpoint", EP), ("outcome", "ok")))
    assert _parse(c.get("/metrics", headers=auth).text)[key] == 10
    with store.engine.begin() as conn:
        conn.execute(t.samples.delete().where(t.samples.c.ts < 9))
    assert _parse(c.get("/metrics", headers=auth).text)[key] == 10
    store.add_samples([_probe(EP, 20.0)])
    assert _parse(c.get("/metrics", headers=auth).text)[key] == 11


def test_metrics_need_a_read_token_unless_public(store, settings, client) -> None:
    c, _auth = client
    assert c.get("/metrics").status_code == 401
    assert c.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    ingest_only = issue_token(store.engine, "pusher", ("ingest",))
    r = c.get("/metrics", headers={"Authorization": f"Bearer {ingest_only}"})
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    settings.metrics_public = True
    assert c.get("/metrics").status_code == 200


def test_labels_are_bounded_and_never_carry_values(store, settings, client, monkeypatch) -> None:
    from app.storage.read import metrics as state

    c, auth = client
    monkeypatch.setattr(state, "MAX_ENDPOINTS", 2)
    secret_feature = "feature-value-7f3a"
    for i in range(4):
        s = _probe(f"ep{i}", 1.0)
        s.inputs = {"x": secret_feature}
        store.add_samples([s])
    m = _parse(c.get("/metrics", headers=auth).text)
    probes = {dict(lbl)["endpoint"]: v for (n, lbl), v in m.items() if n == "mlfi_probes_total"}
    assert probes == {"ep0": 1, "ep1": 1, OTHER: 2}
    assert {dict(lbl)["endpoint"] for (n, lbl), _ in m.items() if n == "mlfi_endpoint_enabled"} == {"ep0", "ep1"}
    assert secret_feature not in c.get("/metrics", headers=auth).text
    assert outcome_of("x" * 500) == "other"


def test_an_unreadable_store_is_reported_not_a_500(store, settings, client, monkeypatch) -> None:
    from sqlalchemy.exc import OperationalError

    from app.storage.read import metrics as state

    c, auth = client

    def broken(engine):
        raise OperationalError("select", {}, Exception("disk I/O error"))

    monkeypatch.setattr(state, "endpoints", broken)
    r = c.get("/metrics", headers=auth)
    m = _parse(r.text)
    assert r.status_code == 200 and m[("mlfi_store_up", ())] == 0 and any(n == "mlfi_build_info" for n, _ in m)


def test_an_unreadable_stored_report_still_gives_its_verdict(store, settings, client) -> None:
    c, auth = client
    on_report(store, make_report("error_spike", severity="high", created_at=100.0), settings)
    with store.engine.begin() as conn:
        conn.execute(t.reports.update().values(report_json="{not json"))
    m = _parse(c.get("/metrics", headers=auth).text)
    assert m[("mlfi_verdict_severity", (("endpoint", EP),))] == 3
    assert m[("mlfi_verdict_root_cause", (("endpoint", EP), ("root_cause", "error_spike")))] == 1
