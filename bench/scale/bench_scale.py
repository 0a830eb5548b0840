"""Scale-out benchmark (issue 16): N loopback endpoints at a fixed interval, shared by 1, 2 and 4 watchers on PostgreSQL.

Starts a throwaway PostgreSQL (tests/pg_cluster.py, as the test suite does: fsync off, loopback only) with
pg_stat_statements, one threaded HTTP stub that answers every path, registers the endpoints, and for each
watcher count runs that many `mlfi watch` processes on a fresh database. Once the leases have settled (every
endpoint held, none above ceil(N/W) + 1) and one warm-up interval passed, it measures for ``--duration`` s:

- probes on time: each endpoint's fixed-rate grid rebuilt from its sample timestamps (as bench_watcher.py
  does); a slot is on time when a probe started at most ``--tolerance`` s after it. Slots with two samples
  come from probes more than 0.9 interval late landing in the next slot (with one watcher there is no
  second holder); probes / needed is the rate kept against N x duration / interval;
- probes/s, PostgreSQL statements (pg_stat_statements calls), transactions and rows written per probe;
- CPU (user + system, whole process tree) per watcher, of PostgreSQL and of the stub server (this process),
  each as a share of one core, with the load average before and after.

    .venv/bin/python bench/scale/bench_scale.py                          # 1000 endpoints, 5 s, 60 s x (1, 2, 4)
    .venv/bin/python bench/scale/bench_scale.py --endpoints 100 --duration 15 --watchers 2   # smoke run
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from pg_cluster import PgCluster

TICK = os.sysconf("SC_CLK_TCK")


class _Stub(BaseHTTPRequestHandler):
    """Any path: a 200 with a prediction (the cheapest model there is)."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        raw = b'{"prediction": 1, "confidence": 0.8}'
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args: object) -> None:
        pass


# ---- CPU of process trees (from /proc) -----------------------------------------------------------------
def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, user + system CPU seconds incl. reaped children) of ``pid``."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    f = raw[raw.rindex(")") + 2:].split()
    return int(f[1]), (int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])) / TICK


def tree_cpu(root: int) -> float:
    """CPU seconds of ``root`` and its live descendants (a reaped child's time is in its parent's)."""
    stats = {}
    for d in os.listdir("/proc"):
        if d.isdigit() and (s := _stat(int(d))) is not None:
            stats[int(d)] = s
    keep, frontier = {root}, [root]
    while frontier:
        p = frontier.pop()
        for pid, (ppid, _) in stats.items():
            if ppid == p and pid not in keep:
                keep.add(pid)
                frontier.append(pid)
    return sum(stats[p][1] for p in keep if p in stats)


def self_cpu() -> float:
    r = os.times()
    return r.user + r.system


