"""Many watchers on one REAL PostgreSQL (issue 16): leases, fencing, rebalancing, takeover, analysis jobs.

The issue's 3 watchers x 60 endpoints x 60 s run is scaled down to about 12 s of settled probing (the
suite's time budget); the lease TTL is 2 s and the heartbeat 0.4 s.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import Settings
from app.schemas import Sample
from app.storage import Store
from app.storage import leases as L
from app.storage.watcher import ProbeStatus, write_batch

pytestmark = pytest.mark.integration
_db_numbers = itertools.count(1)


@pytest.fixture
def pgs(tmp_path: Path, pg_cluster) -> Iterator[tuple[Settings, Store]]:  # type: ignore[no-untyped-def]
    url = pg_cluster.create_database(f"mlfi_scale{next(_db_numbers)}")
    s = Settings(home=tmp_path / "st", database_url=url, lease_ttl_s=2.0, heartbeat_every_s=0.4,
                 _env_file=None)  # type: ignore[call-arg]
    s.ensure_dirs()
    st = Store.from_settings(s)
    yield s, st
    st.dispose()


def _endpoints(store: Store, n: int, base: str = "http://127.0.0.1:9/e") -> list[int]:
    return [store.upsert_endpoint(f"{base}{i}", url=f"{base}{i}", protocol="generic", interval_s=1.0).id
            for i in range(n)]


def _sample(eid: int, ts: float) -> tuple[int, Sample]:
    return eid, Sample(endpoint=str(eid), ts=ts, prediction="1", latency_ms=1.0)


def test_claims_are_exclusive_fenced_and_a_stale_write_is_refused(pgs: tuple[Settings, Store]) -> None:
    _, store = pgs
    eng = store.engine
    ids = _endpoints(store, 6)
    a = L.register_watcher(eng, host="h", pid=1, started_at=0.0)
    b = L.register_watcher(eng, host="h", pid=2, started_at=0.0)
    got_a = L.claim(eng, a, 4, ttl_s=0.3)
    got_b = L.claim(eng, b, 10, ttl_s=30.0)
    assert len(got_a) == 4 and len(got_b) == 2 and not set(got_a) & set(got_b)     # no endpoint twice
    assert set(got_a.values()) == {1} and L.claim(eng, b, 10, ttl_s=30.0) == {}      # nothing free left
    time.sleep(0.4)                                    # a's leases expire (a was "paused")
    taken = L.claim(eng, b, 10, ttl_s=30.0)
    assert set(taken) == set(got_a) and set(taken.values()) == {2}                  # fence grew on the claim
    assert L.renew(eng, a, got_a, ttl_s=30.0) == {}                                 # a learns it lost them
    stale = L.FenceCheck(a, got_a)
    eid = ids[0] if ids[0] in got_a else next(iter(got_a))
    n = write_batch(eng, [_sample(eid, 1.0)], [ProbeStatus(eid, 1.0, "ok", 0)], fence=stale)
    assert n == 0 and stale.refused == {eid}                                        # refused, nothing written
    fresh = L.FenceCheck(b, {**got_b, **taken})
    assert write_batch(eng, [_sample(eid, 2.0)], [], fence=fresh) == 1 and not fresh.refused
    assert L.holders(eng)[eid] == b
    assert L.release(eng, b) == 6 and L.holders(eng) == {}                          # SIGTERM: all back at once


def test_two_analysis_workers_never_analyse_one_window_twice_and_a_crashed_job_is_retried(
        pgs: tuple[Settings, Store]) -> None:
    import sys
    import threading

    sys.path.insert(0, str(Path(__file__).parent))
    from gov_helpers import make_report

    from app.storage import analysis_jobs as J
    from app.storage.errors import StaleClaimError

    _, store = pgs
    eng = store.engine
    ids = _endpoints(store, 8)
    windows = [(e, w) for e in ids for w in range(5)]
    done: list[tuple[int, int]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(2)

    def worker(wid: int) -> None:
        barrier.wait()
        for _ in range(8):
            J.enqueue(eng, windows)                    # both queue every window: duplicates are ignored
            for job in J.claim_jobs(eng, wid, 3, ttl_s=30.0):
                with lock:
                    done.append((job.endpoint_id, job.window_no))
                assert J.finish_job(eng, job.id, job.fence)

    threads = [threading.Thread(target=worker, args=(w,)) for w in (1, 2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    while jobs := J.claim_jobs(eng, 3, 100, ttl_s=30.0):   # what the two left over (they stop after 8 rounds)
        done += [(j.endpoint_id, j.window_no) for j in jobs]
        for j in jobs:
            J.finish_job(eng, j.id, j.fence)
    assert sorted(done) == sorted(windows)             # every window exactly once

    # a worker claims a window, then "crashes" (never finishes): after its TTL another worker takes it
    J.enqueue(eng, [(ids[0], 99)])
    [first] = J.claim_jobs(eng, 1, 5, ttl_s=0.3)
    assert J.claim_jobs(eng, 2, 5, ttl_s=30.0) == []  # still held
    time.sleep(0.4)
    [again] = J.claim_jobs(eng, 2, 5, ttl_s=30.0)
    assert (again.id, again.fence, again.attempts) == (first.id, first.fence + 1, 2)
    name = store.list_endpoints()[0].name
    store.report_guard = (first.id, first.fence)       # the first worker wakes up: its report is refused
    with pytest.raises(StaleClaimError):
        store.save_report(make_report(endpoint=name))
    assert not J.finish_job(eng, first.id, first.fence)
    store.report_guard = (again.id, again.fence)
    assert store.save_report(make_report(endpoint=name)) > 0 and J.finish_job(eng, again.id, again.fence)
    store.report_guard = None
    assert len(store.list_reports(name)) == 1
