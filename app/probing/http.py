"""HTTP exchanges for probing: transport faults become :class:`ProbeFault`, secrets never reach a detail."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import requests
from urllib3.exceptions import ReadTimeoutError

from app.probing.base import ProbeFault, ProbeTarget

__all__ = ["MAX_BODY_BYTES", "Call", "Reply", "exchange", "memo_of", "scrub"]

_DETAIL_MAX = 200
MAX_BODY_BYTES = 8 * 1024 * 1024  # a prediction is small: a bigger (decoded) body is a fault, never held in memory
_CHUNK = 64 * 1024


def scrub(text: str, secrets: tuple[str, ...] = (), limit: int = _DETAIL_MAX) -> str:
    """One short line with every secret replaced by ``***``.

    >>> scrub("bad token s3cr3t\\nagain", ("s3cr3t",))
    'bad token *** again'
    """
    for s in secrets:
        text = text.replace(s, "***")
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class Reply:
    """One HTTP answer: status, raw text and (when it is JSON) the decoded body."""

    status: int
    text: str
    elapsed_ms: float
    content_type: str = ""

    def json(self, secrets: tuple[str, ...] = ()) -> Any:
        """The body as JSON, or a ``malformed_response`` fault."""
        try:
            return json.loads(self.text)
        except ValueError as exc:
            snippet = scrub(self.text[:60], secrets, 80) or "<empty body>"
            raise ProbeFault("malformed_response", f"invalid JSON ({getattr(exc, 'msg', exc)}): {snippet!r}",
                             self.status) from exc


def exchange(session: requests.Session, method: str, url: str, *, headers: dict[str, str], timeout: float,
             body: Any = None, secrets: tuple[str, ...] = (), ok_only: bool = True) -> Reply:
    """Send one request. Transport faults (and, with ``ok_only``, HTTP >= 400) raise :class:`ProbeFault`."""
    t0 = time.perf_counter()
    hdrs = {"Accept": "application/json, text/event-stream;q=0.9, */*;q=0.5", **headers}
    try:
        resp = session.request(method, url, json=body, headers=hdrs, timeout=(timeout, timeout),
                               allow_redirects=True, stream=True)
        try:
            text = _read_text(resp, timeout)
        finally:
            resp.close()
    except requests.exceptions.Timeout as exc:
        raise ProbeFault("timeout", f"no answer within {timeout:g} s ({type(exc).__name__})") from exc
    except requests.exceptions.ContentDecodingError as exc:
        raise ProbeFault("malformed_response", scrub(f"undecodable body: {exc}", secrets)) from exc
    except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema,
            requests.exceptions.TooManyRedirects) as exc:
        raise ProbeFault("protocol_error", scrub(f"{type(exc).__name__}: {exc}", secrets)) from exc
    except requests.exceptions.RequestException as exc:
        if exc.args and isinstance(exc.args[0], ReadTimeoutError):  # a stalled body (requests wraps it)
            raise ProbeFault("timeout", f"body not complete within {timeout:g} s (ReadTimeout)") from exc
        raise ProbeFault("connection_error", scrub(f"{type(exc).__name__}: {_root_cause(exc)}", secrets)) from exc
    elapsed = (time.perf_counter() - t0) * 1000.0
    reply = Reply(resp.status_code, text, elapsed, resp.headers.get("content-type", ""))
    if ok_only and resp.status_code >= 400:
        retry = resp.headers.get("retry-after")
        hint = f" (Retry-After: {retry[:40]})" if retry else ""
        raise ProbeFault("http_error", scrub(f"HTTP {resp.status_code}{hint}: {text[:120]}", secrets),
                         resp.status_code)
    return reply


def _read_text(resp: requests.Response, timeout: float) -> str:
    """The decoded body, read in chunks: at most :data:`MAX_BODY_BYTES`, and within ``timeout`` once it started."""
    declared = resp.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES and "content-encoding" not in resp.headers:
        raise _too_big(resp, f"{int(declared) / 2**20:.1f} MiB")
    buf = bytearray()
    deadline = time.perf_counter() + timeout
    for chunk in resp.iter_content(_CHUNK):
        buf += chunk
        if len(buf) > MAX_BODY_BYTES:
            raise _too_big(resp, f"over {MAX_BODY_BYTES // 2**20} MiB")
        if time.perf_counter() > deadline:
            raise ProbeFault("timeout", f"body not complete within {timeout:g} s after the headers",
                             resp.status_code)
    resp._content = bytes(buf)
    resp._content_consumed = True
    return resp.text


def _too_big(resp: requests.Response, size: str) -> ProbeFault:
    return ProbeFault("malformed_response", f"response body too large ({size}; a prediction may take at most "
                      f"{MAX_BODY_BYTES // 2**20} MiB)", resp.status_code)


def _root_cause(exc: BaseException) -> str:
    """The innermost reason of a requests error (e.g. 'Connection refused'), without the URL noise."""
    msg = str(exc)
    for marker in ("] ", "Errno"):
        if marker in msg:
            tail = msg.rsplit(marker, 1)[-1]
            return tail.strip(" ')\"")[:120] or msg[:120]
    return msg[:120]


def memo_of(session: requests.Session) -> dict[Any, Any]:
    """A small memo tied to the caller's session (what an endpoint accepted), never module-global."""
    memo: dict[Any, Any] | None = getattr(session, "_mlfi_memo", None)
    if memo is None:
        memo = {}
        setattr(session, "_mlfi_memo", memo)  # noqa: B010  (requests.Session declares no such attribute)
    if len(memo) > 4096:  # bounded: a long-lived session over many endpoints
        memo.clear()
    return memo


@dataclass
class Call:
    """One probe in flight: the target, the row, and the time spent in inference exchanges."""

    session: requests.Session
    target: ProbeTarget
    row: dict[str, Any]
    latency_ms: float = 0.0
    exchanges: int = 0
    memo: dict[Any, Any] = field(default_factory=dict)

    def post(self, url: str, body: Any, *, timed: bool = True, ok_only: bool = True) -> Reply:
        return self.send("POST", url, body, timed=timed, ok_only=ok_only)

    def get(self, url: str, *, timed: bool = True, ok_only: bool = True) -> Reply:
        return self.send("GET", url, None, timed=timed, ok_only=ok_only)

    def send(self, method: str, url: str, body: Any, *, timed: bool, ok_only: bool) -> Reply:
        t0 = time.perf_counter()
        try:
            return exchange(self.session, method, url, headers=self.target.headers, timeout=self.target.timeout_s,
                            body=body, secrets=self.target.secrets, ok_only=ok_only)
        finally:
            if timed:
                self.latency_ms += (time.perf_counter() - t0) * 1000.0
                self.exchanges += 1

    def discover(self, url: str, body: Any = None, method: str = "GET") -> Any | None:
        """A cheap discovery request (not timed): the JSON body on 2xx, else None. Transport faults raise."""
        reply = self.send(method, url, body, timed=False, ok_only=False)
        if reply.status >= 300:
            return None
        try:
            return json.loads(reply.text)
        except ValueError:
            return None

    def body(self, default: Any) -> Any:
        """The request body: the target's payload template filled with the row, else ``default``."""
        if self.target.payload_template is None:
            return default
        from app.probing.probe_set import render_template

        return render_template(self.target.payload_template, self.row)

    def json_of(self, reply: Reply) -> Any:
        return reply.json(self.target.secrets)

    def restart_clock(self) -> None:
        """Forget time spent so far (a failed first attempt whose fallback is the real exchange)."""
        self.latency_ms = 0.0
