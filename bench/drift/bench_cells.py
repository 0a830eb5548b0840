"""Issue 12's two special cells with more repetitions than the tests: rare-level shift at 5k/100k/1M, correlation.

- Rare-category cell (finding 2): a 50-level Zipf column whose 5 rarest levels double their share
  (2.4-3.3 % of the mass moves) next to one N(0,1) column; a hit is the column flagged, the dataset
  flagged and the column ranked first. Every row tested (``max_rows=None``).
- Correlation cell (finding 3): rho 0 -> 0.8 between two random features of 10, every marginal
  N(0,1) in both windows, n = 1000; reports flags and how often a changed feature is named first.

The windows are those of ``tests/test_drift_fast.py`` (same generators, seeds from 1000 / 5000 up).

    PYTHONPATH=. .venv/bin/python bench/drift/bench_cells.py --rare 50,20,5 --corr 50
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def rare(n: int, reps: int) -> tuple[int, int]:
    from app.detection.drift import feature_drift
    from app.detection.suite import DetectionConfig
    from tests.test_drift_fast import _zipf_frames

    cfg = DetectionConfig(max_rows=None)
    hits = 0
    for rep in range(reps):
        fd = feature_drift(*_zipf_frames(n, 1000 + rep), config=cfg)
        hits += bool(fd.features["city"].drift_detected and fd.dataset_drift and fd.ranking[0] == "city")
    return hits, reps


def correlation(reps: int) -> tuple[int, int, int]:
    from app.detection.drift import feature_drift
    from tests.test_drift_fast import _correlation_cell

    flags = named = 0
    for rep in range(reps):
        ref, cur, changed = _correlation_cell(rep)
        fd = feature_drift(ref, cur)
        if fd.dataset_drift:
            flags += 1
            named += fd.ranking[0] in changed
    return flags, named, reps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rare", default="50,20,5", help="repetitions at n = 5k, 100k, 1M")
    ap.add_argument("--corr", type=int, default=50, help="repetitions of the correlation cell")
    args = ap.parse_args()
    from bench_quality import code_version  # type: ignore[import-not-found]

    t0, c0 = time.time(), time.process_time()
    print(f"detection source hash {code_version()}")
    for n, reps in zip((5_000, 100_000, 1_000_000), (int(x) for x in args.rare.split(","))):
        hits, total = rare(n, reps)
        print(f"rare-level shift, n = {n:,}: flagged and ranked first {hits}/{total}", flush=True)
    flags, named, total = correlation(args.corr)
    print(f"correlation 0 -> 0.8, n = 1000, d = 10: flagged {flags}/{total}, a changed feature first in "
          f"{named}/{flags} flags ({100 * named / max(flags, 1):.0f} %)")
    print(f"wall {time.time() - t0:.0f} s, CPU {time.process_time() - c0:.0f} s, "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB, load {os.getloadavg()}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
