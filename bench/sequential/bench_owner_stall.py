"""The watcher's owner thread while it starts with many endpoints that already have baselines.

``mlfi watch`` (``app.watcher.loop.main``, in this process, on SQLite) starts with ``--endpoints`` endpoints,
each with its own 150-sample baseline (distinct statistics: the detector memo cannot serve them) and probed every
``--interval`` s by an in-process fake probe that answers from the same healthy law (no HTTP: what is measured
is the owner thread, not a model server). Each endpoint's first sample needs its ``SequentialMonitor``.

Measured on the owner thread, from wrappers around ``Scheduler.cycle`` / ``Scheduler.tick`` (the loop's two
steps): the longest and 99th-percentile ``cycle`` (refresh, collect, write the batch, feed the sequential
monitors), the longest gap between two owner steps (the loop waits at most 0.25 s between them: more is a
stall), the share of probes started on time (the watcher's own count), the time from the first stored sample
until every endpoint has its monitor, and the samples queued meanwhile.

``--builds inline`` is the code path before monitors were built off the owner thread (built on it, at the
first sample); ``thread`` is the live watcher now. ``--builds both`` runs each in its own process (a fresh
memo each) and writes ``--out``.

    PYTHONPATH=. .venv/bin/python bench/sequential/bench_owner_stall.py --builds both --endpoints 30
"""

from __future__ import annotations

import argparse
import functools
import inspect
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import numpy as np


def _law(i: int) -> dict[str, float]:
    """Endpoint ``i``'s healthy law: its own class share, accuracy, confidence and latency (distinct baselines)."""
    r = np.random.default_rng(1000 + i)
    return {"share": float(r.uniform(0.3, 0.7)), "acc": float(r.uniform(0.9, 0.99)),
            "conf": float(r.uniform(4.0, 9.0)), "lat": float(r.uniform(1.0, 3.0))}


def _sample(name: str, law: dict[str, float], rng: np.random.Generator, row: dict[str, Any] | None = None) -> Any:
    from app.schemas import Sample

    pred = "1" if rng.random() < law["share"] else "0"
    label = pred if rng.random() < law["acc"] else ("0" if pred == "1" else "1")
    return Sample(endpoint=name, ts=time.time(), inputs=row or {"a": float(rng.normal()), "b": float(rng.normal())},
                  label=label, prediction=pred, confidence=float(rng.beta(law["conf"], 1.0)),
                  latency_ms=float(rng.lognormal(law["lat"], 0.3)))


class _Probe:
    """The fake probe: a few ms of I/O, then a healthy answer from the endpoint's law."""

    def __init__(self, laws: dict[str, dict[str, float]]) -> None:
        self.laws, self.lock = laws, threading.Lock()
        self.rng = np.random.default_rng(7)

    def __call__(self, target: Any, row: dict[str, Any], label: Any, session: Any) -> Any:
        time.sleep(0.005)
        with self.lock:
            return _sample(target.name, self.laws[target.name], self.rng, row)


