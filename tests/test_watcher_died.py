"""Issue 14 item 17: a killed watcher (heartbeat says running, process gone) is shown as "died", with when."""

from __future__ import annotations

import time


def _beat(store, *, status: str, pid: int, last_beat: float) -> None:
    row = {"status": status, "pid": pid, "last_beat": last_beat, "started_at": last_beat - 60, "desired": "running"}
    store._write_watcher(row, row)


def test_a_killed_watcher_is_died_with_its_last_beat_and_a_clean_stop_is_stopped(settings, store, capsys,
                                                                                  monkeypatch):
    from app.cli import main
    from app.views.status import watcher_info
    from app.watcher.control import watcher_status

    then = time.time() - 600
    _beat(store, status="running", pid=2 ** 22 + 7, last_beat=then)       # a pid that does not exist
    st = watcher_status(settings, store)
    assert st["status"] == "died" and st["died_at"] == then and st["alive"] is False
    assert watcher_info(store, settings).status == "died"
    monkeypatch.setenv("MLFI_HOME", str(settings.home))
    try:
        main(["watcher", "status"])
    except SystemExit as exc:
        assert exc.code == 0
    assert "status died" in capsys.readouterr().out
    _beat(store, status="stopped", pid=2 ** 22 + 7, last_beat=then)
    st = watcher_status(settings, store)
    assert st["status"] == "stopped" and st["died_at"] is None
    assert watcher_info(store, settings).status == "stopped"
