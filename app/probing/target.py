"""`target_for`: the one way to turn an endpoint (stored or being added) plus overrides into a ProbeTarget."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.envrefs import expand_headers
from app.probing.base import ProbeTarget, check_protocol
from app.probing.detect import detect_protocol

if TYPE_CHECKING:
    from app.storage.endpoints import Endpoint

__all__ = ["Overrides", "target_for"]


@dataclass(frozen=True)
class Overrides:
    """Values given now (CLI flags, a form) that win over the stored endpoint's; None keeps the stored one."""

    url: str | None = None
    protocol: str | None = None
    headers: dict[str, str] = field(default_factory=dict, repr=False)   # empty keeps the stored headers
    model_name: str | None = None
    timeout_s: float | None = None


def target_for(endpoint: Endpoint, overrides: Overrides | None = None, *, timeout_s: float = 5.0,
               detect_with: dict[str, Any] | None = None) -> ProbeTarget:
    """The ProbeTarget of ``endpoint`` with ``overrides`` applied.

    ``${VAR}`` header references are expanded here and only here (InputError naming an unset
    variable). An unknown protocol is an InputError. When the protocol is ``auto`` and a probe-set row
    ``detect_with`` is given, the protocol is detected (EndpointError when nothing answers) and the
    target gets the detected protocol and resolved URL; without a row it stays ``auto``.

    >>> from app.storage.endpoints import Endpoint
    >>> ep = Endpoint(id=1, name="m", url="http://h/p", protocol="mlflow", headers={"X-Team": "ml"})
    >>> t = target_for(ep, Overrides(model_name="iris"), timeout_s=2.0)
    >>> (t.name, t.url, t.protocol, t.headers, t.model_name, t.timeout_s)
    ('m', 'http://h/p', 'mlflow', {'X-Team': 'ml'}, 'iris', 2.0)
    >>> target_for(ep, Overrides(protocol="soap"))
    Traceback (most recent call last):
    ...
    app.errors.InputError: unknown protocol 'soap': choose one of auto, generic, mlflow, kserve-v1, open-inference-v2, gradio, hf
    """
    o = overrides or Overrides()
    url = o.url or endpoint.url or ""
    protocol = check_protocol(o.protocol or endpoint.protocol or "auto")
    headers = expand_headers(o.headers or endpoint.headers)   # stored as typed; ${VAR} read from the environment
    model_name = o.model_name or endpoint.model_name
    timeout = o.timeout_s or timeout_s
    if protocol == "auto" and detect_with is not None:
        protocol, url = detect_protocol(url, headers, detect_with, timeout, model_name=model_name)
    return ProbeTarget(name=endpoint.name, url=url, protocol=protocol, headers=headers, model_name=model_name,
                       timeout_s=timeout)
