"""JSON bodies as the CLI's ``--json`` prints them: NaN and infinities become null (valid JSON)."""

from __future__ import annotations

import math
from typing import Any

from fastapi.responses import JSONResponse

__all__ = ["finite", "json_response"]


def finite(obj: Any) -> Any:
    """Replace NaN/inf floats by None, recursively.

    >>> finite({"a": [1.0, float("nan")], "b": (float("-inf"),)})
    {'a': [1.0, None], 'b': [None]}
    """
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite(v) for v in obj]
    return obj


def json_response(obj: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(finite(obj), status_code=status_code, headers=headers)
