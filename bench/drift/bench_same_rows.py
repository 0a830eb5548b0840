"""Same rows, one process: mlfi's drift check vs scipy KS + Bonferroni (and Alibi Detect if installed).

Run from the repository root (any environment with mlfi's runtime; the peers' venv adds Alibi):

    PYTHONPATH=. .venv/bin/python bench/drift/bench_same_rows.py            # -> bench/results/drift_same_rows.md

For every n in {1k, 10k, 100k, 1M} and d in {20, 100}: one reference and one current frame of n x d
N(0, 1) features (current: +0.2 sd on ``f0``), built once and handed to every library in the same
process. Every row is tested: mlfi runs ``feature_drift(ref, cur, config=DetectionConfig(max_rows=None))``,
the KS peer is ``bench/drift/peers.py``'s ``ks_family`` (``scipy.stats.ks_2samp`` per column, which
picks the exact p-value up to 10,000 rows, Bonferroni at 0.05). Each library is warmed up on a
200-row check first; then the repetitions are interleaved (library order rotated every repetition)
so a burst of load on the shared machine hits every library alike, and the medians are compared.
Wall time and the process's CPU time are both recorded: on a loaded machine the CPU time is the
steadier of the two. The 150-row x 30-feature window (the watcher's case) is timed the same way,
with and without a shift, on a fresh pair of windows per repetition (so the no-shift flag rate is
a false-positive rate).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(HERE), str(ROOT)]

NS = (1_000, 10_000, 100_000, 1_000_000)
DS = (20, 100)


def frames(n: int, d: int, seed: int, shift: float = 0.2):  # type: ignore[no-untyped-def]
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    cols = [f"f{i}" for i in range(d)]
    ref = pd.DataFrame(rng.standard_normal((n, d)), columns=cols)
    cur = pd.DataFrame(rng.standard_normal((n, d)), columns=cols)
    cur["f0"] += shift
    return ref, cur


def libraries(wanted: list[str]):  # type: ignore[no-untyped-def]
    """name -> check(ref, cur) -> drift flag, for the libraries this environment has."""
    from peers import get_family

    from app.detection.drift import feature_drift
    from app.detection.suite import DetectionConfig

    every_row = DetectionConfig.model_validate({"max_rows": None})
    out = {"mlfi": lambda r, c: bool(feature_drift(r, c, config=every_row).dataset_drift),
           "mlfi_subsampled": lambda r, c: bool(feature_drift(r, c).dataset_drift),
           "ks": lambda r, c: bool(get_family("ks")(r, c, [])["ks_bonferroni"].flag)}
    try:
        import alibi_detect  # noqa: F401

        out["alibi"] = lambda r, c: bool(get_family("alibi")(r, c, [])["alibi_ksdrift"].flag)
    except ImportError:
        pass
    return {k: v for k, v in out.items() if k in wanted}


def timed(fn, ref, cur) -> tuple[float, float, bool]:  # type: ignore[no-untyped-def]
    w0, c0 = time.perf_counter(), time.process_time()
    flag = fn(ref, cur)
    return time.perf_counter() - w0, time.process_time() - c0, flag


def interleaved(libs: dict, ref, cur, reps: int, make=None) -> dict[str, dict]:  # type: ignore[type-arg, no-untyped-def]
    """Median wall and CPU time per library; ``make(rep)`` gives a fresh (ref, cur) per repetition."""
    names = list(libs)
    rows: dict[str, list[tuple[float, float, bool]]] = {k: [] for k in names}
    for rep in range(reps):
        if make is not None:
            ref, cur = make(rep)
        order = names[rep % len(names):] + names[: rep % len(names)]
        for k in order:
            rows[k].append(timed(libs[k], ref, cur))
    return {k: {"wall": statistics.median(w for w, _, _ in v), "cpu": statistics.median(c for _, c, _ in v),
                "wall_all": [round(w, 4) for w, _, _ in v], "flag": [f for _, _, f in v]} for k, v in rows.items()}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ns", default=",".join(map(str, NS)), type=lambda s: [int(x) for x in s.split(",")])
    ap.add_argument("--ds", default=",".join(map(str, DS)), type=lambda s: [int(x) for x in s.split(",")])
    ap.add_argument("--libs", default="mlfi,mlfi_subsampled,ks,alibi", type=lambda s: s.split(","))
    ap.add_argument("--reps", type=int, default=5, help="repetitions per cell below 1M rows")
    ap.add_argument("--big-reps", type=int, default=3, help="repetitions per cell at 1M rows")
    ap.add_argument("--window-reps", type=int, default=100)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "drift_same_rows.json")
    ap.add_argument("--md", type=Path, default=ROOT / "bench" / "results" / "drift_same_rows.md")
    args = ap.parse_args(argv)
    import warnings

    warnings.filterwarnings("ignore")
    libs = libraries(args.libs)
    warm_r, warm_c = frames(200, 5, 0)
    for fn in libs.values():
        fn(warm_r, warm_c)
    result: dict = {"load_start": os.getloadavg(), "cpus": os.cpu_count(), "python": platform.python_version(),
                    "libs": list(libs), "cells": [], "window": {},
                    "reps": args.reps, "big_reps": args.big_reps}
    for d in args.ds:
        for n in args.ns:
            ref, cur = frames(n, d, n + d)
            cell_libs = {k: v for k, v in libs.items() if k != "mlfi_subsampled" or n > 100_000}
            res = interleaved(cell_libs, ref, cur, args.big_reps if n >= 1_000_000 else args.reps)
            result["cells"].append({"n": n, "d": d, **{k: v for k, v in res.items()}})
            print(f"n={n:>9,} d={d:>3}: " + ", ".join(f"{k} {v['wall']:.3f} s (cpu {v['cpu']:.3f})" for k, v in res.items()),
                  flush=True)
            del ref, cur
    window_libs = {k: v for k, v in libs.items() if k in ("mlfi", "ks")}
    for label, shift in (("no shift", 0.0), ("+1 sd on f0", 1.0)):
        res = interleaved(window_libs, None, None, args.window_reps,
                          make=lambda rep, shift=shift: frames(150, 30, 10_000 + rep, shift))
        for v in res.values():
            ws = sorted(v["wall_all"])
            v["p90"] = ws[int(0.9 * (len(ws) - 1))]
            v["flag_rate"] = sum(v["flag"]) / len(v["flag"])
            del v["wall_all"], v["flag"]
        result["window"][label] = res
        print(f"150 x 30 window, {label}: " + ", ".join(f"{k} {v['wall'] * 1000:.1f} ms (cpu {v['cpu'] * 1000:.1f})"
                                                       for k, v in res.items()), flush=True)
    result["load_end"] = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    args.md.write_text(report(result))
    print(f"wrote {args.md}")


def report(r: dict) -> str:  # type: ignore[type-arg]
    from bench_quality import code_version

    peers = [k for k in ("ks", "alibi") if k in r["libs"]]
    lines = ["# Drift check on the same rows, one process: mlfi vs scipy KS + Bonferroni", "",
             ("Generated by `bench/drift/bench_same_rows.py` (how it measures: its docstring). Every row is tested "
              "(mlfi with `DetectionConfig(max_rows=None)`); the subsampled default (`max_rows=100000`) is shown "
              "separately above 100k rows, labelled. Current window: +0.2 sd on one feature. Medians of interleaved "
              f"repetitions ({r['reps']} per cell, {r['big_reps']} at 1M rows); CPU = process CPU time."), "",
             (f"Machine: {r['cpus']} cores shared with other jobs -- load average {r['load_start'][0]:.1f} at the "
              f"start, {r['load_end'][0]:.1f} at the end, so absolute times are inflated; the ratios compare "
              "libraries measured side by side."), "",
             f"mlfi detection source hash: {code_version()}.", "",
             "| n x d | mlfi every row, wall (cpu) | " + " | ".join(
                 f"{p}, wall (cpu) | {p} / mlfi wall (cpu)" for p in peers) + " | mlfi subsampled | flags |",
             "|---|---|" + "---|---|" * len(peers) + "---|---|"]
    for c in r["cells"]:
        m = c["mlfi"]
        row = f"| {c['n']:,} x {c['d']} | {m['wall']:.3f} s ({m['cpu']:.3f}) |"
        for p in peers:
            row += (f" {c[p]['wall']:.3f} s ({c[p]['cpu']:.3f}) | **{c[p]['wall'] / m['wall']:.1f}x** "
                    f"({c[p]['cpu'] / m['cpu']:.1f}x) |")
        sub = c.get("mlfi_subsampled")
        row += f" {sub['wall']:.3f} s |" if sub else " |"
        flags = ", ".join(f"{k} {sum(v['flag'])}/{len(v['flag'])}" for k, v in c.items() if isinstance(v, dict))
        lines.append(row + f" {flags} |")
    lines += ["", "## 150-row x 30-feature window (target <= 20 ms)", "",
              "| window | library | median wall | p90 wall | median CPU | flagged |", "|---|---|---|---|---|---|"]
    for label, res in r["window"].items():
        for k, v in res.items():
            lines.append(f"| {label} | {k} | {v['wall'] * 1000:.1f} ms | {v['p90'] * 1000:.1f} ms | "
                         f"{v['cpu'] * 1000:.1f} ms | {v['flag_rate']:.0%} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
