"""Drift against a sketched baseline (issue 17, MLFI_STORE_INPUTS=none) next to the raw baseline.

For the synthetic cells of the quality benchmark (``datasets.synthetic_window``), the reference is
replaced by what a sketched baseline rebuilds (``app.detection.sketch``: 100 quantiles per numeric
feature with the counts between them, read back as ``sketch_frame`` does; class proportions per categorical one, columns in independent seeded orders) and mlfi's
``feature_drift`` runs with the multivariate tests off -- as it does for a sketched baseline -- next to
the same call on the raw reference. Reports the flag rate per cell (false-positive rate on ``none``,
true-positive rate elsewhere) for both and the difference.

    .venv/bin/python bench/drift/bench_sketch.py --reps 20            # ~10 min on 2 busy cores
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(HERE), str(ROOT)]

from datasets import synthetic_window

from app.detection.drift import feature_drift
from app.detection.histogram_sketch import HistogramSketch
from app.detection.sketch import expand_categories, quantile_sketch

SHIFTS = ("none", "mean0.2", "mean0.5", "var1.5", "all0.1", "cat10")


def sketched(ref: pd.DataFrame, categorical: tuple[str, ...], seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = len(ref)
    cols = {}
    for c in ref.columns:
        if c in categorical:
            original = {str(v): v for v in ref[c]}
            counts = Counter(map(str, ref[c]))
            vals = np.asarray([original[k] for k in expand_categories({k: v / n for k, v in counts.items()}, n)],
                              object)
        else:
            x = ref[c].astype(float).to_numpy()     # what sketch_frame reads: the counts over the quantile edges
            vals = HistogramSketch.from_values(x, quantile_sketch(x.tolist())).quantiles(n)
        cols[c] = vals[rng.permutation(n)]
    return pd.DataFrame(cols).astype(ref.dtypes.to_dict())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ns", default="200,1000", type=lambda s: [int(x) for x in s.split(",")])
    ap.add_argument("--ds", default="5,30", type=lambda s: [int(x) for x in s.split(",")])
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--md", type=Path, default=ROOT / "bench" / "results" / "drift_sketch.md")
    a = ap.parse_args()
    rows = []
    t0 = time.perf_counter()
    for n in a.ns:
        for d in a.ds:
            for shift in SHIFTS:
                raw = sk = 0
                for rep in range(a.reps):
                    w = synthetic_window(shift, n, d, rep)
                    raw += bool(feature_drift(w.reference, w.current, multivariate=False).dataset_drift)
                    sk += bool(feature_drift(sketched(w.reference, w.categorical, rep), w.current,
                                             multivariate=False).dataset_drift)
                rows.append((n, d, shift, raw / a.reps, sk / a.reps))
                print(f"n={n} d={d} {shift}: raw {raw}/{a.reps}, sketch {sk}/{a.reps}", flush=True)
    fp = [(r[3], r[4]) for r in rows if r[2] == "none"]
    tp = [(r[3], r[4]) for r in rows if r[2] != "none"]
    mean = lambda xs, i: sum(x[i] for x in xs) / len(xs)
    lines = ["# Drift against a sketched baseline vs the raw baseline", "",
             (f"Command: `python bench/drift/bench_sketch.py --ns {','.join(map(str, a.ns))} --ds "
             f"{','.join(map(str, a.ds))} --reps {a.reps}` ({time.perf_counter() - t0:.0f} s). "
             "mlfi `feature_drift`, multivariate tests off in both columns."), "",
             "| n | d | shift | flag rate, raw | flag rate, sketch | difference (points) |", "|---:|---:|---|---:|---:|---:|"]
    lines += [f"| {n} | {d} | {s} | {r:.2f} | {k:.2f} | {100 * (k - r):+.0f} |" for n, d, s, r, k in rows]
    lines += ["", (f"False-positive rate (shift none): raw {100 * mean(fp, 0):.1f} %, sketch {100 * mean(fp, 1):.1f} % "
              f"({100 * (mean(fp, 1) - mean(fp, 0)):+.1f} points)."),
              (f"True-positive rate (all shifts): raw {100 * mean(tp, 0):.1f} %, sketch {100 * mean(tp, 1):.1f} % "
              f"({100 * (mean(tp, 1) - mean(tp, 0)):+.1f} points).")]
    text = "\n".join(lines) + "\n"
    a.md.parent.mkdir(parents=True, exist_ok=True)
    a.md.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
