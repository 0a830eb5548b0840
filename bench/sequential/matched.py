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

``--every E`` sets the rate every detector is matched at: one false alarm per ``E`` samples of its signal
(default 10,000, the rate each peer had in the sequential bench). ``--every 50000`` is the product's operating
point: the endpoint's budget of 1 per 10,000 endpoint samples split over its 5 signals, so "mlfi stated h" is then
exactly the detector the watcher runs for that signal, and every peer is calibrated to the same 1 per 50,000 (at
most ``calib / E`` alarms; use ``--calib 500000`` so that is a count of 10, not 1). mlfi's alarms on healthy
streams are counted on arrays (the same CUSUM with restarts as ``update``, checked against it on one stream).

Run: PYTHONPATH=. bench/.venv-river/bin/python bench/sequential/matched.py [--calib 50000 --fresh 200000 --reps 20]
     PYTHONPATH=. bench/.venv-river/bin/python bench/sequential/matched.py --every 50000 --calib 500000 \
         --fresh 1000000 --reps 20 --out bench/results/sequential_matched_product.md
"""

from __future__ import annotations

import argparse
import copy
import inspect
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_sequential import _delay, _source
from peer_check import _ci
from peers import PEERS, calibrate, count_alarms
from streams import HEALTHY, MIX_DIRECTIONS, MODES, cusum_bound, draw, peer_value

from app.detection.sequential import MonitorBaseline, SequentialMonitor
from app.detection.sequential.monitor import WARNING_SHARE

CHUNK, WARM, CHANGED = 10_000, 500, 1000
SIGNALS = "correctness,errors,confidence,class_mix,latency"


def _increments(det, streams: list[list]) -> np.ndarray:
    """Each stream's per-chart increments, streams x time x charts (shorter streams padded with zeros, which move
    no statistic)."""
    t = max(len(x) for x in streams)
    out = np.zeros((len(streams), t, len(det.labels())))
    many = getattr(det, "llr_many", None)
    for i, xs in enumerate(streams):
        if many is not None:
            out[i, :len(xs)] = many(xs)
        else:                                   # discrete values: one llr per distinct value
            keys = list(dict.fromkeys(xs))
            table = np.array([det.llr(k) for k in keys])
            idx = {k: j for j, k in enumerate(keys)}
            out[i, :len(xs)] = table[[idx[x] for x in xs]]
    return out


def _lims(det0, h: float) -> np.ndarray:
    """Per chart, the level it alarms at when the detector's threshold is ``h`` (``h`` less the chart's offset)."""
    d = copy.copy(det0)
    d.threshold = h
    return np.asarray(d.limits() if hasattr(d, "limits") else [h] * len(d.labels()), dtype=float)


def _mlfi_alarms(inc: np.ndarray, h: float, det0=None) -> int:
    """Alarms of the multi-chart CUSUM at threshold ``h`` over every stream (a fresh detector per stream, every chart
    restarting after an alarm, as :class:`SequentialDetector.update`; with ``det0``, each chart at its own level)."""
    s = np.zeros((inc.shape[0], inc.shape[2]))
    lim = np.full(inc.shape[2], h) if det0 is None else _lims(det0, h)
    alarms = 0
    for t in range(inc.shape[1]):
        s += inc[:, t]
        np.maximum(s, 0.0, out=s)
        hit = (s >= lim).any(axis=1)
        if hit.any():
            alarms += int(hit.sum())
            s[hit] = 0.0
    return alarms


def _mlfi_calibrate(det0, inc: np.ndarray, max_alarms: int, steps: int = 9) -> tuple[float, int]:
    """The bench's rule for mlfi's threshold: smallest ``h`` (log bisection between h0 / 4 and h0) with at most
    ``max_alarms`` healthy alarms; h0 (the stated threshold) when even it has more."""
    safe, sensitive = det0.threshold, det0.threshold / 4
    best = (safe, _mlfi_alarms(inc, safe, det0))
    for _ in range(steps):
        mid = math.exp((math.log(safe) + math.log(sensitive)) / 2)
        a = _mlfi_alarms(inc, mid, det0)
        if a <= max_alarms:
            safe, best = mid, (mid, a)
        else:
            sensitive = mid
    return best


def _with_h(det0, h: float):
    def make():
        d = copy.deepcopy(det0)
        d.threshold = h
        return d
    return make


class _Refined:
    """mlfi's detector with its signal's refinement, stepped as :meth:`SequentialMonitor.update` steps them (an
    alarm here resets the detector, as every detector of this bench, instead of starting a recovery test)."""

    def __init__(self, det, ref) -> None:
        self.det, self.ref = copy.deepcopy(det), copy.deepcopy(ref)

    @property
    def drift_detected(self) -> bool:
        return self.det.drift_detected

    def update(self, x) -> _Refined:
        self.det.update(x)
        calm = not self.det.drift_detected and self.det.statistic < WARNING_SHARE * self.det.threshold
        if self.ref.observe(x, calm):
            self.det = self.ref.rebuild(self.det)
        return self


def _first(det, vals: list[tuple[int, object]], warm: int = WARM) -> float:
    for i, v in vals:
        det.update(v)
        if det.drift_detected and i >= warm:
            return i - warm + 1
    return math.inf


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--signals", default=SIGNALS)
    ap.add_argument("--peers", default="river ADWIN,river Page-Hinkley")
    ap.add_argument("--calib", type=int, default=50_000)
    ap.add_argument("--fresh", type=int, default=200_000)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--warm-jitter", type=int, default=0,
                    help="change after 500 + U{0..J-1} healthy samples (ADWIN checks every 32 samples: a fixed change "
                         "position puts every change at the same phase of its clock)")
    ap.add_argument("--every", type=float, default=10_000.0, help="matched rate: 1 false alarm per EVERY samples")
    ap.add_argument("--seed", type=int, default=11, help="streams' seed (the change positions' is seed + 1)")
    ap.add_argument("--baseline", type=int, default=5000, help="healthy samples in mlfi's baseline (live: 150)")
    ap.add_argument("--warm", type=int, default=WARM, help="healthy samples before the change (plus the jitter)")
    ap.add_argument("--no-refine", action="store_true",
                    help="mlfi's reference fixed at the baseline (the product before branch i11-ref10)")
    ap.add_argument("--mix-directions", action="store_true",
                    help="also the other class-mix directions of streams.MIX_DIRECTIONS (one class doubling, ...)")
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "sequential_matched.md"))
    ap.add_argument("--delays", help="also write every stream's delay per mode and detector here (JSON; inf: missed), "
                                     "to pool the streams of several seeds")
    a = ap.parse_args()
    t0, cpu0 = time.time(), time.process_time()
    rng, jit = np.random.default_rng(a.seed), np.random.default_rng(a.seed + 1)
    base = draw(rng, a.baseline, HEALTHY)
    mb = MonitorBaseline.from_samples(base)
    refine = not a.no_refine and "refine" in inspect.signature(SequentialMonitor).parameters
    kw = {"refine": False} if a.no_refine else {"refine": True} if refine else {}
    alone = SequentialMonitor(mb, false_alarm_every=a.every / len(SequentialMonitor(mb, **kw).detectors), **kw)
    max_alarms = int(a.calib // a.every)
    peers = a.peers.split(",")
    names = ["mlfi stated h", "mlfi calibrated h", *peers]
    rate = f"1 per {a.every:,.0f}"
    lines = ["# Delay at a matched false-alarm rate: every detector calibrated by the same rule", "",
             (f"`PYTHONPATH=. bench/.venv-river/bin/python bench/sequential/matched.py --every {a.every:.0f} "
              f"--calib {a.calib} --fresh {a.fresh} --reps {a.reps}"
              + (f" --warm-jitter {a.warm_jitter}" if a.warm_jitter else "")
              + (f" --baseline {a.baseline}" if a.baseline != 5000 else "") + (f" --warm {a.warm}" if a.warm != WARM else "")
              + (" --no-refine" if a.no_refine else "") + (" --mix-directions" if a.mix_directions else "") + (f" --seed {a.seed}" if a.seed != 11 else "") + (f" --signals {a.signals}" if a.signals != SIGNALS else "")
              + f"` on source {_source()}"), "",
             (f"Matched rate: {rate} samples of the signal. Per signal: one set of healthy calibration streams "
              f"calibrates every detector (most sensitive knob with at most {max_alarms} alarms in {a.calib:,} "
              f"samples); 'mlfi stated h' is mlfi's detector at its own threshold for {rate} samples of the signal "
              "(no calibration; at 1 per 50,000 that is the product's detector). Delay: median / p95 samples over "
              f"{a.reps} change streams ({a.warm} healthy samples"
              + (f" plus 0-{a.warm_jitter - 1} drawn per stream" if a.warm_jitter else "")
              + ", then the change), the same streams for every detector; "
              f"[in brackets: that detector's false alarms per 10,000 on {a.fresh:,} fresh healthy samples]."), "",
             "| signal | mode | CUSUM bound | " + " | ".join(names) + " |", "|---|---|---|" + "---|" * len(names)]
    fa_lines = ["", ("Knobs and false alarms per 10,000 fresh healthy samples with exact Poisson 95 % intervals "
                     f"(target {1e4 / a.every:.2f}):"), "",
                "| signal | " + " | ".join(f"{n}: knob, healthy alarms / 10k" for n in names) + " |",
                "|---|" + "---|" * len(names)]
    per_stream: dict[str, dict[str, list]] = {}
    for sig in a.signals.split(","):
        v = np.array([x for x in (peer_value(sig, s) for s in base) if x is not None])
        mu, sd = float(v.mean()), float(v.std()) or 1.0
        get = alone._extract[sig]
        det0 = alone.detectors[sig]

        def peer_vals(rows: list) -> list[float]:
            return [(x - mu) / sd for s in rows if (x := peer_value(sig, s)) is not None]  # noqa: B023

        def mlfi_vals(rows: list) -> list:
            return [x for s in rows if (x := get(s)) is not None]  # noqa: B023

        def values(n: int) -> dict[str, list]:
            out: dict[str, list] = {"mlfi": [], "peer": []}
            for _ in range(n // CHUNK):
                rows = draw(rng, CHUNK, HEALTHY)
                out["mlfi"].append(mlfi_vals(rows))
                out["peer"].append(peer_vals(rows))
            return out

        cal, fresh = values(a.calib), values(a.fresh)
        inc_cal, inc_fresh = _increments(det0, cal["mlfi"]), _increments(det0, fresh["mlfi"])
        one = count_alarms(lambda det0=det0: copy.deepcopy(det0), cal["mlfi"][:1])
        if one != _mlfi_alarms(inc_cal[:1], det0.threshold, det0):
            print(f"warning: {sig}: array count differs from update() on one stream", flush=True)
        h, k = _mlfi_calibrate(det0, inc_cal, max_alarms)
        ref = getattr(alone, "refining", {}).get(sig)
        makers = {"mlfi stated h": (lambda det0=det0: copy.deepcopy(det0), f"h {det0.threshold:.2f}", "mlfi"),
                  "mlfi calibrated h": (_with_h(det0, h), f"h {h:.2f} ({k} in calib)", "mlfi")}
        n_fresh = {kind: sum(len(x) for x in fresh[kind]) for kind in fresh}
        rates = {"mlfi stated h": _mlfi_alarms(inc_fresh, det0.threshold, det0),
                 "mlfi calibrated h": _mlfi_alarms(inc_fresh, h, det0)}
        if ref is not None:       # the product's detector refines its reference: run it sample by sample
            makers["mlfi stated h"] = (lambda det0=det0, ref=ref: _Refined(det0, ref),
                                       f"h {det0.threshold:.2f} at n {ref.n}, refined to n {ref.ladder[-1][0]}", "mlfi")
            rates["mlfi stated h"] = count_alarms(makers["mlfi stated h"][0], fresh["mlfi"])
        for peer in peers:
            knob, kk = calibrate(peer, cal["peer"], max_alarms=max_alarms)
            makers[peer] = (lambda knob=knob, make=PEERS[peer][0]: make(knob), f"{knob:.3g} ({kk} in calib)", "peer")
            rates[peer] = count_alarms(makers[peer][0], fresh["peer"])
        del cal, fresh, inc_cal, inc_fresh
        row = [sig] + [f"{makers[n][1]}, {_ci(rates[n], n_fresh[makers[n][2]])}" for n in names]
        fa_lines.append("| " + " | ".join(row) + " |")
        print(fa_lines[-1], f"{time.time() - t0:.0f}s", flush=True)
        for mode, (msig, after) in {**MODES, **(MIX_DIRECTIONS if a.mix_directions else {})}.items():
            if msig != sig:
                continue
            d: dict[str, list[float]] = {n: [] for n in names}
            for _ in range(a.reps):
                warm = a.warm + (int(jit.integers(0, a.warm_jitter)) if a.warm_jitter else 0)
                stream = draw(rng, warm, HEALTHY) + draw(rng, CHANGED, after)
                for n in names:
                    make, _, kind = makers[n]
                    if kind == "mlfi":
                        vals = [(i, x) for i, s in enumerate(stream) if (x := get(s)) is not None]
                    else:
                        vals = [(i, (x - mu) / sd) for i, s in enumerate(stream)
                                if (x := peer_value(sig, s)) is not None]
                    d[n].append(_first(make(), vals, warm))
            per_stream[mode] = {n: [None if math.isinf(x) else x for x in d[n]] for n in names}
            lines.append(f"| {sig} | {mode} | {cusum_bound(sig, after, a.every):.1f} | "
                         + " | ".join(f"{_delay(d[n])} [{1e4 * rates[n] / n_fresh[makers[n][2]]:.2f}]"
                                      for n in names) + " |")
            print(lines[-1], f"{time.time() - t0:.0f}s", flush=True)
    lines += fa_lines
    lines += ["", (f"CUSUM bound: Lorden's ln({a.every:,.0f}) / KL(changed || healthy) per sample. "
                   f"{time.time() - t0:.0f} s wall, {time.process_time() - cpu0:.0f} s CPU, {os.cpu_count()} cores, "
                   f"load {os.getloadavg()[0]:.1f} at the end."), ""]
    Path(a.out).write_text("\n".join(lines))
    if a.delays:
        Path(a.delays).write_text(json.dumps({"seed": a.seed, "source": _source(), "delays": per_stream}))
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