def _run(builds: str, n_endpoints: int, interval: float, seconds: float) -> dict[str, Any]:
    from app.config import Settings
    from app.detection.baseline import learn_baseline
    from app.storage import Store
    from app.storage.baselines import save_baseline
    from app.watcher import loop
    from app.watcher.scheduler import Scheduler

    home = Path(tempfile.mkdtemp(prefix="mlfi-stall-"))
    settings = Settings(home=home, analysis_every_s=3600.0, _env_file=None)  # type: ignore[call-arg]
    store = Store.from_settings(settings)
    probes = home / "probes.csv"
    probes.write_text("a,b,target\n" + "\n".join(f"{i},{i * 2},{i % 2}" for i in range(50)) + "\n")
    laws = {}
    for i in range(n_endpoints):
        name = f"ep{i:03d}"
        laws[name] = _law(i)
        store.upsert_endpoint(name, url=f"http://127.0.0.1:9/{name}", protocol="generic", probe_set=str(probes),
                              label_column="target", interval_s=interval)
        rng = np.random.default_rng(i)
        save_baseline(settings, store, learn_baseline(name, [_sample(name, laws[name], rng) for _ in range(150)]))
    store.dispose()

    cycles: list[float] = []
    at: list[float] = []
    starts: list[float] = []
    seen: dict[str, Any] = {"sched": None, "first_sample": None, "half_built": None, "all_built": None, "queued_max": 0}

    def timed(fn: Any, is_cycle: bool) -> Any:
        @functools.wraps(fn)
        def wrapper(self: Scheduler, *a: Any, **k: Any) -> Any:
            t0 = time.perf_counter()
            starts.append(t0)
            try:
                return fn(self, *a, **k)
            finally:
                t1 = time.perf_counter()
                if is_cycle:
                    cycles.append(t1 - t0)
                    at.append(t0)
                    seen["sched"] = self
                    w = self.sequential
                    if seen["first_sample"] is None and (w.monitors or getattr(w, "_pending", None)):
                        seen["first_sample"] = t0
                    queued = sum(len(p.samples) for p in getattr(w, "_pending", {}).values())
                    seen["queued_max"] = max(seen["queued_max"], queued)
                    if seen["half_built"] is None and 2 * len(w.monitors) >= n_endpoints:
                        seen["half_built"] = t1
                    if seen["all_built"] is None and len(w.monitors) == n_endpoints:
                        seen["all_built"] = t1
        return wrapper

    close = Scheduler.close

    def timed_close(self: Scheduler, **k: Any) -> Any:
        t0 = time.perf_counter()
        seen["building_at_close"] = getattr(self.sequential, "building", None)
        try:
            return close(self, **k)
        finally:
            seen["close_s"] = time.perf_counter() - t0

    Scheduler.close = timed_close                            # type: ignore[method-assign]
    Scheduler.cycle = timed(Scheduler.cycle, True)           # type: ignore[method-assign]
    Scheduler.tick = timed(Scheduler.tick, False)            # type: ignore[method-assign]
    if builds == "inline":                                   # the code path before: built on the owner thread
        def inline(*a: Any, **k: Any) -> Scheduler:     # (a source tree from before the builder: no keyword)
            if "monitor_builds" in inspect.signature(Scheduler).parameters:
                k = {**k, "monitor_builds": "inline"}
            return Scheduler(*a, **k)

        loop.Scheduler = inline                              # type: ignore[misc,assignment]
    cpu0 = time.process_time()
    totals = loop.main(settings, probe_fn=_Probe(laws), max_runtime_s=seconds)
    gaps = np.diff(np.array(starts))
    snap = totals.snapshot()
    first, done = seen["first_sample"], seen["all_built"]
    return {"builds": builds, "endpoints": n_endpoints, "interval_s": interval, "seconds": seconds,
            "cycles": len(cycles), "cycle_max_s": float(max(cycles)), "first_cycle_s": float(cycles[0]),
            "cycle_max_after_first_s": float(max(cycles[1:], default=0.0)), "cycle_p99_s": float(np.quantile(cycles, 0.99)),
            "cycle_median_s": float(np.median(cycles)), "gap_max_s": float(gaps.max()) if len(gaps) else 0.0,
            "steps_over_0_5_s": int((gaps > 0.5).sum()), "on_time_ratio": snap.get("on_time_ratio"),
            "probes_completed": snap.get("probes_completed"),
            "monitors": len(seen["sched"].sequential.monitors) if seen["sched"] else 0,
            "all_built_after_s": None if first is None or done is None else done - first,
            "half_built_after_s": None if first is None or seen["half_built"] is None else seen["half_built"] - first,
            "queued_max": seen["queued_max"], "close_s": seen.get("close_s"),
            "building_at_close": seen.get("building_at_close"), "process_cpu_s": time.process_time() - cpu0,
            "load": os.getloadavg(),
            "worst_cycles": sorted(((round(c, 3), round(t - starts[0], 2)) for c, t in zip(cycles, at)), reverse=True)[:5]}


