"""Generic REST: POST the row as JSON, read ``{"prediction", "confidence"}`` and its close variants."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.probing.base import Connector, Parsed, ProbeFault, register
from app.probing.http import Call
from app.probing.interpret import interpret

__all__ = ["BODY_SHAPES", "GenericConnector", "post_first_accepted_shape", "retry_with_next_shape", "shape_body"]

# request shapes a hand-written REST model commonly accepts, tried in order until one is not rejected (4xx)
BODY_SHAPES = ("features", "inputs", "row", "features_list", "instances", "ndarray", "records", "array")
_REJECTED = (400, 405, 415, 422)


def shape_body(shape: str, row: dict[str, Any]) -> Any:
    """The request body of one shape.

    >>> shape_body("features", {"a": 1})
    {'features': {'a': 1}}
    >>> shape_body("instances", {"a": 1, "b": 2})
    {'instances': [[1, 2]]}
    >>> shape_body("records", {"a": 1}), shape_body("array", {"a": 1, "b": 2})   # bare JSON lists (BentoML)
    ([{'a': 1}], [[1, 2]])
    """
    values = list(row.values())
    return {"features": {"features": row}, "inputs": {"inputs": row}, "row": dict(row),
            "features_list": {"features": values}, "instances": {"instances": [values]},
            "ndarray": {"data": {"names": list(row), "ndarray": [values]}},  # Seldon Core v1 style
            "records": [dict(row)], "array": [values]}[shape]


def post_first_accepted_shape(call: Call, url: str, kind: str, shapes: list[Any],
                              build: Callable[[Any, dict[str, Any]], Any]) -> Parsed:
    """POST the row in the first request shape the server accepts, remembered per URL on the session.

    A payload template, when configured, replaces the shapes. A refusal of the shape itself
    (400/405/415/422) moves on to the next shape; any other fault is the endpoint's and is raised.
    """
    if call.target.payload_template is not None:
        return interpret(call.json_of(call.post(url, call.body(None))))
    key = (kind, url)
    tries = [call.memo[key]] if key in call.memo else shapes
    for i, shape in enumerate(tries):
        try:
            reply = call.post(url, build(shape, call.row))
        except ProbeFault as fault:
            if retry_with_next_shape(fault, i < len(tries) - 1):
                call.restart_clock()
                continue
            raise
        parsed = interpret(call.json_of(reply))
        call.memo[key] = shape
        return parsed
    raise ProbeFault("protocol_error", f"no {kind} request shape accepted")  # pragma: no cover


def retry_with_next_shape(fault: ProbeFault, more: bool) -> bool:
    """Whether a fault says 'wrong request shape' (so the next shape is worth one try)."""
    return more and fault.kind == "http_error" and fault.status_code in _REJECTED


class GenericConnector(Connector):
    """``POST URL {"features": {...}}`` (or another common shape) -> a JSON prediction."""

    name = "generic"

    def predict(self, call: Call) -> Parsed:
        return post_first_accepted_shape(call, call.target.url, "generic", list(BODY_SHAPES), shape_body)


register(GenericConnector())
