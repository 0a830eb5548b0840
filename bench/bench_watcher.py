"""Watcher benchmark: N endpoints at a fixed interval for D seconds on 2 cores, then kill -9 and restart.

Measures (written to bench/results/watcher.md and printed):
- schedule: probes expected vs started on time (<= TOLERANCE after their slot), from two independent
  views: the watcher's own lateness histogram (start - due) and the sample timestamps in the database
  (each endpoint's fixed-rate grid reconstructed from its samples);
- memory: RSS of the watcher process every 10 s (start / end / max);
- durability: committed samples counted through a separate connection right before and right after
  `kill -9`, a restart, then every one of them still present byte-for-byte and `PRAGMA integrity_check`;
- the analysis running alongside (baselines learned, reports, alerts) and the CPU used.

Everything runs in one process tree: this script, the demo model servers and the watcher.

    .venv/bin/python bench/bench_watcher.py                # 100 endpoints, 1 s, 120 s (+ ~40 s set-up/restart)
    .venv/bin/python bench/bench_watcher.py --quick        # 20 endpoints, 20 s smoke run
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TOLERANCE_S = 0.25   # a probe is on schedule when it started at most 250 ms after its slot


# ---- process helpers -------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(cond: Any, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for {what}")


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def children_of(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(d.name))
            except (OSError, IndexError, ValueError):
                continue
    return out


def tree_rss_mb(pid: int) -> tuple[float, float]:
    """(RSS of the process, RSS of its children: the analysis process) in MB."""
    kids = 0.0
    for c in children_of(pid):
        try:
            kids += rss_mb(c)
        except OSError:
            pass
    return rss_mb(pid), kids


def cpu_s(pid: int) -> float:
    """utime + stime of a process, seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def db_snapshot(db: str) -> dict[str, Any]:
    """Committed samples seen through a fresh connection: count, max id, and a digest per row."""
    con = sqlite3.connect(db, timeout=30)
    try:
        rows = con.execute("SELECT id, endpoint_id, ts, prediction, confidence, error_kind FROM samples").fetchall()
    finally:
        con.close()
    digest = {r[0]: hashlib.sha1(repr(r).encode()).hexdigest() for r in rows}
    return {"count": len(rows), "max_id": max(digest, default=0), "rows": digest}


def watcher_stats(db: str) -> dict[str, Any]:
    con = sqlite3.connect(db, timeout=30)
    try:
        raw = con.execute("SELECT value FROM meta WHERE key = 'watcher_stats'").fetchone()
    finally:
        con.close()
    return json.loads(raw[0]) if raw else {}


