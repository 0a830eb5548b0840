"""Registering watched endpoints (protocol detected once) and a secret-free view of them."""

from __future__ import annotations

import math
from typing import Any

from loguru import logger

from app.analysis.target import EndpointSpec, resolve_target
from app.config import Settings
from app.errors import InputError
from app.storage import Endpoint, Store

__all__ = ["check_interval", "public_view", "register_urls"]

_PUBLIC = ("id", "name", "url", "protocol", "probe_set", "label_column", "model_name", "interval_s", "enabled",
           "created_at", "last_probe_at", "last_status", "consecutive_failures")


def check_interval(interval: float | None) -> float | None:
    """Validate a probe interval in seconds (None passes).

    >>> check_interval(0.5)
    0.5
    >>> check_interval(0)
    Traceback (most recent call last):
    ...
    app.errors.InputError: bad interval 0: expected a number of seconds > 0
    """
    if interval is None:
        return None
    if not isinstance(interval, (int, float)) or not math.isfinite(interval) or interval <= 0:
        raise InputError(f"bad interval {interval!r}: expected a number of seconds > 0")
    return float(interval)


def register_urls(settings: Settings, store: Store, urls: list[str], *, interval: float | None = None,
                  protocol: str | None = None, probe_set: str | None = None, label_column: str | None = None,
                  headers: dict[str, str] | None = None, model_name: str | None = None,
                  timeout_s: float | None = None, enabled: bool = True) -> list[dict[str, Any]]:
    """Upsert each URL as an endpoint (name = URL). The protocol is detected once when unknown.

    Raises InputError (bad URL, probe set, protocol) or EndpointError (unreachable, no protocol
    matched) before anything is stored for that URL.
    """
    check_interval(interval)
    out = []
    for url in urls:
        existed = store.find_endpoint(url) is not None
        target, _, _ = resolve_target(settings, store, EndpointSpec(
            url, protocol=protocol, probe_set=probe_set, label_column=label_column, headers=headers or None,
            model_name=model_name, timeout_s=timeout_s))
        ivl = interval if interval is not None else (None if existed else settings.watch_interval_s)
        ep = store.upsert_endpoint(url, interval_s=ivl, enabled=enabled)
        logger.info(f"watching {url} ({target.protocol}, every {ep.interval_s:g} s)")
        out.append(public_view(ep))
    return out


def public_view(ep: Endpoint) -> dict[str, Any]:
    """The endpoint row without secrets: header values never leave the database, only their names."""
    out = {k: getattr(ep, k) for k in _PUBLIC}
    out["header_names"] = sorted(ep.headers)
    out["probed"] = ep.probed
    return out
