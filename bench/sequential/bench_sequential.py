"""Sequential detection benchmark: detection delay, healthy false alarms and recovery delay per mode.

mlfi's SequentialMonitor in two configurations, against today's windowed 150-sample test and river's
ADWIN, Page-Hinkley and KSWIN calibrated on healthy streams to at most one false alarm per 10,000
samples of their one signal:
- ``mlfi product``: all five signals at the default budget of one false alarm per 10,000 samples of the
  whole endpoint, so each signal's detector runs at 1 per 50,000;
- ``mlfi signal alone``: the changed signal's detector at 1 per 10,000 samples of that signal, the budget
  each river peer gets (the monitor built with ``false_alarm_every = 10,000 / signals``; only the changed
  signal's events are read). This is the comparison at a matched false-alarm rate on the same signal.

Run (one command; creates bench/.venv-river with river on first use):
    bash bench/sequential/run.sh            # -> bench/results/sequential.md
    bash bench/sequential/run.sh --quick    # smoke run
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from streams import HEALTHY, MODES, cusum_bound, draw, peer_value
from windowed import WindowedTest, episodes

from app.detection.sequential import MonitorBaseline, SequentialMonitor

SIGNALS = ("correctness", "errors", "confidence", "latency", "class_mix")
PEERS: dict = {}


def _q(xs: list[float], q: float) -> str:
    xs = [x for x in xs if math.isfinite(x)]
    return f"{np.quantile(xs, q):.0f}" if xs else "-"


def _delay(xs: list[float]) -> str:
    miss = sum(not math.isfinite(x) for x in xs)
    return f"{_q(xs, 0.5)} / {_q(xs, 0.95)}" + (f" ({miss} missed)" if miss else "")


def _standardiser(signal: str, base: list) -> tuple[float, float]:
    v = np.array([x for x in (peer_value(signal, s) for s in base) if x is not None])
    return float(v.mean()), float(v.std()) or 1.0


def _peer_values(signal: str, rows: list, mu_sd: tuple[float, float]) -> list[tuple[int, float]]:
    mu, sd = mu_sd
    return [(i, (x - mu) / sd) for i, s in enumerate(rows) if (x := peer_value(signal, s)) is not None]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=40, help="changed streams per mode")
    ap.add_argument("--healthy", type=int, default=200_000, help="healthy samples for false alarms")
    ap.add_argument("--calib", type=int, default=100_000, help="healthy samples per signal to calibrate peers")
    ap.add_argument("--quick", action="store_true", help="5 reps, 20k healthy, 20k calibration")
    ap.add_argument("--no-peers", action="store_true", help="mlfi and windowed only (no river venv needed)")
    ap.add_argument("--baseline", type=int, default=5000, help="healthy samples in mlfi's baseline (live: 150)")
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "sequential.md"))
    a = ap.parse_args()
    global PEERS
    if a.no_peers:
        PEERS, calibrate = {}, None
    else:
        from peers import PEERS, calibrate
    if a.quick:
        a.reps, a.healthy, a.calib = 5, 20_000, 20_000
    t0, src = time.time(), _source()         # the code as it was when the run started
    rng = np.random.default_rng(2026)
    base = draw(rng, a.baseline, HEALTHY)
    mb = MonitorBaseline.from_samples(base)
    chunk = 10_000
    healthy = [draw(rng, chunk, HEALTHY) for _ in range(max(1, a.healthy // chunk))]
    n_healthy = sum(len(h) for h in healthy)
    fa: dict[str, float] = {}
    n_sig = len(SequentialMonitor(mb).detectors)
    alone_every = 10_000.0 / n_sig        # every signal's detector at 1 per 10,000 samples of its signal
    mon_alarms = 0
    alone: dict[str, int] = dict.fromkeys(SIGNALS, 0)
    for h in healthy:
        mon, mon1 = SequentialMonitor(mb), SequentialMonitor(mb, false_alarm_every=alone_every)
        for s in h:
            mon_alarms += sum(e.kind == "change" for e in mon.update(s))
            for e in mon1.update(s):
                alone[e.signal] += e.kind == "change"
    fa["mlfi product (endpoint, 5 signals, 1/10,000 for all)"] = mon_alarms / n_healthy * 1e4
    for sig in SIGNALS:
        fa[f"mlfi signal alone ({sig}, 1/10,000 for this signal)"] = alone[sig] / n_healthy * 1e4
    win = {sig: WindowedTest(sig, base) for sig in SIGNALS}
    win_total = sum(episodes(win[sig].flags(h)) for sig in SIGNALS for h in healthy)
    fa["windowed 150 (endpoint, 5 signals)"] = win_total / n_healthy * 1e4
    print(f"healthy done {time.time() - t0:.0f}s", fa, flush=True)

    std = {sig: _standardiser(sig, base) for sig in SIGNALS}
    calib = [draw(rng, chunk, HEALTHY) for _ in range(max(1, a.calib // chunk))]
    n_cal = sum(len(c) for c in calib)
    knobs: dict[tuple[str, str], float] = {}
    for sig in {s for s, _ in MODES.values()} if PEERS else ():
        vals = [[v for _, v in _peer_values(sig, c, std[sig])] for c in calib]
        for peer in PEERS:
            knob, alarms = calibrate(peer, vals, max_alarms=n_cal // 10_000)
            knobs[(peer, sig)] = knob
            fa[f"{peer} ({sig})"] = alarms / n_cal * 1e4
            print(f"calibrated {peer} on {sig}: knob {knob:.3g}, {alarms} alarms / {n_cal}", flush=True)

    warm, changed, healed = 500, 1000, 1500
    rows = []
    for mode, (sig, after) in MODES.items():
        d: dict[str, list[float]] = {k: [] for k in ["mlfi", "alone", "windowed", *PEERS, "mlfi rec",
                                                      "windowed rec"]}
        stated = math.nan
        for _ in range(a.reps):
            stream = draw(rng, warm, HEALTHY) + draw(rng, changed, after) + draw(rng, healed, HEALTHY)
            heal_at = warm + changed
            mon = SequentialMonitor(mb)
            det = rec = math.inf
            for i, s in enumerate(stream):
                for e in mon.update(s):
                    if e.signal != sig:
                        continue
                    if e.kind == "change" and warm <= i < heal_at and det == math.inf:
                        det = i - warm + 1
                    elif e.kind == "recovered" and i >= heal_at and rec == math.inf and det < math.inf:
                        rec, stated = i - heal_at + 1, e.expected_delay
            d["mlfi"].append(det)
            d["mlfi rec"].append(rec)
            mon1 = SequentialMonitor(mb, false_alarm_every=alone_every)
            d["alone"].append(next((i - warm + 1 for i, s in enumerate(stream[:heal_at])
                                    for e in mon1.update(s)
                                    if e.signal == sig and e.kind == "change" and i >= warm), math.inf))
            flags = win[sig].flags(stream)
            wd = next((i - warm + 1 for i, f in flags if f and warm <= i < heal_at), math.inf)
            d["windowed"].append(wd)
            on = next((i for i, f in flags if not f and i >= heal_at), None) if wd < math.inf else None
            d["windowed rec"].append(on - heal_at + 1 if on is not None else math.inf)
            vals = _peer_values(sig, stream[:heal_at], std[sig])
            for peer, (make, *_rest) in PEERS.items():
                p = make(knobs[(peer, sig)])
                first = math.inf
                for i, v in vals:
                    p.update(v)
                    if p.drift_detected and i >= warm:
                        first = i - warm + 1
                        break
                d[peer].append(first)
        bound = cusum_bound(sig, after)
        rows.append((mode, bound, d, stated))
        print(f"{mode}: bound {bound:.1f} mlfi {_delay(d['mlfi'])} alone {_delay(d['alone'])} "
              f"windowed {_delay(d['windowed'])} "
              + " ".join(f"{p} {_delay(d[p])}" for p in PEERS) + f" rec {_delay(d['mlfi rec'])}", flush=True)
    write(a, rows, fa, knobs, n_healthy, n_cal, time.time() - t0, src)


def _source() -> str:
    """The commit the bench ran on, with ``+changes`` when the work tree differed from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+changes" if dirty else "")


