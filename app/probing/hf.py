"""Hugging Face style: POST ``{"inputs": ...}`` -> ``[[{"label", "score"}]]`` / ``[{"label", "score"}]``."""

from __future__ import annotations

from typing import Any

from app.probing.base import Connector, Parsed, register
from app.probing.http import Call
from app.probing.interpret import interpret

__all__ = ["HFConnector", "hf_inputs"]


def hf_inputs(row: dict[str, Any]) -> Any:
    """What goes under ``inputs``: the single value of a one-column row (text), else the row.

    >>> hf_inputs({"text": "great movie"})
    'great movie'
    >>> hf_inputs({"a": 1, "b": 2})
    {'a': 1, 'b': 2}
    """
    return next(iter(row.values())) if len(row) == 1 else dict(row)


class HFConnector(Connector):
    """Inference-API style text/tabular classification (also Inference Endpoints and TEI-like servers)."""

    name = "hf"

    def predict(self, call: Call) -> Parsed:
        body = call.body({"inputs": hf_inputs(call.row)})
        return interpret(call.json_of(call.post(call.target.url, body)))


register(HFConnector())
