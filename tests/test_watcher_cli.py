"""`mlfi watch --once`, `mlfi watcher status`, `mlfi endpoints ...`: JSON out, secrets never shown, bad input."""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from loguru import logger

from app.cli import main as cli_main
from tests.test_watcher_http import server  # noqa: F401  (fixture: loopback model server)

SECRET = "s3cr3t-token-value"


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """In-process CLI runs point loguru at pytest's captured stderr; put it back afterwards."""
    yield
    logger.remove()
    logger.add(sys.__stderr__, level="WARNING")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        cli_main(list(argv))
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.integration
def test_endpoints_lifecycle_never_shows_headers(mlfi_env: Path, capsys: pytest.CaptureFixture[str],
                                                 server: str) -> None:  # noqa: F811
    url = f"{server}/ok"
    code, out, err = run(capsys, "endpoints", "add", url, "--interval", "2", "--header",
                         f"Authorization: Bearer {SECRET}", "--json")
    assert code == 0, err
    ep = json.loads(out)
    assert ep["protocol"] == "generic" and ep["interval_s"] == 2.0 and ep["enabled"] is True  # auto-detected
    assert ep["header_names"] == ["Authorization"]
    code, out, _ = run(capsys, "endpoints", "list", "--json")
    assert code == 0 and [e["name"] for e in json.loads(out)] == [url]
    code, out, _ = run(capsys, "endpoints", "disable", url, "--json")
    assert code == 0 and json.loads(out)["enabled"] is False
    code, out, _ = run(capsys, "watch", "--once", "--json")
    assert code == 0 and json.loads(out)["probes_completed"] == 0      # disabled: not probed
    run(capsys, "endpoints", "enable", url)
    code, out, err = run(capsys, "watch", "--once", "--json")
    stats = json.loads(out)
    assert code == 0 and stats["probes_completed"] == 1 and stats["samples_written"] == 1, err
    code, out, _ = run(capsys, "watcher", "status", "--json")
    st = json.loads(out)
    assert code == 0 and st["alive"] is False and st["endpoints_enabled"] == 1
    everything = out + err + "".join(p.read_text(errors="replace") for p in mlfi_env.rglob("*.log"))
    assert SECRET not in everything
    code, out, _ = run(capsys, "endpoints", "remove", url, "--json")
    assert code == 0 and json.loads(out) == {"removed": url}
    code, out, _ = run(capsys, "endpoints", "list", "--json")
    assert json.loads(out) == []


@pytest.mark.integration
def test_watch_once_registers_urls(mlfi_env: Path, capsys: pytest.CaptureFixture[str],
                                   server: str) -> None:  # noqa: F811
    code, out, err = run(capsys, "watch", f"{server}/ok", "--protocol", "generic", "--interval", "0.5", "--once",
                         "--json")
    assert code == 0, err
    assert json.loads(out)["samples_written"] == 1
    code, out, _ = run(capsys, "endpoints", "list", "--json")
    (ep,) = json.loads(out)
    assert ep["interval_s"] == 0.5 and ep["last_status"] == "ok"


@pytest.mark.parametrize("argv, needle", [
    (["watch", "--interval", "abc"], "--interval"),
    (["watch", "--interval", "0"], "--interval"),
    (["watch", "--protocol", "soap"], "--protocol"),
    (["endpoints", "add", "not-a-url"], "bad URL"),
    (["endpoints", "disable", "http://nowhere/x"], "unknown endpoint"),
    (["watch", "http://127.0.0.1:9/x", "--probe-set", "/no/such.csv", "--once"], "probe set"),
])
def test_bad_input_is_one_line_and_exit_2(mlfi_env: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                                          needle: str) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and needle in lines[0], err
    assert "Traceback" not in err


def test_unreachable_url_is_one_line_and_exit_2(mlfi_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "endpoints", "add", f"http://127.0.0.1:{_closed_port()}/predict", "--timeout", "1")
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("Error:"), err
