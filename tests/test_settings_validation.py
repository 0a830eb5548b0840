"""Issue 14 item 12: every setting is validated at start; one line naming the MLFI_ variable, exit 2,
before any probe is sent."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from app.config import Settings

BAD = [("MLFI_WINDOW_SIZE", "-1"), ("MLFI_WINDOW_SIZE", "0"), ("MLFI_WATCH_CONCURRENCY", "-3"),
       ("MLFI_BACKOFF_MAX_S", "-1"), ("MLFI_HEARTBEAT_EVERY_S", "-1"), ("MLFI_PROBE_SAMPLES", "-5"),
       ("MLFI_LOG_LEVEL", "BOGUS"), ("MLFI_ALPHA", "2"), ("MLFI_ALPHA", "0"), ("MLFI_ALPHA", "1"),
       ("MLFI_ALPHA", "abc"), ("MLFI_PROBE_TIMEOUT_S", "0"),
       ("MLFI_RUNBOOK_BASE_URL", "docs/runbooks"), ("MLFI_RUNBOOK_BASE_URL", "ftp://docs.example/")]


@pytest.fixture
def server():
    hits = []

    class H(BaseHTTPRequestHandler):
        def do_POST(self):
            hits.append(self.path)
            body = b'{"prediction": 1, "probability": 0.9}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    srv = HTTPServer(("127.0.0.1", 0), H)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/predict", hits
    srv.shutdown()


@pytest.mark.parametrize(("var", "value"), BAD)
def test_bad_setting_is_one_line_exit_2_before_any_probe(var, value, server, tmp_path, monkeypatch, capsys):
    from app.cli import main

    url, hits = server
    monkeypatch.setenv("MLFI_HOME", str(tmp_path / "st"))
    monkeypatch.setenv(var, value)
    with pytest.raises(SystemExit) as exc:
        main(["analyze", url, "--samples", "5", "--json"])
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2
    assert len(err) == 1 and var in err[0] and "Traceback" not in err[0]
    assert hits == []


def test_log_level_is_case_insensitive_and_defaults_hold(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFI_LOG_LEVEL", raising=False)   # scripts/test.sh sets WARNING
    s = Settings(home=tmp_path, log_level="debug", _env_file=None)  # type: ignore[call-arg]
    assert s.log_level == "DEBUG"
    d = Settings(home=tmp_path, _env_file=None)  # type: ignore[call-arg]
    assert d.window_size > 0 and 0 < d.alpha < 1 and d.log_level == "INFO"


def test_serve_api_refuses_a_relative_runbook_base_url_at_start(tmp_path, monkeypatch, capsys):
    from app.cli import main

    monkeypatch.setenv("MLFI_HOME", str(tmp_path / "st"))
    monkeypatch.setenv("MLFI_RUNBOOK_BASE_URL", "/srv/docs")
    with pytest.raises(SystemExit) as exc:
        main(["serve-api", "--port", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and len(err) == 1 and "MLFI_RUNBOOK_BASE_URL" in err[0] and "absolute" in err[0]
    ok = Settings(home=tmp_path, runbook_base_url=" https://git.example/mlfi/blob/main ", _env_file=None)  # type: ignore[call-arg]
    assert ok.runbook_base_url == "https://git.example/mlfi/blob/main/"
