"""The watcher's sequential monitors over HTTP: demo model healthy -> degraded_accuracy -> healthy opens
exactly one incident at the alarm (with its change point and delay) and resolves it (counted in samples)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from app.config import Settings
from app.governance import list_incidents
from app.storage import Store
from app.watcher.analysis import Analyzer
from app.watcher.endpoints import register_urls
from app.watcher.loop import run_once
from app.watcher.scheduler import Scheduler

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[1]

LEARN, FAIL, HEAL = 40, 40, 80   # samples: healthy (baseline learned from them), degraded (~30 % wrong), healed


@pytest.fixture(scope="module")
def demo() -> Iterator[str]:
    """`mlfi serve-demo-model` in its own process (the watcher's analyses must not slow its answers)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "app", "serve-demo-model", "--port", str(port)], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                requests.get(f"{base}/health", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _mode(base: str, mode: str) -> None:
    requests.post(f"{base}/_control", json={"mode": mode}, timeout=5).raise_for_status()


def test_one_incident_per_change_with_change_point_and_recovery(demo: str, tmp_path: Path) -> None:
    # the 30 s cadence is pushed out of reach (one probe per simulated second, 10,000 s): every report
    # below comes from a sequential alarm
    settings = Settings(home=tmp_path / "s", window_size=LEARN, analysis_every_s=10_000.0, backoff_max_s=1.0,
                        probe_timeout_s=3.0, _env_file=None)  # type: ignore[call-arg]
    store = Store.from_settings(settings)
    url = f"{demo}/predict"
    register_urls(settings, store, [url], interval=1.0)
    clock = {"t": 0.0}
    sched = Scheduler(settings, store, clock=lambda: clock["t"])
    an = Analyzer(settings, store, clock=lambda: clock["t"])
    opened_at_sample = resolved_at_sample = None
    _mode(demo, "healthy")
    try:
        for i in range(LEARN):                  # healthy samples (the cadence's first pass finds too few)
            clock["t"] = float(i)
            run_once(settings, store, lambda: clock["t"], scheduler=sched, analyzer=an)
        an._last = {k: clock["t"] - settings.analysis_every_s for k in (an._last or {})}   # cadence due once more:
        st = run_once(settings, store, lambda: clock["t"], scheduler=sched, analyzer=an)
        assert st.baselines_learned == 1, "baseline not learned"        # ... it learns the baseline
        healthy_start = LEARN + 1
        switch = store.count_samples(url)                       # index of the first degraded sample
        _mode(demo, "degraded_accuracy")
        for i in range(healthy_start, healthy_start + FAIL):
            clock["t"] = float(i)
            st = run_once(settings, store, lambda: clock["t"], scheduler=sched, analyzer=an)
            if opened_at_sample is None and list_incidents(store, status="open"):
                opened_at_sample = i - healthy_start + 1
        assert st.probes_completed == 1
        _mode(demo, "healthy")
        heal_start = healthy_start + FAIL
        for i in range(heal_start, heal_start + HEAL):
            clock["t"] = float(i)
            run_once(settings, store, lambda: clock["t"], scheduler=sched, analyzer=an)
            if resolved_at_sample is None and list_incidents(store, status="resolved"):
                resolved_at_sample = i - heal_start + 1
    finally:
        _mode(demo, "healthy")
        sched.close()
    incs = list_incidents(store)
    ts = [x.ts for x in store.recent_samples(url, last_n=10_000, with_inputs=False)]
    store.dispose()
    assert len(incs) == 1, [(i.root_cause, i.status, i.opened_at) for i in incs]     # one change, one incident
    inc = incs[0]
    assert inc.root_cause == "accuracy_drop" and inc.status == "resolved" and inc.outcome == "recovered"
    assert opened_at_sample is not None and resolved_at_sample is not None       # counted in samples
    assert inc.change_point_at is not None and inc.detection_delay_samples is not None
    assert len(ts) == switch + FAIL + HEAL                      # one sample per cycle
    cp = ts.index(inc.change_point_at)                          # the change point is a stored sample's time
    alarm = cp + inc.detection_delay_samples - 1                # index of the sample that raised the alarm
    assert switch - 3 <= cp <= alarm < switch + opened_at_sample, (cp, alarm, switch, opened_at_sample)
    # the correctness alarm opens the incident itself (its analysis runs at once): never a sample later
    assert opened_at_sample <= alarm - switch + 2, (opened_at_sample, alarm - switch)
    print(f"alarm {inc.detection_delay_samples} samples after the change point (sample {cp}, switch at "
          f"{switch}); incident opened after {opened_at_sample} degraded samples; "
          f"resolved after {resolved_at_sample} healthy samples")
