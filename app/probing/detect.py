"""``--protocol auto``: cheap, read-only discovery, then real probes; the first protocol whose reply parses wins."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import requests

from app.errors import EndpointError
from app.probing.base import ProbeFault, ProbeTarget, get_connector, join, origin
from app.probing.http import Call

__all__ = ["COMMON_PATHS", "detect", "detect_protocol", "path_hints"]

# where hand-written model servers usually listen, tried last on the server root
COMMON_PATHS = (("generic", "/predict"), ("mlflow", "/invocations"), ("generic", "/score"),
                ("generic", "/api/predict"), ("generic", "/v1/predict"), ("generic", "/inference"),
                ("generic", "/infer"), ("generic", "/classify"), ("generic", "/api/v1.0/predictions"))


def path_hints(url: str) -> list[str]:
    """Protocols suggested by the URL's path alone, most specific first.

    >>> path_hints("http://h/v2/models/m/infer"), path_hints("http://h/v1/models/m:predict")
    (['open-inference-v2'], ['kserve-v1'])
    >>> path_hints("http://h/invocations"), path_hints("http://h/gradio_api/call/predict"), path_hints("http://h/x")
    (['mlflow'], ['gradio'], [])
    """
    path = urlsplit(url).path
    hints = []
    if "/v2/models/" in path or path.rstrip("/").endswith("/v2"):
        hints.append("open-inference-v2")
    if "/v1/models/" in path:
        hints.append("kserve-v1")
    if path.rstrip("/").endswith("/invocations"):
        hints.append("mlflow")
    if any(m in path for m in ("/gradio_api/", "/call/", "/run/predict", "/api/predict")):
        hints.append("gradio")
    return hints


def _strip(url: str) -> str:
    p = urlsplit(url)
    return urlunsplit((p.scheme, p.netloc, p.path.rstrip("/"), "", ""))


def _discover(call: Call, base: str) -> list[tuple[str, str]]:
    """Protocols whose read-only discovery endpoints answer at ``base``."""
    found: list[tuple[str, str]] = []
    ready = call.send("GET", join(base, "/v2/health/ready"), None, timed=False, ok_only=False).status == 200
    meta = call.discover(join(base, "/v2"))
    if ready or (isinstance(meta, dict) and ("extensions" in meta or meta.get("name"))):
        found.append(("open-inference-v2", base))
    listing = call.discover(join(base, "/v1/models"))
    if isinstance(listing, dict) and isinstance(listing.get("models"), list):
        found.append(("kserve-v1", base))
    info = call.discover(join(base, "/gradio_api/info")) or call.discover(join(base, "/info"))
    config = None if isinstance(info, dict) and "named_endpoints" in info else call.discover(join(base, "/config"))
    if (isinstance(info, dict) and "named_endpoints" in info) or (
            isinstance(config, dict) and "version" in config and ("components" in config or "dependencies" in config)):
        found.append(("gradio", base))
    ping = call.send("GET", join(base, "/ping"), None, timed=False, ok_only=False)
    if ping.status == 200:
        version = call.send("GET", join(base, "/version"), None, timed=False, ok_only=False)
        health = call.send("GET", join(base, "/health"), None, timed=False, ok_only=False)
        if version.status == 200 or health.status == 200:
            found.append(("mlflow", join(base, "/invocations")))
    return found


def _candidates(call: Call, url: str) -> list[tuple[str, str]]:
    root, given = origin(url), _strip(url)
    has_path = given != root
    out: list[tuple[str, str]] = [(h, url) for h in path_hints(url)]
    model = call.target.model_name
    if model:  # a named model: the V1/V2 connectors build its URL from the base; TorchServe's /predictions/NAME
        out += [("open-inference-v2", url), ("kserve-v1", url),
                ("generic", join(root, "/predictions/" + quote(model, safe="")))]
    if has_path:
        out += [("generic", url), ("hf", url)]
    bases = [given, root] if has_path and not path_hints(url) else [root]
    for base in dict.fromkeys(bases):
        out += _discover(call, base)
    if not has_path:
        out += [("generic", url), ("hf", url)]
    out += [(proto, join(root, path)) for proto, path in COMMON_PATHS]
    return list(dict.fromkeys(out))


def detect(session: requests.Session, target: ProbeTarget, row: dict[str, Any]) -> tuple[str, str]:
    """Find the protocol ``target.url`` speaks: (protocol, resolved URL). EndpointError when none does."""
    probe_t = replace(target, protocol="generic")
    call = Call(session, probe_t, dict(row))
    try:
        call.send("GET", target.url, None, timed=False, ok_only=False)  # reachability (GET is safe)
    except ProbeFault as fault:
        if fault.kind in ("connection_error", "timeout"):
            raise EndpointError(f"cannot reach {target.url}: {fault.detail}", kind=fault.kind) from None
    tried: list[str] = []
    refused_auth: int | None = None          # 401/403: the credentials, not the protocol, are the problem
    rejected: str | None = None              # the first other 4xx (400, 422, ...): usually the payload's columns
    for protocol, url in _candidates(call, target.url):
        attempt = Call(session, replace(target, protocol=protocol, url=url), dict(row))
        connector = get_connector(protocol)
        try:
            parsed = connector.predict(attempt)
        except ProbeFault as fault:
            code = fault.status_code
            status = f"HTTP {code}" if code and code >= 300 else fault.kind  # 200 + bad body: say what was bad
            if code in (401, 403):
                refused_auth = refused_auth or code
            elif code and 400 <= code < 500 and code not in (404, 405) and rejected is None:
                rejected = fault.detail
            tried.append(f"{protocol} {urlsplit(url).path or '/'} ({status})")
            continue
        if parsed.useful:
            return protocol, connector.resolved_url(attempt)
    shown = "; ".join(tried[:6]) + ("; ..." if len(tried) > 6 else "")
    base_only = urlsplit(target.url).path in ("", "/")
    hint = "; a server of named models needs the model name" if base_only and not target.model_name else ""
    if refused_auth:
        hint += f"; HTTP {refused_auth} means the server refused the credentials: check the headers"
    elif rejected:
        hint += f"; the server said {rejected[:160]!r} (does the probe set have the model's columns?)"
    raise EndpointError(f"no known protocol answered at {target.url} (tried {shown}){hint}")


def detect_protocol(url: str, headers: dict[str, str] | None, row: dict[str, Any],
                    timeout_s: float = 5.0, model_name: str | None = None) -> tuple[str, str]:
    """Detect the protocol of an endpoint URL (base URL or full path): returns (protocol, resolved URL).

    Read-only discovery first (``/v2/health/ready``, ``/v2``, ``/v1/models``, ``/gradio_api/info``,
    ``/config``, ``/ping`` + ``/version``), then one real probe per candidate with ``row``; the first
    protocol whose reply parses wins. Raises :class:`EndpointError` (one line) when unreachable or
    when nothing matches.
    """
    target = ProbeTarget(name=url, url=url, protocol="auto", headers=dict(headers or {}), model_name=model_name,
                         timeout_s=timeout_s)
    with requests.Session() as session:
        return detect(session, target, row)
