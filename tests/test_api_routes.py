"""The routes added last to the HTTP service, over real HTTP (`mlfi serve-api` under uvicorn in a child process):
`/api/v1/analyses` (claimed once, 202 + Location or ?wait=true), `/api/v1/evaluations` (CSV upload, the JSON of
`mlfi evaluate --json`), and cursor paging on every list route."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import requests

from app.config import Settings
from app.storage import Store
from app.storage.api_analyses import claim_analysis
from tests.api_harness import Service, make_tokens, serve_api

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    home = tmp_path_factory.mktemp("api-routes") / "home"
    settings = Settings(home=home, _env_file=None)  # type: ignore[call-arg]
    store = Store.from_settings(settings)
    tokens = make_tokens(store)
    log = home.parent / "serve-api.log"
    with serve_api(home, log) as base:
        yield Service(base=base, settings=settings, store=store, tokens=tokens, log=log)
    store.dispose()


def _problem(r: requests.Response, status: int) -> dict:
    assert r.status_code == status, (r.status_code, r.text[:500])
    assert r.headers["content-type"] == PROBLEM and "Traceback" not in r.text
    return r.json()


def _logged(svc: Service, name: str, n: int, seed: int) -> int:
    """``n`` logged predictions under ``name`` (two numeric features), over HTTP; returns the endpoint id."""
    rng = np.random.default_rng(seed)
    rows = [{"features": {"a": float(rng.normal()), "b": float(rng.normal())}, "prediction": int(rng.integers(0, 2)),
             "confidence": round(float(rng.uniform(0.5, 1)), 3)} for _ in range(n)]
    first = requests.post(f"{svc.base}/monitoring/prediction", json={"endpoint": name, **rows[0]},
                          headers=svc.auth("ingester"), timeout=10)
    assert first.status_code == 201, first.text
    eid = svc.store.get_endpoint(name).id
    r = requests.post(f"{svc.base}/api/v1/endpoints/{eid}/predictions", json={"predictions": rows[1:]},
                      headers=svc.auth("ingester"), timeout=30)
    assert r.status_code == 201, r.text[:300]
    return eid


def _until_done(svc: Service, location: str) -> dict:
    end = time.time() + 60
    while True:
        a = requests.get(svc.base + location, headers=svc.auth("reader"), timeout=10).json()
        if a["status"] == "done" or time.time() > end:
            return a
        time.sleep(0.1)


def test_analyses_answer_202_with_location_run_once_and_wait(svc: Service) -> None:
    eid = _logged(svc, "routes-logs", 400, seed=1)
    r = requests.post(f"{svc.base}/api/v1/analyses", json={"endpoint_id": eid}, headers=svc.auth("reader"), timeout=10)
    assert r.status_code == 202 and r.headers["location"] == f"/api/v1/analyses/{r.json()['id']}", r.text
    assert r.json()["requested_by"] == "reader" and r.json()["endpoint"] == "routes-logs"
    first = _until_done(svc, r.headers["location"])
    assert (first["status"], first["outcome"], first["attempts"]) == ("done", "baseline_learned", 1), first
    # a finished job cannot be claimed again: each analysis runs once
    assert claim_analysis(svc.store.engine, first["id"], holder=7, ttl_s=60) is None
    w = requests.post(f"{svc.base}/api/v1/analyses", params={"wait": "true"}, json={"endpoint_id": eid},
                      headers=svc.auth("reader"), timeout=90)
    assert w.status_code == 200 and w.headers["location"].endswith(f"/{w.json()['id']}"), w.text[:300]
    done = w.json()
    assert done["outcome"] == "report" and done["report_id"] and done["report"]["endpoint"] == "routes-logs"
    stored = svc.store.list_reports("routes-logs", limit=1)[0]
    assert stored.report_id == done["report_id"] and done["report"]["rca"]["root_cause"] == stored.rca.root_cause
    # two requested at once: two jobs, each claimed and finished exactly once
    ids = [requests.post(f"{svc.base}/api/v1/analyses", json={"endpoint_id": eid}, headers=svc.auth("admin"),
                         timeout=10).json()["id"] for _ in range(2)]
    outs = [_until_done(svc, f"/api/v1/analyses/{i}") for i in ids]
    assert [(o["status"], o["attempts"]) for o in outs] == [("done", 1)] * 2 and len(set(ids)) == 2
    one = requests.get(f"{svc.base}/api/v1/analyses/{ids[0]}", headers=svc.auth("reader"), timeout=10).json()
    assert one["report"] is not None and one["report"]["report_id"] == one["report_id"]
    _problem(requests.post(f"{svc.base}/api/v1/analyses", json={"endpoint_id": 424242}, headers=svc.auth("reader"),
                           timeout=10), 404)
    _problem(requests.get(f"{svc.base}/api/v1/analyses/424242", headers=svc.auth("reader"), timeout=10), 404)
    _problem(requests.post(f"{svc.base}/api/v1/analyses", json={"endpoint": "x"}, headers=svc.auth("reader"),
                           timeout=10), 422)


def test_evaluations_take_a_csv_upload_and_answer_as_mlfi_evaluate(svc: Service, tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from app.cli import main

    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300)
    df = pd.DataFrame({"truth": y, "prob": np.round(np.clip(0.3 + 0.4 * y + rng.normal(0, 0.2, 300), 0, 1), 4),
                       "region": rng.choice(["north", "south"], 300)})
    path = tmp_path / "preds.csv"
    df.to_csv(path, index=False)
    with pytest.raises(SystemExit) as exc:
        main(["evaluate", str(path), "--label", "truth", "--score", "prob", "--slices", "region", "--cost-fn", "5",
              "--bootstrap", "50", "--json"])
    assert exc.value.code in (0, None)
    cli = json.loads(capsys.readouterr().out)
    r = requests.post(f"{svc.base}/api/v1/evaluations", data=path.read_bytes(), timeout=60,
                      params={"label": "truth", "score": "prob", "slices": "region", "cost_fn": 5, "bootstrap": 50},
                      headers={**svc.auth("reader"), "Content-Type": "text/csv"})
    assert r.status_code == 200, r.text[:300]
    got = r.json()
    assert got["source"] == "<upload>" and cli["source"] == str(path)
    assert {k: v for k, v in got.items() if k != "source"} == {k: v for k, v in cli.items() if k != "source"}
    bad = _problem(requests.post(f"{svc.base}/api/v1/evaluations", data=path.read_bytes(), timeout=10,
                                 params={"label": "nope", "score": "prob"},
                                 headers={**svc.auth("reader"), "Content-Type": "text/csv"}), 400)
    assert bad["detail"].startswith("label column 'nope' not found")
    _problem(requests.post(f"{svc.base}/api/v1/evaluations", params={"label": "truth", "score": "prob"}, json={"a": 1},
                           headers=svc.auth("reader"), timeout=10), 415)
    _problem(requests.post(f"{svc.base}/api/v1/evaluations", params={"label": "truth", "score": "prob"},
                           data=b"not,a\ncsv", headers={**svc.auth("reader"), "Content-Type": "text/csv"},
                           timeout=10), 400)


def _pages(svc: Service, path: str, key: str = "items", **params: object) -> list[list[dict]]:
    """Every page of a list route at ``limit=1``, following ``next_cursor`` until it is null."""
    out, cursor = [], None
    while True:
        q = {**params, "limit": 1, **({"cursor": cursor} if cursor else {})}
        body = requests.get(svc.base + path, params=q, headers=svc.auth("reader"), timeout=10).json()
        assert len(body[key]) <= 1
        out.append(body[key])
        cursor = body["next_cursor"]
        if cursor is None or len(out) > 50:
            return out


def _walk(svc: Service, path: str, ident: str, key: str = "items") -> list:
    """Ids of every page in order; they must equal the one-page list (no gap, no repeat) and span pages."""
    pages = _pages(svc, path, key)
    paged = [x[ident] for p in pages for x in p]
    whole = requests.get(svc.base + path, params={"limit": 500}, headers=svc.auth("reader"), timeout=10).json()
    assert whole["next_cursor"] is None
    if key == "entries":       # audit: each page oldest first, pages go back in time
        paged = [x[ident] for p in reversed(pages) for x in p]
    assert paged == [x[ident] for x in whole[key]] and len(set(paged)) == len(paged)
    assert len(pages) >= 2, f"{path}: too few items to page"
    _problem(requests.get(svc.base + path, params={"cursor": "bm90IGEgY3Vyc29y"}, headers=svc.auth("reader"),
                          timeout=10), 400)
    return paged


def test_every_list_route_pages_by_cursor(svc: Service) -> None:
    from app.storage.baselines import load_baseline, save_baseline
    from app.storage.governance.incidents import insert_incident

    eid = _logged(svc, "paging-logs", 200, seed=2)
    _logged(svc, "paging-more", 3, seed=4)
    for _ in range(3):          # a baseline, then two reports
        r = requests.post(f"{svc.base}/api/v1/analyses", params={"wait": "true"}, json={"endpoint_id": eid},
                          headers=svc.auth("reader"), timeout=90)
        assert r.status_code == 200, r.text[:300]
    b = load_baseline(svc.settings, svc.store, "paging-logs")
    save_baseline(svc.settings, svc.store, b)    # version 2
    with svc.store.engine.begin() as conn:
        for i in range(2):
            insert_incident(conn, eid, root_cause="data_drift", severity="medium", now=time.time() + i, features=["a"],
                            summary=None)
    for prompt in ("train accuracy 99%, validation 71%", "the loss became NaN after 3 epochs"):   # queued recs
        d = requests.post(f"{svc.base}/api/v1/diagnoses", json={"prompt": prompt}, headers=svc.auth("ingester"),
                          timeout=60)
        assert d.status_code == 200
    assert len(_walk(svc, "/api/v1/endpoints", "id")) >= 2
    assert len(_walk(svc, "/api/v1/analyses", "id")) >= 2
    assert len(_walk(svc, "/api/v1/incidents", "id")) >= 2
    assert len(_walk(svc, "/api/v1/audit", "seq", key="entries")) >= 2
    assert len(_walk(svc, "/api/v1/recommendations", "id")) >= 2
    assert len(_walk(svc, f"/api/v1/endpoints/{eid}/reports", "report_id")) >= 2
    assert [v for v in _walk(svc, f"/api/v1/endpoints/{eid}/baselines", "version")] == [1, 2]


def test_posted_rows_with_nul_are_refused_naming_the_line_and_ids_follow_row_order(tmp_path: Path) -> None:
    from app.analysis.ingest_records import PredictionRecord, ingest_records
    from app.errors import InputError

    store = Store.from_settings(Settings(home=tmp_path / "home", _env_file=None))  # type: ignore[call-arg]
    ok = [PredictionRecord({"a": float(i), "s": "x"}, i % 2) for i in range(5)]
    for bad, where in ((PredictionRecord({"a": 1.0, "s": "x\x00y"}, 1), "value"),
                       (PredictionRecord({"a": 1.0, "s\x00": "x"}, 1), "name"),
                       (PredictionRecord({"a": 1.0, "s": "x"}, "p\x00"), "prediction"),
                       (PredictionRecord({"a": 1.0, "s": "x"}, 1, label="\x00"), "label")):
        with pytest.raises(InputError, match=r"^request line 3: a value holds a NUL character$"):
            ingest_records(store, "nul-logs", [*ok[:2], bad, *ok[2:]])
    assert store.find_endpoint("nul-logs") is None, where     # nothing stored, not even the endpoint
    first = ingest_records(store, "nul-logs", ok)
    second = ingest_records(store, "nul-logs", ok[::-1])
    ids = first.prediction_ids + second.prediction_ids
    assert ids == list(range(ids[0], ids[0] + 10))
    with store.engine.connect() as conn:      # each id is the row posted at its place
        stored = {int(i): json.loads(j)["a"] for i, j in conn.exec_driver_sql("SELECT id, inputs_json FROM samples")}
    assert [stored[i] for i in ids] == [0.0, 1.0, 2.0, 3.0, 4.0, 4.0, 3.0, 2.0, 1.0, 0.0]
    store.dispose()