# ---- the schedule, from the samples ------------------------------------------------------------------
def schedule(by_ep: dict[int, list[float]], n_ep: int, t0: float, t1: float, interval: float,
             tol: float) -> dict[str, Any]:
    """Expected slots, slots probed, on time (<= tol late), probed twice; grid per endpoint from its samples."""
    expected = (n_ep - len(by_ep)) * round((t1 - t0) / interval)
    done = on_time = twice = 0
    late: list[float] = []
    for ts_list in by_ep.values():
        ref = sorted(ts_list)[len(ts_list) // 2]
        offs = sorted(((t - ref + interval / 2) % interval) - interval / 2 for t in ts_list)
        phase = offs[len(offs) // 10]
        grid0 = ref + phase
        expected += math.ceil((t1 - grid0) / interval) - math.ceil((t0 - grid0) / interval)
        slots: dict[int, list[float]] = {}
        for t in ts_list:
            lat = ((t - grid0 + 0.1 * interval) % interval) - 0.1 * interval
            k = round((t - grid0 - lat) / interval)
            if t0 <= grid0 + k * interval < t1:
                slots.setdefault(k, []).append(max(lat, 0.0))
        done += len(slots)
        twice += sum(1 for v in slots.values() if len(v) > 1)
        firsts = [min(v) for v in slots.values()]
        on_time += sum(1 for v in firsts if v <= tol)
        late.extend(firsts)
    late.sort()
    q = (lambda p: round(late[min(len(late) - 1, int(p * len(late)))], 3)) if late else (lambda p: None)
    return {"expected_slots": expected, "slots_probed": done, "on_time": on_time, "slots_with_two_samples": twice,
            "on_time_share": round(on_time / expected, 4) if expected else None,
            "probed_share": round(done / expected, 4) if expected else None,
            "lateness_p50_s": q(0.5), "lateness_p99_s": q(0.99)}


# ---- PostgreSQL counters -----------------------------------------------------------------------------
def _pg(cluster: PgCluster, dbname: str):  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(host="127.0.0.1", port=cluster.port, user="mlfi", password=cluster.password,
                           dbname=dbname, autocommit=True)


def counters(cluster: PgCluster, dbname: str) -> dict[str, float]:
    with _pg(cluster, dbname) as c:
        x, r, ins, upd, dele = c.execute(
            "SELECT xact_commit, xact_rollback, tup_inserted, tup_updated, tup_deleted FROM pg_stat_database "
            "WHERE datname = current_database()").fetchone()
        calls = c.execute("SELECT coalesce(sum(calls), 0) FROM pg_stat_statements s JOIN pg_database d "
                          "ON d.oid = s.dbid WHERE d.datname = current_database()").fetchone()[0]
    return {"xacts": float(x + r), "rows_written": float(ins + upd + dele), "statements": float(calls)}


def top_statements(cluster: PgCluster, dbname: str, n_probes: int, k: int = 8) -> list[dict[str, Any]]:
    """The ``k`` statements writing the most rows since the last reset, per probe (what a probe costs)."""
    with _pg(cluster, dbname) as c:
        rows = c.execute("SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 90), calls, rows "
                         "FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid "
                         "WHERE d.datname = current_database() ORDER BY calls DESC LIMIT %s", (k,)).fetchall()
    return [{"query": q, "calls_per_probe": round(n / max(1, n_probes), 3), "rows_per_probe": round(r / max(1, n_probes), 3)}
            for q, n, r in rows]


def reset_statements(cluster: PgCluster, dbname: str) -> None:
    with _pg(cluster, dbname) as c:
        c.execute("SELECT pg_stat_statements_reset()")


def enable_pg_stat_statements(cluster: PgCluster) -> None:
    with _pg(cluster, "postgres") as c:
        c.execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
    res = cluster._run("pg_ctl", "-D", str(cluster.data), "-l", str(cluster.log), "-w", "-t", "30",
                       "restart")   # the same options as at start
    if res.returncode != 0:
        raise RuntimeError(f"PostgreSQL restart failed: {res.stderr[-500:]}")


def postmaster_pid(cluster: PgCluster) -> int:
    return int((cluster.data / "postmaster.pid").read_text().split()[0])


# ---- one run -----------------------------------------------------------------------------------------
def run(cluster: PgCluster, base: str, n_ep: int, n_w: int, interval: float, duration: float, tol: float,
        tmp: Path) -> dict[str, Any]:
    from sqlalchemy import select

    from app.config import Settings
    from app.storage import Store
    from app.storage import leases as L
    from app.storage import tables as t

    dbname = f"scale_{n_w}w_{int(time.time())}"
    url = cluster.create_database(dbname)
    with _pg(cluster, dbname) as c:
        c.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    settings = Settings(home=tmp / f"setup{n_w}", database_url=url, _env_file=None)  # type: ignore[call-arg]
    settings.ensure_dirs()
    store = Store.from_settings(settings)
    probes = tmp / "probes.csv"
    probes.write_text("a,target\n" + "\n".join(f"{i},{int(i > 5)}" for i in range(12)) + "\n")
    for i in range(n_ep):
        u = f"{base}/m/{i}"
        store.upsert_endpoint(u, url=u, protocol="generic", probe_set=str(probes), label_column="target",
                              interval_s=interval)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFI_")}
    env.update(MLFI_DATABASE_URL=url, MLFI_WINDOW_SIZE="1000", MLFI_ANALYSIS_EVERY_S="600", MLFI_LOG_LEVEL="WARNING")
    procs = [subprocess.Popen([sys.executable, "-m", "app", "watch"], cwd=REPO,
                              env={**env, "MLFI_HOME": str(tmp / f"w{n_w}_{k}")}, stdout=subprocess.DEVNULL,
                              stderr=(tmp / f"w{n_w}_{k}.err").open("w")) for k in range(n_w)]
    out: dict[str, Any] = {"watchers": n_w, "endpoints": n_ep, "interval_s": interval, "duration_s": duration}
    try:
        t_start, cap = time.time(), math.ceil(n_ep / n_w) + 1

        def settled() -> bool:
            live = [r for r in L.list_watchers(store.engine)
                    if r["status"] == "running" and time.time() - r["last_beat"] < 10]
            held = [int(r["endpoints_held"]) for r in live]
            return len(live) == n_w and sum(held) == n_ep and max(held) <= cap
        while not settled():
            if time.time() - t_start > 180:
                raise RuntimeError(f"leases did not settle: {L.list_watchers(store.engine)}")
            time.sleep(0.5)
        out["settled_after_s"] = round(time.time() - t_start, 1)
        time.sleep(2 * interval)                                  # every endpoint's schedule has started
        reset_statements(cluster, dbname)
        c0, cpu0 = counters(cluster, dbname), [tree_cpu(p.pid) for p in procs]
        pg0, me0, load0, t0 = tree_cpu(postmaster_pid(cluster)), self_cpu(), os.getloadavg(), time.time()
        time.sleep(duration)
        t1 = time.time()
        c1, cpu1 = counters(cluster, dbname), [tree_cpu(p.pid) for p in procs]
        pg1, me1, load1 = tree_cpu(postmaster_pid(cluster)), self_cpu(), os.getloadavg()
        held = {int(r["pid"]): int(r["endpoints_held"]) for r in L.list_watchers(store.engine)}
        by_ep: dict[int, list[float]] = {}
        with store.engine.connect() as conn:
            for eid, ts in conn.execute(select(t.samples.c.endpoint_id, t.samples.c.ts).where(
                    t.samples.c.ts >= t0 - interval, t.samples.c.ts < t1 + interval)):
                by_ep.setdefault(int(eid), []).append(float(ts))
        n_probes = sum(1 for v in by_ep.values() for x in v if t0 <= x < t1)
        span = t1 - t0
        out.update(schedule(by_ep, n_ep, t0, t1, interval, tol))
        out.update({
            "probes": n_probes, "probes_per_s": round(n_probes / span, 1),
            "probes_vs_needed": round(n_probes / (n_ep * span / interval), 4),
            "statements_per_probe": round((c1["statements"] - c0["statements"]) / max(1, n_probes), 2),
            "xacts_per_probe": round((c1["xacts"] - c0["xacts"]) / max(1, n_probes), 3),
            "rows_written_per_probe": round((c1["rows_written"] - c0["rows_written"]) / max(1, n_probes), 2),
            "xacts_per_s": round((c1["xacts"] - c0["xacts"]) / span, 1),
            "watcher_cpu_pct_of_core": [round(100 * (b - a) / span, 1) for a, b in zip(cpu0, cpu1, strict=True)],
            "endpoints_held": [held.get(p.pid) for p in procs],
            "postgres_cpu_pct_of_core": round(100 * (pg1 - pg0) / span, 1),
            "stub_cpu_pct_of_core": round(100 * (me1 - me0) / span, 1),
            "loadavg_1m_before_after": [round(load0[0], 2), round(load1[0], 2)]})
        out["top_statements"] = top_statements(cluster, dbname, n_probes)
        out["cpu_ms_per_probe_watchers"] = round(1000 * sum(b - a for a, b in zip(cpu0, cpu1, strict=True))
                                                 / max(1, n_probes), 2)
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(10)
        store.dispose()
    return out


class _StubServer(ThreadingHTTPServer):
    request_queue_size = 256     # Python's default listen backlog is 5: dropped SYNs stall probes 1-3 s
    daemon_threads = True


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--endpoints", type=int, default=1000)
    ap.add_argument("--interval", type=float, default=5.0)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--watchers", default="1,2,4", help="comma-separated watcher counts, one run each")
    ap.add_argument("--tolerance", type=float, default=0.25, help="a probe is on time at most this late (s)")
    ap.add_argument("--json", type=Path, help="also write the results here")
    a = ap.parse_args()
    try:
        counts = [int(x) for x in a.watchers.split(",") if x.strip()]
    except ValueError:
        print(f"--watchers must be comma-separated whole numbers, got {a.watchers!r}", file=sys.stderr)
        return 2
    if not counts or min(counts) < 1 or a.endpoints < 1 or a.interval <= 0 or a.duration <= 0:
        print("--watchers, --endpoints, --interval and --duration must be positive", file=sys.stderr)
        return 2
    srv = _StubServer(("127.0.0.1", 0), _Stub)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    cluster = PgCluster()
    results = []
    try:
        cluster.start()
        enable_pg_stat_statements(cluster)
        with tempfile.TemporaryDirectory(prefix="mlfi-scale-") as d:
            for n_w in counts:
                r = run(cluster, base, a.endpoints, n_w, a.interval, a.duration, a.tolerance, Path(d))
                print(json.dumps(r), flush=True)
                results.append(r)
    finally:
        cluster.stop()
        srv.shutdown()
    if a.json:
        a.json.write_text(json.dumps({"cores": os.cpu_count(), "runs": results}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
