"""Helpers for the HTTP service tests: a state dir with tokens, the demo model in a thread, `mlfi serve-api`
on a free loopback port in a child process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

from app.api.tokens import issue_token
from app.config import Settings
from app.storage import Store
from app.storage.tokens import revoke_token

ROOT = Path(__file__).parents[1]

# token name -> scopes; "revoked" is revoked after creation
TOKEN_SCOPES = {"admin": ("admin",), "reader": ("read",), "ingester": ("ingest",), "approver": ("approve", "read"),
                "revoked": ("admin",)}


@dataclass
class Service:
    base: str
    settings: Settings
    store: Store
    tokens: dict[str, str]
    log: Path
    demo: str = ""
    extra: dict[str, object] = field(default_factory=dict)

    def auth(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_tokens(store: Store) -> dict[str, str]:
    tokens = {name: issue_token(store.engine, name, scopes) for name, scopes in TOKEN_SCOPES.items()}
    revoke_token(store.engine, "revoked")
    return tokens


@contextmanager
def demo_model() -> Iterator[str]:
    """The demo classifier on a free port, served from a thread of this process."""
    from app.demo.model import make_server

    server = make_server("127.0.0.1", 0, "healthy")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def serve_api(home: Path, log: Path, **env_extra: str) -> Iterator[str]:
    """`mlfi serve-api` over ``home`` in a child process; yields its base URL once /health answers."""
    port = free_port()
    env = {**os.environ, "MLFI_HOME": str(home), "PYTHONPATH": str(ROOT), **env_extra}
    env.pop("MLFI_DATABASE_URL", None)
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "app", "serve-api", "--port", str(port)], cwd=str(ROOT),
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        end = time.time() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"serve-api exited {proc.returncode}: {log.read_text()[-2000:]}")
            try:
                if requests.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                if time.time() > end:
                    raise RuntimeError("serve-api did not come up in 60 s") from None
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
