"""Scrape time of GET /metrics's collector on a store with 100 endpoints x 10,000 samples (issue 15 item 4).

    PYTHONPATH=. .venv/bin/python bench/metrics_scrape.py [--endpoints 100] [--samples 10000]

Prints the first scrape (counts every stored sample once), a repeat scrape (nothing new), and a scrape
after every endpoint got one more probe and a new report (the steady state with a running watcher).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from gov_helpers import make_report  # noqa: E402

from app.config import Settings  # noqa: E402
from app.observability import exposition  # noqa: E402
from app.observability.collector import MlfiCollector  # noqa: E402
from app.storage import Store  # noqa: E402
from app.storage.watcher import write_batch  # noqa: E402
from app.schemas import Sample  # noqa: E402


def _scrape(col: MlfiCollector) -> tuple[float, int]:
    t0 = time.perf_counter()
    body, _ = exposition(col)
    return time.perf_counter() - t0, len(body)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoints", type=int, default=100)
    ap.add_argument("--samples", type=int, default=10_000)
    a = ap.parse_args()
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as d:
        settings = Settings(home=Path(d), _env_file=None)  # type: ignore[call-arg]
        settings.ensure_dirs()
        store = Store.from_settings(settings)
        t0 = time.perf_counter()
        now = time.time()
        for e in range(a.endpoints):
            eid = store.upsert_endpoint(f"http://model-{e}:9000/predict").id
            batch = [(eid, Sample(endpoint="x", ts=now - a.samples + i, prediction=str(i % 2), confidence=0.9,
                                  latency_ms=rng.uniform(5, 400), error_kind="timeout" if i % 97 == 0 else None))
                     for i in range(a.samples)]
            write_batch(store.engine, batch, [], keep_inputs=False)
            store.save_report(make_report("feature_drift" if e % 5 == 0 else "none", endpoint=f"http://model-{e}:9000/predict",
                                          anomalies=("ks",) if e % 5 == 0 else (), created_at=now))
        print(f"store: {a.endpoints} endpoints x {a.samples} samples written in {time.perf_counter() - t0:.1f} s")
        col = MlfiCollector(store)
        first, size = _scrape(col)
        repeat = min(_scrape(col)[0] for _ in range(5))
        for e in range(a.endpoints):
            name = f"http://model-{e}:9000/predict"
            store.add_samples([Sample(endpoint=name, ts=now + 1, prediction="1", confidence=0.9, latency_ms=20.0)])
            store.save_report(make_report("none", endpoint=name, created_at=now + 1))
        steady = _scrape(col)[0]
        print(f"first scrape {first * 1000:.0f} ms ({size / 1024:.0f} KiB), repeat {repeat * 1000:.0f} ms, "
              f"after 1 new sample + 1 new report per endpoint {steady * 1000:.0f} ms")
        store.dispose()


if __name__ == "__main__":
    main()
