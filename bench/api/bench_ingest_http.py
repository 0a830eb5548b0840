"""HTTP batch ingest vs `mlfi ingest` (issue 15): N rows x 20 features posted to
`POST /api/v1/endpoints/{id}/predictions` in batches, then the same rows as a CSV through `mlfi ingest`.

Usage (from the repo root)::

    python bench/api/bench_ingest_http.py --rows 1000000              # goal: >= 20,000 rows/s, p99 < 1 s
    python bench/api/bench_ingest_http.py --rows 1000000 --watcher    # while `mlfi watch` runs
    python bench/api/bench_ingest_http.py --rows 1000000 --workers 2  # `serve-api --workers 2`

`mlfi serve-api` runs in a child process over a fresh temporary MLFI_HOME (SQLite); ``--clients`` threads
post pre-encoded 1,000-row bodies (the client's encoding is not timed). Reported: rows/s, p50/p99 request
latency, the server's CPU seconds and peak RSS (summed over its processes with ``--workers N``), the
client's CPU, the load average; then the same rows through `mlfi ingest` (wall and CPU of the child) and the
ratio. The machine may be shared: compare CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import requests

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.api_harness import free_port


def proc_cpu_s(pid: int) -> float:
    """utime + stime of a live process, in seconds (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_pids(pid: int) -> list[int]:
    """``pid`` and its child processes (the uvicorn workers of `serve-api --workers N`)."""
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return [pid, *kids]


def tree_cpu_s(pids: list[int]) -> float:
    return sum(proc_cpu_s(p) for p in pids)


def proc_peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def make_rows(n: int, features: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(size=(n, features)), 5)
    pred = (x[:, 0] > 0).astype(int)
    conf = np.round(rng.uniform(0.5, 1.0, n), 5)
    return x, pred, conf


def body(x: np.ndarray, pred: np.ndarray, conf: np.ndarray) -> bytes:
    names = [f"f{j}" for j in range(x.shape[1])]
    rows = [{"features": dict(zip(names, map(float, xi))), "prediction": int(p), "confidence": float(c)}
            for xi, p, c in zip(x, pred, conf)]
    return json.dumps({"predictions": rows}).encode()


def start_server(home: Path, log: Path, port: int, workers: int = 1) -> subprocess.Popen:
    env = {**os.environ, "MLFI_HOME": str(home), "PYTHONPATH": str(REPO), "MLFI_LOG_LEVEL": "WARNING"}
    env.pop("MLFI_DATABASE_URL", None)
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "app", "serve-api", "--port", str(port),
                                 "--workers", str(workers)], cwd=str(REPO),
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    end = time.time() + 60
    while time.time() < end:
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except requests.RequestException:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"serve-api did not start: {log.read_text()[-2000:]}")


