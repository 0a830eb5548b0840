"""The HTTP service over real HTTP: `mlfi serve-api` (uvicorn) in a child process, the demo model in a thread.

One server for the whole module; tokens of each scope are made in its database before it starts."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests

from app.analysis.run import run_baseline
from app.analysis.target import EndpointSpec
from app.config import Settings
from app.governance import audit, list_incidents
from app.schemas import Report
from app.storage import Store
from tests.api_harness import Service, demo_model, make_tokens, serve_api

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"
MAX_BODY = 1_000_000

# every route but /health and /ready: (method, path, scope it needs, a cheap valid body or None)
ROUTES: list[tuple[str, str, str, dict | None]] = [
    ("GET", "/version", "read", None),
    ("GET", "/metrics", "read", None),            # i15-obs: Prometheus exposition (MLFI_METRICS_PUBLIC unset)
    ("POST", "/monitoring/analyze", "read", {"prediction_url": "http://127.0.0.1:9/nowhere"}),
    ("POST", "/monitoring/prediction", "ingest", {"endpoint": "auth-matrix", "features": {"a": 1}, "prediction": 1}),
    ("GET", "/api/v1/recommendations", "read", None),
    ("POST", "/api/v1/recommendations/nope/approve", "approve", {"reason": "r"}),
    ("POST", "/api/v1/recommendations/nope/reject", "approve", {"reason": "r"}),
    ("POST", "/api/v1/endpoints/999/predictions", "ingest", {"predictions": [{"features": {}, "prediction": 1}]}),
    ("POST", "/api/v1/endpoints/999/labels", "ingest", {"labels": [{"prediction_id": 1, "label": 1}]}),
    ("GET", "/api/v1/incidents", "read", None),
    ("GET", "/api/v1/audit", "read", None),
    ("GET", "/api/v1/audit/verify", "read", None),
    ("GET", "/api/v1/endpoints", "read", None),
    ("GET", "/api/v1/endpoints/999", "read", None),
    ("PUT", "/api/v1/endpoints", "admin", {"url": "http://127.0.0.1:9/auth-matrix"}),
    ("DELETE", "/api/v1/endpoints/999", "admin", None),
    ("GET", "/api/v1/endpoints/999/reports", "read", None),
    ("GET", "/api/v1/endpoints/999/baselines", "read", None),
    ("POST", "/api/v1/diagnoses", "ingest", {"prompt": "train 99% / validation 70%"}),
    ("POST", "/api/v1/analyses", "read", {"endpoint_id": 999}),
    ("GET", "/api/v1/analyses", "read", None),
    ("GET", "/api/v1/analyses/998", "read", None),
    ("POST", "/api/v1/evaluations?label=y&score=p", "read", None),
]
# a token that lacks each scope
WRONG = {"read": "ingester", "ingest": "reader", "approve": "ingester", "admin": "approver"}


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    home = tmp_path_factory.mktemp("api") / "home"
    settings = Settings(home=home, _env_file=None)  # type: ignore[call-arg]
    store = Store.from_settings(settings)
    tokens = make_tokens(store)
    log = home.parent / "serve-api.log"
    with demo_model() as demo, serve_api(home, log, MLFI_API_MAX_BODY_BYTES=str(MAX_BODY)) as base:
        run_baseline(settings, store, EndpointSpec(f"{demo}/predict"), 150, seed=0)
        yield Service(base=base, settings=settings, store=store, tokens=tokens, log=log, demo=demo)
    store.dispose()


def _is_problem(r: requests.Response, status: int) -> dict:
    assert r.status_code == status, (r.status_code, r.text[:500])
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["status"] == status and body["type"].startswith("urn:mlfi:problem:") and body["title"] and body["detail"]
    assert "Traceback" not in r.text
    return body


def _call(svc: Service, method: str, path: str, body: dict | None, token: str | None) -> requests.Response:
    headers = {"Authorization": f"Bearer {svc.tokens[token]}"} if token else {}
    return requests.request(method, svc.base + path, json=body, headers=headers, timeout=60)


def test_health_and_ready_need_no_token(svc: Service) -> None:
    h = requests.get(f"{svc.base}/health", timeout=5)
    assert h.status_code == 200 and h.json()["status"] == "ok" and h.json()["version"]
    r = requests.get(f"{svc.base}/ready", timeout=5).json()
    assert r["ready"] is True and r["database"] == "ok"
    v = requests.get(f"{svc.base}/version", headers=svc.auth("reader"), timeout=5).json()
    assert v["version"] == h.json()["version"]


def test_route_table_covers_every_route_of_the_openapi(svc: Service) -> None:
    spec = requests.get(f"{svc.base}/openapi.json", timeout=5).json()
    declared = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops} - {("GET", "/health"), ("GET", "/ready")}
    table = {(m, p.split("?")[0].replace("/nope/", "/{rec_id}/").replace("/999", "/{endpoint_id}")
              .replace("/998", "/{analysis_id}")) for m, p, _, _ in ROUTES}
    assert declared == table


@pytest.mark.parametrize(("method", "path", "scope", "body"), ROUTES, ids=[f"{m} {p}" for m, p, _, _ in ROUTES])
def test_auth_matrix(svc: Service, method: str, path: str, scope: str, body: dict | None) -> None:
    none = _is_problem(_call(svc, method, path, body, None), 401)
    assert "bearer token is required" in none["detail"]
    wrong = _is_problem(_call(svc, method, path, body, WRONG[scope]), 403)
    assert scope in wrong["detail"]
    _is_problem(_call(svc, method, path, body, "revoked"), 401)
    bad = requests.request(method, svc.base + path, json=body, headers={"Authorization": "Bearer mlfi_forged"}, timeout=10)
    assert _is_problem(bad, 401)["detail"] == "the bearer token is unknown or revoked"
    assert bad.headers["www-authenticate"].startswith("Bearer")


def test_analyze_returns_the_report_of_mlfi_analyze(svc: Service) -> None:
    url = f"{svc.demo}/predict"
    r = requests.post(f"{svc.base}/monitoring/analyze", json={"prediction_url": url, "samples": 60},
                      headers=svc.auth("reader"), timeout=120)
    assert r.status_code == 200, r.text[:500]
    rep = Report.model_validate(r.json())          # the contract's report model, the same as `--json` prints
    assert rep.endpoint == url and rep.samples_collected == 60 and rep.report_id is not None
    assert set(Report.model_fields) <= set(r.json())


def test_analyze_of_an_unregistered_url_needs_admin(svc: Service) -> None:
    body = {"prediction_url": "http://127.0.0.1:9/internal"}
    denied = _is_problem(requests.post(f"{svc.base}/monitoring/analyze", json=body, headers=svc.auth("reader"),
                                       timeout=10), 403)
    assert "admin" in denied["detail"]
    # admin passes the gate; the URL has no baseline, which is refused before any request is sent
    _is_problem(requests.post(f"{svc.base}/monitoring/analyze", json=body, headers=svc.auth("admin"), timeout=10), 409)
    probe_set = {"prediction_url": f"{svc.demo}/predict", "probe_set": "/etc/passwd"}
    assert "probe_set" in _is_problem(requests.post(f"{svc.base}/monitoring/analyze", json=probe_set,
                                                    headers=svc.auth("reader"), timeout=10), 403)["detail"]
    bad = _is_problem(requests.post(f"{svc.base}/monitoring/analyze", json={"prediction_url": "ftp://x/y"},
                                    headers=svc.auth("admin"), timeout=10), 400)
    assert "bad URL" in bad["detail"]


def test_prediction_is_stored_with_the_checks_of_mlfi_ingest(svc: Service) -> None:
    one = {"endpoint": "shop-logs", "features": {"age": 31, "city": "Oslo"}, "prediction": "buy", "confidence": 0.8,
           "label": "buy", "latency_ms": 12.5, "timestamp": "2026-01-02T03:04:05+00:00"}
    r = requests.post(f"{svc.base}/monitoring/prediction", json=one, headers=svc.auth("ingester"), timeout=10)
    assert r.status_code == 201, r.text
    assert r.json()["total_samples"] == 1 and r.json()["prediction_id"] > 0
    (s,) = svc.store.recent_samples("shop-logs")
    assert (s.inputs, s.prediction, s.label, s.confidence, s.latency_ms, s.source) == (
        {"age": 31, "city": "Oslo"}, "buy", "buy", 0.8, 12.5, "ingest")
    assert s.ts == 1767323045.0
    bad_conf = _is_problem(requests.post(f"{svc.base}/monitoring/prediction", json={**one, "confidence": 1.5},
                                         headers=svc.auth("ingester"), timeout=10), 422)
    assert bad_conf["errors"][0]["loc"] == ["body", "confidence"]
    old = _is_problem(requests.post(f"{svc.base}/monitoring/prediction", json={**one, "timestamp": 5.0},
                                    headers=svc.auth("ingester"), timeout=10), 400)
    assert "not a timestamp" in old["detail"]
    probed = _is_problem(requests.post(f"{svc.base}/monitoring/prediction",
                                       json={**one, "endpoint": f"{svc.demo}/predict"},
                                       headers=svc.auth("ingester"), timeout=10), 400)
    assert "probed over HTTP" in probed["detail"]
    assert svc.store.count_samples("shop-logs") == 1
    _is_problem(requests.post(f"{svc.base}/monitoring/prediction", data=b"{not json",
                              headers={**svc.auth("ingester"), "Content-Type": "application/json"}, timeout=10), 422)


def test_recommendations_pages_and_decisions_exactly_once(svc: Service) -> None:
    url = f"{svc.demo}/predict"
    requests.post(f"{svc.demo}/_control", json={"mode": "degraded_accuracy"}, timeout=5).raise_for_status()
    try:
        rep = requests.post(f"{svc.base}/monitoring/analyze", json={"prediction_url": url},
                            headers=svc.auth("reader"), timeout=120).json()
    finally:
        requests.post(f"{svc.demo}/_control", json={"mode": "healthy"}, timeout=5).raise_for_status()
    assert rep["alert"] and len(rep["recommendations"]) >= 2, rep["rca"]
    seen, cursor = [], None
    while True:
        page = requests.get(f"{svc.base}/api/v1/recommendations", params={"status": "pending", "limit": 1,
                                                                          **({"cursor": cursor} if cursor else {})},
                            headers=svc.auth("reader"), timeout=10).json()
        assert len(page["items"]) <= 1
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(r["id"] for r in rep["recommendations"]) and len(set(seen)) == len(seen)
    first, second = seen[0], seen[1]
    ok = requests.post(f"{svc.base}/api/v1/recommendations/{first}/approve",
                       json={"reason": "accuracy fell", "execute": False}, headers=svc.auth("approver"), timeout=30)
    assert ok.status_code == 200, ok.text
    assert ok.json()["recommendation"]["status"] == "approved" and ok.json()["recommendation"]["decided_by"] == "approver"
    again = _is_problem(requests.post(f"{svc.base}/api/v1/recommendations/{first}/reject", json={"reason": "x"},
                                      headers=svc.auth("admin"), timeout=10), 409)
    assert "already approved by approver" in again["detail"]
    no = requests.post(f"{svc.base}/api/v1/recommendations/{second}/reject", json={"reason": "not now"},
                       headers=svc.auth("admin"), timeout=30)
    assert no.status_code == 200 and no.json()["recommendation"]["status"] == "rejected"
    actors = {e.payload.get("recommendation_id"): e.actor for e in audit.entries(svc.store)
              if e.event in ("approved", "rejected")}
    assert actors == {first: "approver", second: "admin"}
    _is_problem(requests.post(f"{svc.base}/api/v1/recommendations/unknown-id/approve", json={"reason": "x"},
                              headers=svc.auth("admin"), timeout=10), 404)
    _is_problem(requests.post(f"{svc.base}/api/v1/recommendations/{first}/approve", json={"reason": ""},
                              headers=svc.auth("admin"), timeout=10), 422)
    _is_problem(requests.get(f"{svc.base}/api/v1/recommendations", params={"cursor": "bm90IGEgY3Vyc29y"},
                             headers=svc.auth("reader"), timeout=10), 400)


def test_bodies_over_the_limit_get_413_without_being_read_whole(svc: Service) -> None:
    big = b'{"endpoint": "x", "features": {}, "prediction": "' + b"a" * (2 * MAX_BODY) + b'"}'
    declared = requests.post(f"{svc.base}/monitoring/prediction", data=big,
                             headers={**svc.auth("ingester"), "Content-Type": "application/json"}, timeout=30)
    assert "MLFI_API_MAX_BODY_BYTES" in _is_problem(declared, 413)["detail"]

    def chunks() -> Iterator[bytes]:       # no Content-Length: chunked transfer, counted as it is read
        for i in range(0, len(big), 65536):
            yield big[i:i + 65536]

    streamed = requests.post(f"{svc.base}/monitoring/prediction", data=chunks(),
                             headers={**svc.auth("ingester"), "Content-Type": "application/json"}, timeout=30)
    _is_problem(streamed, 413)
    assert requests.get(f"{svc.base}/health", timeout=5).status_code == 200


def test_unknown_routes_and_methods_are_problems(svc: Service) -> None:
    _is_problem(requests.get(f"{svc.base}/nope", headers=svc.auth("reader"), timeout=5), 404)
    _is_problem(requests.delete(f"{svc.base}/version", headers=svc.auth("reader"), timeout=5), 405)


def test_tokens_never_reach_the_log_or_a_response(svc: Service) -> None:
    logs = svc.log.read_text(errors="replace") + "".join(
        p.read_text(errors="replace") for p in svc.settings.log_dir.glob("*.log*"))
    listed = json.dumps(requests.get(f"{svc.base}/api/v1/recommendations", headers=svc.auth("admin"), timeout=5).json())
    for token in svc.tokens.values():
        assert token not in logs and token not in listed
    assert "Traceback" not in svc.log.read_text(errors="replace")


def test_batch_ingest_is_idempotent_and_takes_late_labels(svc: Service) -> None:
    first = requests.post(f"{svc.base}/monitoring/prediction", json={"endpoint": "batch-logs", "features": {"x": 0},
                                                                     "prediction": "a"},
                          headers=svc.auth("ingester"), timeout=10)
    eid = svc.store.get_endpoint("batch-logs").id
    rows = [{"features": {"x": i, "y": "k"}, "prediction": "a" if i % 2 else "b", "confidence": 0.6} for i in range(500)]
    url, key = f"{svc.base}/api/v1/endpoints/{eid}/predictions", {"Idempotency-Key": "batch-1"}
    r = requests.post(url, json={"predictions": rows}, headers={**svc.auth("ingester"), **key}, timeout=30)
    assert r.status_code == 201 and r.json()["ingested"] == 500 and not r.json()["replayed"], r.text[:300]
    again = requests.post(url, json={"predictions": rows}, headers={**svc.auth("ingester"), **key}, timeout=30)
    assert again.status_code == 200 and again.json()["replayed"] and again.json()["prediction_ids"] == r.json()["prediction_ids"]
    assert svc.store.count_samples("batch-logs") == 501 == 1 + len(set(r.json()["prediction_ids"]))
    other = _is_problem(requests.post(url, json={"predictions": rows[:3]}, headers={**svc.auth("ingester"), **key},
                                      timeout=30), 400)
    assert "Idempotency-Key" in other["detail"]
    ids = r.json()["prediction_ids"][:2]
    lab = requests.post(f"{svc.base}/api/v1/endpoints/{eid}/labels", headers=svc.auth("ingester"), timeout=10,
                        json={"labels": [{"prediction_id": ids[0], "label": "b"}, {"prediction_id": ids[1], "label": "b"}]})
    assert lab.status_code == 200 and lab.json()["labelled"] == 2
    labelled = [s for s in svc.store.recent_samples("batch-logs") if s.label is not None]
    assert [(s.inputs["x"], s.label, s.prediction) for s in labelled] == [(0, "b", "b"), (1, "b", "a")]
    _is_problem(requests.post(f"{svc.base}/api/v1/endpoints/{eid}/labels", headers=svc.auth("ingester"), timeout=10,
                              json={"labels": [{"prediction_id": first.json()["prediction_id"] + 10**6, "label": 1}]}), 404)
    too_many = [{"features": {}, "prediction": 1}] * 10_001
    _is_problem(requests.post(url, json={"predictions": too_many}, headers=svc.auth("ingester"), timeout=30), 422)


def test_incidents_and_audit_read_as_the_cli_prints_them(svc: Service) -> None:
    inc = requests.get(f"{svc.base}/api/v1/incidents", headers=svc.auth("reader"), timeout=10).json()["items"]
    assert inc and [i["id"] for i in inc] == [i.id for i in list_incidents(svc.store)]   # the degraded run opened one
    log = requests.get(f"{svc.base}/api/v1/audit", params={"limit": 5}, headers=svc.auth("reader"), timeout=10).json()
    assert log["count"] == len(log["entries"]) <= 5
    seqs = [e["seq"] for e in log["entries"]]
    assert seqs == sorted(seqs)
    v = requests.get(f"{svc.base}/api/v1/audit/verify", headers=svc.auth("reader"), timeout=10).json()
    assert v["ok"] is True


def test_endpoints_crud_never_returns_header_values(svc: Service) -> None:
    body = {"url": "http://127.0.0.1:9/crud", "headers": {"Authorization": "Bearer s3cret-value"}, "enabled": False}
    made = requests.put(f"{svc.base}/api/v1/endpoints", json=body, headers=svc.auth("admin"), timeout=10)
    assert made.status_code == 200 and made.json()["headers"] == ["Authorization"], made.text
    eid = made.json()["id"]
    assert svc.store.get_endpoint(body["url"]).headers == {"Authorization": "Bearer s3cret-value"}
    one = requests.get(f"{svc.base}/api/v1/endpoints/{eid}", headers=svc.auth("reader"), timeout=10)
    listed = requests.get(f"{svc.base}/api/v1/endpoints", headers=svc.auth("reader"), timeout=10)
    assert one.json()["url"] == body["url"] and "s3cret" not in one.text + listed.text
    assert _is_problem(requests.put(f"{svc.base}/api/v1/endpoints", json={"url": "ftp://x"}, headers=svc.auth("admin"),
                                    timeout=10), 400)["detail"].startswith("bad URL")
    gone = requests.delete(f"{svc.base}/api/v1/endpoints/{eid}", headers=svc.auth("admin"), timeout=10)
    assert gone.status_code == 200 and svc.store.find_endpoint(body["url"]) is None
    _is_problem(requests.get(f"{svc.base}/api/v1/endpoints/{eid}", headers=svc.auth("reader"), timeout=10), 404)


def test_reports_and_diagnoses(svc: Service) -> None:
    eid = svc.store.get_endpoint(f"{svc.demo}/predict").id
    reps = requests.get(f"{svc.base}/api/v1/endpoints/{eid}/reports", params={"limit": 50},
                        headers=svc.auth("reader"), timeout=10).json()["items"]
    assert reps and [r["report_id"] for r in reps] == [r.report_id for r in svc.store.list_reports(f"{svc.demo}/predict", limit=50)]
    b = requests.get(f"{svc.base}/api/v1/endpoints/{eid}/baselines", headers=svc.auth("reader"), timeout=10).json()
    assert [(x["version"], x["active"], x["n_samples"]) for x in b["items"]] == [(1, True, 150)]
    d = requests.post(f"{svc.base}/api/v1/diagnoses", json={"prompt": "train accuracy 99%, validation 71%"},
                      headers=svc.auth("ingester"), timeout=60)
    assert d.status_code == 200 and d.json()["primary_category"] == "overfitting" and d.json()["payload_hash"]
    assert _is_problem(requests.post(f"{svc.base}/api/v1/diagnoses", json={"experiment": {"dataset": {"train_csv": "/etc/x"}}},
                                     headers=svc.auth("ingester"), timeout=10), 403)["detail"].startswith("an experiment")
    _is_problem(requests.post(f"{svc.base}/api/v1/diagnoses", json={}, headers=svc.auth("ingester"), timeout=10), 400)
