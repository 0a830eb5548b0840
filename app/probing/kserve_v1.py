"""KServe V1 (TF-Serving style): ``POST /v1/models/NAME:predict {"instances": [[...]]}`` -> ``{"predictions"}``."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from app.probing.base import Connector, Parsed, ProbeFault, join, register
from app.probing.generic import post_first_accepted_shape
from app.probing.http import Call

__all__ = ["KServeV1Connector", "model_names", "predict_url", "v1_body"]

# row format first; TF-Serving's columnar format and named-input instances when the row format is refused
_SHAPES = ("instances", "inputs", "instances_named")


def v1_body(shape: str, row: dict[str, Any]) -> Any:
    """The ``:predict`` body of one shape.

    >>> v1_body("instances", {"a": 1, "b": 2}), v1_body("inputs", {"a": 1, "b": 2})
    ({'instances': [[1, 2]]}, {'inputs': [[1, 2]]})
    """
    values = list(row.values())
    return {"instances": {"instances": [values]}, "inputs": {"inputs": [values]},
            "instances_named": {"instances": [dict(row)]}}[shape]

_MODEL_PATH = re.compile(r"^(?P<prefix>.*?)/v1/models/(?P<name>[^/:]+)(?::(?P<verb>\w+))?/?$")


def predict_url(url: str, model_name: str | None = None) -> str | None:
    """The ``:predict`` URL when it can be known without asking the server.

    >>> predict_url("http://h/v1/models/iris")
    'http://h/v1/models/iris:predict'
    >>> predict_url("http://h:8080", "iris")
    'http://h:8080/v1/models/iris:predict'
    >>> predict_url("http://h:8080") is None
    True
    """
    parts = urlsplit(url)
    m = _MODEL_PATH.match(parts.path)
    if m:
        return f"{parts.scheme}://{parts.netloc}{m.group('prefix')}/v1/models/{m.group('name')}:predict"
    if model_name:
        return join(_base(url), f"/v1/models/{model_name}:predict")
    return None


def _base(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path.split("/v1/", 1)[0]
    return f"{parts.scheme}://{parts.netloc}{path}".rstrip("/")


def model_names(listing: Any) -> list[str]:
    """Model names from ``GET /v1/models`` (``{"models": ["a"]}`` or ``{"models": [{"name": "a"}]}``).

    >>> model_names({"models": ["sklearn-iris"]})
    ['sklearn-iris']
    """
    models = listing.get("models") if isinstance(listing, dict) else None
    if not isinstance(models, list):
        return []
    return [m if isinstance(m, str) else str(m.get("name")) for m in models
            if isinstance(m, str) or (isinstance(m, dict) and m.get("name"))]


class KServeV1Connector(Connector):
    """The model name comes from the URL, ``model_name``, or the server's ``GET /v1/models`` listing."""

    name = "kserve-v1"

    def resolve(self, call: Call) -> str:
        url = predict_url(call.target.url, call.target.model_name)
        if url:
            return url
        key = ("kserve-v1", call.target.url)
        if key not in call.memo:
            names = model_names(call.discover(join(_base(call.target.url), "/v1/models")))
            if len(names) != 1:
                raise ProbeFault("protocol_error", "cannot tell which model to call: GET /v1/models listed "
                                 f"{len(names)} models ({', '.join(names[:5])}); give the model name")
            call.memo[key] = join(_base(call.target.url), f"/v1/models/{names[0]}:predict")
        return str(call.memo[key])

    def resolved_url(self, call: Call) -> str:
        return self.resolve(call)

    def predict(self, call: Call) -> Parsed:
        return post_first_accepted_shape(call, self.resolve(call), "kserve-v1", list(_SHAPES), v1_body)


register(KServeV1Connector())
