"""Replay of recorded healthy latency windows: how often does the one-shot latency test alarm on a healthy model?

Two steps:

    .venv/bin/python bench/bench_latency_replay.py record [--windows 25] [--slow-windows 5]
    .venv/bin/python bench/bench_latency_replay.py replay [--recording PATH]

``record`` starts the demo model, probes it like ``mlfi analyze`` does (windows of 150 probes, 4 parallel
workers), ``--windows`` times healthy and ``--slow-windows`` times in its ``latency`` mode (150-300 ms added to
every answer), and writes the successful answers' latencies with the host's load average before and after
(``uptime``) to bench/results/latency_windows.json. Record while the machine is loaded: that is when a test
that reads host jitter as a slower model alarms.

``replay`` scores every ordered pair of distinct healthy windows (window i as the baseline, window j as the
current window: 25 windows give 600 pairs) with the latency detector as it shipped before (``exceedance``:
share above the reference p95, one-sided Fisher, p95 floor), by a median test alone (Mann-Whitney, median
+50 % and +50 ms) and as it ships now (``LatencyShiftDetector``: that median test or a slow-tail test),
and then the slow cases against every healthy baseline:

- ``latency mode``: each recorded slow window;
- ``tail +150-300 ms on 10 %`` / ``on 20 %``: a healthy window with 10 % / 20 % of its answers (a seeded draw)
  made 150-300 ms slower, the median unchanged: one slow replica of ten, or of five.

A pair alarms when the test's p-value is below 0.025 (the outputs family's alpha/2 in the suite: the loosest
threshold the latency test can get there, so the false-alarm counts are an upper bound) and its effect passes
its floor. Writes bench/results/latency_replay.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import requests
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.detection.behaviour import LatencyShiftDetector  # noqa: E402
from bench.demo_server import demo_model  # noqa: E402

RECORDING = ROOT / "bench" / "results" / "latency_windows.json"
ALPHA = 0.025
N = 150


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def record(windows: int, slow_windows: int, out: Path) -> None:
    from app.analysis.run import collect
    from app.analysis.target import EndpointSpec, resolve_target
    from app.config import Settings
    from app.logging_setup import setup_logging
    from app.storage import Store

    load_before = _load()
    with demo_model() as base:
        settings = Settings(home=Path(tempfile.mkdtemp(prefix="mlfi-lat-")), _env_file=None)  # type: ignore[call-arg]
        setup_logging(settings, quiet=True)
        store = Store.from_settings(settings)
        target, probe_set, _ = resolve_target(settings, store, EndpointSpec(f"{base}/predict"), persist=False)

        def window(seed: int) -> list[float]:
            got = collect(target, probe_set, N, seed=seed, concurrency=4, strict=False)
            return [float(x.latency_ms) for x in got if x.ok and x.latency_ms is not None]

        healthy = [window(1000 + i) for i in range(windows)]
        requests.post(f"{base}/_control", json={"mode": "latency"}, timeout=5)
        slow = [window(5000 + i) for i in range(slow_windows)]
        requests.post(f"{base}/_control", json={"mode": "healthy"}, timeout=5)
        store.dispose()
    out.write_text(json.dumps({"load_before": load_before, "load_after": _load(), "probes_per_window": N,
                               "concurrency": 4, "healthy": healthy, "latency_mode": slow}) + "\n")
    print(f"recorded {windows} healthy and {slow_windows} slow windows to {out} "
          f"(load average before {load_before}, after {_load()})")


def exceedance(ref: np.ndarray, cur: np.ndarray, floor: float = 0.5, min_abs_ms: float = 50.0) -> bool:
    """The test as it shipped before: share above the reference p95, one-sided Fisher, p95 rise >= 50 % and 50 ms."""
    t = float(np.quantile(ref, 0.95))
    k1, k2 = int((ref > t).sum()), int((cur > t).sum())
    p = float(stats.fisher_exact([[k2, cur.size - k2], [k1, ref.size - k1]], alternative="greater").pvalue)
    effect = (float(np.quantile(cur, 0.95)) - t) / max(t, min_abs_ms / floor, 1e-9)
    return p < ALPHA and effect >= floor


def median_alone(ref: np.ndarray, cur: np.ndarray, floor: float = 0.5, min_abs_ms: float = 50.0) -> bool:
    """A Mann-Whitney test of the typical answer alone (median rise >= 50 % and 50 ms): blind to a slow tail."""
    p = float(stats.mannwhitneyu(cur, ref, alternative="greater", method="asymptotic").pvalue)
    med = float(np.median(ref))
    return p < ALPHA and (float(np.median(cur)) - med) / max(med, min_abs_ms / floor) >= floor


def shipped(ref: np.ndarray, cur: np.ndarray) -> bool:
    det = LatencyShiftDetector()
    det.fit(ref.reshape(-1, 1), ["latency_ms"])
    r = det.score(cur.reshape(-1, 1))[0]
    return r.p_value is not None and r.effect_size is not None and r.p_value < ALPHA and r.effect_size >= r.effect_floor


def _tail(cur: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    out = cur.copy()
    hit = rng.choice(cur.size, int(round(share * cur.size)), replace=False)
    out[hit] += rng.uniform(150.0, 300.0, hit.size)
    return out


def replay(path: Path) -> str:
    rec = json.loads(path.read_text())
    healthy = [np.asarray(w, dtype=float) for w in rec["healthy"]]
    slow = [np.asarray(w, dtype=float) for w in rec["latency_mode"]]
    rng = np.random.default_rng(0)
    cases: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {"healthy (false alarms)": [], "latency mode": [],
                                                               "tail +150-300 ms on 10 %": [],
                                                               "tail +150-300 ms on 20 %": []}
    for i, ref in enumerate(healthy):
        for j, cur in enumerate(healthy):
            if i != j:
                cases["healthy (false alarms)"].append((ref, cur))
        for cur in slow:
            cases["latency mode"].append((ref, cur))
        j = (i + 1) % len(healthy)
        for share, key in ((0.1, "tail +150-300 ms on 10 %"), (0.2, "tail +150-300 ms on 20 %")):
            for _ in range(4):
                cases[key].append((ref, _tail(healthy[j], share, rng)))
    p50 = [float(np.median(w)) for w in healthy]
    p95 = [float(np.quantile(w, 0.95)) for w in healthy]
    lines = ["# One-shot latency test on recorded healthy windows (replay)", "",
             f"Command: `.venv/bin/python bench/bench_latency_replay.py replay --recording "
             f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}`: "
             f"{len(healthy)} healthy and {len(slow)} latency-mode windows of {rec['probes_per_window']} probes "
             f"({rec['concurrency']} parallel workers), recorded at load average {rec['load_before']} (before) / "
             f"{rec['load_after']} (after) on 2 shared cores.",
             f"Healthy windows: median latency {min(p50):.1f}-{max(p50):.1f} ms, p95 {min(p95):.1f}-{max(p95):.1f} ms.",
             f"Alarm: p < {ALPHA} and effect >= floor.", "",
             "| case | pairs | old: exceedance above ref p95 | median test alone | new: LatencyShiftDetector |",
             "|---|---|---|---|---|"]
    for key, pairs in cases.items():
        old = sum(exceedance(r, c) for r, c in pairs)
        med = sum(median_alone(r, c) for r, c in pairs)
        new = sum(shipped(r, c) for r, c in pairs)
        lines.append(f"| {key} | {len(pairs)} | {old} | {med} | {new} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("step", choices=("record", "replay"))
    ap.add_argument("--windows", type=int, default=25)
    ap.add_argument("--slow-windows", type=int, default=5)
    ap.add_argument("--recording", default=str(RECORDING))
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "latency_replay.md"))
    a = ap.parse_args()
    if a.windows < 2 or a.slow_windows < 1:
        print(f"bench_latency_replay: --windows must be >= 2 and --slow-windows >= 1, got {a.windows}, "
              f"{a.slow_windows}", file=sys.stderr)
        raise SystemExit(2)
    path = Path(a.recording).resolve()
    if a.step == "record":
        record(a.windows, a.slow_windows, path)
        return
    if not path.is_file():
        print(f"bench_latency_replay: no recording at {path}: run the 'record' step first", file=sys.stderr)
        raise SystemExit(2)
    text = replay(path)
    Path(a.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
