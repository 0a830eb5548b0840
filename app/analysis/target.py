"""An endpoint as the user named it on the command line, merged with the stored one into a probe target."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from loguru import logger

from app.config import Settings
from app.errors import InputError
from app.storage import Endpoint, Store

if TYPE_CHECKING:   # app.probing pulls in pandas: imported when a target is resolved
    from app.probing import ProbeSet, ProbeTarget

__all__ = ["EndpointSpec", "parse_headers", "remember", "resolve_target"]


class EndpointSpec:
    """What the user said about an endpoint on the command line (None = take the stored value)."""

    def __init__(self, url: str, protocol: str | None = None, probe_set: str | None = None,
                 label_column: str | None = None, headers: dict[str, str] | None = None,
                 model_name: str | None = None, timeout_s: float | None = None) -> None:
        self.url, self.protocol, self.probe_set, self.label_column = url, protocol, probe_set, label_column
        self.headers, self.model_name, self.timeout_s = headers, model_name, timeout_s


def parse_headers(items: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``["Authorization: Bearer x"]`` -> ``{"Authorization": "Bearer x"}``; values never logged.

    >>> parse_headers(["X-Key: abc", "A:b:c"])
    {'X-Key': 'abc', 'A': 'b:c'}
    """
    out: dict[str, str] = {}
    for n, item in enumerate(items, start=1):
        if ":" not in item:     # the whole item may be a secret ('Authorization SECRET'): never echo it
            raise InputError(f"bad --header #{n} (value not shown): expected NAME:VALUE")
        k, v = item.split(":", 1)
        if not k.strip():
            raise InputError("bad --header: empty header name")
        out[k.strip()] = v.strip()
    return out


def _validate_url(url: str) -> None:
    from app.probing.urls import check_url

    check_url(url)


def resolve_target(settings: Settings, store: Store, spec: EndpointSpec,
                   persist: bool = True) -> tuple[ProbeTarget, ProbeSet, dict[str, Any]]:
    """Merge CLI flags with the stored endpoint, load the probe set, detect the protocol.

    Returns (ProbeTarget, ProbeSet, endpoint fields). With ``persist`` the merged configuration is
    stored at once; otherwise the caller stores it (``remember``) only after the probes succeeded, so a
    failed run with a wrong probe set never replaces the endpoint's working configuration.
    """
    from app.probing import Overrides, ProbeSet, check_protocol, default_probe_set_path, target_for

    _validate_url(spec.url)
    stored = store.find_endpoint(spec.url) or Endpoint(id=0, name=spec.url)
    check_protocol(spec.protocol or stored.protocol or "auto")   # a bad flag fails before the probe set is read
    headers = spec.headers or stored.headers
    probe_path = spec.probe_set or stored.probe_set or str(default_probe_set_path())
    label_column = spec.label_column or stored.label_column
    if label_column is None and not (spec.probe_set or stored.probe_set):
        label_column = "target"   # the shipped demo probe set is labelled
    if not Path(probe_path).exists():
        raise InputError(f"probe set not found: {probe_path}")
    probe_set = ProbeSet.from_csv(probe_path, label_column=label_column)
    first_row, _ = probe_set.rows(1, seed=0)[0]
    target = target_for(stored, Overrides(url=spec.url, protocol=spec.protocol, headers=spec.headers or {},
                                          model_name=spec.model_name, timeout_s=spec.timeout_s),
                        timeout_s=settings.probe_timeout_s, detect_with=first_row)
    if (spec.protocol or stored.protocol or "auto") == "auto":
        logger.info(f"detected protocol {target.protocol} at {target.url}")
    url, protocol = target.url, target.protocol
    fields = {"url": url, "protocol": protocol, "headers": headers or None,
              "probe_set": str(Path(probe_path).resolve()), "label_column": label_column,
              "model_name": target.model_name}
    if persist:
        remember(store, spec.url, fields)
    return target, probe_set, fields


def remember(store: Store, name: str, fields: dict[str, Any]) -> Endpoint:
    """Store an endpoint's working configuration (URL, protocol, headers, probe set)."""
    return store.upsert_endpoint(name, **fields)

