"""Open Inference Protocol V2 (MLServer, Triton, KServe V2): ``POST /v2/models/NAME/infer`` with typed tensors.

Asks for ``predict`` + ``predict_proba`` outputs when the model declares none (MLServer's sklearn runtime offers
both), falls back to the model's default outputs, and reads tensors by datatype/shape: probabilities -> confidence = max,
prediction = argmax; label tensors -> prediction only.
"""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import urlsplit

from app.probing.base import Connector, Parsed, ProbeFault, join, register
from app.probing.http import Call
from app.probing.interpret import as_probabilities, canonical, from_probabilities, sigmoid_output

__all__ = ["OpenInferenceV2Connector", "build_inputs", "infer_url", "parse_outputs", "ready_models", "v2_base"]

_MODEL_PATH = re.compile(r"^(?P<prefix>.*?)/v2/models/(?P<name>[^/]+)(?P<ver>/versions/[^/]+)?(?:/\w+)?/?$")
_PROBA_NAMES = ("predict_proba", "probabilities", "probability", "probas", "proba", "probs", "output_probability")
_LABEL_NAMES = ("predict", "label", "labels", "prediction", "predictions", "output_label", "class", "classes")
_INT_TYPES = ("INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64")


def v2_base(url: str) -> str:
    """Server root of a V2 URL (anything before ``/v2``).

    >>> v2_base("http://h:8080/v2/models/m/infer"), v2_base("http://h:8080/")
    ('http://h:8080', 'http://h:8080')
    """
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path.split('/v2', 1)[0]}".rstrip("/")


def infer_url(url: str, model_name: str | None = None) -> str | None:
    """The ``/infer`` URL when it can be known without asking the server.

    >>> infer_url("http://h/v2/models/iris/ready")
    'http://h/v2/models/iris/infer'
    >>> infer_url("http://h/v2/models/iris/versions/2")
    'http://h/v2/models/iris/versions/2/infer'
    >>> infer_url("http://h:8080", "bc")
    'http://h:8080/v2/models/bc/infer'
    """
    parts = urlsplit(url)
    m = _MODEL_PATH.match(parts.path)
    if m:
        return f"{parts.scheme}://{parts.netloc}{m.group('prefix')}/v2/models/{m.group('name')}{m.group('ver') or ''}/infer"
    return join(v2_base(url), f"/v2/models/{model_name}/infer") if model_name else None


def ready_models(listing: Any) -> list[str]:
    """Model names from ``GET /v2/models`` or ``POST /v2/repository/index`` (READY ones when states are given).

    >>> ready_models([{"name": "a", "state": "READY"}, {"name": "b", "state": "UNAVAILABLE"}])
    ['a']
    >>> ready_models({"models": ["x", "y"]})
    ['x', 'y']
    """
    items = listing.get("models") if isinstance(listing, dict) else listing
    if not isinstance(items, list):
        return []
    names = []
    for it in items:
        if isinstance(it, str):
            names.append(it)
        elif isinstance(it, dict) and it.get("name") and str(it.get("state", "READY")).upper() == "READY":
            names.append(str(it["name"]))
    return list(dict.fromkeys(names))


def _cast(value: Any, datatype: str) -> Any:
    if datatype == "BYTES":
        return "" if value is None else str(value)
    if datatype == "BOOL":
        return bool(value)
    if value is None:
        return float("nan") if datatype.startswith("FP") else 0
    return int(value) if datatype in _INT_TYPES else float(value)


