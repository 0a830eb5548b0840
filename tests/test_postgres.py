"""The storage layer and governance on a REAL PostgreSQL server (a throwaway cluster started here).

Fails (never skips) when PostgreSQL cannot be installed or started, unless MLFI_SKIP_POSTGRES=1.
Every test gets its own fresh database on the one session-wide server.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select, text

sys.path.insert(0, str(Path(__file__).parent))
from gov_helpers import make_report, release_together
from pg_cluster import PgCluster

from app.config import Settings
from app.detection.baseline import learn_baseline
from app.errors import BaselineMissingError, ConflictError, InputError, NotFoundError
from app.governance import approve, audit, list_incidents, list_recommendations, on_report, reject, sensitivity_for
from app.schemas import Sample
from app.storage import Store
from app.storage import engine as storage_engine
from app.storage import tables as t
from app.storage.baselines import load_baseline, save_baseline

pytestmark = pytest.mark.integration
REPO = Path(__file__).parents[1]
_db_numbers = itertools.count(1)


# ---- the server: the session-wide ``pg_cluster`` fixture lives in conftest.py (shared with test_scale_pg) ----
@pytest.fixture
def pg_url(pg_cluster: PgCluster) -> str:
    return pg_cluster.create_database(f"mlfi_t{next(_db_numbers)}")


@pytest.fixture
def pg_settings(tmp_path: Path, pg_url: str) -> Settings:
    s = Settings(home=tmp_path / "pg-state", database_url=pg_url, _env_file=None)  # type: ignore[call-arg]
    s.ensure_dirs()
    return s


@pytest.fixture
def pg(pg_settings: Settings) -> Iterator[Store]:
    st = Store.from_settings(pg_settings)
    assert st.engine.dialect.name == "postgresql" and st.engine.dialect.driver == "psycopg"
    yield st
    st.dispose()


def _samples(n: int, name: str = "ep", t0: float = 1_000_000.0) -> list[Sample]:
    return [Sample(endpoint=name, ts=t0 + i, prediction=str(i % 2), confidence=0.8 + 0.01 * (i % 5),
                   label=str(i % 2) if i % 3 else "0", latency_ms=2.0 + i % 4,
                   error_kind="timeout" if i % 10 == 9 else None, inputs={"x": float(i)},
                   probabilities={"0": 0.3, "1": 0.7}) for i in range(n)]


# ---- storage -----------------------------------------------------------------------------------------
def test_it_is_a_real_postgres_server(pg: Store) -> None:
    with pg.engine.connect() as conn:
        assert conn.execute(text("SELECT version()")).scalar().startswith("PostgreSQL ")
        assert conn.execute(text("SELECT inet_server_addr()::text")).scalar().startswith("127.0.0.1")


def test_endpoints(pg: Store) -> None:
    long_url = "http://127.0.0.1:9000/predict?" + "&".join(f"p{i}=v{i}" for i in range(200))   # > 1500 chars
    ep = pg.upsert_endpoint(long_url, url=long_url, protocol="generic", headers={"Authorization": "Bearer s"},
                            model_name="m" * 300, label_column="target")
    assert ep.name == long_url and ep.enabled is True and ep.interval_s == 5.0
    assert ep.headers == {"Authorization": "Bearer s"}
    pg.upsert_endpoint(long_url, interval_s=2.5)
    assert pg.get_endpoint(long_url).protocol == "generic" and pg.get_endpoint(long_url).interval_s == 2.5
    pg.upsert_endpoint("other")
    pg.set_enabled("other", False)
    assert [e.name for e in pg.list_endpoints(enabled_only=True)] == [long_url]
    assert len(pg.list_endpoints()) == 2
    pg.record_probe_status(ep.id, 5.0, "timeout", 3)
    assert pg.get_endpoint(long_url).consecutive_failures == 3
    with pytest.raises(InputError):
        pg.upsert_endpoint("  ")
    with pytest.raises(InputError, match="endpoint name is too long"):
        pg.upsert_endpoint("h" * 2049)
    pg.add_samples(_samples(5, name="other"))
    pg.delete_endpoint("other")
    assert pg.find_endpoint("other") is None
    with pytest.raises(NotFoundError, match="unknown endpoint: other"):
        pg.count_samples("other")


def test_add_samples_is_all_or_nothing(pg: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    assert pg.add_samples(_samples(20)) == 20
    real_row = Store.sample_row

    def row(eid: int, s: Sample, **kw: object) -> dict:
        r = real_row(eid, s, **kw)
        return {**r, "ts": None} if s.ts == 1_000_000.0 + 7 else r    # the 8th row violates NOT NULL

    monkeypatch.setattr(Store, "sample_row", staticmethod(row))
    with pytest.raises(Exception, match="null value"):
        pg.add_samples(_samples(10))
    assert pg.count_samples("ep") == 20


def test_recent_samples_round_trip(pg: Store) -> None:
    odd = Sample(endpoint="ep", ts=2_000_000.0, prediction="p" * 1000, label="l" * 400, confidence=None,
                 error_kind="malformed_response", error_detail="body: \x00\x01 binary", status_code=200,
                 inputs={"text": "naïve \x00 zero"})
    pg.add_samples(_samples(30) + [odd])
    got = pg.recent_samples("ep", last_n=5)
    assert [s.ts for s in got] == [1_000_026.0, 1_000_027.0, 1_000_028.0, 1_000_029.0, 2_000_000.0]
    assert got[0].inputs == {"x": 26.0} and got[0].probabilities == {"0": 0.3, "1": 0.7}
    last = got[-1]
    assert last.prediction == "p" * 1000 and last.label == "l" * 400 and last.inputs == {"text": "naïve \x00 zero"}
    assert last.error_detail == "body: \ufffd\x01 binary"          # PostgreSQL text cannot hold U+0000
    assert [s.ts for s in pg.recent_samples("ep", since=1_000_028.0)] == [1_000_028.0, 1_000_029.0, 2_000_000.0]
    assert all(s.inputs is None for s in pg.recent_samples("ep", last_n=3, with_inputs=False))


def test_metrics_timeseries_matches_sqlite_and_pandas(pg: Store, store: Store) -> None:
    data = _samples(1000)
    for st in (pg, store):
        st.add_samples(data)
    pg_df = pg.metrics_timeseries("ep", bucket_s=1.0, max_points=50)
    lite_df = store.metrics_timeseries("ep", bucket_s=1.0, max_points=50)
    assert len(pg_df) <= 51 and int(pg_df["n"].sum()) == 1000 and int(pg_df["errors"].sum()) == 100
    for col in pg_df.columns:                                       # numeric columns, no Decimal objects
        assert pd.api.types.is_numeric_dtype(pg_df[col]), (col, pg_df[col].dtype)
    pd.testing.assert_frame_equal(pg_df[sorted(pg_df.columns)].astype(float),
                                  lite_df[sorted(lite_df.columns)].astype(float), rtol=1e-9)
    # one bucket recomputed by hand
    frame = pd.DataFrame([{"ts": s.ts, "c": s.confidence, "ok": s.correct} for s in data])
    width = (data[-1].ts - data[0].ts) / 50
    first = frame[np.floor(frame.ts / width) == np.floor(data[0].ts / width)]
    assert pg_df.iloc[0]["n"] == len(first)
    assert pg_df.iloc[0]["avg_confidence"] == pytest.approx(first.c.mean())
    assert pg_df.iloc[0]["accuracy"] == pytest.approx(first.ok.dropna().astype(float).mean())
    assert pg.metrics_timeseries("ep", since=9e9).empty


def test_reports(pg: Store, store: Store) -> None:
    for st in (pg, store):
        st.save_report(make_report("accuracy_drop", created_at=100.0))
        st.save_report(make_report("none", created_at=200.0))
    reps = pg.list_reports("http://127.0.0.1:9/predict")
    assert [r.rca.root_cause for r in reps] == ["none", "accuracy_drop"] and reps[0].report_id
    assert [r.created_at for r in pg.list_reports("http://127.0.0.1:9/predict", alerts_only=True)] == [100.0]
    assert pg.latest_report("http://127.0.0.1:9/predict").rca.root_cause == "none"
    assert pg.list_reports("nobody") == []
    a = pg.report_metrics_frame("http://127.0.0.1:9/predict").drop(columns="report_id")
    b = store.report_metrics_frame("http://127.0.0.1:9/predict").drop(columns="report_id")
    pd.testing.assert_frame_equal(a, b)
    assert a["alert"].tolist() == [True, False]


def test_heartbeat_and_diagnoses(pg: Store) -> None:
    assert pg.watcher_state() is None
    pg.set_watcher_desired("running")
    pg.heartbeat(pid=1234, status="running", host="h", started_at=5.0, cycles=3)
    pg.heartbeat(pid=1234, status="running", cycles=4)
    w = pg.watcher_state()
    assert w is not None and (w["pid"], w["desired"], w["cycles"], w["started_at"]) == (1234, "running", 4, 5.0)
    pg.set_watcher_desired("stopped")
    assert pg.watcher_state()["desired"] == "stopped"
    pg.save_diagnosis({"diagnosis_id": "d1", "primary_category": "overfitting", "payload_hash": "h" * 64,
                       "evidence": ["train 0.99 vs val 0.7"]}, team="ml")
    pg.save_diagnosis({"diagnosis_id": "d2", "primary_category": "data_leakage", "payload_hash": "g" * 64})
    got = pg.list_diagnoses()
    assert [d["id"] for d in got] == ["d2", "d1"] and got[1]["payload"]["evidence"] == ["train 0.99 vs val 0.7"]


def test_schema_version_recorded_and_not_migrated_twice(pg: Store, pg_url: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def version_rows(st: Store) -> dict[str, str]:
        with st.engine.connect() as conn:
            return dict(conn.execute(select(t.meta.c.key, t.meta.c.value)).all())

    first = version_rows(pg)
    assert first["schema_version"] == str(t.SCHEMA_VERSION)
    pg.add_samples(_samples(3))
    called: list[int] = []
    monkeypatch.setattr(storage_engine, "MIGRATIONS", {v: (lambda e, v=v: called.append(v))
                                                       for v in storage_engine.MIGRATIONS})
    second = Store(pg_url)
    assert called == [] and version_rows(second) == first and second.count_samples("ep") == 3
    second.dispose()


def test_upgrade_from_version_1_on_postgres(pg_url: str) -> None:
    from sqlalchemy import create_engine

    eng = create_engine(pg_url)
    with eng.begin() as conn:
        conn.execute(text("CREATE TABLE meta (key VARCHAR(64) PRIMARY KEY, value TEXT NOT NULL)"))
        conn.execute(text("INSERT INTO meta VALUES ('schema_version', '1')"))
        conn.execute(text(
            "CREATE TABLE endpoints (id SERIAL PRIMARY KEY, name VARCHAR(512) NOT NULL UNIQUE, url VARCHAR(2048),"
            " protocol VARCHAR(32), headers_json TEXT, probe_set TEXT, label_column VARCHAR(256),"
            " interval_s FLOAT NOT NULL, enabled BOOLEAN NOT NULL, created_at FLOAT NOT NULL, last_probe_at FLOAT,"
            " last_status VARCHAR(32), consecutive_failures INTEGER NOT NULL)"))
        conn.execute(text("INSERT INTO endpoints (name, url, protocol, interval_s, enabled, created_at,"
                          " consecutive_failures) VALUES ('old', 'http://x', 'generic', 5, true, 0, 0)"))
        conn.execute(text(
            "CREATE TABLE reports (id SERIAL PRIMARY KEY, endpoint_id INTEGER NOT NULL, ts FLOAT NOT NULL,"
            " root_cause VARCHAR(32) NOT NULL, severity VARCHAR(16) NOT NULL, alert BOOLEAN NOT NULL,"
            " metrics_json TEXT NOT NULL, report_json TEXT NOT NULL)"))
    eng.dispose()
    st = Store(pg_url)
    with st.engine.connect() as conn:
        assert conn.execute(text("SELECT value FROM meta WHERE key='schema_version'")).scalar() == str(t.SCHEMA_VERSION)
    assert st.get_endpoint("old").url == "http://x" and st.get_endpoint("old").model_name is None
    st.upsert_endpoint("new", model_name="m" * 300)               # the serial sequence still works
    st.add_samples([Sample(endpoint="http://e/" + "q" * 1000, ts=1.0, prediction="p" * 300)])   # columns widened
    rid = st.save_report(make_report("none", endpoint="old"), incident_id=None)
    assert rid >= 1 and st.latest_report("old") is not None
    st.dispose()


def test_two_processes_creating_the_schema_at_once(pg_url: str, tmp_path: Path) -> None:
    go = tmp_path / "go"
    code = ("import os, sys, time\nfrom app.storage import Store\nprint('ready', flush=True)\n"
            "while not os.path.exists(sys.argv[1]): time.sleep(0.0005)\n"
            "Store(os.environ['MLFI_DATABASE_URL']).upsert_endpoint('ep')\nprint('ok', flush=True)\n")
    env = {**os.environ, "MLFI_DATABASE_URL": pg_url}
    procs = [subprocess.Popen([sys.executable, "-c", code, str(go)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, cwd=str(REPO), env=env) for _ in range(2)]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    go.touch()
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0 and out.strip() == "ok", err[-1500:]
    st = Store(pg_url)
    assert [e.name for e in st.list_endpoints()] == ["ep"]
    with st.engine.connect() as conn:
        assert conn.execute(select(t.meta.c.value).where(t.meta.c.key == "schema_version")).scalar() == \
            str(t.SCHEMA_VERSION)
    st.dispose()


def test_baselines_through_database_url_settings(pg: Store, pg_settings: Settings) -> None:
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    def window(lo: int, hi: int) -> list[Sample]:
        return [Sample(endpoint="bc", ts=float(i), prediction=str(int(y[i])), confidence=0.9, label=str(int(y[i])),
                       latency_ms=3.0, inputs={k: float(v) for k, v in X.iloc[i, :5].items()}) for i in range(lo, hi)]

    b1 = save_baseline(pg_settings, pg, learn_baseline("bc", window(0, 150), protocol="generic"))
    b2 = save_baseline(pg_settings, pg, learn_baseline("bc", window(150, 400)))
    assert (b1.version, b2.version) == (1, 2)
    assert load_baseline(pg_settings, pg, "bc").n_samples == 250
    assert load_baseline(pg_settings, pg, "bc", version=1).features["mean radius"].kind == "numeric"
    assert [r["active"] for r in pg.baseline_versions("bc")] == [False, True]
    with pytest.raises(BaselineMissingError):
        load_baseline(pg_settings, pg, "bc", version=7)


def test_cli_uses_mlfi_database_url(pg: Store, pg_settings: Settings, tmp_path: Path) -> None:
    on_report(pg, make_report("accuracy_drop"), pg_settings)
    env = {**os.environ, "MLFI_HOME": str(pg_settings.home), "MLFI_DATABASE_URL": pg_settings.database_url or ""}
    bad = {**env, "MLFI_DATABASE_URL": "postgresql+psycopg://nobody:s3cr3t-pw@127.0.0.1:1/none"}
    procs = [subprocess.Popen([sys.executable, "-m", "app", cmd, "--json"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=e, cwd=str(REPO))
             for cmd, e in (("recommendations", env), ("audit", bad))]
    (good_out, good_err), (_, bad_err) = (p.communicate(timeout=60) for p in procs)
    assert procs[0].returncode == 0, good_err[-1500:]
    assert {r["id"] for r in json.loads(good_out)} == {r.id for r in list_recommendations(pg)}
    assert procs[1].returncode == 2 and "Traceback" not in bad_err
    assert len(bad_err.strip().splitlines()) == 1 and "database" in bad_err and "s3cr3t" not in bad_err


# ---- governance ----------------------------------------------------------------------------------
WORKER = r"""
import json, os, sys, time
from app.config import Settings
from app.errors import MlfiError
from app.storage import Store
from app.governance import approve, reject
rec, who, go, what = sys.argv[1:5]
s = Settings(_env_file=None)                     # MLFI_HOME + MLFI_DATABASE_URL from the environment
st = Store.from_settings(s)
assert st.engine.dialect.name == "postgresql"
print("ready", flush=True)
while not os.path.exists(go):
    time.sleep(0.0002)
