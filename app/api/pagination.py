"""Opaque cursors for list routes: the sort key of the last item returned, base64url JSON."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from app.api.problems import ProblemError

__all__ = ["decode_cursor", "encode_cursor", "int_cursor"]


def encode_cursor(key: list[Any]) -> str:
    """``[1.5, "r1"]`` -> an opaque string that :func:`decode_cursor` reads back.

    >>> decode_cursor(encode_cursor([1.5, "r1"]), 2)
    [1.5, 'r1']
    """
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, length: int) -> list[Any]:
    """The key in ``cursor``; a cursor this service did not issue is a 400."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        key = None
    if not isinstance(key, list) or len(key) != length or any(isinstance(k, (dict, list)) for k in key):
        raise ProblemError(400, "bad cursor: pass the next_cursor of a previous page unchanged", kind="bad-cursor")
    return key


def int_cursor(cursor: str | None) -> int | None:
    """The id in a one-integer cursor (lists ordered by id), None without a cursor; a 400 for anything else.

    >>> int_cursor(encode_cursor([7])), int_cursor(None)
    (7, None)
    """
    if not cursor:
        return None
    key = decode_cursor(cursor, 1)
    if not isinstance(key[0], int) or isinstance(key[0], bool):
        decode_cursor("", 1)
    return int(key[0])
