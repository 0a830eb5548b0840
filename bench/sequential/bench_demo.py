"""Time to open and to resolve an incident on the demo model over HTTP, through the real watcher path.

`mlfi serve-demo-model` runs in its own process; the watcher's Scheduler and Analyzer run in this one
with a simulated clock (one probe per cycle, the cadence pushed out of reach, so every report comes
from a sequential alarm). Per repetition: ``--learn`` healthy samples (the baseline is learned from
them, as the watcher does with its default window of 150), ``--fail`` samples of ``degraded_accuracy``
(~30 % wrong, -30 points), ``--heal`` healthy samples. Counted in samples: the alarm (after the switch),
the incident opening and its resolution (after the healing). The demo flips answers per input row, so
runs differ by the probe rows drawn (seeded by the endpoint id, one per run). Seconds = samples x the default watch
interval (5 s) / the samples per probe (the watcher sends one row per probe and endpoint).

    PYTHONPATH=. .venv/bin/python bench/sequential/bench_demo.py [--reps 3]   # -> bench/results/sequential_demo.md
"""

from __future__ import annotations

import argparse
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from app.config import Settings
from app.detection.sequential.bernoulli import bernoulli_kl
from app.detection.sequential.monitor import RECOVERY_SHARE
from app.governance import list_incidents
from app.logging_setup import setup_logging
from app.storage import Store
from app.watcher.analysis import Analyzer
from app.watcher.endpoints import register_urls
from app.watcher.loop import run_once
from app.watcher.scheduler import Scheduler

INTERVAL_S, PER_PROBE = Settings(_env_file=None).watch_interval_s, 1  # type: ignore[call-arg]


def _server() -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "app", "serve-demo-model", "--port", str(port)], cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            requests.get(f"{base}/health", timeout=1)
            break
        except requests.RequestException:
            time.sleep(0.1)
    return proc, base


def one_run(base: str, learn: int, fail: int, heal: int, rep: int) -> dict[str, float | None]:
    home = Path(tempfile.mkdtemp(prefix="mlfi-seqdemo-"))
    settings = Settings(home=home, window_size=learn, analysis_every_s=1e9, backoff_max_s=1.0,
                        _env_file=None)  # type: ignore[call-arg]
    setup_logging(settings, quiet=True)
    store = Store.from_settings(settings)
    url = f"{base}/predict"
    for k in range(rep):          # the probe rows are drawn with the endpoint id as seed: one id per run
        store.upsert_endpoint(f"pad-{k}")
    register_urls(settings, store, [url], interval=1.0)
    clock = {"t": 0.0}
    sched = Scheduler(settings, store, clock=lambda: clock["t"])
    an = Analyzer(settings, store, clock=lambda: clock["t"])
    opened = resolved = None

    def step(i: int) -> None:
        clock["t"] = float(i)
        run_once(settings, store, lambda: clock["t"], scheduler=sched, analyzer=an)

    requests.post(f"{base}/_control", json={"mode": "healthy"}, timeout=5)
    try:
        for i in range(learn):
            step(i)
        an._last = {k: clock["t"] - 2e9 for k in (an._last or {})}     # the cadence learns the baseline once
        step(learn)
        switch = store.count_samples(url)
        requests.post(f"{base}/_control", json={"mode": "degraded_accuracy"}, timeout=5)
        for j in range(fail):
            step(learn + 1 + j)
            if opened is None and list_incidents(store, status="open"):
                opened = j + 1
        requests.post(f"{base}/_control", json={"mode": "healthy"}, timeout=5)
        for j in range(heal):
            step(learn + 1 + fail + j)
            if resolved is None and list_incidents(store, status="resolved"):
                resolved = j + 1
    finally:
        sched.close()
    incs = list_incidents(store)[::-1]          # oldest first
    rows = store.recent_samples(url, last_n=100_000, with_inputs=False)
    ts = [x.ts for x in rows]
    store.dispose()
    def wrong(part: list) -> float:             # the change this run really made: share of wrong answers
        got = [int(not x.correct) for x in part if x.correct is not None]
        return statistics.mean(got) if got else 0.0

    n_sig = 5                                   # signals of the demo's monitor: the budget is split over them
    p0, p1 = max(wrong(rows[:switch]), 0.01), wrong(rows[switch:switch + fail])   # p0 floored as the detector does
    kl1, kl0 = bernoulli_kl(p1, p0), bernoulli_kl(p0, p1)
    budget = settings.false_alarm_every
    bound = math.log(budget * n_sig) / kl1 if kl1 > 0 else math.inf
    rec_bound = math.log(budget / RECOVERY_SHARE) / kl0 if kl0 > 0 else math.inf
    alarm = None
    if incs and incs[0].change_point_at in ts and incs[0].detection_delay_samples:
        alarm = ts.index(incs[0].change_point_at) + incs[0].detection_delay_samples - switch
    return {"incidents": len(incs), "alarm": alarm, "opened": opened, "resolved": resolved,
            "wrong_before": round(p0, 3), "wrong_after": round(p1, 3), "bound": round(bound, 1),
            "recovery_bound": round(rec_bound, 1),
            "root_cause": incs[0].root_cause if incs else None,
            "all": [(i.root_cause, i.status, i.outcome) for i in incs]}


