"""MLflow scoring server: ``POST /invocations`` with ``dataframe_split`` -> ``{"predictions": [...]}``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from app.probing.base import Connector, Parsed, join, register
from app.probing.generic import post_first_accepted_shape
from app.probing.http import Call

__all__ = ["MLflowConnector", "invocations_url", "mlflow_body"]


def invocations_url(url: str) -> str:
    """The scoring URL: a base URL gets ``/invocations``; a URL with a path is used as given.

    >>> invocations_url("http://h:5000"), invocations_url("http://h:5000/invocations")
    ('http://h:5000/invocations', 'http://h:5000/invocations')
    """
    return join(url, "/invocations") if urlsplit(url).path in ("", "/") else url


def mlflow_body(shape: str, row: dict[str, Any]) -> Any:
    """MLflow 2+/3 ``dataframe_split`` (default), ``dataframe_records``, or the 1.x pandas-split body.

    >>> mlflow_body("dataframe_split", {"a": 1, "b": 2})
    {'dataframe_split': {'columns': ['a', 'b'], 'data': [[1, 2]]}}
    """
    split = {"columns": list(row), "data": [list(row.values())]}
    return {"dataframe_split": {"dataframe_split": split}, "dataframe_records": {"dataframe_records": [dict(row)]},
            "pandas_split": split}[shape]


_SHAPES = ("dataframe_split", "dataframe_records", "pandas_split")


class MLflowConnector(Connector):
    """Labels only for the sklearn flavour (confidence None); probability lists/dicts are read when returned."""

    name = "mlflow"

    def resolved_url(self, call: Call) -> str:
        return invocations_url(call.target.url)

    def predict(self, call: Call) -> Parsed:
        return post_first_accepted_shape(call, invocations_url(call.target.url), "mlflow", list(_SHAPES),
                                         mlflow_body)


register(MLflowConnector())
