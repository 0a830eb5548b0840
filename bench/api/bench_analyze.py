"""`POST /monitoring/analyze` vs the analysis `mlfi analyze` runs (issue 15: overhead under 10 %), in ONE process.

Usage (from the repo root)::

    python bench/api/bench_analyze.py --runs 10 --samples 150

The demo model serves from a thread, the API runs under uvicorn on loopback in another thread, both over the
same temporary MLFI_HOME (SQLite) with one baseline. Each round runs `run_analyze` (the function behind
`mlfi analyze URL --json`) directly, then the same analysis through the HTTP route, alternating so drift in
the machine's load hits both alike. Reported: median wall and process CPU of each, and the overhead.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
import uvicorn

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.api_harness import demo_model, free_port


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--samples", type=int, default=150)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    from app.analysis.run import run_analyze, run_baseline
    from app.analysis.target import EndpointSpec
    from app.api import create_app
    from app.api.tokens import issue_token
    from app.config import Settings
    from app.storage import Store

    with tempfile.TemporaryDirectory(prefix="mlfi-bench-analyze-") as tmp, demo_model() as demo:
        settings = Settings(home=Path(tmp) / "home", _env_file=None)  # type: ignore[call-arg]
        store = Store.from_settings(settings)
        token = issue_token(store.engine, "bench", ("read",))
        url = f"{demo}/predict"
        run_baseline(settings, store, EndpointSpec(url), a.samples, seed=0)
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(create_app(settings, store=store), host="127.0.0.1", port=port,
                                               log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        session = requests.Session()
        headers = {"Authorization": f"Bearer {token}"}

        def direct(seed: int) -> None:
            run_analyze(settings, store, EndpointSpec(url), a.samples, seed=seed)

        def http(seed: int) -> None:
            r = session.post(f"http://127.0.0.1:{port}/monitoring/analyze", json={"prediction_url": url,
                             "samples": a.samples}, headers=headers, timeout=300)
            r.raise_for_status()

        times: dict[str, list[tuple[float, float]]] = {"direct": [], "http": []}
        direct(1)
        http(1)                           # warm-up: imports and first connections
        load0 = os.getloadavg()
        for i in range(a.runs):
            for name, fn in (("direct", direct), ("http", http)) if i % 2 == 0 else (("http", http), ("direct", direct)):
                w0, c0 = time.perf_counter(), time.process_time()
                fn(100 + i)
                times[name].append((time.perf_counter() - w0, time.process_time() - c0))
        server.should_exit = True
        thread.join(timeout=10)
        store.dispose()
    med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in times.items()}
    out = {"runs": a.runs, "samples": a.samples,
           "direct_wall_s": round(med["direct"][0], 3), "http_wall_s": round(med["http"][0], 3),
           "direct_cpu_s": round(med["direct"][1], 3), "http_cpu_s": round(med["http"][1], 3),
           "overhead_wall_pct": round(100 * (med["http"][0] / med["direct"][0] - 1), 1),
           "overhead_cpu_pct": round(100 * (med["http"][1] / med["direct"][1] - 1), 1),
           "loadavg_before": [round(x, 2) for x in load0], "loadavg_after": [round(x, 2) for x in os.getloadavg()]}
    print(json.dumps(out, indent=1))
    if a.out:
        a.out.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
