"""Logged predictions posted as records (HTTP ingest): the same row building and checks as `mlfi ingest`."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from app.analysis.ingest import refuse_probed
from app.analysis.ingest_rows import ROW_COLUMNS, Roles, chunk_rows
from app.errors import InputError, shown
from app.storage import Store
from app.storage.api_ingest import IngestReceipt, insert_rows

__all__ = ["MAX_BATCH_ROWS", "PredictionRecord", "ingest_records"]

MAX_BATCH_ROWS = 10_000
_ROLE = "(mlfi) "       # prefix of the role columns in the frame (a feature may not start with it)
_WHERE = Path("request")  # chunk_rows names the source in its messages: "request line 3, column ..."


@dataclass(frozen=True)
class PredictionRecord:
    """One logged prediction: feature values by name, the prediction, and what else is known about it."""

    features: dict[str, Any]
    prediction: Any
    confidence: float | None = None
    label: Any = None
    latency_ms: float | None = None
    timestamp: float | None = None


def _has_nul(value: Any) -> bool:
    return isinstance(value, str) and "\x00" in value


def _nul_rows(col: pd.Series) -> pd.Series:
    """True where a value of an object column is a string holding NUL (vectorised; numbers are never)."""
    if pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
        return pd.Series(False, index=col.index)
    try:
        return col.str.contains("\x00", regex=False, na=False).astype(bool)
    except AttributeError:              # no string in the column at all
        return pd.Series(False, index=col.index)


def _refuse_nul(records: Sequence[PredictionRecord], df: pd.DataFrame) -> None:
    """InputError naming the first record with a NUL in a value or a feature name. The columns of ``df``
    are checked at once; records are looked at one by one only for the feature values ``df`` lacks."""
    bad = pd.Series(False, index=df.index)
    for c in df.columns:
        bad |= _nul_rows(df[c])
    if any(_has_nul(c) for c in df.columns):      # a feature name: which record has it
        bad |= pd.Series([any(_has_nul(k) for k in r.features) for r in records], index=df.index)
    if bad.any():
        raise InputError(f"request line {int(bad.to_numpy().argmax()) + 1}: a value holds a NUL character")


def _frame(records: Sequence[PredictionRecord], keep_inputs: bool) -> tuple[pd.DataFrame, Roles]:
    if not keep_inputs:   # the feature values are not in the frame: look at them here
        for i, r in enumerate(records, start=1):
            if any(_has_nul(k) or _has_nul(v) for k, v in r.features.items()):
                raise InputError(f"request line {i}: a value holds a NUL character")
    cols: dict[str, list[Any]] = {
        _ROLE + "prediction": [r.prediction for r in records],
        _ROLE + "confidence": [r.confidence for r in records],
        _ROLE + "label": [r.label for r in records],
        _ROLE + "latency": [r.latency_ms for r in records],
        _ROLE + "ts": [r.timestamp for r in records],
    }
    feats = pd.DataFrame.from_records([r.features for r in records]) if keep_inputs else pd.DataFrame()
    if any(str(c).startswith(_ROLE) for c in feats.columns):
        raise InputError(f"feature name {shown(next(c for c in feats.columns if str(c).startswith(_ROLE)))} is reserved")
    df = pd.concat([pd.DataFrame(cols).reset_index(drop=True), feats.reset_index(drop=True)], axis=1)
    _refuse_nul(records, df)
    df[_ROLE + "confidence"] = pd.to_numeric(df[_ROLE + "confidence"], errors="coerce")
    has = {k: df[_ROLE + k].notna().any() for k in ("confidence", "label", "latency", "ts")}
    roles = Roles(prediction=_ROLE + "prediction", confidence=_ROLE + "confidence" if has["confidence"] else None,
                  label=_ROLE + "label" if has["label"] else None, ts=_ROLE + "ts" if has["ts"] else None,
                  latency=_ROLE + "latency" if has["latency"] else None, features=[str(c) for c in feats.columns])
    if roles.ts is not None:
        df[roles.ts] = pd.to_numeric(df[roles.ts], errors="coerce")
    return df, roles


def ingest_records(store: Store, name: str, records: Sequence[PredictionRecord], *,
                   idempotency: tuple[str, str] | None = None) -> IngestReceipt:
    """Store ``records`` as samples of endpoint ``name`` (source 'ingest') in one transaction.

    The rows are built and checked by the code of `mlfi ingest` (value caps, confidences in [0, 1],
    timestamps after 2000 and not in the future). ``idempotency`` is ``(key, sha256 of the request)``: the
    same key with the same request returns the first receipt and stores nothing; with another request it is
    an InputError. Returns the stored prediction ids (for late labels) in record order.
    """
    if not records:
        raise InputError("no predictions in the request")
    if len(records) > MAX_BATCH_ROWS:
        raise InputError(f"{len(records)} predictions in one request: at most {MAX_BATCH_ROWS}")
    refuse_probed(store, name)
    df, roles = _frame(records, store.keeps_inputs)
    rows = chunk_rows(df, roles, 0, path=_WHERE, first_line=1, now=time.time(), first_row=0)
    endpoint_id = store.upsert_endpoint(name, protocol="ingest").id
    rows = [(endpoint_id, *r[1:]) for r in rows]
    return insert_rows(store.engine, endpoint_id, ROW_COLUMNS, rows, idempotency=idempotency)
