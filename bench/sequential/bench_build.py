"""CPU cost of building a SequentialMonitor (the bootstrapped thresholds) on the watcher's thread.

Cold: ``--endpoints`` distinct 150-sample baselines of the simulated endpoint (a watcher starting with that
many endpoints), and one 5,000-sample baseline. Warm: the same baselines and budget again (a rebuilt
monitor: served from the memo). CPU time (``time.process_time``) next to wall time and the load average.

Run: PYTHONPATH=. .venv/bin/python bench/sequential/bench_build.py [--endpoints 10]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from streams import HEALTHY, draw

from app.detection.sequential import MonitorBaseline, SequentialMonitor


def _build(bases: list) -> tuple[float, float]:
    c, w = time.process_time(), time.perf_counter()
    for b in bases:
        SequentialMonitor(b)
    return (time.process_time() - c) / len(bases), (time.perf_counter() - w) / len(bases)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--endpoints", type=int, default=10)
    a = ap.parse_args()
    rng = np.random.default_rng(3)
    small = [MonitorBaseline.from_samples(draw(rng, 150, HEALTHY)) for _ in range(a.endpoints)]
    large = [MonitorBaseline.from_samples(draw(rng, 5000, HEALTHY))]
    for name, bases in (("150-sample baseline", small), ("5,000-sample baseline", large)):
        cold = _build(bases)
        warm = _build(bases)
        print(f"{name}: cold {cold[0]:.3f} s CPU ({cold[1]:.3f} s wall) per monitor over {len(bases)}; "
              f"rebuilt {warm[0] * 1000:.1f} ms CPU ({warm[1] * 1000:.1f} ms wall)")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
