"""Issue 17: per-minute aggregates, raw and aggregate retention, what pruning keeps, the settings."""

from __future__ import annotations

import json

import pytest

from app.config import Settings
from app.schemas import Sample
from app.storage import Store
from app.storage.aggregates import aggregate_series, rollup
from app.storage.retention import incremental_vacuum, prune_pass, storage_status
from app.watcher.pruning import Pruner, raw_retention_in_force, run_pruning_pass

EP = "http://127.0.0.1:9/predict"
T0 = 1_700_000_000.0 // 3600 * 3600      # an hour boundary


def _samples(n: int, *, start: float = T0, every: float = 1.0, endpoint: str = EP) -> list[Sample]:
    out = []
    for i in range(n):
        err = i % 10 == 9
        out.append(Sample(endpoint=endpoint, ts=start + i * every, inputs={"x": float(i), "y": "v"},
                          prediction=None if err else str(i % 3), confidence=None if err else 0.5 + (i % 5) / 10,
                          latency_ms=None if err else float(10 + i % 7), label=None if err else "0",
                          error_kind="timeout" if err else None))
    return out


def test_rollup_writes_one_row_per_minute_with_counts_quantiles_mix_and_accuracy(store):
    store.add_samples(_samples(180))                        # 3 minutes at 1/s
    res = rollup(store.engine, now=T0 + 180 + 120)
    assert res[store.get_endpoint(EP).id].minutes == 3
    st = storage_status(store.engine)
    assert st["tables"]["sample_aggregates"]["rows"] == 3 and st["oldest_aggregate"] == T0
    df = aggregate_series(store.engine, store.get_endpoint(EP).id)
    assert list(df["n"]) == [60, 60, 60] and list(df["errors"]) == [6, 6, 6]
    # labels are "0", predictions cycle 0,1,2 over successful samples: accuracy is the share of "0"
    ok = [s for s in _samples(60) if s.error_kind is None]
    assert df["accuracy"].iloc[0] == pytest.approx(sum(s.prediction == "0" for s in ok) / len(ok))
    raw = store.metrics_timeseries(EP, bucket_s=60)     # the raw-row chart agrees with the aggregates
    for col in ("n", "errors", "avg_confidence", "avg_latency_ms", "max_latency_ms", "accuracy"):
        assert list(df[col]) == pytest.approx(list(raw[col])), col
    # running it again writes nothing new; a minute younger than the lag waits
    assert rollup(store.engine, now=T0 + 180 + 120)[store.get_endpoint(EP).id].minutes == 0


def test_minute_row_holds_error_kinds_latency_quantiles_and_class_mix(store):
    store.add_samples(_samples(60))
    rollup(store.engine, now=T0 + 600)
    from sqlalchemy import select

    from app.storage import tables as t

    with store.engine.connect() as conn:
        row = conn.execute(select(t.sample_aggregates)).mappings().one()
    assert json.loads(row["error_kinds_json"]) == {"timeout": 6}
    assert sum(json.loads(row["class_mix_json"]).values()) == 54
    lat = sorted(s.latency_ms for s in _samples(60) if s.latency_ms is not None)
    assert row["latency_p50"] == pytest.approx(sorted(lat)[26] / 2 + sorted(lat)[27] / 2)
    assert row["latency_max"] == max(lat) and row["labelled"] == 54


def test_pruning_deletes_raw_rows_past_retention_and_keeps_governance_rows(store, settings):
    from app.governance import on_report
    from tests.gov_helpers import make_report

    store.add_samples(_samples(3 * 720, every=5.0))       # three hours at one sample every 5 s
    for i in range(3):                                     # alerts: a report, an incident, recommendations, audit
        on_report(store, make_report(created_at=T0 + i * 60), settings)
    before = storage_status(store.engine)["tables"]
    now = T0 + 3 * 3600 + 180
    res = prune_pass(store.engine, now, raw_retention_s=3600, aggregate_retention_s=90 * 86400, batch=100)
    st = storage_status(store.engine)
    assert st["oldest_raw_sample"] >= now - 3600               # nothing older than the retention survives
    assert res.raw_deleted == before["samples"]["rows"] - st["tables"]["samples"]["rows"] == (3 * 3600 + 180 - 3600) / 5
    assert res.transactions > res.raw_deleted / 100             # small transactions
    # every minute of the three hours is in the aggregates, deleted raw rows included
    assert st["tables"]["sample_aggregates"]["rows"] == 180 and st["oldest_aggregate"] == T0
    for table in ("reports", "incidents", "recommendations", "audit_log", "endpoints", "baselines"):
        assert st["tables"][table]["rows"] == before[table]["rows"], table
    assert before["reports"]["rows"] == 3 and before["audit_log"]["rows"] > 0
    # aggregates past their own retention go too (far in the future: everything)
    res2 = prune_pass(store.engine, now + 91 * 86400, raw_retention_s=3600, aggregate_retention_s=90 * 86400)
    st2 = storage_status(store.engine)
    assert res2.aggregates_deleted == 180 and st2["tables"]["samples"]["rows"] == 0
    assert st2["tables"]["sample_aggregates"]["rows"] == 0
    assert st2["tables"]["reports"]["rows"] == 3 and st2["tables"]["incidents"]["rows"] == before["incidents"]["rows"]


