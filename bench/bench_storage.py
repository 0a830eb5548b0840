"""Storage benchmark (issue 17): bytes per sample per MLFI_STORE_INPUTS mode, database size over simulated
days under retention, pruning cost per simulated hour, and the 30-day Endpoint-page query from aggregates.

Samples are written through the watcher's own write path (``write_batch``) with the 30-feature
breast-cancer inputs, with compressed time: each simulated hour is bulk-inserted, then one pruning
pass runs as the watcher's worker would (``run_pruning_pass``). Writes go through SQLAlchemy on a
shared 2-core machine, so the sample *rate* is a parameter: the size curve's shape does not depend on
it (raw rows scale with rate x retention; aggregates with endpoints x minutes).

    .venv/bin/python bench/bench_storage.py                  # defaults below (~15 min on 2 busy cores)
    .venv/bin/python bench/bench_storage.py --quick          # smoke run (~1 min)
    .venv/bin/python bench/bench_storage.py --endpoints 100 --every 1 --days 7   # the issue's full load (hours)

Writes bench/results/storage.md and prints it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.config import Settings
from app.schemas import Sample
from app.storage import Store
from app.storage.aggregates import aggregate_series
from app.storage.retention import checkpoint_wal, storage_status
from app.storage.watcher import write_batch
from app.views.long_range import long_timeseries
from app.watcher.pruning import run_pruning_pass

T0 = 1_767_225_600.0        # 2026-01-01 00:00 UTC
HOUR = 3600.0


def _rows() -> list[dict[str, float]]:
    from sklearn.datasets import load_breast_cancer

    d = load_breast_cancer()
    return [dict(zip(map(str, d.feature_names), map(float, r))) for r in d.data]


ROWS = _rows()


def _samples(name: str, start: float, n: int, every: float, k: int) -> list[Sample]:
    out = []
    for i in range(n):
        r = ROWS[(k + i) % len(ROWS)]
        err = (k + i) % 50 == 0
        out.append(Sample(endpoint=name, ts=start + i * every, inputs=r, label=str((k + i) % 2),
                          prediction=None if err else str((k + i) % 2), confidence=None if err else 0.9,
                          latency_ms=None if err else 3.0 + (i % 7), error_kind="timeout" if err else None))
    return out


def _db_bytes(settings: Settings) -> tuple[int, int]:
    db = settings.data_dir / "mlfi.db"
    wal = Path(str(db) + "-wal")
    return db.stat().st_size, (wal.stat().st_size if wal.exists() else 0)


def _settings(home: Path, mode: str, raw_retention: str) -> Settings:
    s = Settings(home=home, store_inputs=mode, raw_retention=raw_retention, _env_file=None)  # type: ignore[call-arg]
    s.ensure_dirs()
    return s


def _checkpoint(store: Store) -> None:
    checkpoint_wal(store.engine)      # fold the WAL back so the file size is the data size


def bytes_per_sample(root: Path, n: int) -> list[dict[str, Any]]:
    out = []
    for mode in ("none", "window", "all"):
        s = _settings(root / f"bps-{mode}", mode, "1h")
        st = Store.from_settings(s)
        eid = st._endpoint_id("ep-0")
        _checkpoint(st)
        before = _db_bytes(s)[0]
        for k in range(0, n, 5000):
            write_batch(st.engine, [(eid, x) for x in _samples("ep-0", T0 + k, min(5000, n - k), 1.0, k)], [],
                        keep_inputs=st.keeps_inputs)
        _checkpoint(st)
        after = _db_bytes(s)[0]
        out.append({"mode": mode, "samples": n, "bytes": after - before, "bytes_per_sample": (after - before) / n})
        st.dispose()
    return out


def size_over_time(root: Path, endpoints: int, every: float, days: int, retention: str) -> dict[str, Any]:
    s = _settings(root / "curve", "window", retention)
    st = Store.from_settings(s)
    ids = [st._endpoint_id(f"ep-{e}") for e in range(endpoints)]
    per_hour = int(HOUR / every)
    curve, prune_s, insert_s = [], [], []
    for h in range(days * 24):
        t_ins = time.perf_counter()
        for e, eid in enumerate(ids):
            write_batch(st.engine, [(eid, x) for x in _samples(f"ep-{e}", T0 + h * HOUR + e * every / endpoints,
                                                               per_hour, every, h * per_hour)], [])
        insert_s.append(time.perf_counter() - t_ins)
        res = run_pruning_pass(s, st, now=T0 + (h + 1) * HOUR)
        assert res is not None          # SQLite: one watcher, so no other pruner holds the lock
        prune_s.append(res.duration_s)
        db, wal = _db_bytes(s)
        if h % 6 == 5 or h == days * 24 - 1:
            status = storage_status(st.engine)["tables"]
            curve.append({"hour": h + 1, "db_bytes": db, "wal_bytes": wal, "raw_rows": status["samples"]["rows"],
                          "aggregate_rows": status["sample_aggregates"]["rows"], "prune_s": res.duration_s,
                          "raw_deleted": res.raw_deleted, "pages_freed": res.pages_freed})
            print(f"  hour {h + 1}: db {db / 1e6:.1f} MB, wal {wal / 1e6:.1f} MB, raw {status['samples']['rows']}, "
                  f"aggregates {status['sample_aggregates']['rows']}, prune {res.duration_s:.2f} s", flush=True)
    eid0 = ids[0]
    t = time.perf_counter()
    df = aggregate_series(st.engine, eid0, since=T0 + days * 86400 - 30 * 86400, bucket_s=3600.0)
    page_s = time.perf_counter() - t
    st.dispose()
    steady = prune_s[len(prune_s) // 2:]
    return {"endpoints": endpoints, "every_s": every, "days": days, "retention": retention, "curve": curve,
            "prune_median_s": sorted(steady)[len(steady) // 2], "prune_max_s": max(steady),
            "insert_hour_median_s": sorted(insert_s)[len(insert_s) // 2],
            "series_points": len(df), "series_s": page_s, "rows_per_hour": endpoints * per_hour}


def page_30_days(root: Path, every: float) -> dict[str, Any]:
    """One endpoint with 30 days of samples: roll up, then time the 30-day chart query on aggregates."""
    s = _settings(root / "page", "window", "1h")
    st = Store.from_settings(s)
    eid = st._endpoint_id("ep-0")
    n_day = int(86400 / every)
    for d in range(30):
        write_batch(st.engine, [(eid, x) for x in _samples("ep-0", T0 + d * 86400, n_day, every, d * n_day)], [])
        run_pruning_pass(s, st, now=T0 + (d + 1) * 86400)
    now = T0 + 30 * 86400
    timings, cpu = [], []
    for _ in range(5):      # what the Endpoint page calls for its 30-day range (240 points at most)
        t, c = time.perf_counter(), time.process_time()
        df = long_timeseries(st, "ep-0", since=now - 30 * 86400, now=now, max_points=240)
        timings.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    rows = storage_status(st.engine)["tables"]["sample_aggregates"]["rows"]
    st.dispose()
    return {"aggregate_rows": rows, "points": len(df), "median_s": sorted(timings)[2], "cpu_s": sorted(cpu)[2],
            "load": os.getloadavg()[0]}


def _md(bps: list[dict[str, Any]], curve: dict[str, Any], page: dict[str, Any], cmd: str) -> str:
    lines = ["# Storage benchmark (issue 17)", "", f"Command: `{cmd}`  ", f"Machine: {os.cpu_count()} cores (shared).",
             "", "## Bytes per sample (30 breast-cancer features, watcher write path, WAL folded in)", "",
             "| MLFI_STORE_INPUTS | samples | bytes/sample |", "|---|---:|---:|"]
    lines += [f"| {r['mode']} | {r['samples']} | {r['bytes_per_sample']:.0f} |" for r in bps]
    c = curve
    lines += ["", (f"## Database size over {c['days']} simulated days: {c['endpoints']} endpoints, one sample every "
              f"{c['every_s']:g} s ({c['rows_per_hour']} rows per hour), MLFI_RAW_RETENTION={c['retention']}"), "",
              "Each simulated hour is bulk-inserted, then one pruning pass runs (rollup, prune, incremental vacuum).", "",
              "| hour | db MB | WAL MB | raw rows | aggregate rows | prune pass s | raw deleted |",
              "|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {p['hour']} | {p['db_bytes'] / 1e6:.2f} | {p['wal_bytes'] / 1e6:.2f} | {p['raw_rows']} | "
              f"{p['aggregate_rows']} | {p['prune_s']:.2f} | {p['raw_deleted']} |" for p in c["curve"]]
    lines += ["", (f"Pruning cost per simulated hour (second half of the run): median {c['prune_median_s']:.2f} s, "
              f"max {c['prune_max_s']:.2f} s; inserting that hour took a median {c['insert_hour_median_s']:.1f} s."),
              (f"Chart query over the run's aggregates (hourly buckets): {c['series_points']} points in "
              f"{c['series_s'] * 1000:.0f} ms."),
              "", "## Endpoint page, 30 days, from aggregates", "",
              (f"One endpoint, 30 days rolled up ({page['aggregate_rows']} minute rows): the page's 30-day series "
              f"(`app.views.long_range.long_timeseries`) in {page['points']} points takes "
              f"{page['median_s'] * 1000:.0f} ms wall, {page['cpu_s'] * 1000:.0f} ms CPU (median of 5; load "
              f"average {page['load']:.1f}).")]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--endpoints", type=int, default=100)
    ap.add_argument("--every", type=float, default=60.0, help="seconds between samples per endpoint")
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--retention", default="1h")
    ap.add_argument("--bps-samples", type=int, default=10000)
    ap.add_argument("--page-every", type=float, default=60.0)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "storage.md")
    a = ap.parse_args()
    if a.quick:
        a.endpoints, a.every, a.days, a.bps_samples, a.page_every = 10, 120.0, 1, 2000, 600.0
    cmd = "python bench/bench_storage.py " + " ".join(sys.argv[1:])
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        print("bytes per sample ...", flush=True)
        bps = bytes_per_sample(root, a.bps_samples)
        print(bps, flush=True)
        print("size over time ...", flush=True)
        curve = size_over_time(root, a.endpoints, a.every, a.days, a.retention)
        print("30-day page ...", flush=True)
        page = page_30_days(root, a.page_every)
    text = _md(bps, curve, page, cmd.strip())
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
