"""The watcher over real HTTP on loopback: one healthy, one HTTP 500, one too slow, one refused port."""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from app.config import Settings
from app.storage import Store
from app.watcher.loop import main

pytestmark = pytest.mark.integration


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        n = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(n) or b"{}")
        if self.path.startswith("/slow"):
            time.sleep(1.0)
        if self.path.startswith("/err"):
            code, out = 500, {"error": "model crashed"}
        else:
            feats = body.get("features", {})
            code, out = 200, {"prediction": int(float(feats.get("a", 0)) > 5), "confidence": 0.8}
        raw = json.dumps(out).encode()
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass   # the client timed out and went away

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_faults_are_data_and_the_good_endpoint_keeps_its_schedule(server: str, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "s", probe_timeout_s=0.3, heartbeat_every_s=0.5, backoff_max_s=1.0,
                        analysis_every_s=1.0, window_size=1000, _env_file=None)  # type: ignore[call-arg]
    store = Store.from_settings(settings)
    probes = tmp_path / "probes.csv"
    probes.write_text("a,b,target\n" + "\n".join(f"{i},{i / 3:.3f},{int(i > 5)}" for i in range(12)) + "\n")
    names = {"ok": f"{server}/ok", "err": f"{server}/err", "slow": f"{server}/slow",
             "refused": f"http://127.0.0.1:{_free_port()}/predict"}
    for url in names.values():
        store.upsert_endpoint(url, url=url, protocol="generic", probe_set=str(probes), label_column="target",
                              interval_s=0.5)
    t0 = time.time()
    totals = main(settings, max_runtime_s=4.0)
    elapsed = time.time() - t0

    ok = store.recent_samples(names["ok"])
    assert len(ok) >= 6 and all(s.ok for s in ok)
    gaps = sorted(b.ts - a.ts for a, b in itertools.pairwise(ok))
    assert abs(gaps[len(gaps) // 2] - 0.5) < 0.05, gaps          # on its own 0.5 s grid ...
    assert gaps[-1] < 1.0, gaps                                  # ... and no slot lost to the slow/failing ones
    assert {s.prediction for s in ok} <= {"0", "1"} and all(s.correct is not None for s in ok)

    def kinds(name: str) -> set[str | None]:
        return {s.error_kind for s in store.recent_samples(names[name])}

    assert kinds("err") == {"http_error"}
    assert {s.status_code for s in store.recent_samples(names["err"])} == {500}
    assert kinds("slow") == {"timeout"}
    assert kinds("refused") == {"connection_error"}
    for name in ("err", "slow", "refused"):
        ep = store.get_endpoint(names[name])
        n = store.count_samples(names[name])
        assert ep.consecutive_failures == n >= 2, (name, n)   # probed again and again
        if name == "err":
            assert n >= len(ok) - 1, (n, len(ok))                # an answered 500 keeps the interval
        else:
            assert n < len(ok)                                   # unreachable: backing off
    assert store.get_endpoint(names["ok"]).consecutive_failures == 0

    snap = totals.snapshot()
    assert snap["errors"].get("timeout", 0) >= 2 and snap["probes_started"] >= len(ok)
    assert elapsed < 4.0 + 4.0                                   # stopping waited at most for in-flight probes
    st = store.watcher_state()
    assert st is not None and st["status"] == "stopped" and st["cycles"] > 4
    store.dispose()
