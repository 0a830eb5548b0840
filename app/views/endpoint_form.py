"""Add-endpoint form logic: validation, probe-set upload, "test connection" and saving."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from pydantic import BaseModel, Field

from app.config import Settings
from app.errors import ConflictError, EndpointError, InputError
from app.storage import Endpoint, Store

__all__ = [
    "INTERVAL_RANGE",
    "ConnectionResult",
    "NewEndpoint",
    "add_endpoint",
    "parse_headers",
    "save_probe_set",
    "slugify",
    "test_connection",
    "validate_form",
    "validate_interval",
    "validate_url",
]

INTERVAL_RANGE = (0.5, 86_400.0)
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")


class NewEndpoint(BaseModel):
    """A validated add-endpoint request (headers stay in memory and in the database only)."""

    name: str
    url: str
    protocol: str = "auto"
    headers: dict[str, str] = Field(default_factory=dict, repr=False)
    probe_set: str | None = None
    label_column: str | None = None
    model_name: str | None = None
    interval_s: float = 5.0


@dataclass(frozen=True)
class ConnectionResult:
    """Outcome of a test probe: the resolved protocol and URL and what came back."""

    ok: bool
    protocol: str | None
    url: str
    message: str
    latency_ms: float | None = None
    prediction: str | None = None
    confidence: float | None = None


def parse_headers(text: str | None) -> dict[str, str]:
    """Headers from ``"Key: Value"`` entries, one per line or separated by ``;``.

    The error message names the entry number, never its value (values are secrets).

    >>> parse_headers("Authorization: Bearer abc; X-Team: ml")
    {'Authorization': 'Bearer abc', 'X-Team': 'ml'}
    >>> parse_headers("")
    {}
    >>> parse_headers("no colon here")
    Traceback (most recent call last):
    ...
    app.errors.InputError: header entry 1 is not 'Name: value'
    """
    out: dict[str, str] = {}
    entries = [e.strip() for e in re.split(r"[;\n]", text or "") if e.strip()]
    for i, entry in enumerate(entries, 1):
        key, sep, value = entry.partition(":")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise InputError(f"header entry {i} is not 'Name: value'")
        if not _HEADER_NAME.match(key):
            raise InputError(f"header entry {i} has an invalid name")
        out[key] = value
    return out


def validate_url(url: str | None) -> str:
    """The URL stripped, or InputError when it is not an absolute http(s) URL.

    >>> validate_url(" http://127.0.0.1:9000/predict ")
    'http://127.0.0.1:9000/predict'
    >>> validate_url("localhost:9000")
    Traceback (most recent call last):
    ...
    app.errors.InputError: URL must start with http:// or https:// (got 'localhost:9000')
    """
    u = (url or "").strip()
    if not u:
        raise InputError("URL must not be empty")
    parsed = urlparse(u)
    if parsed.scheme not in ("http", "https"):
        raise InputError(f"URL must start with http:// or https:// (got {u[:80]!r})")
    if not parsed.hostname:
        raise InputError(f"URL has no host name (got {u[:80]!r})")
    try:
        parsed.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise InputError(f"URL has an invalid port (got {u[:80]!r})") from exc
    return u


def validate_interval(value: Any) -> float:
    """Probe interval in seconds within :data:`INTERVAL_RANGE`.

    >>> validate_interval("2.5")
    2.5
    >>> validate_interval(0)
    Traceback (most recent call last):
    ...
    app.errors.InputError: interval must be between 0.5 and 86400 seconds (got 0)
    """
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"interval must be a number of seconds (got {value!r})") from exc
    lo, hi = INTERVAL_RANGE
    if not lo <= v <= hi:
        raise InputError(f"interval must be between {lo:g} and {hi:g} seconds (got {value!r})")
    return v


def slugify(text: str) -> str:
    """File-system-safe short name.

    >>> slugify("http://127.0.0.1:9000/predict")
    'http-127-0-0-1-9000-predict'
    """
    s = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return (s or "endpoint")[:80]


def save_probe_set(settings: Settings, name: str, content: bytes, *, label_column: str | None = None) -> Path:
    """Validate an uploaded probe-set CSV and keep it under ``<state>/probe_sets/``; returns its path."""
    from app.probing import ProbeSet

    if not content or not content.strip():
        raise InputError("the probe-set file is empty")
    dest_dir = settings.data_dir / "probe_sets"
    dest_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("wb", suffix=".csv", dir=dest_dir, delete=False) as fh:
        fh.write(content)
        tmp = Path(fh.name)
    try:
        ps = ProbeSet.from_csv(tmp, label_column=label_column or None)
        if not ps.features:
            raise InputError("the probe-set CSV has no feature columns")
        dest = dest_dir / f"{slugify(name)}.csv"
        tmp.replace(dest)
        return dest
    finally:
        tmp.unlink(missing_ok=True)


def validate_form(*, name: str | None, url: str | None, protocol: str, headers_text: str | None,
                  interval_s: Any, label_column: str | None = None, model_name: str | None = None,
                  probe_set: str | None = None) -> tuple[NewEndpoint | None, list[str]]:
    """Check every field; returns the request or the list of problems (one clear line each)."""
    from app.probing import PROTOCOLS

    errors: list[str] = []
    values: dict[str, Any] = {}
    for key, fn, arg in (("url", validate_url, url), ("headers", parse_headers, headers_text),
                         ("interval_s", validate_interval, interval_s)):
        try:
            values[key] = fn(arg)
        except InputError as exc:
            errors.append(str(exc))
    if protocol not in ("auto", *PROTOCOLS):
        errors.append(f"unknown protocol {protocol!r}; choose one of auto, {', '.join(PROTOCOLS)}")
    if errors:
        return None, errors
    return NewEndpoint(name=(name or "").strip() or values["url"], url=values["url"], protocol=protocol,
                       headers=values["headers"], probe_set=probe_set, label_column=(label_column or "").strip()
                       or None, model_name=(model_name or "").strip() or None, interval_s=values["interval_s"]), []


def test_connection(req: NewEndpoint, *, timeout_s: float = 5.0) -> ConnectionResult:
    """Detect the protocol when ``auto``, then send one row of the probe set and report the outcome."""
    from app.probing import ProbeSet, default_probe_set_path, probe_once, target_for

    ps = ProbeSet.from_csv(Path(req.probe_set) if req.probe_set else default_probe_set_path(),
                           label_column=req.label_column if req.probe_set else "target")
    row, label = ps.rows(1, seed=0)[0]
    new = Endpoint(id=0, name=req.name, url=req.url, protocol=req.protocol, headers=req.headers,
                   model_name=req.model_name)
    try:
        target = target_for(new, timeout_s=timeout_s, detect_with=row)
    except (InputError, EndpointError) as exc:   # an unset ${VAR}, or no protocol answered
        return ConnectionResult(ok=False, protocol=None, url=req.url, message=str(exc))
    protocol, url = target.protocol, target.url
    s = probe_once(target, row, label)
    if s.error_kind:
        detail = (s.error_detail or "").splitlines()[0][:200] if s.error_detail else ""
        code = f" (HTTP {s.status_code})" if s.status_code else ""
        msg = f"the endpoint did not accept a probe-set row: {s.error_kind}{code}" + (f": {detail}" if detail else "")
        return ConnectionResult(ok=False, protocol=protocol, url=url, message=msg, latency_ms=s.latency_ms)
    return ConnectionResult(ok=True, protocol=protocol, url=url, latency_ms=s.latency_ms, prediction=s.prediction,
                            confidence=s.confidence, message=f"connected: {protocol} at {url}")


def add_endpoint(store: Store, req: NewEndpoint, *, verify: bool = True, timeout_s: float = 5.0,
                 check: ConnectionResult | None = None) -> Endpoint:
    """Store a new endpoint (monitoring enabled). With ``verify`` one probe must succeed first.

    Raises ConflictError when the name is taken and EndpointError when the verifying probe fails.
    Returns the stored row without its headers.
    """
    if store.find_endpoint(req.name) is not None:
        raise ConflictError(f"an endpoint named {req.name!r} already exists")
    protocol, url = req.protocol, req.url
    if verify:
        check = check or test_connection(req, timeout_s=timeout_s)
        if not check.ok:
            raise EndpointError(check.message)
        protocol, url = check.protocol or protocol, check.url
    row = store.upsert_endpoint(req.name, url=url, protocol=protocol, headers=req.headers or None,
                                probe_set=req.probe_set, label_column=req.label_column, model_name=req.model_name,
                                interval_s=req.interval_s, enabled=True)
    return row.without_secrets()
