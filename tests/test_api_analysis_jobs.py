"""Analyses requested over HTTP as jobs (issue 15): queued or orphaned ones are resumed by any live service
exactly once, one whose every attempt died ends with a stated error, and on a real PostgreSQL a watcher never
takes one (it would finish it without an outcome) while the routes answer with the report."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from app.analysis.ingest_records import PredictionRecord, ingest_records
from app.api.analysis_runner import HOLDER, AnalysisRunner
from app.config import Settings
from app.storage import Store
from app.storage.api_analyses import MAX_ATTEMPTS, claim_analysis, get_analysis, pending_analyses, request_analysis


def _state(settings: Settings, store: Store) -> int:
    """An ingest endpoint with 160 logged rows and a learned baseline; returns its id."""
    from app.watcher.analysis_job import AnalysisJob

    rng = np.random.default_rng(5)
    now = time.time()
    recs = [PredictionRecord({"a": float(rng.normal()), "b": float(rng.normal())}, int(rng.integers(0, 2)),
                             round(float(rng.uniform(0.5, 1)), 3), timestamp=now - 200 + i) for i in range(160)]
    ingest_records(store, "jobs-logs", recs)
    ep = store.get_endpoint("jobs-logs")
    assert AnalysisJob(settings, store).analyze(ep).action == "baseline_learned"
    return ep.id


def _resume_exactly_once(settings: Settings, store: Store) -> None:
    eng = store.engine
    eid = store.upsert_endpoint("jobs-empty", protocol="ingest").id        # no samples: each analysis "waits"
    queued = [request_analysis(eng, eid, "reader") for _ in range(3)]     # a service stopped before running them
    orphan = request_analysis(eng, eid, "reader")                         # its process died mid-run
    assert claim_analysis(eng, orphan, HOLDER, ttl_s=0.0) is not None
    dead = request_analysis(eng, eid, "reader")                           # every attempt died
    for _ in range(MAX_ATTEMPTS):
        assert claim_analysis(eng, dead, HOLDER, ttl_s=0.0) is not None
    time.sleep(0.01)
    assert {j for j, _ in pending_analyses(eng)} == {*queued, orphan}
    # two live services sweep the same database at once
    runners = [AnalysisRunner(settings, ttl_s=30.0, sweep_every_s=0.02) for _ in range(2)]
    for r in runners:
        r.start()
    try:
        end = time.time() + 30
        while time.time() < end and any(get_analysis(eng, j).status != "done" for j in [*queued, orphan, dead]):
            time.sleep(0.02)
        time.sleep(0.1)                                                   # a few more sweeps: nothing runs again
    finally:
        for r in runners:
            r.close()
    got = {j: get_analysis(eng, j) for j in [*queued, orphan, dead]}
    assert all(a.status == "done" for a in got.values()), got
    for j in [*queued, orphan]:                 # each claim counts an attempt: the sweeps ran each one once
        assert (got[j].outcome, got[j].detail) == ("waiting", "no samples yet"), got[j]
        assert got[j].attempts == (2 if j == orphan else 1), got[j]
    assert got[dead].outcome == "failed" and got[dead].detail.startswith("abandoned"), got[dead]
    assert got[dead].attempts == MAX_ATTEMPTS and pending_analyses(eng) == []


def test_queued_and_orphaned_analyses_resume_exactly_once(settings: Settings, store: Store) -> None:
    _resume_exactly_once(settings, store)


@pytest.fixture
def pg(tmp_path: Path, pg_cluster) -> Iterator[tuple[Settings, Store]]:  # type: ignore[no-untyped-def]
    url = pg_cluster.create_database(f"mlfi_api_jobs_{tmp_path.name[-20:].lower().replace('-', '_')}")
    s = Settings(home=tmp_path / "st", database_url=url, _env_file=None)  # type: ignore[call-arg]
    s.ensure_dirs()
    st = Store.from_settings(s)
    yield s, st
    st.dispose()


@pytest.mark.integration
def test_on_postgresql_resume_is_exactly_once(pg: tuple[Settings, Store]) -> None:
    _resume_exactly_once(*pg)


@pytest.mark.integration
def test_on_postgresql_a_watcher_leaves_requested_analyses_and_the_routes_answer(pg: tuple[Settings, Store]) -> None:
    from fastapi.testclient import TestClient

    from app.api import create_app
    from app.api.tokens import issue_token
    from app.storage.analysis_jobs import claim_jobs, enqueue

    settings, store = pg
    eng = store.engine
    eid = _state(settings, store)
    auth = {"Authorization": f"Bearer {issue_token(eng, 'pg-reader', ('read',))}"}
    empty = store.upsert_endpoint("jobs-empty", protocol="ingest").id
    queued = request_analysis(eng, empty, "pg-reader")
    enqueue(eng, [(empty, 7)])                                 # a watcher's cadence window
    taken = claim_jobs(eng, holder=1, limit=10, ttl_s=60.0)
    assert [j.window_no for j in taken] == [7]                 # the watcher never takes the requested one
    with TestClient(create_app(settings, store=store)) as client:   # startup resumes the queued one
        r = client.post("/api/v1/analyses", params={"wait": "true", "timeout_s": 60}, json={"endpoint_id": eid},
                        headers=auth)
        assert r.status_code == 200 and r.headers["location"] == f"/api/v1/analyses/{r.json()['id']}", r.text
        assert r.json()["outcome"] == "report" and r.json()["report"]["endpoint"] == "jobs-logs"
        end = time.time() + 30
        while get_analysis(eng, queued).status != "done" and time.time() < end:
            time.sleep(0.05)
        one = client.get(f"/api/v1/analyses/{queued}", headers=auth).json()
        assert one["status"] == "done" and one["outcome"] == "waiting" and one["detail"] == "no samples yet", one
        page = client.get("/api/v1/analyses", params={"limit": 1}, headers=auth).json()
        assert len(page["items"]) == 1 and page["next_cursor"] is not None
        rest = client.get("/api/v1/analyses", params={"cursor": page["next_cursor"]}, headers=auth).json()
        assert [a["id"] for a in page["items"] + rest["items"]] == [r.json()["id"], queued]
        assert client.get("/api/v1/analyses/424242", headers=auth).status_code == 404
