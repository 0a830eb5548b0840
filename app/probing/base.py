"""Probe targets, parsed predictions, probe faults and the connector registry (one connector per protocol)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from app.errors import InputError
from app.probing.urls import check_url

if TYPE_CHECKING:
    from app.probing.http import Call

__all__ = [
    "Connector",
    "Parsed",
    "ProbeFault",
    "ProbeTarget",
    "check_protocol",
    "get_connector",
    "join",
    "origin",
    "protocols",
    "register",
]

def check_protocol(protocol: str, *, allow_auto: bool = True) -> str:
    """Return ``protocol`` if known, else raise :class:`InputError`.

    >>> check_protocol("mlflow")
    'mlflow'
    >>> check_protocol("soap")
    Traceback (most recent call last):
    ...
    app.errors.InputError: unknown protocol 'soap': choose one of auto, generic, mlflow, kserve-v1, open-inference-v2, gradio, hf
    """
    known = protocols()
    if protocol in known or (allow_auto and protocol == "auto"):
        return protocol
    raise InputError(f"unknown protocol {protocol!r}: choose one of auto, {', '.join(known)}")


@dataclass(frozen=True)
class ProbeTarget:
    """An endpoint to probe. ``headers`` (auth) are sent but never shown: ``repr`` masks their values.

    ``payload_template`` (optional JSON value with ``{{feature}}`` placeholders) replaces the protocol's
    default request body; see :mod:`app.probing.probe_set`.
    """

    name: str
    url: str
    protocol: str = "auto"
    headers: dict[str, str] = field(default_factory=dict)
    model_name: str | None = None
    timeout_s: float = 5.0
    payload_template: Any = None

    def __post_init__(self) -> None:
        check_protocol(self.protocol)
        check_url(self.url)
        if not self.timeout_s or self.timeout_s <= 0:
            raise InputError(f"timeout must be > 0 seconds, got {self.timeout_s}")

    def __repr__(self) -> str:
        hdr = {k: "***" for k in self.headers}
        return (f"ProbeTarget(name={self.name!r}, url={self.url!r}, protocol={self.protocol!r}, headers={hdr}, "
                f"model_name={self.model_name!r}, timeout_s={self.timeout_s})")

    __str__ = __repr__

    @property
    def secrets(self) -> tuple[str, ...]:
        """Header values that must never appear in a recorded detail."""
        return tuple(v for v in self.headers.values() if v and len(v) >= 3)


@dataclass(frozen=True)
class Parsed:
    """What a connector understood from one response."""

    prediction: str | None
    confidence: float | None = None
    probabilities: dict[str, float] | None = None

    @property
    def useful(self) -> bool:
        return self.prediction is not None or self.confidence is not None


class ProbeFault(Exception):
    """An endpoint fault met while probing; becomes an error sample, never reaches the user."""

    def __init__(self, kind: str, detail: str, status_code: int | None = None) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.status_code = status_code


class Connector(ABC):
    """One wire protocol: how to build the request, send it, and parse what comes back."""

    name: str = ""

    @abstractmethod
    def predict(self, call: Call) -> Parsed:
        """Send one probe for ``call.row`` and parse the reply (raise :class:`ProbeFault` on faults)."""

    def resolved_url(self, call: Call) -> str:
        """After a successful probe: the full URL to keep for this endpoint (default: as given)."""
        return call.target.url


_REGISTRY: dict[str, Connector] = {}


def register(connector: Connector) -> Connector:
    """Register a connector under its protocol name (done once, at import)."""
    name = connector.name
    if not name or name == "auto":
        raise TypeError(f"{type(connector).__name__} has no protocol name ('auto' is reserved)")
    if name in _REGISTRY and type(_REGISTRY[name]) is not type(connector):
        raise TypeError(f"protocol {name!r} is already registered by {type(_REGISTRY[name]).__name__}")
    _REGISTRY[name] = connector
    return connector


def protocols() -> tuple[str, ...]:
    """The wire protocols mlfi speaks, in the order :mod:`app.probing.connectors` plugs them in ("auto" detects one).

    >>> protocols()
    ('generic', 'mlflow', 'kserve-v1', 'open-inference-v2', 'gradio', 'hf')
    """
    from app.probing import connectors  # noqa: F401  (fills the registry; the protocol modules import this one)

    return tuple(_REGISTRY)


def get_connector(protocol: str) -> Connector:
    """The connector for a protocol name (InputError when unknown)."""
    check_protocol(protocol, allow_auto=False)
    return _REGISTRY[protocol]


def origin(url: str) -> str:
    """``scheme://host:port`` of a URL.

    >>> origin("http://127.0.0.1:9000/predict?x=1")
    'http://127.0.0.1:9000'
    """
    p = urlsplit(url)
    return f"{p.scheme}://{p.netloc}"


def join(base: str, path: str) -> str:
    """Join a base URL and an absolute path without doubling slashes.

    >>> join("http://h:1/app/", "/v2/models")
    'http://h:1/app/v2/models'
    """
    return base.rstrip("/") + "/" + path.lstrip("/")
