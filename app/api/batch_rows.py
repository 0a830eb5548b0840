"""The ``samples`` rows of a validated batch (POST .../predictions), built straight from its columns.

The general path (`app.analysis.ingest_records`) puts the records in a pandas frame and runs `mlfi ingest`'s
chunk code over it: about two thirds of a 1,000-row request's CPU went to that round trip. This module
builds the same rows for the common batch, one homogeneous type per column, in one pass, and answers None
for anything else (mixed types in a column, a NUL, an over-long string, a non-finite number, a time out of
range, a reserved or missing feature name...), so that the general path stores it or names the error exactly
as before. `tests/test_api_batch_rows.py` checks both paths give the same rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from app.analysis.ingest_rows import MAX_VALUE_CHARS, _inputs_json

__all__ = ["batch_columns"]

_EARLIEST_TS = 946684800.0      # as app.analysis.ingest_rows: times before 2000 are refused there
_ROLE = "(mlfi) "               # reserved feature-name prefix (app.analysis.ingest_records)
_INT64 = 2**63
_NONE = type(None)


def _ok_str(v: str) -> bool:
    return len(v) <= MAX_VALUE_CHARS and "\x00" not in v


def _texts(values: list[Any]) -> list[str | None] | None:
    """The stored text of a prediction or label column, as the frame path makes it (one type per column,
    or strings/floats with gaps); None when the column needs the general path."""
    kinds = set(map(type, values))
    if kinds <= {str, _NONE}:
        return values if all(v is None or _ok_str(v) for v in values) else None
    if kinds == {int}:                               # int64 column: str() of each
        return list(map(str, values)) if all(-_INT64 <= v < _INT64 for v in values) else None
    if kinds == {bool}:
        return list(map(str, values))
    if kinds <= {float, _NONE} and float in kinds:   # float64 column, a gap is NaN -> None
        if not all(v is None or math.isfinite(v) for v in values):
            return None
        return [None if v is None else str(v) for v in values]
    return None


def _floats(values: list[Any]) -> list[float | None] | None:
    """A confidence or latency column (floats or gaps); None when a value is not a finite number."""
    if not all(v is None or (type(v) in (float, int) and math.isfinite(v)) for v in values):
        return None
    return [None if v is None else float(v) for v in values]


def _times(values: list[Any], now: float, n: int) -> list[float] | None:
    if all(v is None for v in values):               # as chunk_rows: now + i ms keeps the rows in order
        return (now + np.arange(n, dtype=np.int64) * 1e-3).tolist()
    if not all(v is None or (type(v) in (float, int) and math.isfinite(v)) for v in values):
        return None
    vals = [None if v is None else (float(v) if abs(v) < 1e11 else float(v) / 1000.0) for v in values]
    known = [v for v in vals if v is not None]
    if min(known) < _EARLIEST_TS or max(known) > now + 86400:
        return None                                  # the general path words the error
    return [now if v is None else v for v in vals]


def _features_ok(feats: Sequence[dict[str, Any]], same_names: bool) -> tuple[bool, bool]:
    """(whether every feature value is a finite number, a boolean, a gap or a short string without NUL, no
    name holds a NUL or the reserved prefix, and with ``same_names`` every row has the first row's names in
    its order; whether every value is a float)."""
    names = tuple(feats[0])
    floats = True
    for f in feats:
        if same_names and tuple(f) != names:
            return False, False
        if (not same_names or f is feats[0]) and any(k.startswith(_ROLE) or "\x00" in k for k in f):
            return False, False
        for v in f.values():
            tv = type(v)
            if tv is float:
                if not math.isfinite(v):
                    return False, False
                continue
            floats = False
            if tv is int:
                if not -_INT64 <= v < _INT64:
                    return False, False
            elif tv is str:
                if not _ok_str(v):
                    return False, False
            elif tv is not bool and v is not None:
                return False, False
    return True, floats


def batch_columns(rows: Sequence[Any], keep_inputs: bool, now: float) -> list[list[Any]] | None:
    """The columns ts, prediction, confidence, label, correct, latency_ms, inputs_json of ``rows`` (validated
    BatchRow objects), or None when the batch must take the general path."""
    n = len(rows)
    preds = _texts([r.prediction for r in rows])
    if preds is None or None in preds:
        return None
    raw_labels = [r.label for r in rows]
    labels: list[str | None] | None = [None] * n if all(v is None for v in raw_labels) else _texts(raw_labels)
    confs = _floats([r.confidence for r in rows])
    lats = _floats([r.latency_ms for r in rows])
    ts = _times([r.timestamp for r in rows], now, n)
    if labels is None or confs is None or lats is None or ts is None:
        return None
    feats = [r.features for r in rows]
    ok, floats = _features_ok(feats, same_names=keep_inputs)
    if not ok:
        return None
    inputs: list[str | None] = [None] * n
    if keep_inputs and feats[0]:
        names = list(feats[0])            # all floats: the float64 frame from_records would build, directly
        frame = (pd.DataFrame(np.array([list(f.values()) for f in feats], dtype=np.float64), columns=names)
                 if floats else pd.DataFrame.from_records(feats))
        inputs = list(_inputs_json(frame))
    correct = [None if lab is None else int(lab == pr) for lab, pr in zip(labels, preds)]
    return [ts, preds, confs, labels, correct, lats, inputs]
