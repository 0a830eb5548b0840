"""Storage: transactional writes, schema version + upgrade, WAL, aggregated time series."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from app.errors import InputError, NotFoundError
from app.schemas import Sample
from app.storage import Store
from app.storage import tables as t


def _samples(n: int, name: str = "ep", t0: float = 1_000_000.0) -> list[Sample]:
    return [Sample(endpoint=name, ts=t0 + i, prediction=str(i % 2), confidence=0.8 + 0.01 * (i % 5),
                   label=str(i % 2) if i % 3 else "0", latency_ms=2.0 + i % 4,
                   error_kind="timeout" if i % 10 == 9 else None, inputs={"x": float(i)}) for i in range(n)]


def test_roundtrip_and_counts(store: Store) -> None:
    assert store.add_samples(_samples(50)) == 50
    assert store.count_samples("ep") == 50
    got = store.recent_samples("ep", last_n=10)
    assert [s.ts for s in got] == sorted(s.ts for s in got)
    assert got[-1].inputs == {"x": 49.0}
    assert got[0].correct in (True, False, None)


def test_sqlite_is_wal(store: Store) -> None:
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_batch_is_all_or_nothing(store: Store) -> None:
    store.add_samples(_samples(5))
    bad = _samples(3)
    with pytest.raises(Exception):
        # second batch violates NOT NULL on ts inside the same transaction -> nothing of it lands
        with store.engine.begin() as conn:
            conn.execute(t.samples.insert(), [Store.sample_row(1, s) for s in bad])
            conn.execute(t.samples.insert().values(endpoint_id=1, ts=None))
    assert store.count_samples("ep") == 5


def test_timeseries_is_bounded_and_correct(store: Store) -> None:
    store.add_samples(_samples(1000))
    df = store.metrics_timeseries("ep", bucket_s=1.0, max_points=50)
    assert len(df) <= 51
    assert int(df["n"].sum()) == 1000
    assert int(df["errors"].sum()) == 100
    assert df["error_rate"].between(0, 1).all()


def test_schema_upgrade_from_version_1(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    con = sqlite3.connect(db)
    con.executescript(
        "CREATE TABLE meta (key VARCHAR(64) PRIMARY KEY, value TEXT NOT NULL);"
        "INSERT INTO meta VALUES ('schema_version', '1');"
        "CREATE TABLE endpoints (id INTEGER PRIMARY KEY, name VARCHAR(512) NOT NULL UNIQUE, url VARCHAR(2048),"
        " protocol VARCHAR(32), headers_json TEXT, probe_set TEXT, label_column VARCHAR(256),"
        " interval_s FLOAT NOT NULL, enabled BOOLEAN NOT NULL, created_at FLOAT NOT NULL, last_probe_at FLOAT,"
        " last_status VARCHAR(32), consecutive_failures INTEGER NOT NULL);"
        "INSERT INTO endpoints VALUES (1, 'old', 'http://x', 'generic', NULL, NULL, NULL, 5, 1, 0, NULL, NULL, 0);"
        "CREATE TABLE reports (id INTEGER PRIMARY KEY, endpoint_id INTEGER NOT NULL, ts FLOAT NOT NULL,"
        " root_cause VARCHAR(32) NOT NULL, severity VARCHAR(16) NOT NULL, alert BOOLEAN NOT NULL,"
        " metrics_json TEXT NOT NULL, report_json TEXT NOT NULL);")
    con.commit()
    con.close()
    st = Store(f"sqlite:///{db}")
    with st.engine.connect() as conn:
        assert conn.execute(text("SELECT value FROM meta WHERE key='schema_version'")).scalar() == str(t.SCHEMA_VERSION)
        cols = [r[1] for r in conn.execute(text("PRAGMA table_info(endpoints)"))]
    assert "model_name" in cols
    assert st.get_endpoint("old").url == "http://x"   # data kept


def test_unknown_endpoint_and_bad_url(store: Store, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        store.get_endpoint("nope")
    with pytest.raises(InputError):
        Store("notadialect://x")


def test_heartbeat(store: Store) -> None:
    store.heartbeat(pid=123, status="running", started_at=time.time())
    st = store.watcher_state()
    assert st is not None and st["pid"] == 123 and st["status"] == "running"
    store.set_watcher_desired("stopped")
    assert store.watcher_state()["desired"] == "stopped"  # type: ignore[index]
