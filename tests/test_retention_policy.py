"""Issue 17: a shorter retention waits for confirmation (`mlfi storage retention --yes`) and is audited; error
text is redacted in none mode; on PostgreSQL one pruner runs at a time (advisory lock)."""

from __future__ import annotations

import itertools
import json

import pytest

from app.config import Settings
from app.schemas import Sample
from app.storage import Store
from app.storage.retention import pruner_lock, storage_status
from app.watcher.pruning import run_pruning_pass

T0 = 1_700_000_000.0 // 3600 * 3600
EP = "http://127.0.0.1:9/predict"
_dbs = itertools.count(1)


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    from app.cli import main

    capsys.readouterr()      # only this command's output (earlier log lines are not its output)
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out, out.err


def _rows(n: int, start: float) -> list[Sample]:
    return [Sample(endpoint=EP, ts=start + i, inputs={"x": float(i)}, prediction="0", confidence=0.9, latency_ms=5.0)
            for i in range(n)]


def test_shorter_retention_waits_for_confirmation_and_is_audited(mlfi_env, capsys, monkeypatch):
    import time

    from app.governance import audit

    monkeypatch.setenv("MLFI_RAW_RETENTION", "6h")
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    st = Store.from_settings(s)
    now = time.time()
    st.add_samples(_rows(60, now - 3 * 3600))              # three hours old: inside 6 h, outside 1 h
    assert run_pruning_pass(s, st, now=now) is not None    # the first pass records 6 h
    monkeypatch.setenv("MLFI_RAW_RETENTION", "1h")
    short = Settings(_env_file=None)  # type: ignore[call-arg]
    run_pruning_pass(short, st, now=now)                   # not confirmed: the 6 h in force is kept
    assert storage_status(st.engine)["tables"]["samples"]["rows"] == 60

    rc, out, err = _cli(capsys, "storage", "retention", "--json")     # no terminal, no --yes: refused
    assert rc == 2 and out == "" and len(err.strip().splitlines()) == 1 and "--yes" in err
    rc, out, _ = _cli(capsys, "storage", "status", "--json")
    shown = json.loads(out)["settings"]
    assert shown["raw_retention_s"] == 21600 and shown["pending_shortening"]["raw_retention_s"]["to"] == 3600

    rc, out, _ = _cli(capsys, "storage", "retention", "--yes", "--by", "alice", "--json")
    doc = json.loads(out)
    assert rc == 0 and doc["shortened"] == {"raw_retention_s": {"from": 21600.0, "to": 3600.0}}
    last = audit.entries(st, newest_first=True)[0]
    assert last.event == "retention_shortened" and last.actor == "alice"
    assert last.payload["changes"]["raw_retention_s"]["to"] == 3600.0
    assert "retention_shortened" in audit.mirror_path(s).read_text()
    run_pruning_pass(short, st, now=now)
    assert storage_status(st.engine)["tables"]["samples"]["rows"] == 0

    monkeypatch.setenv("MLFI_RAW_RETENTION", "12h")                 # longer: applies without asking
    rc, out, _ = _cli(capsys, "storage", "retention", "--json")
    assert rc == 0 and json.loads(out)["shortened"] == {} and audit.count(st) == 1
    st.dispose()


def test_none_mode_redacts_error_text_that_may_echo_inputs(tmp_path):
    echo = "invalid value 31.4159265 for 'mean radius' in {\"mean radius\": 31.4159265, \"city\": \"Lyon\"}\nTrace"
    kept = {}
    for mode in ("none", "window"):
        st = Store(f"sqlite:///{tmp_path / mode}.db", store_inputs=mode)
        st.add_samples([Sample(endpoint=EP, ts=T0, inputs={"mean radius": 31.4159265}, error_kind="http_4xx",
                               error_detail=echo, status_code=422)])
        kept[mode] = st.recent_samples(EP)[0]
        st.dispose()
    assert kept["window"].error_detail == echo
    red = kept["none"].error_detail or ""
    assert "31.4" not in red and "Lyon" not in red and "mean radius" not in red and len(red) <= 120
    assert red.startswith("invalid value # for") and kept["none"].status_code == 422


@pytest.mark.integration
def test_one_pruner_at_a_time_on_postgresql(tmp_path, pg_cluster):
    url = pg_cluster.create_database(f"mlfi_prune{next(_dbs)}")
    s = Settings(home=tmp_path / "pg", database_url=url, _env_file=None)  # type: ignore[call-arg]
    s.ensure_dirs()
    a, b = Store.from_settings(s), Store.from_settings(s)      # two watchers: two engines, two sessions
    try:
        a.add_samples(_rows(30, T0))
        with pruner_lock(a.engine) as first:
            with pruner_lock(b.engine) as second:
                assert first and not second
            assert run_pruning_pass(s, b, now=T0 + 86400) is None       # skipped: the other one prunes
            assert storage_status(b.engine)["last_pass"] is None
        with pruner_lock(b.engine) as again:                         # released at the end of the pass
            assert again
        res = run_pruning_pass(s, b, now=T0 + 86400)
        assert res is not None and res.raw_deleted == 30
    finally:
        a.dispose()
        b.dispose()
