"""End to end in headless Chromium: from an empty state dir to an approved fix in the audit log.

Starts the demo model and ``mlfi dashboard`` (fresh MLFI_HOME), then drives the browser: add the demo
endpoint (test connection first), start the watcher, watch the charts fill, switch the demo model to a
failure mode through its /_control endpoint, see the alert and a recommendation, approve it, find it
in the audit log, download the CSVs, see the endpoint recover (healthy badge, the incident resolved). Screenshots go to bench/out/screens/e2e_*.png (not committed).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
MLFI = str(REPO / ".venv" / "bin" / "mlfi")
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = REPO / "bench" / "out" / "screens"
SECRET = "Bearer E2E-SECRET-TOKEN"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not come up within {timeout:.0f} s")


def set_mode(control_url: str, mode: str) -> dict[str, Any]:
    req = urllib.request.Request(control_url, data=json.dumps({"mode": mode}).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read())


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Demo model + dashboard on free ports over a fresh MLFI_HOME; the watcher is left to the UI."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFI_")}
    env.update({"MLFI_HOME": str(home), "MLFI_WINDOW_SIZE": "40", "MLFI_ANALYSIS_EVERY_S": "3",
                "MLFI_HEARTBEAT_EVERY_S": "1"})
    p_model, p_ui = free_port(), free_port()
    logs = tmp_path / "logs"
    logs.mkdir()
    with contextlib.ExitStack() as files:
        out = [files.enter_context(open(logs / name, "w")) for name in ("model.log", "ui.log")]
        procs = [subprocess.Popen([MLFI, "serve-demo-model", "--port", str(p_model)], env=env, cwd=REPO,
                                  stdout=out[0], stderr=subprocess.STDOUT),
                 subprocess.Popen([MLFI, "dashboard", "--port", str(p_ui), "--host", "127.0.0.1"], env=env, cwd=REPO,
                                  stdout=out[1], stderr=subprocess.STDOUT)]
        yield from _serve(procs, home, env, logs, p_model, p_ui)


def _serve(procs: list[subprocess.Popen[bytes]], home: Path, env: dict[str, str], logs: Path, p_model: int,
           p_ui: int) -> Iterator[dict[str, Any]]:
    try:
        wait_http(f"http://127.0.0.1:{p_model}/health")
        wait_http(f"http://127.0.0.1:{p_ui}/_stcore/health")
        yield {"home": home, "env": env, "ui": f"http://127.0.0.1:{p_ui}", "logs": logs,
               "model": f"http://127.0.0.1:{p_model}/predict", "control": f"http://127.0.0.1:{p_model}/_control"}
    finally:
        from app.config import Settings
        from app.watcher import control

        control.stop_background(Settings(home=home, _env_file=None))   # never leave a watcher behind
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"e2e_{name}.png"), full_page=True)


def body(page: Any) -> str:
    return str(page.locator("[data-testid=stMain]").inner_text())


def wait_text(page: Any, pattern: str, timeout: float, *, reload: bool = False) -> re.Match[str]:
    """Poll the page text (auto-refresh or reload) until ``pattern`` matches."""
    end = time.monotonic() + timeout
    while True:
        m = re.search(pattern, body(page))
        if m:
            return m
        if time.monotonic() > end:
            raise AssertionError(f"{pattern!r} not seen within {timeout:.0f} s; page shows:\n{body(page)[:1500]}")
        if reload:
            page.reload()
            page.wait_for_selector("h1", timeout=30_000)
        time.sleep(1.0)


def sidebar_shows(page: Any, text: str, timeout: float) -> None:
    """Poll the sidebar's text from Python until it includes ``text``.

    Polled, not ``wait_for_function``: after a sidebar button's rerun the page sometimes sits in a navigation
    Playwright waits for (seen in 2 of 12 runs here and once in CI: a Stop click hung "waiting for scheduled
    navigations" while the screenshot showed the sidebar STOPPED, and a ``wait_for_function`` never returned).
    """
    side = page.get_by_test_id("stSidebar")
    end = time.monotonic() + timeout
    shown = ""
    while time.monotonic() < end:
        try:
            shown = side.inner_text(timeout=5_000)
        except Exception:  # noqa: BLE001 - a rerun replacing the sidebar: read it again
            shown = ""
        if text in shown:
            return
        time.sleep(0.5)
    shot(page, f"failed_sidebar_{text.lower()}")
    raise AssertionError(f"sidebar did not show {text!r} within {timeout:.0f} s; it shows:\n{shown[:800]}")


def click_sidebar_button(page: Any, name: str) -> None:
    """Click a sidebar button without waiting for navigations its rerun may schedule (see sidebar_shows)."""
    page.get_by_test_id("stSidebar").get_by_role("button", name=name, exact=True).click(no_wait_after=True)


def press_until_sidebar_shows(page: Any, name: str, text: str, timeout: float) -> None:
    """Click a sidebar button and wait for ``text``; if the state has not changed after half the time, click once
    more, as a person would. A click that lands while the 2-second auto-refresh reruns the page is sometimes lost
    (session 18, CI: the Stop button showed pressed, the watcher kept RUNNING with a fresh heartbeat for 40 s); the
    state must still change within ``timeout``, so a button that never works still fails here."""
    click_sidebar_button(page, name)
    try:
        sidebar_shows(page, text, timeout / 2)
    except AssertionError:
        button = page.get_by_test_id("stSidebar").get_by_role("button", name=name, exact=True)
        if button.is_enabled(timeout=5_000):  # still offered: the first click did not take
            button.click(no_wait_after=True, timeout=5_000)
        sidebar_shows(page, text, timeout / 2)


def no_exception(page: Any) -> None:
    assert page.locator("[data-testid=stException]").count() == 0, body(page)[:2000]


def test_from_scratch_to_an_approved_fix(stack: dict[str, Any], tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    ui = stack["ui"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        ctx = browser.new_context(viewport={"width": 1500, "height": 1300}, accept_downloads=True)
        page = ctx.new_page()
        page.set_default_timeout(30_000)
        try:
            # 1. empty state
            page.goto(ui)
            page.wait_for_selector("h1")
            wait_text(page, "No endpoints yet", 20)
            no_exception(page)

            # 2. add the demo endpoint: bad URL first, then test connection, then add
            page.goto(f"{ui}/add_endpoint")
            page.get_by_role("textbox", name="Model URL", exact=True).fill("localhost:9000")
            page.get_by_role("button", name="Add endpoint").click()
            wait_text(page, "must start with http:// or https://", 20)
            no_exception(page)
            page.get_by_role("textbox", name="Model URL", exact=True).fill(stack["model"])
            page.get_by_role("textbox", name="Name", exact=True).fill("demo")
            page.get_by_role("spinbutton", name="Probe interval (seconds)").fill("0.5")
            page.get_by_role("textbox", name="Request headers", exact=True).fill(f"Authorization: {SECRET}")
            page.get_by_role("button", name="Test connection").click()
            wait_text(page, r"Connected · protocol generic", 30)
            shot(page, "01_test_connection")
            page.get_by_role("button", name="Add endpoint").click()
            wait_text(page, r"Added demo", 30)
            _c = page.content(); _i = _c.find("E2E-SECRET"); assert _i < 0, _c[max(0, _i - 600):_i + 100]
            shot(page, "02_endpoint_added")

            # 3. start the watcher from the sidebar; its state comes from the database heartbeat
            press_until_sidebar_shows(page, "Start", "RUNNING", 60)
            page.reload()                                       # survives a reload: read from the heartbeat
            sidebar_shows(page, "RUNNING", 20)

            # 4. overview -> endpoint page; the charts fill and a baseline is learned from the first window
            page.goto(ui)
            wait_text(page, r"demo", 20)
            page.get_by_role("button", name="Details").first.click()
            wait_text(page, r"vs baseline v1", 90)
            # the baseline can be learned while the page still shows the count of an earlier rerun: poll it
            end = time.monotonic() + 60
            while True:
                m = wait_text(page, r"([\d,]+) samples in range", 30)
                if int(m.group(1).replace(",", "")) >= 40 or time.monotonic() > end:
                    break
                time.sleep(2.0)
            assert int(m.group(1).replace(",", "")) >= 40
            page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 4", timeout=30_000)
            wait_text(page, r"HEALTHY|PENDING", 60)
            no_exception(page)
            shot(page, "03_charts_filled")

            # 5. the model starts failing: half of the requests get HTTP 500
            assert set_mode(stack["control"], "errors")["mode"] == "errors"
            wait_text(page, r"FAILING|WARNING", 120)
            wait_text(page, r"Alerts \([1-9]", 60)
            time.sleep(2.5)
            no_exception(page)
            shot(page, "04_alert")

            # 5b. the overview at 1024 px: no field label split over two lines ("Incid/ents" before session 12)
            page.set_viewport_size({"width": 1024, "height": 1300})
            page.goto(ui)
            wait_text(page, r"Incidents", 30)
            page.wait_for_selector("[data-testid='stMarkdownContainer'] strong", timeout=30_000)
            split = page.evaluate("""() => [...document.querySelectorAll("[data-testid='stMarkdownContainer'] strong")]
                .filter(e => ['Incidents', 'Samples', 'Last verdict'].includes(e.textContent.trim()))
                .map(e => [e.textContent.trim(), e.getClientRects().length])""")
            assert {name for name, _ in split} == {"Incidents", "Samples", "Last verdict"}, split
            assert all(lines == 1 for _, lines in split), split
            shot(page, "04b_overview_1024")
            page.set_viewport_size({"width": 1500, "height": 1300})

            # 6. the recommendation: approve it with a reason, as a named person
            page.goto(f"{ui}/recommendations")
            wait_text(page, r"Approve", 60, reload=True)
            page.get_by_role("textbox", name="Acting as", exact=True).fill("E2E Tester")
            page.get_by_role("textbox", name="Reason", exact=True).first.fill("error spike confirmed on the demo model")
            page.get_by_role("button", name="Approve").first.click()
            wait_text(page, r"approved by E2E Tester", 30)
            wait_text(page, r"Chain verified", 20)
            log = page.locator("[data-testid=stDataFrame]").last.inner_text()
            shot(page, "05_approved_audit_log")
            no_exception(page)
            # the model heals now; the window refills while the next steps run (no added wait)
            assert set_mode(stack["control"], "healthy")["mode"] == "healthy"

            # 7. investigation of the incident
            page.goto(f"{ui}/investigation")
            wait_text(page, r"What happened", 30)
            no_exception(page)
            shot(page, "06_investigation")

            # 8. export: the audit log and the metrics as CSV downloads
            page.goto(f"{ui}/export")
            wait_text(page, r"Audit log", 30)
            with page.expect_download() as dl:
                page.get_by_role("button", name="Audit log (CSV)").click()
            audit = list(csv.DictReader(io.StringIO(Path(dl.value.path()).read_text())))
            approved = [r for r in audit if r["event"] == "approved"]
            assert approved and approved[0]["actor"] == "E2E Tester"
            assert "error spike confirmed" in approved[0]["payload"]
            with page.expect_download() as dl:
                page.get_by_role("button", name="Metrics time series (CSV, per minute)").click()
            metrics = Path(dl.value.path()).read_text()
            assert metrics.startswith("endpoint,time_utc,ts,n,errors") and "demo" in metrics
            assert "E2E-SECRET" not in metrics and "E2E-SECRET" not in Path(dl.value.path()).read_text()
            shot(page, "07_export")

            # 9. recovered: the endpoint page turns healthy and the incident shows as resolved, drawn as a span
            page.goto(f"{ui}/endpoint")
            wait_text(page, r"HEALTHY", 120)
            wait_text(page, r"Incident #\d+ · [^\n]+ · from [\d:]+ UTC, resolved", 60)
            assert "last probe never" not in body(page)
            no_exception(page)
            shot(page, "08_recovered")

            # 10. stop the watcher from the sidebar
            press_until_sidebar_shows(page, "Stop", "STOPPED", 60)
            assert "approved" in log.lower() or approved
        except Exception:
            shot(page, "zz_failure")
            raise
        finally:
            browser.close()
