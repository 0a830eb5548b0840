"""Loopback stand-ins for model servers the probing layer has no recorded fixtures for (tests only).

``StubServer(app)`` runs ``app(req) -> Resp`` on 127.0.0.1 with a random port in a daemon thread.
A :class:`Resp` can also misbehave on the wire: gzip its body, stall before the first byte, send a
huge chunked body, or reset the connection half-way through.
"""

from __future__ import annotations

import gzip
import json
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["Req", "Resp", "StubServer", "json_app"]


@dataclass
class Req:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class Resp:
    status: int = 200
    body: Any = None
    text: str | None = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    gzip: bool = False
    stall: threading.Event | None = None   # wait for this event (the test sets it) before answering
    reset_after: int | None = None         # send this many body bytes of a longer declared body, then RST
    chunked_bytes: int = 0                 # stream this many bytes of a JSON list, chunked, no length

    def payload(self) -> bytes:
        if self.text is not None:
            return self.text.encode()
        return b"" if self.body is None else json.dumps(self.body, allow_nan=True).encode()


App = Callable[[Req], Resp]


def _not_found(_: Req) -> Resp:
    return Resp(404, {"detail": "Not Found"})


def json_app(routes: dict[tuple[str, str], Resp | App]) -> App:
    """An app from ``{(METHOD, path): Resp | fn(req)}``; anything else is 404."""

    def app(req: Req) -> Resp:
        r = routes.get((req.method, req.path)) or routes.get(("*", req.path)) or _not_found
        return r(req) if callable(r) else r

    return app


class StubServer:
    """A threaded HTTP/1.1 server on a random loopback port; ``seen`` records every request."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.seen: list[Req] = []

    def __enter__(self) -> StubServer:  # noqa: PYI034
        outer = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                return

            def _do(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode(errors="replace")
                parts = urlsplit(self.path)
                req = Req(self.command, parts.path, parse_qs(parts.query), dict(self.headers), body)
                outer.seen.append(req)
                resp = outer.app(req)
                try:
                    self._answer(resp)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _answer(self, resp: Resp) -> None:
                if resp.stall is not None:
                    resp.stall.wait(10)
                    return
                if resp.chunked_bytes:
                    self._chunked(resp)
                    return
                data = resp.payload()
                if resp.gzip:
                    data = gzip.compress(data)
                self.send_response(resp.status)
                self.send_header("Content-Type", resp.content_type)
                for k, v in resp.headers.items():
                    self.send_header(k, v)
                if resp.gzip:
                    self.send_header("Content-Encoding", "gzip")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if resp.reset_after is not None:
                    self.wfile.write(data[: resp.reset_after])
                    self.wfile.flush()
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.close_connection = True
                    self.connection.close()
                    return
                self.wfile.write(data)

            def _chunked(self, resp: Resp) -> None:
                self.send_response(resp.status)
                self.send_header("Content-Type", resp.content_type)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                piece = b"0.5," * 16384  # 64 KiB
                sent = 0
                self.wfile.write(b"1\r\n[\r\n")
                while sent < resp.chunked_bytes:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    sent += len(piece)
                self.wfile.write(b"4\r\n0.5]\r\n0\r\n\r\n")

            def do_GET(self) -> None:
                self._do()

            def do_POST(self) -> None:
                self._do()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _H)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return self

    def posts(self, path: str | None = None) -> list[Req]:
        return [r for r in self.seen if r.method == "POST" and (path is None or r.path == path)]

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
