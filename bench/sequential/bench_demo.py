"""Time to open and to resolve an incident on the demo model over HTTP, through the real watcher path.

`mlfi serve-demo-model` runs in its own process; the watcher's Scheduler and Analyzer run in this one
on a simulated clock stepped by the loop's cycle (0.25 s), the cadence pushed out of reach, so every
report comes from a sequential alarm. Per repetition: ``--learn`` baseline samples at one per simulated
second (the baseline is learned from them), then the endpoint's interval is the default (5 s) with the
variable sampling interval (``MLFI_FAST_INTERVAL_S`` while a CUSUM statistic is at half its threshold
or an incident is open): ``--healthy`` seconds healthy (the share of that time in the fast mode is the
VSI's cost), ``--fail`` seconds of ``--mode``, at most ``--heal`` seconds healthy. Counted in samples
and simulated seconds: the incident opening (after the switch) and its resolution (after the healing).
The demo flips answers per input row, so runs differ by the probe rows drawn (seeded by the endpoint
id, one per run).

    PYTHONPATH=. .venv/bin/python bench/sequential/bench_demo.py --reps 5 --mode accuracy_drop_40
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
from typing import Any

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
from app.watcher.loop import CYCLE_S, run_once
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
    for _ in range(3000):         # a loaded host can take minutes to import and train
        try:
            requests.get(f"{base}/health", timeout=1)
            break
        except requests.RequestException:
            time.sleep(0.1)
    return proc, base


def one_run(base: str, learn: int, fail_s: float, heal_s: float, rep: int, mode: str,
            healthy_s: float) -> dict[str, float | None]:
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
    opened = resolved = opened_s = resolved_s = None
    fast_s = {"healthy": 0.0}

    def step(t: float) -> None:
        clock["t"] = t
        run_once(settings, store, lambda: clock["t"], scheduler=sched, analyzer=an)

    def run_for(seconds: float, what: str, done: Any = None) -> None:
        t_end = clock["t"] + seconds
        while clock["t"] < t_end:
            step(clock["t"] + CYCLE_S)
            st = next(iter(sched._states.values()))
            if what in fast_s and st.fast:
                fast_s[what] += CYCLE_S
            if done is not None and done():
                return

    requests.post(f"{base}/_control", json={"mode": "healthy"}, timeout=5)
    try:
        for i in range(learn):    # the baseline: one probe per simulated second
            step(float(i))
        an._last = {k: clock["t"] - 2e9 for k in (an._last or {})}     # the cadence learns the baseline once
        step(clock["t"] + 1.0)
        store.upsert_endpoint(url, interval_s=INTERVAL_S)             # from here on the default interval
        n0 = store.count_samples(url)
        run_for(healthy_s, "healthy")
        healthy_n = store.count_samples(url) - n0
        switch, t_switch = store.count_samples(url), clock["t"]
        requests.post(f"{base}/_control", json={"mode": mode}, timeout=5)
        run_for(fail_s, "fail", lambda: bool(list_incidents(store, status="open")))
        if list_incidents(store, status="open"):
            opened, opened_s = store.count_samples(url) - switch, clock["t"] - t_switch
        run_for(max(0.0, fail_s - (clock["t"] - t_switch)), "fail")
        fail_n = store.count_samples(url) - switch
        requests.post(f"{base}/_control", json={"mode": "healthy"}, timeout=5)
        heal, t_heal = store.count_samples(url), clock["t"]
        run_for(heal_s, "heal", lambda: bool(list_incidents(store, status="resolved")))
        if list_incidents(store, status="resolved"):
            resolved, resolved_s = store.count_samples(url) - heal, clock["t"] - t_heal
        fail = fail_n
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
    # the bounds are for the correctness signal: a mode that does not raise wrong answers (latency, errors) has none
    kl1, kl0 = (bernoulli_kl(p1, p0), bernoulli_kl(p0, p1)) if p1 > p0 else (0.0, 0.0)
    budget = settings.false_alarm_every
    bound = math.log(budget * n_sig) / kl1 if kl1 > 0 else math.inf
    rec_bound = math.log(budget / RECOVERY_SHARE) / kl0 if kl0 > 0 else math.inf
    alarm = None
    if incs and incs[0].change_point_at in ts and incs[0].detection_delay_samples:
        alarm = ts.index(incs[0].change_point_at) + incs[0].detection_delay_samples - switch
    return {"incidents": len(incs), "alarm": alarm, "opened": opened, "resolved": resolved,
            "opened_s": opened_s, "resolved_s": resolved_s, "healthy_fast_share": round(fast_s["healthy"] / healthy_s, 3),
            "healthy_samples": healthy_n, "fast_probes": sched.fast_probes,
            "wrong_before": round(p0, 3), "wrong_after": round(p1, 3), "bound": round(bound, 1),
            "recovery_bound": round(rec_bound, 1),
            "root_cause": incs[0].root_cause if incs else None,
            "all": [(i.root_cause, i.status, i.outcome) for i in incs]}


def _fmt(xs: list[float | None], unit: str = "samples") -> str:
    got = [float(x) for x in xs if x is not None]
    if not got:
        return "-"
    med = statistics.median(got)
    miss = len(xs) - len(got)
    return (f"{med:.1f} {unit} (range {min(got):.1f}-{max(got):.1f})" + (f", {miss} never" if miss else ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--mode", default="degraded_accuracy", help="the demo failure mode to switch to")
    ap.add_argument("--learn", type=int, default=150, help="baseline samples (one per simulated second)")
    ap.add_argument("--healthy", type=float, default=300.0, help="healthy seconds at the default interval")
    ap.add_argument("--fail", type=float, default=120.0, help="seconds of the failure mode")
    ap.add_argument("--heal", type=float, default=300.0, help="at most this many healthy seconds after it")
    ap.add_argument("--out", default=None, help="default bench/results/sequential_demo_<mode>.md")
    a = ap.parse_args()
    out = a.out or str(REPO / "bench" / "results" / f"sequential_demo_{a.mode}.md")
    t0, c0 = time.time(), time.process_time()
    proc, base = _server()
    runs = []
    try:
        for r in range(a.reps):
            runs.append(one_run(base, a.learn, a.fail, a.heal, r, a.mode, a.healthy))
            print(f"rep {r}: {runs[-1]}", flush=True)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
    fast = Settings(_env_file=None).fast_interval_s  # type: ignore[call-arg]
    change = ", ".join(f"{r['wrong_before']:.0%} -> {r['wrong_after']:.0%}" for r in runs)
    lines = [f"# Demo model over HTTP, `{a.mode}`: time to open and resolve one incident (watcher path, VSI)", "",
             (f"Command: `PYTHONPATH=. .venv/bin/python bench/sequential/bench_demo.py --reps {a.reps} --mode {a.mode} "
              f"--healthy {a.healthy:g} --fail {a.fail:g} --heal {a.heal:g}` ({a.learn} baseline samples) · "
              f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} · {(time.time() - t0) / 60:.1f} min wall, "
              f"{time.process_time() - c0:.0f} s CPU in the bench process."), "",
             (f"The watcher's Scheduler and Analyzer run on a simulated clock stepped by the loop's {CYCLE_S:g} s "
              f"cycle, the probes are real HTTP requests to `mlfi serve-demo-model`: the endpoint is probed at the "
              f"default {INTERVAL_S:g} s interval, at {fast:g} s (`MLFI_FAST_INTERVAL_S`) while a CUSUM statistic is "
              f"at half its threshold or an incident is open. Seconds are simulated seconds from the switch. "
              f"The goal: opened within 60 s, resolved within 60 s."), "",
             "| what | median (range) |", "|---|---|",
             f"| sequential alarm, after the switch | {_fmt([r['alarm'] for r in runs])} |",
             (f"| incident opened, after the switch | {_fmt([r['opened'] for r in runs])}; "
              f"{_fmt([r['opened_s'] for r in runs], 's')} |"),
             (f"| incident resolved, after the healing | {_fmt([r['resolved'] for r in runs])}; "
              f"{_fmt([r['resolved_s'] for r in runs], 's')} |"),
             f"| healthy time in the fast mode ({a.healthy:g} s per run) | {[r['healthy_fast_share'] for r in runs]} |",
             f"| wrong answers before -> during the failure, per run | {change} |",
             f"| CUSUM bound of that change, ln(5 x budget) / KL(f1, f0), per run | {[r['bound'] for r in runs]} |",
             f"| recovery bound, ln(budget / 10) / KL(f0, f1), per run | {[r['recovery_bound'] for r in runs]} |",
             f"| incidents per run (goal 1) | {[r['incidents'] for r in runs]} |",
             f"| root cause of the first incident | {[r['root_cause'] for r in runs]} |",
             f"| every incident (root cause, status, outcome) | {[r['all'] for r in runs]} |", ""]
    Path(out).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
