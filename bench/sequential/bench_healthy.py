"""Healthy false alarms per 10,000 samples per signal, with the baseline estimated from 150 samples.

Populations of real healthy answers: the demo model over HTTP (`mlfi serve-demo-model`, its probe set,
real latencies), and scikit-learn's wine (3 classes) and digits (10 classes) data through a logistic
regression (out-of-fold probabilities; latencies drawn from the demo's). Per repetition a 150-sample
baseline and a healthy stream are drawn with replacement from the same population, and the same stream
runs through three monitors: thresholds nominal (the baseline taken as the truth), bootstrapped for the
baseline's estimation error with the baseline fixed (``refine=False``, the product before branch i11-ref10),
and refined (the default: errors, correctness and class mix pool calm stream samples into their reference,
:mod:`app.detection.sequential.refine`). Change alarms are counted per signal.

    PYTHONPATH=. .venv/bin/python bench/sequential/bench_healthy.py [--reps 40 --stream 10000]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from app.detection.sequential.monitor import MonitorBaseline, Sample, SequentialMonitor

SIGNALS = ("errors", "correctness", "confidence", "latency", "class_mix")


def _demo(n: int) -> tuple[list[Sample], list[float]]:
    import requests
    from bench_demo import _server

    from app.demo.model import demo_split

    _, xte, _, yte, names = demo_split()
    proc, base = _server()
    out, lat = [], []
    try:
        s = requests.Session()
        for i in range(n):
            k = i % len(yte)
            t0 = time.perf_counter()
            r = s.post(f"{base}/predict", json={"features": dict(zip(names, map(float, xte[k])))}, timeout=10).json()
            ms = (time.perf_counter() - t0) * 1000
            lat.append(ms)
            out.append(Sample(error=False, correct=r["prediction"] == str(yte[k]), confidence=r["confidence"],
                              latency_ms=ms, predicted=r["prediction"]))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
    return out, lat


def _sklearn(name: str, lat: list[float]) -> list[Sample]:
    from sklearn.datasets import load_digits, load_wine
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = (load_wine if name == "wine" else load_digits)(return_X_y=True)
    p = cross_val_predict(make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)), x, y, cv=5,
                          method="predict_proba")
    rng = random.Random(1)
    return [Sample(error=False, correct=int(row.argmax()) == int(t), confidence=float(row.max()),
                   latency_ms=rng.choice(lat), predicted=str(int(row.argmax()))) for row, t in zip(p, y)]


def run(pop: list[Sample], reps: int, stream: int, base_n: int = 150) -> dict[str, dict[str, int]]:
    alarms = {k: dict.fromkeys(SIGNALS, 0) for k in ("nominal", "bootstrapped", "refined")}
    for rep in range(reps):
        rng = random.Random(rep)
        b = MonitorBaseline.from_samples(rng.choices(pop, k=base_n))
        mons = {"refined": SequentialMonitor(b), "bootstrapped": SequentialMonitor(b, refine=False),
                "nominal": SequentialMonitor(replace(b, sizes=None))}
        for s in rng.choices(pop, k=stream):
            for kind, mon in mons.items():
                for e in mon.update(s):
                    if e.kind == "change":
                        alarms[kind][e.signal] += 1
    return alarms


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=40)
    ap.add_argument("--stream", type=int, default=10_000)
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "sequential_healthy.md"))
    a = ap.parse_args()
    t0, c0 = time.time(), time.process_time()
    demo, lat = _demo(600)
    pops = {"demo over HTTP (breast cancer)": demo, "wine": _sklearn("wine", lat), "digits": _sklearn("digits", lat)}
    n = a.reps * a.stream
    lines = ["# Healthy false alarms per 10,000 samples, baselines of 150 samples", "",
             (f"Command: `PYTHONPATH=. .venv/bin/python bench/sequential/bench_healthy.py --reps {a.reps} "
              f"--stream {a.stream}` ({n:,} healthy samples per population and threshold kind; each repetition a "
              "new 150-sample baseline drawn from the population) · budget `MLFI_FALSE_ALARM_EVERY` 10,000."), "",
             "| population | thresholds | " + " | ".join(SIGNALS) + " | endpoint (goal <= 1) |",
             "|---|---|" + "---|" * (len(SIGNALS) + 1)]
    for name, pop in pops.items():
        res = run(pop, a.reps, a.stream)
        for kind, counts in res.items():
            per = [1e4 * counts[s] / n for s in SIGNALS]
            lines.append(f"| {name} | {kind} | " + " | ".join(f"{v:.2f}" for v in per) + f" | {sum(per):.2f} |")
        print("\n".join(lines[-3:]), flush=True)
    lines += ["", (f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; {(time.time() - t0) / 60:.1f} min wall, "
                   f"{(time.process_time() - c0) / 60:.1f} min CPU."), ""]
    Path(a.out).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
