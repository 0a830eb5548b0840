"""Ingest benchmark (issue 14 item 2): `mlfi ingest` of N rows x 20 features, wall and CPU time, peak RSS.

Usage (from the repo root, with the project installed)::

    python bench/bench_ingest.py --rows 1000000            # goal: <= 20 s, <= 400 MB peak RSS
    python bench/bench_ingest.py --rows 1000000 --repeat 10 # 10M rows; goal: the same peak RSS
    python bench/bench_ingest.py --rows 200000 --crash-at 2 # also: kill -9 mid-file, re-run, count rows

The CSV is generated into a temporary directory (never committed; ``--tmp DIR`` picks its parent) and removed
afterwards. CPU time (user + system of the ingest process) is printed next to wall time with the load average:
on a shared machine wall time depends on the other work.
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


def repeat_rows(path: Path, times: int) -> int:
    """Append the rows of ``path`` to it until they are there ``times`` times (a 10M-row file in a minute,
    not the ten minutes generating it takes); the rows repeat, their count and size are what is measured."""
    with path.open("rb") as fh:
        fh.readline()
        start, end = fh.tell(), path.stat().st_size
    with path.open("rb") as src, path.open("ab") as out:
        for _ in range(times - 1):
            src.seek(start)
            left = end - start
            while left:                       # 16 MB at a time: this process stays small (see ``run``)
                piece = src.read(min(16 << 20, left))
                out.write(piece)
                left -= len(piece)
    return path.stat().st_size


def count(db: Path) -> int:
    con = sqlite3.connect(db)
    try:
        return int(con.execute("SELECT count(*) FROM samples").fetchone()[0])
    finally:
        con.close()


def _cpu(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def _hwm_kb(pid: int) -> int | None:
    """The process's own peak RSS so far (``VmHWM``, Linux), None when it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def run(csv: Path, home: Path) -> tuple[float, float, float, str]:
    """(wall seconds, CPU seconds (user + system), peak RSS MB of the ingest process, stdout) of one `mlfi ingest`.

    The peak is the ingest process's own ``VmHWM``, read every 20 ms until it exits. ``ru_maxrss`` of
    ``RUSAGE_CHILDREN`` is not used for it: Linux carries the PARENT's high-water mark into a child started by
    vfork/exec (which is how Python 3.11 starts it), so after this script had read a 182 MB file into memory the
    child "peaked" at this script's 404 MB (checked: a child running ``pass`` reports the parent's 154 MB after
    the parent read 150 MB). It is printed next to the true figure for comparison."""
    env = {**os.environ, "MLFI_HOME": str(home), "PYTHONPATH": str(REPO)}
    t0 = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen([sys.executable, "-m", "app", "ingest", "--endpoint", "bench", str(csv)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak_kb = 0
    while proc.poll() is None:
        peak_kb = max(peak_kb, _hwm_kb(proc.pid) or 0)
        time.sleep(0.02)
    out, err = proc.communicate()
    took = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"mlfi ingest exited {proc.returncode}: {err.strip()[-500:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"(ru_maxrss of children, which includes this script's own peak: {after.ru_maxrss / 1024:.0f} MB)")
    peak = peak_kb / 1024.0 if peak_kb else after.ru_maxrss / 1024.0
    return took, _cpu(after) - _cpu(before), peak, out.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--crash-at", type=float, default=None, help="kill -9 the ingest after this many seconds, "
                    "then re-run it and check the row count")
    ap.add_argument("--repeat", type=int, default=1, help="store the generated rows this many times over "
                    "(--rows 1000000 --repeat 10: 10M rows)")
    ap.add_argument("--tmp", default=None, help="parent directory of the generated CSV and database")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlfi-bench-ingest-", dir=a.tmp) as tmp:
        csv, home = Path(tmp) / "rows.csv", Path(tmp) / "home"
        t0 = time.perf_counter()
        size = write_csv(csv, a.rows)
        if a.repeat > 1:
            size, a.rows = repeat_rows(csv, a.repeat), a.rows * a.repeat
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
        load = os.getloadavg()[0]
        took, cpu, peak, out = run(csv, home)
        print(out)
        stored = count(home / "data" / "mlfi.db")
        print(f"ingest: {took:.1f} s wall, {cpu:.1f} s CPU, peak RSS {peak:.0f} MB, {stored} rows stored "
              f"({'OK' if stored == a.rows else 'MISMATCH'}); load average {load:.1f} before, "
              f"{os.getloadavg()[0]:.1f} after ({os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
