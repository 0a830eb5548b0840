"""Are the river peers really at 1 false alarm per 10,000 samples? And mlfi's detector, at its stated budget?

The sequential bench calibrates each peer's knob on ``--calib`` healthy samples (10,000-sample streams,
a fresh detector each) by picking the most sensitive knob with at most ``calib / 10,000`` alarms. That
pick is selected on a small count (2-5 alarms), so it is biased towards knobs whose true rate is above
the target. This script repeats that calibration on independent draws (``--rounds`` times per size)
and measures each picked knob on fresh healthy streams of ``--fresh`` samples:

- false alarms per 10,000 samples, counted as the bench calibrates (every alarm of a detector that runs
  on through a 10,000-sample stream) and as the delay runs use it (first alarm of a fresh detector);
- how clustered they are: the share of alarms within 200 samples of the previous one (after a reset);
- the same for mlfi's detector of that signal alone, at its analytic threshold for 1 per 10,000
  samples of that signal (what the bench's "signal alone" column runs), fed the same streams.

Run: PYTHONPATH=. bench/.venv-river/bin/python bench/sequential/peer_check.py [--fresh 1000000]
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from peers import PEERS, calibrate
from streams import HEALTHY, draw, peer_value

from app.detection.sequential import MonitorBaseline, SequentialMonitor

CHUNK = 10_000
CLUSTER = 200


def _values(rows: list, sig: str, mu: float, sd: float) -> list[float]:
    return [(x - mu) / sd for s in rows if (x := peer_value(sig, s)) is not None]


def _run(make, streams: list[list[float]]) -> tuple[int, int, int]:
    """(alarms, first alarms of a fresh detector per stream, alarms within CLUSTER samples of the previous)."""
    alarms = firsts = clustered = 0
    for xs in streams:
        det, last = make(), None
        for i, x in enumerate(xs):
            det.update(x)
            if det.drift_detected:
                alarms += 1
                firsts += last is None
                clustered += last is not None and i - last <= CLUSTER
                last = i
    return alarms, firsts, clustered


def _ci(k: int, n: int) -> str:
    """Rate per 10,000 with an exact Poisson 95 % interval."""
    from scipy import stats
    lo = stats.chi2.ppf(0.025, 2 * k) / 2 if k else 0.0
    hi = stats.chi2.ppf(0.975, 2 * k + 2) / 2
    return f"{k / n * 1e4:.2f} [{lo / n * 1e4:.2f}, {hi / n * 1e4:.2f}]"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--signals", default="correctness,errors,confidence,class_mix,latency")
    ap.add_argument("--peers", default="river ADWIN,river Page-Hinkley")
    ap.add_argument("--calib", default="20000,50000", help="calibration sizes to repeat")
    ap.add_argument("--rounds", type=int, default=4, help="independent calibrations per size")
    ap.add_argument("--fresh", type=int, default=500_000, help="fresh healthy samples per check")
    ap.add_argument("--mlfi-fresh", type=int, default=200_000, help="fresh samples for mlfi's detector")
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "sequential_peer_check.md"))
    a = ap.parse_args()
    t0, cpu0 = time.time(), time.process_time()
    rng = np.random.default_rng(7)
    base = draw(rng, 5000, HEALTHY)                 # the bench's baseline size
    mb = MonitorBaseline.from_samples(base)
    n_sig = len(SequentialMonitor(mb).detectors)
    alone = SequentialMonitor(mb, false_alarm_every=10_000.0 / n_sig)
    lines = ["# River peers' calibration checked on fresh healthy streams", "",
             (f"`PYTHONPATH=. bench/.venv-river/bin/python bench/sequential/peer_check.py --calib {a.calib} "
              f"--rounds {a.rounds} --fresh {a.fresh} --mlfi-fresh {a.mlfi_fresh}`"), "",
             ("Each row: the bench's calibration (most sensitive knob with at most calib/10,000 alarms on calib "
             "healthy samples, 10,000-sample streams) repeated on independent draws; the picked knob then "
             f"runs on {a.fresh:,} fresh healthy samples (10,000-sample streams, fresh detector each). "
             "Rates per 10,000 samples with exact Poisson 95 % intervals. 'first': a fresh detector's first alarm "
             "per 10,000-sample stream only, so 1.00 means every stream alarmed; 'clustered': alarms within {CLUSTER} samples "
             "of the previous one."), "",
             ("| signal | detector | calibrated on | knob | alarms in calibration | fresh: all alarms / 10k | "
              "fresh: first alarms / 10k | clustered |"), "|---|---|---|---|---|---|---|---|"]
    for sig in a.signals.split(","):
        v = np.array([x for x in (peer_value(sig, s) for s in base) if x is not None])
        mu, sd = float(v.mean()), float(v.std()) or 1.0
        fresh_rows = [draw(rng, CHUNK, HEALTHY) for _ in range(a.fresh // CHUNK)]
        fresh = [_values(r, sig, mu, sd) for r in fresh_rows]
        for peer in a.peers.split(","):
            make = PEERS[peer][0]
            for size in (int(x) for x in a.calib.split(",")):
                for _ in range(a.rounds):
                    cal = [_values(draw(rng, CHUNK, HEALTHY), sig, mu, sd) for _ in range(size // CHUNK)]
                    knob, k_cal = calibrate(peer, cal, max_alarms=size // 10_000)
                    al, fi, cl = _run(lambda knob=knob, make=make: make(knob), fresh)
                    n = sum(len(x) for x in fresh)
                    lines.append(f"| {sig} | {peer} | {size:,} | {knob:.3g} | {k_cal} | {_ci(al, n)} | "
                                 f"{_ci(fi, n)} | {cl}/{al} |")
                    print(lines[-1], f"{time.time() - t0:.0f}s", flush=True)
        det0 = alone.detectors[sig]
        get = alone._extract[sig]
        m_rows = fresh_rows[: max(1, a.mlfi_fresh // CHUNK)]
        m_vals = [[x for s in r if (x := get(s)) is not None] for r in m_rows]

        al, fi, cl = _run(lambda det0=det0: copy.deepcopy(det0), m_vals)
        n = sum(len(r) for r in m_rows)
        lines.append(f"| {sig} | mlfi signal alone (analytic h = {det0.threshold:.2f}) | - | - | - | {_ci(al, n)} | "
                     f"{_ci(fi, n)} | {cl}/{al} |")
        print(lines[-1], f"{time.time() - t0:.0f}s", flush=True)
    lines += ["", f"{time.time() - t0:.0f} s wall, {time.process_time() - cpu0:.0f} s CPU.", ""]
    Path(a.out).write_text("\n".join(lines))
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