def post_all(base: str, eid: int, token: str, bodies: list[bytes], batches: int, clients: int) -> list[float]:
    """Post ``batches`` bodies (cycling through ``bodies``) from ``clients`` threads; request latencies in s."""
    lat: list[float] = []
    lock, nxt = threading.Lock(), [0]
    url = f"{base}/api/v1/endpoints/{eid}/predictions"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    errors: list[str] = []

    def work() -> None:
        with requests.Session() as s:
            while True:
                with lock:
                    i = nxt[0]
                    nxt[0] += 1
                if i >= batches or errors:
                    return
                t0 = time.perf_counter()
                r = s.post(url, data=bodies[i % len(bodies)], headers=headers, timeout=120)
                took = time.perf_counter() - t0
                if r.status_code != 201:
                    errors.append(f"{r.status_code}: {r.text[:300]}")
                    return
                with lock:
                    lat.append(took)

    threads = [threading.Thread(target=work) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(f"a batch failed: {errors[0]}")
    return lat


def write_csv(path: Path, parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], batches: int) -> None:
    """The rows the HTTP run posted, in the same order, as the CSV `mlfi ingest` reads."""
    features = parts[0][0].shape[1]
    with path.open("w") as fh:
        fh.write(",".join([*(f"f{j}" for j in range(features)), "prediction", "confidence"]) + "\n")
        for i in range(batches):
            x, pred, conf = parts[i % len(parts)]
            np.savetxt(fh, np.column_stack([x, pred, conf]), fmt=["%.5f"] * features + ["%d", "%.5f"], delimiter=",")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--features", type=int, default=20)
    ap.add_argument("--clients", type=int, default=2, help="concurrent posting threads")
    ap.add_argument("--distinct", type=int, default=20, help="distinct pre-encoded bodies, posted in turn")
    ap.add_argument("--workers", type=int, default=1, help="`serve-api --workers N` (uvicorn worker processes)")
    ap.add_argument("--watcher", action="store_true", help="run `mlfi watch` over the same home meanwhile")
    ap.add_argument("--skip-cli", action="store_true", help="only the HTTP run")
    ap.add_argument("--out", type=Path, default=None, help="also write the figures as JSON here")
    a = ap.parse_args()
    batches = a.rows // a.batch
    parts = [make_rows(a.batch, a.features, seed) for seed in range(a.distinct)]
    bodies = [body(*p) for p in parts]
    result: dict[str, object] = {"rows": batches * a.batch, "batch": a.batch, "features": a.features,
                                 "clients": a.clients, "workers": a.workers, "watcher": a.watcher, "body_mb": round(len(bodies[0]) / 1e6, 2)}
    with tempfile.TemporaryDirectory(prefix="mlfi-bench-api-") as tmp:
        home, log = Path(tmp) / "home", Path(tmp) / "serve-api.log"
        from app.api.tokens import issue_token
        from app.config import Settings
        from app.storage import Store

        store = Store.from_settings(Settings(home=home, _env_file=None))  # type: ignore[call-arg]
        token = issue_token(store.engine, "bench", ("ingest", "read"))
        eid = store.upsert_endpoint("bench-http", protocol="ingest").id
        warm_eid = store.upsert_endpoint("bench-warm-up", protocol="ingest").id
        store.dispose()
        watcher = None
        if a.watcher:
            env = {**os.environ, "MLFI_HOME": str(home), "PYTHONPATH": str(REPO)}
            watcher = subprocess.Popen([sys.executable, "-m", "app", "watch"], cwd=str(REPO), env=env,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port = free_port()
        server = start_server(home, log, port, a.workers)
        try:
            if a.workers > 1:
                time.sleep(3)           # every worker process up (the first one answers /health)
            # steady state: each worker's first batch (its lazy imports, ~1 s of CPU) is not measured
            post_all(f"http://127.0.0.1:{port}", warm_eid, token, bodies, 2 * a.workers, a.workers)
            pids = tree_pids(server.pid)
            cpu0, ccpu0, load0 = tree_cpu_s(pids), time.process_time(), os.getloadavg()
            t0 = time.perf_counter()
            lat = post_all(f"http://127.0.0.1:{port}", eid, token, bodies, batches, a.clients)
            wall = time.perf_counter() - t0
            server_cpu = tree_cpu_s(pids) - cpu0
            result.update({
                "http_wall_s": round(wall, 2), "http_rows_per_s": round(batches * a.batch / wall),
                "p50_ms": round(float(np.percentile(lat, 50)) * 1000, 1),
                "p99_ms": round(float(np.percentile(lat, 99)) * 1000, 1),
                "server_cpu_s": round(server_cpu, 2),
                "server_rows_per_cpu_s": round(batches * a.batch / server_cpu) if server_cpu else None,
                "client_cpu_s": round(time.process_time() - ccpu0, 2),
                "server_peak_rss_mb": round(sum(proc_peak_rss_mb(p) for p in pids), 1),
                "loadavg_before": [round(x, 2) for x in load0], "loadavg_after": [round(x, 2) for x in os.getloadavg()],
            })
        finally:
            server.terminate()
            server.wait(timeout=30)
            if watcher is not None:
                watcher.terminate()
                watcher.wait(timeout=30)
        stored = Store.from_settings(Settings(home=home, _env_file=None))  # type: ignore[call-arg]
        result["http_rows_stored"] = stored.count_samples("bench-http")
        stored.dispose()
        print(json.dumps(result), flush=True)
        if not a.skip_cli:
            csv = Path(tmp) / "rows.csv"
            write_csv(csv, parts, batches)
            env = {**os.environ, "MLFI_HOME": str(Path(tmp) / "home-cli"), "PYTHONPATH": str(REPO)}
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "app", "ingest", "--endpoint", "bench-cli", str(csv)], env=env,
                           cwd=str(REPO), check=True, capture_output=True)
            cli_wall = time.perf_counter() - t0
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cli_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
            result.update({"cli_wall_s": round(cli_wall, 2), "cli_rows_per_s": round(batches * a.batch / cli_wall),
                           "cli_cpu_s": round(cli_cpu, 2),
                           "http_over_cli_wall": round(result["http_wall_s"] / cli_wall, 2),  # type: ignore[operator]
                           "http_over_cli_cpu": round(result["server_cpu_s"] / cli_cpu, 2)})  # type: ignore[operator]
    print(json.dumps(result, indent=1))
    if a.out:
        a.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
