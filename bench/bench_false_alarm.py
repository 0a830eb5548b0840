"""False-alarm rate of the healthy demo model, and root cause per failure mode, over real HTTP.

Protocol (issue 2 acceptance): baseline of 150 labelled probes; then 100 repeated analyses of 150 probes each
on the unchanged healthy model (count alerts); then each failure mode (R repetitions) -> share of runs whose
root cause is the expected one.  Writes bench/results/false_alarm.md.

    .venv/bin/python bench/bench_false_alarm.py [--runs 100] [--mode-runs 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.analysis.run import run_analyze, run_baseline
from app.analysis.target import EndpointSpec  # noqa: E402
from app.config import Settings  # noqa: E402
from app.logging_setup import setup_logging  # noqa: E402
from app.storage import Store  # noqa: E402
from bench.demo_server import demo_model  # noqa: E402

EXPECTED = {"degraded_accuracy": "accuracy_drop", "low_confidence": "confidence_drop",
            "latency": "latency_degradation", "errors": "error_spike", "silent_failure": "silent_failure",
            "prediction_drift": "prediction_drift", "malformed": "error_spike|data_quality"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--mode-runs", type=int, default=5)
    ap.add_argument("--samples", type=int, default=150)
    args = ap.parse_args()
    with demo_model() as base:
        home = Path(tempfile.mkdtemp(prefix="mlfi-fa-"))
        settings = Settings(home=home, _env_file=None)  # type: ignore[call-arg]
        setup_logging(settings, quiet=True)
        store = Store.from_settings(settings)
        url = f"{base}/predict"
        run_baseline(settings, store, EndpointSpec(url), args.samples, seed=0, concurrency=4)
        t0 = time.perf_counter()
        causes: Counter[str] = Counter()
        for i in range(args.runs):
            rep = run_analyze(settings, store, EndpointSpec(url), args.samples, seed=1000 + i, concurrency=4)
            causes[rep.rca.root_cause] += 1
        healthy_s = time.perf_counter() - t0
        alerts = args.runs - causes["none"]
        mode_rows = []
        for mode, want in EXPECTED.items():
            requests.post(f"{base}/_control", json={"mode": mode}, timeout=5)
            got: Counter[str] = Counter()
            for j in range(args.mode_runs):
                rep = run_analyze(settings, store, EndpointSpec(url), args.samples, seed=5000 + j, concurrency=4)
                got[rep.rca.root_cause] += 1
            requests.post(f"{base}/_control", json={"mode": "healthy"}, timeout=5)
            hits = sum(n for c, n in got.items() if c in want.split("|"))
            mode_rows.append((mode, want, hits, args.mode_runs, dict(got)))
    lines = [
        "# Healthy false-alarm rate and failure-mode root causes (demo model over HTTP)",
        "",
        f"Command: `.venv/bin/python bench/bench_false_alarm.py --runs {args.runs} --mode-runs {args.mode_runs}`",
        f"Baseline: {args.samples} labelled probes; each analysis: {args.samples} probes (4 parallel workers).",
        "",
        f"**Healthy model: {alerts} alerts in {args.runs} analyses (false-alarm rate {alerts / args.runs:.1%});**"
        f" root causes {dict(causes)}; {healthy_s / args.runs:.2f} s per analysis.",
        "",
        "| failure mode | expected root cause | correct | runs | root causes seen |",
        "|---|---|---|---|---|",
    ]
    for mode, want, hits, n, got in mode_rows:
        lines.append(f"| {mode} | {want} | {hits} | {n} | {got} |")
    out = "\n".join(lines) + "\n"
    (ROOT / "bench" / "results").mkdir(parents=True, exist_ok=True)
    (ROOT / "bench" / "results" / "false_alarm.md").write_text(out)
    print(out)


if __name__ == "__main__":
    main()