try:
    if what == "approve":
        approve(st, s, rec, by=who, reason="go ahead", execute_now=False)
    else:
        reject(st, s, rec, by=who, reason="no")
    print(json.dumps({"who": who, "ok": True}))
except MlfiError as e:
    print(json.dumps({"who": who, "ok": False, "type": type(e).__name__, "msg": str(e)}))
"""


def _race(settings: Settings, rec_id: str, actions: list[str], tmp_path: Path) -> list[dict]:
    """One real process per action, all released at the same instant once ready."""
    script, go = tmp_path / "worker.py", tmp_path / "go"
    script.write_text(WORKER)
    env = {**os.environ, "MLFI_HOME": str(settings.home), "MLFI_DATABASE_URL": settings.database_url or ""}
    procs = [subprocess.Popen([sys.executable, str(script), rec_id, f"user{i}", str(go), what], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(REPO))
             for i, what in enumerate(actions)]
    return release_together(procs, go)


@pytest.fixture
def recs(pg: Store, pg_settings: Settings) -> list[str]:
    rep = on_report(pg, make_report("accuracy_drop", anomalies=("accuracy_drop",)), pg_settings)
    assert rep.report_id and rep.recommendations
    return [r.id for r in rep.recommendations]


def test_on_report_creates_recommendations_and_an_incident(pg: Store, pg_settings: Settings, recs: list[str]) -> None:
    stored = list_recommendations(pg, status="pending")
    assert {r.id for r in stored} == set(recs) and all(r.endpoint == "http://127.0.0.1:9/predict" for r in stored)
    again = on_report(pg, make_report("accuracy_drop"), pg_settings)         # same incident, same ids, stored once
    assert {r.id for r in again.recommendations} == set(recs) and len(list_recommendations(pg)) == len(recs)
    (inc,) = list_incidents(pg)
    assert (inc.status, inc.root_cause, inc.alert_count) == ("open", "accuracy_drop", 2)
    assert inc.first_report_id is not None and inc.last_report_id == again.report_id
    assert [e.event for e in audit.entries(pg)] == ["recommended"]


def test_decisions_exactly_once(pg: Store, pg_settings: Settings, recs: list[str]) -> None:
    d = approve(pg, pg_settings, recs[0], by=" ana ", reason="roll back", execute_now=False)
    assert d.recommendation.status == "approved" and d.recommendation.decided_by == "ana"
    n = audit.count(pg)
    for fn in (approve, reject):
        with pytest.raises(ConflictError, match=r"already approved by ana at \d{4}-\d\d-\d\dT"):
            fn(pg, pg_settings, recs[0], by="bob", reason="me too")
    assert audit.count(pg) == n
    r = reject(pg, pg_settings, recs[1], by="bob", reason="planned promo traffic", false_alarm=True)
    assert r.false_alarm and r.sensitivity_changes
    assert sensitivity_for(pg, "http://127.0.0.1:9/predict")["accuracy_drop"] == 1.5
    with pytest.raises(NotFoundError, match="unknown recommendation id: nope"):
        reject(pg, pg_settings, "nope", by="bob", reason="x")
    with pytest.raises(InputError, match="--reason"):
        approve(pg, pg_settings, recs[2], by="bob", reason=" ")
    assert [e.event for e in audit.entries(pg)] == ["recommended", "approved", "rejected", "sensitivity_changed"]
    assert audit.verify(pg, pg_settings).ok


def test_two_processes_approving_one_id_leave_one_decision(pg: Store, pg_settings: Settings, recs: list[str],
                                                           tmp_path: Path) -> None:
    results = _race(pg_settings, recs[0], ["approve", "approve"], tmp_path)
    winners = [r for r in results if r["ok"]]
    losers = [r for r in results if not r["ok"]]
    assert len(winners) == 1 and len(losers) == 1 and losers[0]["type"] == "ConflictError"
    assert f"already approved by {winners[0]['who']} at" in losers[0]["msg"]
    rec = next(r for r in list_recommendations(pg) if r.id == recs[0])
    assert rec.status == "approved" and rec.decided_by == winners[0]["who"]
    assert [e.actor for e in audit.entries(pg) if e.event == "approved"] == [winners[0]["who"]]
    assert audit.verify(pg, pg_settings).ok


def test_three_processes_mixed_decisions_exactly_one_wins(pg: Store, pg_settings: Settings, recs: list[str],
                                                         tmp_path: Path) -> None:
    results = _race(pg_settings, recs[1], ["approve", "reject", "reject"], tmp_path)
    assert sum(r["ok"] for r in results) == 1
    assert all(r["type"] == "ConflictError" for r in results if not r["ok"])
    assert len([e for e in audit.entries(pg) if e.event in ("approved", "rejected")]) == 1
    assert audit.verify(pg, pg_settings).ok


def test_audit_verifies_and_detects_tampering(pg: Store, pg_settings: Settings, recs: list[str]) -> None:
    approve(pg, pg_settings, recs[0], by="ana", reason="go", execute_now=False)
    reject(pg, pg_settings, recs[1], by="bob", reason="not now")
    audit.record(pg, pg_settings, "note", "op\x00erator", {"text": "nul \x00 inside"})
    res = audit.verify(pg, pg_settings)
    assert res.ok and res.entries == res.mirror_entries == 4
    assert audit.entries(pg)[-1].actor == "op\ufffderator" and audit.entries(pg)[-1].payload["text"] == "nul \x00 inside"
    with pg.engine.begin() as conn:                      # edit the reason of entry 2 in the database
        raw = conn.execute(select(t.audit_log.c.payload_json).where(t.audit_log.c.seq == 2)).scalar_one()
        conn.execute(t.audit_log.update().where(t.audit_log.c.seq == 2)
                     .values(payload_json=raw.replace('"go"', '"GO"')))
    bad = audit.verify(pg, pg_settings)
    assert not bad.ok and bad.first_bad_seq == 2 and bad.where == "database"
    from app.errors import AuditIntegrityError

    with pytest.raises(AuditIntegrityError, match="refusing to write"):
        approve(pg, pg_settings, recs[2], by="carl", reason="ok", execute_now=False)
    assert next(r for r in list_recommendations(pg) if r.id == recs[2]).status == "pending"
    with pg.engine.begin() as conn:                      # restore, then delete the last entry instead
        conn.execute(t.audit_log.update().where(t.audit_log.c.seq == 2).values(payload_json=raw))
    assert audit.verify(pg, pg_settings).ok
    with pg.engine.begin() as conn:
        conn.execute(t.audit_log.delete().where(t.audit_log.c.seq == 4))
    bad = audit.verify(pg, pg_settings)
    assert not bad.ok and bad.first_bad_seq == 4 and "missing from the database" in bad.message


def test_incident_lifecycle(pg: Store, pg_settings: Settings, recs: list[str]) -> None:
    approve(pg, pg_settings, recs[0], by="ana", reason="go", execute_now=False)
    other = on_report(pg, make_report("latency_degradation", latency_p95=90.0), pg_settings)
    incs = {i.root_cause: i for i in list_incidents(pg)}
    assert incs["accuracy_drop"].status == "resolved" and incs["accuracy_drop"].outcome == "superseded"
    assert incs["latency_degradation"].status == "open" and other.recommendations
    healthy = on_report(pg, make_report("none"), pg_settings)
    assert healthy.recommendations == [] and list_incidents(pg, status="open") == []
    (closed,) = [i for i in list_incidents(pg) if i.root_cause == "latency_degradation"]
    assert closed.outcome == "recovered" and closed.resolved_at is not None
    statuses = {r.id: r.status for r in list_recommendations(pg)}
    assert statuses[recs[0]] == "approved" and "superseded" in statuses.values()
    events = [e.event for e in audit.entries(pg)]
    assert events.count("incident_closed") == 2 and audit.verify(pg, pg_settings).ok