def build_inputs(row: dict[str, Any], meta: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Input tensors for one row: one tensor per feature when the model declares inputs named like the
    features, else a single ``[1, n]`` tensor (named and typed as the model declares, ``FP64`` by default).

    >>> build_inputs({"a": 1, "b": 2.5})
    [{'name': 'input-0', 'shape': [1, 2], 'datatype': 'FP64', 'data': [1.0, 2.5]}]
    """
    declared = [i for i in (meta or {}).get("inputs") or [] if isinstance(i, dict) and i.get("name")]
    if len(declared) > 1 and all(i["name"] in row for i in declared):
        out = []
        for i in declared:
            dt = str(i.get("datatype") or "FP64")
            shape = [1, 1] if len(i.get("shape") or [-1, 1]) >= 2 else [1]
            out.append({"name": i["name"], "shape": shape, "datatype": dt, "data": [_cast(row[i["name"]], dt)]})
        return out
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) or v is None for v in row.values())
    dt = str(declared[0].get("datatype")) if len(declared) == 1 and declared[0].get("datatype") else (
        "FP64" if numeric else "BYTES")
    name = str(declared[0]["name"]) if len(declared) == 1 else "input-0"
    return [{"name": name, "shape": [1, len(row)], "datatype": dt, "data": [_cast(v, dt) for v in row.values()]}]


def _flat(data: Any) -> list[Any]:
    if isinstance(data, list):
        out: list[Any] = []
        for d in data:
            out.extend(_flat(d))
        return out
    return [data]


def _first_row(data: list[Any], shape: Any) -> list[Any]:
    """The first item of a batched tensor (we send one row): ``[3, 2]`` -> the first 2 values.

    >>> _first_row([1, 2, 3, 4, 5, 6], [3, 2])
    [1, 2]
    """
    if isinstance(shape, list) and len(shape) >= 2 and all(isinstance(d, int) and d > 0 for d in shape):
        size = math.prod(shape[1:])
        return data[:size]
    return data


def parse_outputs(body: Any) -> Parsed:
    """Read an inference response: a probability tensor (FP, sums to one, or named like ``predict_proba``)
    gives confidence and argmax; a label tensor gives the prediction.

    >>> parse_outputs({"outputs": [{"name": "predict_proba", "shape": [1, 2], "datatype": "FP64",
    ...                             "data": [0.1, 0.9]}]})
    Parsed(prediction='1', confidence=0.9, probabilities={'0': 0.1, '1': 0.9})
    >>> parse_outputs({"outputs": [{"name": "predict", "shape": [1, 1], "datatype": "INT64", "data": [0]}]})
    Parsed(prediction='0', confidence=None, probabilities=None)
    """
    outs = body.get("outputs") if isinstance(body, dict) else None
    if not isinstance(outs, list) or not outs or not all(isinstance(o, dict) for o in outs):
        if isinstance(body, dict) and body.get("error"):
            raise ProbeFault("protocol_error", f"server reported an error: {str(body['error'])[:100]}")
        raise ProbeFault("malformed_response", "V2 response has no 'outputs' tensors")
    probs: dict[str, float] | None = None
    label: str | None = None
    fallback: Parsed | None = None
    for o in outs:
        name = str(o.get("name", "")).lower()
        dt = str(o.get("datatype", "")).upper()
        data = _first_row(_flat(o.get("data")), o.get("shape"))
        if not data:
            continue
        if any(isinstance(x, float) and not math.isfinite(x) for x in data):
            raise ProbeFault("malformed_response", f"output {name!r} holds a non-finite value")
        if probs is None and dt.startswith(("FP", "BF")) and len(data) >= 2:
            p = as_probabilities(data, named=name in _PROBA_NAMES)
            if p is not None:
                probs = p
                continue
        if label is None and (name in _LABEL_NAMES or dt in _INT_TYPES or dt in ("BYTES", "BOOL")) and len(data) >= 1:
            label = canonical(data[0].decode() if isinstance(data[0], bytes) else data[0])
            continue
        if fallback is None:
            nums = [float(x) for x in data if isinstance(x, (int, float)) and not isinstance(x, bool)]
            if len(nums) == len(data) and len(nums) >= 2:
                fallback = Parsed(str(nums.index(max(nums))))  # scores/logits: argmax, no confidence
            elif len(data) == 1:  # one FP value in (0, 1) is a sigmoid unit's P(class 1), else a label
                fallback = (dt.startswith(("FP", "BF")) and sigmoid_output(data[0])) or Parsed(canonical(data[0]))
    if probs is not None:
        if label is not None and label not in probs:  # class names vs. column indices: keep the name
            return Parsed(label, max(probs.values()), probs)
        return from_probabilities(probs, label)
    if label is not None:
        return Parsed(label)
    if fallback is not None:
        return fallback
    raise ProbeFault("malformed_response", "V2 response outputs hold no data")


class OpenInferenceV2Connector(Connector):
    """Resolves the model (URL, ``model_name``, ``GET /v2/models`` or the repository index) once per session."""

    name = "open-inference-v2"

    def resolve(self, call: Call) -> str:
        url = infer_url(call.target.url, call.target.model_name)
        if url:
            return url
        key = ("oip-url", call.target.url)
        if key not in call.memo:
            base = v2_base(call.target.url)
            names = ready_models(call.discover(join(base, "/v2/models")))
            if not names:
                names = ready_models(call.discover(join(base, "/v2/repository/index"), {}, "POST"))
            if len(names) != 1:
                raise ProbeFault("protocol_error", f"cannot tell which model to call: the server lists {len(names)}"
                                 f" ready models ({', '.join(names[:5])}); give the model name")
            call.memo[key] = join(base, f"/v2/models/{names[0]}/infer")
        return str(call.memo[key])

    def resolved_url(self, call: Call) -> str:
        return self.resolve(call)

    def metadata(self, call: Call, url: str) -> dict[str, Any]:
        key = ("oip-meta", url)
        if key not in call.memo:
            meta = call.discover(url.rsplit("/infer", 1)[0])
            call.memo[key] = meta if isinstance(meta, dict) else {}
        return dict(call.memo[key])

    def predict(self, call: Call) -> Parsed:
        url = self.resolve(call)
        if call.target.payload_template is not None:
            return parse_outputs(call.json_of(call.post(url, call.body(None))))
        meta = self.metadata(call, url)
        inputs = build_inputs(call.row, meta)
        declared = [str(o.get("name")) for o in meta.get("outputs") or [] if isinstance(o, dict)]
        key = ("oip-outputs", url)
        if key in call.memo:
            plans = [call.memo[key]]
        elif declared:
            plans = [None]  # the model says what it returns: ask for everything
        else:
            plans = [("predict", "predict_proba"), None]  # MLServer sklearn: labels + probabilities if offered
        for i, plan in enumerate(plans):
            body: dict[str, Any] = {"inputs": inputs}
            if plan:
                body["outputs"] = [{"name": name} for name in plan]
            try:
                reply = call.post(url, body)
            except ProbeFault as fault:
                if fault.kind == "http_error" and i < len(plans) - 1:
                    if fault.status_code is not None and fault.status_code < 500:
                        call.memo[key] = None  # the model refuses that output: never ask again
                    call.restart_clock()
                    continue
                raise
            parsed = parse_outputs(call.json_of(reply))
            if i == 0:
                call.memo.setdefault(key, plan)
            return parsed
        raise ProbeFault("protocol_error", "no V2 inference request accepted")  # pragma: no cover


register(OpenInferenceV2Connector())