def write(a: argparse.Namespace, rows: list, fa: dict[str, float], knobs: dict, n_healthy: int, n_cal: int,
          secs: float, src: str) -> None:
    peers = list(PEERS)
    lines = ["# Sequential detection: delay, false alarms, recovery", "",
             (f"Command: `bash bench/sequential/run.sh{' --quick' if a.quick else ''}"
              f"{' --no-peers' if a.no_peers else ''} --reps {a.reps} --healthy {a.healthy} --calib {a.calib} --baseline {a.baseline}` "
              f"on source {src} (reps {a.reps}, healthy "
             f"{n_healthy}, calibration {n_cal} per signal) · {os.cpu_count()} cores · {secs / 60:.0f} min."), "",
             ("Detection delay in endpoint samples after the change, median / 95th percentile over the runs "
             "(a run that does not detect within 1,000 samples counts as missed). Bound: Lorden's "
             "ln(10,000) / KL(changed || healthy) per sample. Recovery: samples after the healing until "
             "mlfi's recovery test (or the windowed test going quiet) says healthy; stated = the recovery "
             "test's h / KL(f0 || f1)."), "",
             ("mlfi product: the endpoint's budget (1 per 10,000 endpoint samples) split over its 5 signals. "
              "mlfi signal alone: the changed signal's detector at 1 per 10,000 samples of that signal, the "
              "river peers' budget (the matched false-alarm rate)."), "",
             "| mode | CUSUM bound | mlfi product | mlfi signal alone | windowed 150 | " + " | ".join(peers)
             + " | mlfi recovery (stated) | windowed recovery |",
             "|---|---|---|---|---|" + "---|" * len(peers) + "---|---|"]
    for mode, bound, d, stated in rows:
        lines.append(f"| {mode} | {bound:.1f} | {_delay(d['mlfi'])} | {_delay(d['alone'])} | "
                     f"{_delay(d['windowed'])} | "
                     + " | ".join(_delay(d[p]) for p in peers)
                     + f" | {_delay(d['mlfi rec'])} ({stated:.0f}) | {_delay(d['windowed rec'])} |")
    lines += ["", ("Healthy false alarms per 10,000 samples (river peers: per signal, calibrated to at most 1; "
              "an endpoint running all five would add them up):"), "", "| detector | false alarms / 10,000 |",
              "|---|---|"]
    lines += [f"| {k} | {v:.2f} |" for k, v in fa.items()]
    lines += ["", "Calibrated knobs (ADWIN delta, Page-Hinkley threshold on standardised values, KSWIN alpha): "
              + "; ".join(f"{p} / {s}: {v:.3g}" for (p, s), v in sorted(knobs.items())), ""]
    Path(a.out).write_text("\n".join(lines))
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