def _fmt(xs: list[float | None]) -> str:
    got = [float(x) for x in xs if x is not None]
    if not got:
        return "-"
    med = statistics.median(got)
    miss = len(xs) - len(got)
    return (f"{med:.0f} samples = {med * INTERVAL_S / PER_PROBE:.0f} s (range {min(got):.0f}-{max(got):.0f})"
            + (f", {miss} never" if miss else ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--learn", type=int, default=150)
    ap.add_argument("--fail", type=int, default=60)
    ap.add_argument("--heal", type=int, default=150)
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "sequential_demo.md"))
    a = ap.parse_args()
    t0 = time.time()
    proc, base = _server()
    runs = []
    try:
        for r in range(a.reps):
            runs.append(one_run(base, a.learn, a.fail, a.heal, r))
            print(f"rep {r}: {runs[-1]}", flush=True)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
    goal = 60.0 * PER_PROBE / INTERVAL_S
    change = ", ".join(f"{r['wrong_before']:.0%} -> {r['wrong_after']:.0%}" for r in runs)
    lines = ["# Demo model over HTTP: time to open and resolve one incident (watcher path)", "",
             (f"Command: `PYTHONPATH=. .venv/bin/python bench/sequential/bench_demo.py --reps {a.reps}` "
             f"({a.learn} healthy samples, {a.fail} degraded_accuracy, {a.heal} healthy per run) · "
             f"{os.cpu_count()} cores · {(time.time() - t0) / 60:.0f} min."), "",
             (f"Seconds = samples x {INTERVAL_S:g} s (default `MLFI_WATCH_INTERVAL_S`) / {PER_PROBE} sample per probe "
             f"(the watcher sends one row per probe). The 60 s goal is {goal:.0f} samples at that rate."), "",
             "| what | median (range) |", "|---|---|",
             f"| sequential alarm, after the switch | {_fmt([r['alarm'] for r in runs])} |",
             f"| incident opened, after the switch | {_fmt([r['opened'] for r in runs])} |",
             f"| incident resolved, after the healing | {_fmt([r['resolved'] for r in runs])} |",
             f"| wrong answers before -> during the failure, per run | {change} |",
             f"| CUSUM bound of that change, ln(5 x budget) / KL(f1, f0), per run | {[r['bound'] for r in runs]} |",
             f"| recovery bound, ln(budget / 10) / KL(f0, f1), per run | {[r['recovery_bound'] for r in runs]} |",
             f"| incidents per run (goal 1) | {[r['incidents'] for r in runs]} |",
             f"| root cause of the first incident | {[r['root_cause'] for r in runs]} |",
             f"| every incident (root cause, status, outcome) | {[r['all'] for r in runs]} |", ""]
    Path(a.out).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
