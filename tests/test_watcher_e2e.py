"""End to end over loopback: the watcher learns the demo model's baseline by itself, then catches a failure."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.config import Settings
from app.governance import list_incidents
from app.storage import Store
from app.watcher.analysis import Analyzer
from app.watcher.endpoints import register_urls
from app.watcher.loop import run_once
from app.watcher.scheduler import Scheduler

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def demo() -> Iterator[Any]:
    from app.demo.model import make_server

    srv = make_server("127.0.0.1", 0, "healthy")
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.mark.parametrize("mode, cause", [("errors", "error_spike"), ("silent_failure", "silent_failure")])
def test_watcher_learns_then_flags_a_failure(demo: Any, tmp_path: Path, mode: str, cause: str) -> None:
    settings = Settings(home=tmp_path / "e", window_size=60, analysis_every_s=30.0, backoff_max_s=1.0,
                        probe_timeout_s=3.0, _env_file=None)  # type: ignore[call-arg]
    store = Store.from_settings(settings)
    url = f"http://127.0.0.1:{demo.server_address[1]}/predict"
    (ep,) = register_urls(settings, store, [url], interval=1.0)      # protocol auto-detected once
    assert ep["protocol"] == "generic"
    clock = {"t": 0.0}
    sched = Scheduler(settings, store, clock=lambda: clock["t"])
    an = Analyzer(settings, store, clock=lambda: clock["t"])
    actions: list[tuple[float, Any]] = []
    demo.behaviour.set_mode("healthy")
    try:
        for i in range(121):                  # one probe per simulated second
            clock["t"] = float(i)
            if i == 61:
                demo.behaviour.set_mode(mode)
            st = run_once(settings, store, lambda: clock["t"], scheduler=sched, analyzer=an)
            assert st.probes_completed == 1
            if st.baselines_learned or st.reports_saved:
                actions.append((clock["t"], st))
    finally:
        demo.behaviour.set_mode("healthy")
        sched.close()
    assert [t for t, s in actions if s.baselines_learned] == [60.0]   # learned from the first full window
    reports = [t for t, s in actions if s.reports_saved]
    # a sequential alarm analyses at once, before the 30 s cadence would (at 90); the cadence stays the
    # backstop: never more than 30 s without a report once the monitoring began
    assert reports and 61 < reports[0] < 90, reports
    assert all(b - a <= 30 for a, b in zip([60.0, *reports], [*reports, 120.0], strict=True)), reports
    rep = store.latest_report(url)
    assert rep is not None and rep.alert and rep.rca.root_cause == cause, rep.rca
    assert 20 <= rep.samples_collected <= 60               # the samples since the change, at least 20
    incs = list_incidents(store)
    assert len(incs) == 1 and incs[0].change_point_at is not None, incs     # one change, one incident
    assert store.count_samples(url) == 121
    store.dispose()