def test_raw_rows_not_yet_rolled_up_are_never_pruned(store):
    store.add_samples(_samples(600))
    now = T0 + 600
    # retention shorter than the rollup lag: rows of the last lag_s stay, they are not aggregated yet
    prune_pass(store.engine, now, raw_retention_s=10, aggregate_retention_s=86400, lag_s=120)
    st = storage_status(store.engine)
    assert st["oldest_raw_sample"] >= (now - 120) // 60 * 60 - 60
    assert st["tables"]["sample_aggregates"]["rows"] == 8      # minutes 0..7 complete, 8 and 9 too young


def test_pruning_frees_pages_on_sqlite(store):
    from sqlalchemy import text

    store.add_samples(_samples(2500))
    res = prune_pass(store.engine, T0 + 10 * 86400, raw_retention_s=60, aggregate_retention_s=86400 * 90)
    assert res.pages_freed > 30                            # 2500 rows with inputs: some 45 pages
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA freelist_count")).scalar() == 0
    assert incremental_vacuum(store.engine) == 0          # the pass already returned the free pages
    from app.storage.retention import last_pass

    assert storage_status(store.engine)["tables"]["samples"]["rows"] == 0
    assert last_pass(store.engine) is None                # prune_pass alone records nothing


def test_worker_pass_records_and_all_mode_keeps_raw_rows(settings, store):
    store.add_samples(_samples(300))
    keep = settings.model_copy(update={"store_inputs": "all"})
    assert raw_retention_in_force(keep) is None
    run_pruning_pass(keep, store, now=T0 + 86400)
    st = storage_status(store.engine)
    assert st["tables"]["samples"]["rows"] == 300 and st["last_pass"]["minutes_rolled_up"] == 5
    run_pruning_pass(settings, store, now=T0 + 86400)       # window (default): one hour -- a shortening
    st = storage_status(store.engine)
    assert st["tables"]["samples"]["rows"] == 300 and st["last_pass"]["pending"] == ["raw_retention_s"]
    from app.storage.retention_policy import save_policy
    from app.watcher.pruning import configured_retention

    save_policy(store.engine, configured_retention(settings))   # what `mlfi storage retention --yes` records
    run_pruning_pass(settings, store, now=T0 + 86400)
    assert storage_status(store.engine)["tables"]["samples"]["rows"] == 0


def test_pruner_thread_runs_a_pass_and_stops(settings, store):
    store.add_samples(_samples(120))
    p = Pruner(settings, every_s=3600, first_after_s=0, store_factory=lambda: Store.from_settings(settings))
    p._thread.start()
    import time

    deadline = time.monotonic() + 10
    while p.passes == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    p.close()
    assert p.passes == 1 and not p._thread.is_alive()
    assert storage_status(store.engine)["last_pass"] is not None


def test_retention_settings_defaults_units_and_bad_values(tmp_path):
    s = Settings(home=tmp_path, _env_file=None)  # type: ignore[call-arg]
    # default: 4 x (150 samples x 5 s + 30 s) = 3120 s, raised to the one-hour floor
    assert s.raw_retention_s == 3600 and s.aggregate_retention_s == 90 * 86400 and s.store_inputs == "window"
    big = Settings(home=tmp_path, window_size=1000, watch_interval_s=10, _env_file=None)  # type: ignore[call-arg]
    assert big.raw_retention_s == 4 * (1000 * 10 + 30)
    s2 = Settings(home=tmp_path, raw_retention="6h", aggregate_retention="30d", store_inputs="None",
                  _env_file=None)  # type: ignore[call-arg]
    assert (s2.raw_retention_s, s2.aggregate_retention_s, s2.store_inputs) == (21600, 30 * 86400, "none")
    for bad in ({"raw_retention": "soon"}, {"raw_retention": "0"}, {"aggregate_retention": "-3d"},
                {"store_inputs": "some"}):
        with pytest.raises(ValueError):
            Settings(home=tmp_path, _env_file=None, **bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(("var", "value"), [("MLFI_RAW_RETENTION", "soon"), ("MLFI_AGGREGATE_RETENTION", "0d"),
                                            ("MLFI_STORE_INPUTS", "everything")])
def test_bad_retention_setting_is_one_line_exit_2(var, value, tmp_path, monkeypatch, capsys):
    from app.cli import main

    monkeypatch.setenv("MLFI_HOME", str(tmp_path / "st"))
    monkeypatch.setenv(var, value)
    with pytest.raises(SystemExit) as exc:
        main(["endpoints", "list"])
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and len(err) == 1 and var in err[0]


def test_storage_status_cli_shows_rows_oldest_and_settings(mlfi_env, capsys, monkeypatch):
    from app.cli import main

    monkeypatch.setenv("MLFI_STORE_INPUTS", "none")
    monkeypatch.setenv("MLFI_RAW_RETENTION", "2h")
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    st = Store.from_settings(s)
    st.add_samples(_samples(120))
    run_pruning_pass(s, st, now=T0 + 600)
    st.dispose()
    with pytest.raises(SystemExit) as exc:
        main(["storage", "status", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert exc.value.code in (0, None)
    assert doc["settings"] == {"raw_retention_s": 7200.0, "aggregate_retention_s": 90 * 86400.0, "store_inputs": "none",
                               "pending_shortening": {}}
    assert doc["tables"]["samples"]["rows"] == 120 and doc["samples_with_inputs"] == 0
    assert doc["tables"]["sample_aggregates"]["rows"] == 2 and doc["oldest_raw_sample"] == T0
    assert doc["last_pass"]["minutes_rolled_up"] == 2 and doc["tables"]["samples"]["bytes"] > 0
