"""Delay at a truly matched false-alarm rate: mlfi's detector and the river peers calibrated the same way.

The sequential bench gives mlfi's detectors their analytic thresholds (Wald's approximation plus a union
bound over charts, both on the safe side) and calibrates the river peers empirically, so the two are not at
the same rate. Here, per signal, one set of healthy calibration streams (10,000 samples each, a fresh
detector each) calibrates every detector by the same rule (the bench's: the most sensitive knob with at
most ``calib / 10,000`` alarms, 9 log-bisection steps); mlfi's knob is the threshold ``h`` of that signal's
detector (built as the bench's "signal alone" column, at 1 per 10,000 samples of the signal). Then:

- the false alarms of each calibrated detector on fresh healthy streams (``--fresh`` samples), per 10,000
  with an exact Poisson 95 % interval;
- the delay (median / p95) on ``--reps`` change streams per mode of that signal (500 healthy samples, then
  the change; same streams for every detector), and mlfi at its analytic threshold for reference.

Run: PYTHONPATH=. bench/.venv-river/bin/python bench/sequential/matched.py [--calib 50000 --fresh 200000 --reps 20]
"""

from __future__ import annotations

import argparse
import copy
import math
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_sequential import _delay
from peer_check import _ci
from peers import PEERS, bisect_knob, calibrate, count_alarms
from streams import HEALTHY, MODES, cusum_bound, draw, peer_value

from app.detection.sequential import MonitorBaseline, SequentialMonitor

CHUNK, WARM, CHANGED = 10_000, 500, 1000


def _mlfi_calibrate(det0, streams: list[list], max_alarms: int, steps: int = 9) -> tuple[float, int]:
    """The bench's rule for mlfi's threshold: smallest ``h`` (log bisection between h0 / 4 and h0) with at most
    ``max_alarms`` healthy alarms; h0 (the analytic threshold) when even it has more."""

    def make(h: float):
        d = copy.deepcopy(det0)
        d.threshold = h
        return d

    return bisect_knob(make, det0.threshold, det0.threshold / 4, streams, max_alarms, steps)


def _first(det, vals: list[tuple[int, object]]) -> float:
    for i, v in vals:
        det.update(v)
        if det.drift_detected and i >= WARM:
            return i - WARM + 1
    return math.inf


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--signals", default="correctness,errors,confidence,class_mix,latency")
    ap.add_argument("--peers", default="river ADWIN,river Page-Hinkley")
    ap.add_argument("--calib", type=int, default=50_000)
    ap.add_argument("--fresh", type=int, default=200_000)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "sequential_matched.md"))
    a = ap.parse_args()
    t0, cpu0 = time.time(), time.process_time()
    rng = np.random.default_rng(11)
    base = draw(rng, 5000, HEALTHY)
    mb = MonitorBaseline.from_samples(base)
    alone = SequentialMonitor(mb, false_alarm_every=10_000.0 / len(SequentialMonitor(mb).detectors))
    peers = a.peers.split(",")
    names = ["mlfi stated h", "mlfi calibrated h", *peers]
    lines = ["# Delay at a matched false-alarm rate: every detector calibrated by the same rule", "",
             (f"`PYTHONPATH=. bench/.venv-river/bin/python bench/sequential/matched.py --calib {a.calib} "
              f"--fresh {a.fresh} --reps {a.reps}`"), "",
             ("Per signal: one set of healthy calibration streams calibrates every detector (most sensitive knob "
              f"with at most {a.calib // 10_000} alarms in {a.calib:,} samples); 'mlfi stated h' is the "
              "detector at its stated threshold for 1 per 10,000 samples of the signal (no calibration). "
              f"False alarms: on {a.fresh:,} fresh healthy samples, per 10,000 with a 95 % interval. Delay: "
              f"median / p95 samples over {a.reps} change streams, the same streams for every detector."), "",
             "| signal | mode | CUSUM bound | " + " | ".join(names) + " |", "|---|---|---|" + "---|" * len(names)]
    fa_lines = ["", "| signal | " + " | ".join(f"{n}: knob, healthy alarms / 10k" for n in names) + " |",
                "|---|" + "---|" * len(names)]
    for sig in a.signals.split(","):
        v = np.array([x for x in (peer_value(sig, s) for s in base) if x is not None])
        mu, sd = float(v.mean()), float(v.std()) or 1.0
        get = alone._extract[sig]
        det0 = alone.detectors[sig]
        cal_rows = [draw(rng, CHUNK, HEALTHY) for _ in range(a.calib // CHUNK)]
        fresh_rows = [draw(rng, CHUNK, HEALTHY) for _ in range(a.fresh // CHUNK)]

        def peer_vals(rows: list) -> list[float]:
            return [(x - mu) / sd for s in rows if (x := peer_value(sig, s)) is not None]  # noqa: B023

        def mlfi_vals(rows: list) -> list:
            return [x for s in rows if (x := get(s)) is not None]  # noqa: B023

        makers = {}
        h, k = _mlfi_calibrate(det0, [mlfi_vals(r) for r in cal_rows], a.calib // 10_000)
        makers["mlfi stated h"] = (lambda det0=det0: copy.deepcopy(det0), f"h {det0.threshold:.2f}", "mlfi")

        def with_h(h: float = h, det0=det0):
            d = copy.deepcopy(det0)
            d.threshold = h
            return d
        makers["mlfi calibrated h"] = (with_h, f"h {h:.2f} ({k} in calib)", "mlfi")
        for peer in peers:
            knob, kk = calibrate(peer, [peer_vals(r) for r in cal_rows], max_alarms=a.calib // 10_000)
            makers[peer] = (lambda knob=knob, make=PEERS[peer][0]: make(knob), f"{knob:.3g} ({kk} in calib)", "peer")
        fresh = {"mlfi": [mlfi_vals(r) for r in fresh_rows], "peer": [peer_vals(r) for r in fresh_rows]}
        row = [sig]
        for n in names:
            make, desc, kind = makers[n]
            al = count_alarms(make, fresh[kind])
            row.append(f"{desc}, {_ci(al, sum(len(x) for x in fresh[kind]))}")
        fa_lines.append("| " + " | ".join(row) + " |")
        print(fa_lines[-1], f"{time.time() - t0:.0f}s", flush=True)
        for mode, (msig, after) in MODES.items():
            if msig != sig:
                continue
            d: dict[str, list[float]] = {n: [] for n in names}
            for _ in range(a.reps):
                stream = draw(rng, WARM, HEALTHY) + draw(rng, CHANGED, after)
                for n in names:
                    make, _, kind = makers[n]
                    if kind == "mlfi":
                        vals = [(i, x) for i, s in enumerate(stream) if (x := get(s)) is not None]
                    else:
                        vals = [(i, (x - mu) / sd) for i, s in enumerate(stream)
                                if (x := peer_value(sig, s)) is not None]
                    d[n].append(_first(make(), vals))
            lines.append(f"| {sig} | {mode} | {cusum_bound(sig, after):.1f} | "
                         + " | ".join(_delay(d[n]) for n in names) + " |")
            print(lines[-1], f"{time.time() - t0:.0f}s", flush=True)
    lines += fa_lines
    lines += ["", f"{time.time() - t0:.0f} s wall, {time.process_time() - cpu0:.0f} s CPU.", ""]
    Path(a.out).write_text("\n".join(lines))
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