def _table(runs: list[dict[str, Any]]) -> str:
    rows = [("first owner `cycle` (start-up: first reads and writes)", lambda r: f"{r['first_cycle_s']:.3f} s"),
            ("**longest owner `cycle` after the first**", lambda r: f"**{r['cycle_max_after_first_s']:.3f} s**"),
            ("99th percentile `cycle`", lambda r: f"{r['cycle_p99_s']:.3f} s"),
            ("median `cycle`", lambda r: f"{r['cycle_median_s'] * 1000:.1f} ms"),
            ("longest gap between two owner steps", lambda r: f"{r['gap_max_s']:.3f} s"),
            ("owner steps more than 0.5 s apart", lambda r: str(r["steps_over_0_5_s"])),
            ("probes on time (watcher's count)", lambda r: str(r["on_time_ratio"])),
            ("probes completed", lambda r: str(r["probes_completed"])),
            ("monitors built / endpoints", lambda r: f"{r['monitors']} / {r['endpoints']}"),
            ("first sample -> half / every monitor built (- : not within the run)",
             lambda r: " / ".join("-" if r[k] is None else f"{r[k]:.1f} s"
                                  for k in ("half_built_after_s", "all_built_after_s"))),
            ("most samples queued at once", lambda r: str(r["queued_max"])),
            ("`Scheduler.close` at the end (a build still running?)",
             lambda r: f"{r['close_s']:.2f} s ({ {True: 'yes', False: 'no', None: 'n/a'}[r['building_at_close']]})"),
            ("process CPU", lambda r: f"{r['process_cpu_s']:.1f} s"),
            ("load average (1/5/15 min) at the end", lambda r: " / ".join(f"{x:.1f}" for x in r["load"]))]
    head = "| | " + " | ".join(r.get("label", r["builds"]) for r in runs) + " |"
    out = [head, "|---|" + "---|" * len(runs)]
    out += [f"| {name} | " + " | ".join(f(r) for r in runs) + " |" for name, f in rows]
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--builds", choices=("inline", "thread", "both"), default="both")
    ap.add_argument("--endpoints", type=int, default=30)
    ap.add_argument("--interval", type=float, default=5.0)
    ap.add_argument("--seconds", type=float, default=90.0)
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "sequential_owner_stall.md"))
    ap.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--label", default=None, help="name of the run in the table (default: the build mode)")
    ap.add_argument("--before-source", default=None,
                    help="also run an exported older tree first (git archive REV app bench/sequential/streams.py, "
                         "plus this script)")
    ap.add_argument("--before-label", default="before (older source)")
    a = ap.parse_args()
    if a.builds != "both":
        res = _run(a.builds, a.endpoints, a.interval, a.seconds)
        res["label"] = a.label or f"builds `{a.builds}`"
        print(json.dumps(res) if a.json else _table([res]))
        return
    plan = [("inline", REPO, "builds `inline`"), ("thread", REPO, "builds `thread`")]
    if a.before_source:     # an exported older tree (git archive REV app bench/sequential/streams.py) with this script
        plan.insert(0, ("inline", Path(a.before_source), a.before_label))
    runs = []
    for mode, src, label in plan:
        up = os.getloadavg()
        cp = subprocess.run([sys.executable, str(src / "bench" / "sequential" / Path(__file__).name), "--builds", mode,
                             "--endpoints", str(a.endpoints), "--interval", str(a.interval), "--seconds",
                             str(a.seconds), "--json"],
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(src)}, check=False)
        if cp.returncode != 0:
            raise SystemExit(f"{label} run failed: "
                             f"{cp.stderr.strip().splitlines()[-1] if cp.stderr.strip() else cp.returncode}")
        r = json.loads(cp.stdout.strip().splitlines()[-1])
        r["load_before"], r["label"] = up, label
        runs.append(r)
    sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                         check=False).stdout.strip()
    text = (f"# Watcher owner thread at start: {a.endpoints} endpoints with baselines, every {a.interval:g} s, "
            f"{a.seconds:g} s\n\n"
            f"Command: `PYTHONPATH=. .venv/bin/python bench/sequential/bench_owner_stall.py --builds both "
            f"--endpoints {a.endpoints} --interval {a.interval:g} --seconds {a.seconds:g}"
            + (f" --before-source {a.before_source} --before-label '{a.before_label}'" if a.before_source else "")
            + f"` (source `{sha}`, "
            f"{os.cpu_count()} cores shared; load before each run: "
            + ", ".join(f"{r['label']} {r['load_before'][0]:.1f}" for r in runs) + ").\n\n"
            "`inline`: monitors built on the owner thread at each endpoint's first sample (the code before); "
            "`thread`: built on the watcher's builder thread, samples queued meanwhile (now).\n\n"
            + _table(runs) + "\n")
    Path(a.out).write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
