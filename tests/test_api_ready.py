"""`GET /ready` over real HTTP (uvicorn on loopback, in a thread): 200 while the database answers, 503
problem+json (no traceback) once it cannot be reached, and 200 again when it is back."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import requests
import uvicorn
from sqlalchemy import create_engine

from app.api import create_app
from app.config import Settings
from app.storage import Store
from tests.api_harness import free_port


def test_ready_is_503_problem_json_while_the_database_is_unreachable(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", _env_file=None)  # type: ignore[call-arg]
    store = Store.from_settings(settings)
    good = store.engine
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, store=store), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        end = time.time() + 20
        while not server.started and time.time() < end:
            time.sleep(0.05)
        ok = requests.get(f"{base}/ready", timeout=5)
        assert ok.status_code == 200 and ok.json()["database"] == "ok"
        # the database file's directory is gone: every connection attempt fails
        store.engine = create_engine(f"sqlite:///{tmp_path / 'gone' / 'mlfi.db'}")
        down = requests.get(f"{base}/ready", timeout=5)
        assert down.status_code == 503 and down.headers["content-type"] == "application/problem+json"
        body = down.json()
        assert body["status"] == 503 and body["type"] == "urn:mlfi:problem:not-ready"
        assert body["detail"] == "database unreachable (OperationalError)" and "Traceback" not in down.text
        assert requests.get(f"{base}/health", timeout=5).status_code == 200     # liveness does not need the database
        store.engine.dispose()
        store.engine = good
        assert requests.get(f"{base}/ready", timeout=5).status_code == 200
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        store.dispose()
