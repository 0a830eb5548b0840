"""The watcher as a real process: background start/stop, desired state, SIGTERM, single instance, kill -9."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.config import REPO_ROOT, Settings
from app.storage import Store
from app.watcher.control import is_alive, pid_alive, start_background, stop_background, watcher_status
from tests.test_watcher_http import server  # noqa: F401  (fixture: loopback model server)

pytestmark = pytest.mark.integration


def _wait(cond: Callable[[], bool], timeout: float = 20.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


def _children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(d.name))
            except (OSError, IndexError, ValueError):
                continue
    return out


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


@pytest.fixture
def csettings(tmp_path: Path) -> Settings:
    s = Settings(home=tmp_path / "c", heartbeat_every_s=0.3, probe_timeout_s=1.0, window_size=1000,
                 _env_file=None)  # type: ignore[call-arg]
    s.ensure_dirs()
    return s


@pytest.fixture
def cstore(csettings: Settings) -> Iterator[Store]:
    st = Store.from_settings(csettings)
    yield st
    st.dispose()


def _env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFI_")}
    env.update(MLFI_HOME=str(settings.home), MLFI_HEARTBEAT_EVERY_S=str(settings.heartbeat_every_s),
               MLFI_PROBE_TIMEOUT_S="1.0", MLFI_WINDOW_SIZE="1000")
    return env


def _add_endpoints(store: Store, base: str, probes: Path, n: int = 3) -> list[str]:
    probes.write_text("a,target\n" + "\n".join(f"{i},{int(i > 5)}" for i in range(12)) + "\n")
    names = [f"{base}/ok/{i}" for i in range(n)]
    for u in names:
        store.upsert_endpoint(u, url=u, protocol="generic", probe_set=str(probes), label_column="target",
                              interval_s=0.2)
    return names


def test_background_start_status_stop(csettings: Settings, cstore: Store) -> None:
    assert not is_alive(cstore, csettings)
    pid = start_background(csettings)
    try:
        assert pid_alive(pid) and is_alive(cstore, csettings)
        assert start_background(csettings) == pid               # idempotent: no second watcher
        st = watcher_status(csettings, cstore)
        assert st["alive"] and st["pid"] == pid and st["desired"] == "running"
        assert stop_background(csettings, cstore, timeout_s=20)
    finally:
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
    assert not pid_alive(pid)
    st = cstore.watcher_state() or {}
    assert st["status"] == "stopped" and st["desired"] == "stopped" and not is_alive(cstore, csettings)


def test_desired_stopped_in_the_database_stops_it(csettings: Settings, cstore: Store) -> None:
    pid = start_background(csettings)
    try:
        cstore.set_watcher_desired("stopped")                  # what the dashboard's switch does
        assert _wait(lambda: not pid_alive(pid), 20)
    finally:
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
    assert (cstore.watcher_state() or {})["status"] == "stopped"


def test_sigterm_finishes_cleanly_and_a_second_watcher_is_refused(csettings: Settings, cstore: Store,
                                                                 server: str, tmp_path: Path) -> None:  # noqa: F811
    names = _add_endpoints(cstore, server, tmp_path / "p.csv")
    cmd = [sys.executable, "-m", "app", "watch"]
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=_env(csettings), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert _wait(lambda: all(cstore.count_samples(n) >= 3 for n in names), 30)
        second = subprocess.run(cmd, cwd=REPO_ROOT, env=_env(csettings), capture_output=True, text=True,
                                timeout=60, check=False)
        assert second.returncode == 2
        assert second.stderr.strip().startswith("Error: a watcher is already running")
        assert len(second.stderr.strip().splitlines()) == 1
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-2000:]
    assert "Traceback" not in err
    st = cstore.watcher_state() or {}
    assert st["status"] == "stopped"
    before = {n: cstore.count_samples(n) for n in names}
    time.sleep(0.6)
    assert {n: cstore.count_samples(n) for n in names} == before          # really stopped


def test_kill_9_loses_no_committed_sample(csettings: Settings, cstore: Store, server: str,  # noqa: F811
                                          tmp_path: Path) -> None:
    names = _add_endpoints(cstore, server, tmp_path / "p.csv", n=5)
    db = str(csettings.data_dir / "mlfi.db")
    cmd = [sys.executable, "-m", "app", "watch"]
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=_env(csettings), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        assert _wait(lambda: sum(cstore.count_samples(n) for n in names) >= 40, 30)
        assert _wait(lambda: any(b"spawn_main" in _cmdline(k) for k in _children(proc.pid)), 30)  # analysis process
        kids = _children(proc.pid)
        con = sqlite3.connect(db, timeout=15)
        committed = con.execute("SELECT id, endpoint_id, ts, prediction FROM samples").fetchall()
        con.close()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert _wait(lambda: not any(pid_alive(k) for k in kids), 10)   # no orphan left behind
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not is_alive(cstore, csettings)                   # heartbeat recent, but the pid is dead
    proc2 = subprocess.Popen(cmd, cwd=REPO_ROOT, env=_env(csettings), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        n0 = len(committed)
        assert _wait(lambda: sum(cstore.count_samples(n) for n in names) >= n0 + 20, 30)
        proc2.send_signal(signal.SIGTERM)
        assert proc2.wait(timeout=30) == 0
    finally:
        if proc2.poll() is None:
            proc2.kill()
    con = sqlite3.connect(db)
    rows = set(con.execute("SELECT id, endpoint_id, ts, prediction FROM samples").fetchall())
    assert set(committed) <= rows
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
