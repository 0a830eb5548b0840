"""Endpoint error text under ``MLFI_STORE_INPUTS=none``: an endpoint may echo the request in its error
(``invalid value 3.14 for 'age'``, a pydantic error listing the input, a stack trace with the body), so the
text that is stored is reduced to what cannot carry a feature value.

The rule, in order:

1. Only the first line is kept (tracebacks and echoed bodies follow the first line).
2. Every quoted string (``'...'``, ``"..."``, ```...```) becomes ``'…'``: categorical values and echoed
   JSON keys/values are quoted.
3. Every bracketed group (``{...}``, ``[...]``, ``(...)``) becomes ``{…}`` / ``[…]`` / ``(…)``: echoed
   objects, arrays and tuples.
4. Every number (sign, digits, decimal point, exponent) becomes ``#``; so does any word that contains a
   digit (hex ids, ``x1=0.5``-style tokens).
5. The result is capped at ``MAX_CHARS`` characters.

What remains is the error's wording ("could not convert string to float", "HTTP #: Unprocessable Entity"),
enough to tell error kinds apart; the error kind and status code are stored as before. An unquoted
categorical value in free text survives rule 2-4; the cap bounds how much of such text can remain.
"""

from __future__ import annotations

import re

__all__ = ["MAX_CHARS", "redact_error"]

MAX_CHARS = 120

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`")
_GROUPS = ((re.compile(r"\{[^{}]*\}"), "{…}"), (re.compile(r"\[[^\[\]]*\]"), "[…]"), (re.compile(r"\([^()]*\)"), "(…)"))
_DIGIT_WORD = re.compile(r"[\w.+-]*\d[\w.+-]*")


def redact_error(text: str | None) -> str | None:
    """The error text with quoted strings, bracketed groups and numbers removed, capped (see the module).

    >>> redact_error("invalid value 3.25 for 'age': expected < 1e3 {\\"age\\": 3.25}\\nTraceback ...")
    "invalid value # for '…': expected < # {…}"
    >>> redact_error("HTTP 422: Unprocessable Entity")
    'HTTP #: Unprocessable Entity'
    """
    if text is None:
        return None
    s = text.strip().splitlines()[0] if text.strip() else ""
    s = _QUOTED.sub("'…'", s)
    for pattern, repl in _GROUPS:
        prev = None
        while prev != s:               # nested groups collapse from the inside out
            prev, s = s, pattern.sub(repl, s)
    s = _DIGIT_WORD.sub("#", s)
    return s[:MAX_CHARS]
