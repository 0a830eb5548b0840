"""Endpoint-page screenshots at 1440 and 1024 px: healthy, failing (degraded_accuracy) and recovered; the Overview
page while failing.

Starts the demo model, ``mlfi watch`` on it and ``mlfi dashboard`` over a fresh MLFI_HOME, drives the model
through its /_control endpoint and saves full-page PNGs after each rerun has settled (no stale elements).

    .venv/bin/python bench/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from test_browser_e2e import ARGS, CHROMIUM, MLFI, free_port, set_mode, wait_http


def incidents(env: dict[str, str]) -> list[dict]:
    out = subprocess.run([MLFI, "incidents", "--json"], env=env, cwd=REPO, capture_output=True, text=True, check=True)
    data = json.loads(out.stdout)
    return data if isinstance(data, list) else data.get("incidents", [])


def wait_for(pred, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(1.0)
    raise SystemExit(f"timed out waiting for {what}")


def shoot(page, url: str, path: Path, width: int, badge: str) -> None:
    """Open the page, pause its auto-refresh, wait until the rerun has settled, save the whole page."""
    page.set_default_timeout(180_000)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(url, wait_until="networkidle")
    page.get_by_text(badge, exact=True).first.wait_for()
    page.get_by_text("Pause auto-refresh").first.click()     # a rerun every 2 s would grey the page mid-shot
    time.sleep(2.0)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:   # settled: no stale (greyed) element, no "running" widget
        stale = page.locator("[data-stale='true']").count()
        running = page.locator("[data-testid='stStatusWidget'] img, [data-testid='stStatusWidget'] button").count()
        if not stale and not running:
            break
        time.sleep(0.5)
    # Streamlit scrolls inside its main section: grow the viewport to the content so the PNG holds it all
    height = page.evaluate("() => Math.max(...[...document.querySelectorAll('section, div')].map(e => e.scrollHeight))")
    page.set_viewport_size({"width": width, "height": min(int(height) + 40, 8000)})
    time.sleep(2.0)
    page.screenshot(path=str(path), full_page=True)
    print(f"saved {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(REPO / "docs" / "screenshots"))
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MLFI_")}
        env.update({"MLFI_HOME": tmp, "MLFI_WINDOW_SIZE": "60", "MLFI_ANALYSIS_EVERY_S": "5",
                    "MLFI_HEARTBEAT_EVERY_S": "1", "MLFI_LOG_LEVEL": "WARNING"})
        p_model, p_ui = free_port(), free_port()
        url = f"http://127.0.0.1:{p_model}/predict"
        procs = [subprocess.Popen([MLFI, "serve-demo-model", "--port", str(p_model)], env=env, cwd=REPO,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
        try:
            wait_http(f"http://127.0.0.1:{p_model}/health")
            procs.append(subprocess.Popen([MLFI, "watch", url, "--interval", "0.5"], env=env, cwd=REPO,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            procs.append(subprocess.Popen([MLFI, "dashboard", "--port", str(p_ui), "--host", "127.0.0.1"], env=env,
                                          cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            wait_http(f"http://127.0.0.1:{p_ui}/_stcore/health")
            page_url = f"http://127.0.0.1:{p_ui}/endpoint?endpoint={urllib.request.quote(url, safe='')}"
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                page = browser.new_page()
                time.sleep(90)              # baseline (60 samples at 0.5 s) plus a healthy window
                for w in (1440, 1024):
                    shoot(page, page_url, out / f"endpoint_healthy_{w}.png", w, "HEALTHY")
                set_mode(f"http://127.0.0.1:{p_model}/_control", "degraded_accuracy")
                wait_for(lambda: any(i.get("status") == "open" for i in incidents(env)), 300, "an open incident")
                time.sleep(10)
                for w in (1440, 1024):
                    shoot(page, page_url, out / f"endpoint_failing_{w}.png", w, "FAILING")
                    shoot(page, f"http://127.0.0.1:{p_ui}/", out / f"overview_failing_{w}.png", w, "Endpoints")
                set_mode(f"http://127.0.0.1:{p_model}/_control", "healthy")
                wait_for(lambda: incidents(env) and all(i.get("status") != "open" for i in incidents(env)), 900,
                         "the incident to resolve")
                time.sleep(10)
                for w in (1440, 1024):
                    shoot(page, page_url, out / f"endpoint_recovered_{w}.png", w, "HEALTHY")
                browser.close()
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(timeout=20)


if __name__ == "__main__":
    main()
