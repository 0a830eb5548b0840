"""SQLite keeps one watcher (issue 16): a second refuses with one line, a dead one's heartbeat never blocks,
and `mlfi watcher status --json` lists the watcher processes."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from app.cli import cli
from app.config import Settings
from app.errors import ConflictError
from app.storage import Store
from app.watcher.loop import main
from app.watcher.single import sqlite_watcher_lock


def test_a_second_watcher_on_sqlite_is_refused_with_the_postgres_hint(settings: Settings, store: Store) -> None:
    held = sqlite_watcher_lock(store)             # what a running watcher holds for its life
    assert held is not None
    try:
        with pytest.raises(ConflictError) as err:
            main(settings, max_runtime_s=0.2)
        msg = str(err.value)
        assert msg.startswith("a watcher is already running") and "MLFI_DATABASE_URL" in msg
        assert "PostgreSQL" in msg and "\n" not in msg and err.value.exit_code == 2
    finally:
        held.close()
    main(settings, max_runtime_s=0.2)             # released (the process ended): the next one starts


def test_a_dead_watchers_heartbeat_does_not_block_a_start(settings: Settings, store: Store) -> None:
    store.heartbeat(pid=2**22 + 12345, status="running", host="")   # says running, recent, pid gone
    totals = main(settings, max_runtime_s=0.2)
    assert totals.snapshot()["probes_started"] == 0
    assert (store.watcher_state() or {})["status"] == "stopped"


def test_watcher_status_json_lists_each_watcher(settings: Settings, store: Store,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFI_HOME", str(settings.home))
    monkeypatch.delenv("MLFI_DATABASE_URL", raising=False)
    main(settings, max_runtime_s=0.2)
    main(settings, max_runtime_s=0.2)
    out = CliRunner().invoke(cli, ["watcher", "status", "--json"])
    assert out.exit_code == 0, out.output
    st = json.loads(out.output)
    assert {"alive", "pid", "status", "heartbeat_age_s", "endpoints_enabled", "stats"} <= set(st)   # kept keys
    assert st["mode"] == "single" and len(st["watchers"]) == 2
    for w in st["watchers"]:
        assert {"id", "host", "pid", "alive", "endpoints", "heartbeat_age_s", "probes_per_minute"} <= set(w)
        assert w["alive"] is False and w["status"] == "stopped"
    eps = CliRunner().invoke(cli, ["endpoints", "list", "--json"])
    assert eps.exit_code == 0 and json.loads(eps.output) == []