# ---- schedule measured from the database -----------------------------------------------------------
def schedule_from_db(db: str, t0: float, t1: float, interval: float, endpoint_ids: set[int]) -> dict[str, Any]:
    """Expected slots vs slots with a probe started on time, per endpoint grid reconstructed from its samples.

    Each endpoint runs on a fixed-rate grid (slot k at phase + k * interval). Its phase is estimated as the
    10th percentile of the sample offsets (ts mod interval, taken around the median sample): most probes
    start within milliseconds of their slot, so this sits on the grid, and a few very late probes cannot
    drag it. Lateness is then read in [-0.1, 0.9) intervals from the grid (slightly negative = on time). A
    slot counts as on time when a sample's start falls within [slot, slot + TOLERANCE_S].
    """
    con = sqlite3.connect(db, timeout=30)
    try:
        rows = con.execute("SELECT endpoint_id, ts FROM samples WHERE ts >= ? AND ts < ? AND source = 'probe'",
                           (t0 - interval, t1 + interval)).fetchall()
    finally:
        con.close()
    by_ep: dict[int, list[float]] = {}
    for eid, ts in rows:
        if eid in endpoint_ids:
            by_ep.setdefault(eid, []).append(ts)
    expected = (len(endpoint_ids) - len(by_ep)) * round((t1 - t0) / interval)   # endpoints never probed
    on_time = done = 0
    late: list[float] = []
    for ts_list in by_ep.values():
        ref = sorted(ts_list)[len(ts_list) // 2]
        offs = sorted(((t - ref + interval / 2) % interval) - interval / 2 for t in ts_list)   # in [-i/2, i/2)
        phase = offs[len(offs) // 10]
        grid0 = ref + phase
        expected += math.ceil((t1 - grid0) / interval) - math.ceil((t0 - grid0) / interval)   # slots in [t0, t1)
        slots: dict[int, float] = {}
        for t in ts_list:
            lat = ((t - ref - phase + 0.1 * interval) % interval) - 0.1 * interval
            k = round((t - ref - phase - lat) / interval)
            slot_t = ref + phase + k * interval
            if not (t0 <= slot_t < t1):
                continue
            slots[k] = min(max(lat, 0.0), slots.get(k, math.inf))
        done += len(slots)
        on_time += sum(1 for v in slots.values() if v <= TOLERANCE_S)
        late.extend(slots.values())
    late.sort()
    q = (lambda p: round(late[min(len(late) - 1, int(p * len(late)))], 4)) if late else (lambda p: None)
    return {"expected": expected, "slots_probed": done, "on_time": on_time,
            "on_time_ratio": round(on_time / expected, 4) if expected else None,
            "lateness_p50_s": q(0.5), "lateness_p99_s": q(0.99), "lateness_max_s": round(late[-1], 4) if late else None}


def blackhole() -> int:
    """A port that accepts connections and never answers (the worst endpoint: every probe times out)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1024)
    held: list[socket.socket] = []

    def loop() -> None:
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            held.append(conn)
            if len(held) > 500:
                held.pop(0).close()

    threading.Thread(target=loop, daemon=True).start()
    return int(srv.getsockname()[1])


# ---- the run -----------------------------------------------------------------------------------------
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--endpoints", type=int, default=100)
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--duration", type=float, default=120.0, help="measured seconds")
    ap.add_argument("--servers", type=int, default=2, help="demo model servers sharing the endpoints")
    ap.add_argument("--restart-s", type=float, default=20.0, help="seconds to run after the kill -9 restart")
    ap.add_argument("--window", type=int, default=40, help="MLFI_WINDOW_SIZE (rolling analysis window)")
    ap.add_argument("--analysis-every", type=float, default=30.0)
    ap.add_argument("--faulty", type=int, default=0,
                    help="extra endpoints that hang (accept, never answer), refuse connections, or fail half the "
                         "time with HTTP 500; the schedule is measured on the healthy endpoints")
    ap.add_argument("--quick", action="store_true", help="20 endpoints, 20 s: a smoke run")
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "watcher.md"))
    args = ap.parse_args()
    if args.quick:
        args.endpoints, args.duration, args.restart_s = 20, 20.0, 8.0

    cores = os.cpu_count() or 1
    if cores > 2 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[:2]))   # children inherit: 2 cores
    used_cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores

    home = Path(tempfile.mkdtemp(prefix="mlfi-bench-watcher-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFI_")}
    env.update(MLFI_HOME=str(home), MLFI_WINDOW_SIZE=str(args.window), MLFI_ANALYSIS_EVERY_S=str(args.analysis_every),
               MLFI_PROBE_TIMEOUT_S="2", MLFI_HEARTBEAT_EVERY_S="2", MLFI_LOG_LEVEL="INFO",
               PYTHONPATH=str(REPO))
    os.environ.update({k: v for k, v in env.items() if k.startswith("MLFI_")})
    procs: list[subprocess.Popen[bytes]] = []
    log_dir = home / "bench-logs"
    log_dir.mkdir(parents=True)

    def spawn(name: str, *cmd: str) -> subprocess.Popen[bytes]:
        with open(log_dir / f"{name}.log", "ab") as out:   # the child keeps its own copy of the descriptor
            p = subprocess.Popen([sys.executable, "-m", "app", *cmd], cwd=REPO, env=env, stdout=out,
                                 stderr=subprocess.STDOUT)
        procs.append(p)
        return p

    try:
        ports = [free_port() for _ in range(args.servers)]
        servers = [spawn(f"demo{i}", "serve-demo-model", "--port", str(p)) for i, p in enumerate(ports)]
        faulty_urls: list[str] = []
        if args.faulty:
            err_port, hang = free_port(), blackhole()
            servers.append(spawn("demo-errors", "serve-demo-model", "--port", str(err_port), "--mode", "errors"))
            ports_to_wait = [*ports, err_port]
            kinds = [f"http://127.0.0.1:{hang}/predict/hang", f"http://127.0.0.1:{free_port()}/predict/refused",
                     f"http://127.0.0.1:{err_port}/predict/http500"]
            faulty_urls = [f"{kinds[i % 3]}{i:03d}" for i in range(args.faulty)]
        else:
            ports_to_wait = list(ports)
        for p in ports_to_wait:
            wait_for(lambda p=p: http_ok(f"http://127.0.0.1:{p}/health"), 60, f"demo model on port {p}")

        from app.config import Settings
        from app.storage import Store

        settings = Settings()
        store = Store.from_settings(settings)
        for i in range(args.endpoints):
            url = f"http://127.0.0.1:{ports[i % len(ports)]}/predict/ep{i:03d}"
            store.upsert_endpoint(url, url=url, protocol="generic", interval_s=args.interval, enabled=True)
        healthy_ids = {int(e["id"]) for e in store.list_endpoints()}
        for url in faulty_urls:
            store.upsert_endpoint(url, url=url, protocol="generic", interval_s=args.interval, enabled=True)
        store.dispose()
        db = str(settings.data_dir / "mlfi.db")

        watcher = spawn("watcher", "watch")
        wait_for(lambda: watcher_stats(db).get("pid") == watcher.pid, 60, "the watcher's first heartbeat")
        warmup = max(5.0, 3 * args.interval)
        time.sleep(warmup)
        t0 = time.time()
        s0 = watcher_stats(db)
        def cpu_now() -> dict[str, float]:
            return {"watcher": cpu_s(watcher.pid), "analysis": sum(cpu_s(c) for c in children_of(watcher.pid)),
                    **{f"demo{i}": cpu_s(p.pid) for i, p in enumerate(servers)}}

        cpu0, load0 = cpu_now(), os.getloadavg()
        rss: list[tuple[float, float, float]] = [(0.0, *tree_rss_mb(watcher.pid))]
        print(f"[bench] {args.endpoints} endpoints every {args.interval:g} s, measuring {args.duration:g} s "
              f"(state {home})", flush=True)
        next_rss = t0 + 10.0
        while time.time() < t0 + args.duration:
            time.sleep(max(0.0, min(next_rss, t0 + args.duration) - time.time()))
            if time.time() >= next_rss - 1e-3:
                rss.append((round(time.time() - t0, 1), *tree_rss_mb(watcher.pid)))
                print(f"[bench] t={rss[-1][0]:>5.0f} s  RSS watcher {rss[-1][1]:.1f} MB, analysis process "
                      f"{rss[-1][2]:.1f} MB", flush=True)
                next_rss += 10.0
        t1 = time.time()
        if t1 - t0 - rss[-1][0] > 1.0:
            rss.append((round(t1 - t0, 1), *tree_rss_mb(watcher.pid)))
        cpu1, load1 = cpu_now(), os.getloadavg()
        time.sleep(2.5)                           # let one more heartbeat publish the totals
        s1 = watcher_stats(db)
        sched_db = schedule_from_db(db, t0, t1, args.interval, healthy_ids)

        # ---- kill -9 in full flight, restart, verify ----------------------------------------------------
        kids = children_of(watcher.pid)
        before = db_snapshot(db)
        watcher.send_signal(signal.SIGKILL)
        watcher.wait()
        after_kill = db_snapshot(db)
        end = time.monotonic() + 10
        while time.monotonic() < end and any(Path(f"/proc/{k}").exists() for k in kids):
            time.sleep(0.2)
        orphans = [k for k in kids if Path(f"/proc/{k}").exists()
                   and "Z" not in Path(f"/proc/{k}/stat").read_text().rsplit(")", 1)[1].split()[0]]
        restarted = spawn("watcher-restart", "watch")
        wait_for(lambda: watcher_stats(db).get("pid") == restarted.pid, 60, "the restarted watcher's heartbeat")
        time.sleep(args.restart_s)
        restarted.send_signal(signal.SIGTERM)
        rc = restarted.wait(timeout=60)
        final = db_snapshot(db)
        lost_before = [i for i, h in before["rows"].items() if final["rows"].get(i) != h]
        lost_after_kill = [i for i, h in after_kill["rows"].items() if final["rows"].get(i) != h]
        con = sqlite3.connect(db)
        integrity = con.execute("PRAGMA integrity_check").fetchone()[0]
        status = con.execute("SELECT status FROM watcher WHERE id = 1").fetchone()[0]
        n_reports = con.execute("SELECT COUNT(*) FROM reports").fetchone()[0]
        n_alerts = con.execute("SELECT COUNT(*) FROM reports WHERE alert").fetchone()[0]
        causes = dict(con.execute("SELECT root_cause, COUNT(*) FROM reports GROUP BY root_cause").fetchall())
        n_baselines = con.execute("SELECT COUNT(DISTINCT endpoint_id) FROM baselines").fetchone()[0]
        con.close()
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()

    internal = {k: s1.get(k, 0) - s0.get(k, 0) for k in ("probes_started", "started_on_time", "samples_written",
                                                         "skipped_busy", "probes_completed")}
    expected = sched_db["expected"]
    errs = {k: v - s0.get("errors", {}).get(k, 0) for k, v in s1.get("errors", {}).items()}
    rss_vals = [v for _, v, _ in rss]
    kid_vals = [k for _, _, k in rss]
    res = {
        "config": {"endpoints": args.endpoints, "faulty": args.faulty, "interval_s": args.interval, "duration_s": round(t1 - t0, 1),
                   "servers": args.servers, "tolerance_s": TOLERANCE_S, "window_size": args.window,
                   "analysis_every_s": args.analysis_every, "concurrency": settings.watch_concurrency,
                   "cores": used_cores, "cpu_model": platform.processor() or platform.machine(),
                   "python": platform.python_version()},
        "schedule_db": sched_db,
        "schedule_internal": {**internal, "expected": expected,
                              "on_time_of_started": (round(internal["started_on_time"] / internal["probes_started"], 4)
                                                     if internal["probes_started"] else None),
                              "lateness_p50_s": s1.get("lateness_p50_s"), "lateness_p99_s": s1.get("lateness_p99_s"),
                              "errors": errs},
        "rss_mb": {"start": round(rss_vals[0], 1), "end": round(rss_vals[-1], 1), "max": round(max(rss_vals), 1),
                   "series": [f"{t:g}s:{v:.1f}" for t, v, _ in rss],
                   "analysis_process": {"start": round(kid_vals[0], 1), "end": round(kid_vals[-1], 1),
                                        "max": round(max(kid_vals), 1),
                                        "series": [f"{t:g}s:{k:.1f}" for t, _, k in rss]}},
        "load_average_1m": {"start": round(load0[0], 2), "end": round(load1[0], 2)},
        "cpu_s": {k: round(cpu1[k] - cpu0[k], 1) for k in cpu0},
        "durability": {"committed_before_kill": before["count"], "committed_after_kill": after_kill["count"],
                       "final_count": final["count"], "lost_of_before": len(lost_before),
                       "lost_of_after_kill": len(lost_after_kill), "integrity_check": integrity,
                       "restart_exit_code": rc, "final_status": status,
                       "orphans_after_kill": len(orphans)},
        "analysis": {"baselines": n_baselines, "reports": n_reports, "alerts": n_alerts, "root_causes": causes},
    }
    cpu_total = sum(res["cpu_s"].values())
    res["cpu_share_of_2_cores"] = round(cpu_total / (2 * (t1 - t0)), 3)
    ok = ((sched_db["on_time_ratio"] or 0) >= 0.95 and not lost_before and not lost_after_kill and integrity == "ok"
          and not orphans and rc == 0)
    res["pass"] = ok
    md = render(res, " ".join(sys.argv[1:]))
    print(md)
    if not args.quick:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(md)
        print(f"[bench] written to {args.out}")
    return 0 if ok else 1


def render(r: dict[str, Any], argv: str) -> str:
    c, sd, si, m, d, a = r["config"], r["schedule_db"], r["schedule_internal"], r["rss_mb"], r["durability"], r["analysis"]
    pct = lambda x: "n/a" if x is None else f"{100 * x:.2f} %"
    faulty = (f", plus {c['faulty']} faulty endpoints at the same interval (a third hang: accept and never "
              "answer, so every probe waits out the 2 s timeout; a third refuse connections; a third get HTTP 500 "
              "half the time); the schedule below is measured on the healthy ones") if c.get("faulty") else ""
    return f"""# Watcher benchmark

Command: `.venv/bin/python bench/bench_watcher.py{(' ' + argv) if argv else ''}` (one process tree: this script,
{c['servers']} demo model servers `python -m app serve-demo-model`, and `python -m app watch`).
Machine: {c['cores']} cores ({c['cpu_model']}), Python {c['python']}. Verdict: **{'PASS' if r['pass'] else 'FAIL'}**.

{c['endpoints']} endpoints (`/predict/epNNN`, generic protocol, demo probe set) at {c['interval_s']:g} s each{faulty},
measured for {c['duration_s']:g} s after a short warm-up; {c['concurrency']} probe workers; the analysis runs alongside
(window {c['window_size']} samples, every {c['analysis_every_s']:g} s per endpoint; the window is smaller than the
default 150 so that baselines are learned and reports produced within the 2-minute run).

## Schedule (on time = probe started <= {int(c['tolerance_s'] * 1000)} ms after its slot)

| view | expected | started on time | ratio | lateness p50 | p99 |
|---|---:|---:|---:|---:|---:|
| sample timestamps in the DB (grid per endpoint) | {sd['expected']} | {sd['on_time']} | {pct(sd['on_time_ratio'])} | {sd['lateness_p50_s']} s | {sd['lateness_p99_s']} s |
| watcher's own start - due histogram | {si['probes_started']} started | {si['started_on_time']} | {pct(si['on_time_of_started'])} of started | <= {si['lateness_p50_s']} s | <= {si['lateness_p99_s']} s |

Slots probed (any lateness): {sd['slots_probed']} of {sd['expected']}; max lateness {sd["lateness_max_s"]} s;
slots skipped because the previous probe was still running: {si['skipped_busy']}; probe errors: {si['errors'] or 'none'}.
(The histogram view is the difference of two published totals taken on the 2 s heartbeat cadence, so its window
edges differ from the DB view by up to a couple of seconds; its quantiles are 10 ms bucket upper edges.)

## Memory (RSS sampled every 10 s)

| process | start | end | max |
|---|---:|---:|---:|
| watcher (scheduler, probes, writes) | {m['start']} MB | {m['end']} MB | {m['max']} MB |
| its analysis process | {m['analysis_process']['start']} MB | {m['analysis_process']['end']} MB | {m['analysis_process']['max']} MB |

watcher series (time:MB): {', '.join(m['series'])}
analysis process series: {', '.join(m['analysis_process']['series'])}

## CPU over the measured window

{r['cpu_s']} seconds of CPU -> {100 * r['cpu_share_of_2_cores']:.1f} % of 2 cores (watcher, its analysis
process, demo servers). Machine load average (1 min) at start / end of the window: {r['load_average_1m']['start']} /
{r['load_average_1m']['end']} (other jobs on the machine count too).

## kill -9 during the run, then restart

| committed before kill (separate connection) | after kill | lost of those after restart | final samples | integrity_check | restart stop (SIGTERM) | orphans |
|---:|---:|---:|---:|---|---|---:|
| {d['committed_before_kill']} | {d['committed_after_kill']} | {d['lost_of_before']} / {d['lost_of_after_kill']} | {d['final_count']} | {d['integrity_check']} | exit {d['restart_exit_code']}, status `{d['final_status']}` | {d['orphans_after_kill']} |

"Lost" compares every row (id, endpoint, ts, prediction, confidence, error) committed before / right after the kill
with the database after the restart and a clean stop. "Orphans": processes of the killed watcher (its analysis
process) still running 10 s after the kill.

## Analysis alongside

baselines learned automatically: {a['baselines']} endpoints; reports stored: {a['reports']}; alerts: {a['alerts']};
root causes: {a['root_causes']}.

```json
{json.dumps(r, indent=1, default=str)}
```
"""


if __name__ == "__main__":
    sys.exit(main())
