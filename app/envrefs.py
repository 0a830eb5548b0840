"""Header values that name an environment variable (``Authorization: Bearer ${MODEL_TOKEN}``), so a token
need not be stored in the database: the reference is stored, the value is read when a probe is sent."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from app.errors import InputError

__all__ = ["expand_headers"]

_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_headers(headers: Mapping[str, str] | None, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Headers with every ``${NAME}`` replaced by that environment variable's value.

    A reference to an unset variable is an ``InputError`` that names the header and the variable, never a
    value; the watcher records it as the endpoint's configuration error and retries.

    >>> expand_headers({"Authorization": "Bearer ${T}", "X-Team": "ml"}, {"T": "abc"})
    {'Authorization': 'Bearer abc', 'X-Team': 'ml'}
    >>> expand_headers({"X-Key": "${NOPE}"}, {})
    Traceback (most recent call last):
    ...
    app.errors.InputError: header 'X-Key' refers to environment variable NOPE, which is not set
    """
    env = os.environ if environ is None else environ
    out: dict[str, str] = {}
    for key, value in (headers or {}).items():
        text = str(value)
        missing = [name for name in _REF.findall(text) if name not in env]
        if missing:
            raise InputError(f"header {key!r} refers to environment variable {missing[0]}, which is not set")
        out[key] = _REF.sub(lambda m: env[m.group(1)], text)
    return out
