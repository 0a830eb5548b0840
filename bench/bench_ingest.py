"""Ingest benchmark (issue 14 item 2): `mlfi ingest` of N rows x 20 features, wall time and peak RSS.

Usage (from the repo root, with the project installed)::

    python bench/bench_ingest.py --rows 1000000            # goal: <= 20 s, <= 400 MB peak RSS
    python bench/bench_ingest.py --rows 10000000           # goal: the same peak RSS
    python bench/bench_ingest.py --rows 200000 --crash-at 2 # also: kill -9 mid-file, re-run, count rows

The CSV is generated into a temporary directory (never committed) and removed afterwards.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def write_csv(path: Path, rows: int, features: int = 20, seed: int = 0) -> int:
    rng = np.random.default_rng(seed)
    cols = [f"f{i}" for i in range(features)]
    with path.open("w") as fh:
        fh.write(",".join([*cols, "prediction", "confidence", "label"]) + "\n")
        step = 100_000
        for lo in range(0, rows, step):
            n = min(step, rows - lo)
            x = np.round(rng.normal(size=(n, features)), 5)
            pred = (x[:, 0] > 0).astype(int)
            conf = np.round(rng.uniform(0.5, 1.0, n), 5)
            label = np.where(rng.random(n) < 0.9, pred, 1 - pred)
            block = np.column_stack([x, pred, conf, label])
            fmt = ["%.5f"] * features + ["%d", "%.5f", "%d"]
            np.savetxt(fh, block, fmt=fmt, delimiter=",")
    return path.stat().st_size


def count(db: Path) -> int:
    con = sqlite3.connect(db)
    try:
        return int(con.execute("SELECT count(*) FROM samples").fetchone()[0])
    finally:
        con.close()


def run(csv: Path, home: Path) -> tuple[float, float, str]:
    """(seconds, peak RSS MB of the ingest process, stdout) of one `mlfi ingest`."""
    env = {**os.environ, "MLFI_HOME": str(home), "PYTHONPATH": str(REPO)}
    t0 = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out = subprocess.run([sys.executable, "-m", "app", "ingest", "--endpoint", "bench", str(csv)], env=env,
                         capture_output=True, text=True, check=True)
    took = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak <= before:
        print("note: peak RSS not above an earlier child's; run one size per invocation", file=sys.stderr)
    return took, peak / 1024.0, out.stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--crash-at", type=float, default=None, help="kill -9 the ingest after this many seconds, "
                    "then re-run it and check the row count")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlfi-bench-ingest-") as tmp:
        csv, home = Path(tmp) / "rows.csv", Path(tmp) / "home"
        t0 = time.perf_counter()
        size = write_csv(csv, a.rows)
        print(f"generated {a.rows} rows x 20 features: {size / 1e6:.0f} MB in {time.perf_counter() - t0:.1f} s")
        if a.crash_at is not None:
            env = {**os.environ, "MLFI_HOME": str(home), "PYTHONPATH": str(REPO)}
            proc = subprocess.Popen([sys.executable, "-m", "app", "ingest", "--endpoint", "bench", str(csv)], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(a.crash_at)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            db = home / "data" / "mlfi.db"
            print(f"killed after {a.crash_at} s: {count(db) if db.exists() else 0} rows committed")
        took, peak, out = run(csv, home)
        print(out)
        stored = count(home / "data" / "mlfi.db")
        print(f"ingest: {took:.1f} s, peak RSS {peak:.0f} MB, {stored} rows stored "
              f"({'OK' if stored == a.rows else 'MISMATCH'})")


if __name__ == "__main__":
    main()
