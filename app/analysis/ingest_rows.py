"""One parsed CSV chunk -> ``samples`` table rows: role columns, value caps, timestamps, no per-row objects."""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from app.checks import check_unit_interval
from app.errors import InputError, shown

__all__ = ["MAX_VALUE_CHARS", "ROW_COLUMNS", "Roles", "chunk_rows", "timestamps"]

MAX_VALUE_CHARS = 10_000    # a cell longer than this is refused: ingested values are model inputs, not documents
_EARLIEST_TS = 946684800.0  # 2000-01-01: logged predictions older than that are a wrong column


@dataclass(frozen=True)
class Roles:
    """Which columns hold the prediction, confidence, label, time and latency; the rest are features."""

    prediction: str
    confidence: str | None
    label: str | None
    ts: str | None
    latency: str | None
    features: list[str]


def timestamps(col: pd.Series, name: str, now: float) -> list[float]:
    """Epoch seconds from dates or epoch numbers (seconds, or milliseconds when that large); rows without a
    time get ``now``. A column whose times fall before 2000 or after tomorrow is not a timestamp column.

    >>> timestamps(pd.Series(["2026-01-02T00:00:00Z", None]), "ts", 1.8e9)
    [1767312000.0, 1800000000.0]
    >>> timestamps(pd.Series([1767312000000]), "ts", 1.8e9)
    [1767312000.0]
    >>> timestamps(pd.Series([0, 1]), "label", 1.8e9)
    Traceback (most recent call last):
    ...
    app.errors.InputError: timestamp column 'label' holds times from 1970-01-01 to 1970-01-01: not a timestamp column (dates or epoch seconds after 2000 expected)
    """
    if pd.api.types.is_numeric_dtype(col):
        vals = col.astype(float)
        vals = vals.where(vals.abs() < 1e11, vals / 1000.0)          # epoch milliseconds
    else:
        parsed = pd.to_datetime(col, errors="coerce", utc=True, format="mixed")
        if parsed.isna().all():
            raise InputError(f"timestamp column {name!r} is neither dates nor epoch seconds")
        vals = pd.Series([p.timestamp() if not pd.isna(p) else float("nan") for p in parsed], index=col.index)
    known = vals.dropna()
    if not known.empty and (known.min() < _EARLIEST_TS or known.max() > now + 86400):
        lo, hi = (_day(v) for v in (known.min(), known.max()))
        raise InputError(f"timestamp column {name!r} holds times from {lo} to {hi}: not a timestamp column "
                         "(dates or epoch seconds after 2000 expected)")
    return [now if pd.isna(v) else float(v) for v in vals]


def _day(epoch_s: float) -> str:
    """``'2026-01-02'``, or the number itself when no calendar date holds it.

    >>> _day(1767312000.0), _day(1e300)
    ('2026-01-02', '1e+300 s')
    """
    try:
        return str(pd.to_datetime(epoch_s, unit="s", utc=True).strftime("%Y-%m-%d"))
    except (OverflowError, ValueError, pd.errors.OutOfBoundsDatetime):
        return f"{epoch_s:g} s"


def _check_sizes(df: pd.DataFrame, path: Path, first_line: int) -> None:
    for c in df.columns:
        col = df[c]
        if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
            continue
        lengths = col.astype(str).str.len().where(col.notna(), 0)
        if len(lengths) and int(lengths.max()) > MAX_VALUE_CHARS:
            i = int(np.argmax(lengths.to_numpy()))
            raise InputError(f"{path.name} line {first_line + i}, column {shown(c, 40)}: a value of "
                             f"{int(lengths.iloc[i])} characters; ingested values are capped at {MAX_VALUE_CHARS}")


def _text(col: pd.Series) -> list[str | None]:
    if pd.api.types.is_integer_dtype(col.dtype) and not col.hasnans:     # no missing value: str() of each
        return list(map(str, col.tolist()))
    return [None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in col.tolist()]


def _floats(col: pd.Series) -> list[float | None]:
    vals = col.astype(float)
    if not vals.hasnans:
        return vals.tolist()
    return [None if math.isnan(v) else v for v in vals.tolist()]


def chunk_rows(df: pd.DataFrame, roles: Roles, endpoint_id: int, *, path: Path, first_line: int, now: float,
               first_row: int) -> list[tuple[Any, ...]]:
    """The ``samples`` rows of one chunk, as tuples in :data:`ROW_COLUMNS` order (InputError naming the line when a value cannot be stored)."""
    _check_sizes(df, path, first_line)
    if roles.confidence is not None:
        conf = df[roles.confidence]
        if not pd.api.types.is_numeric_dtype(conf):
            raise InputError(f"confidence column {roles.confidence!r} is not numeric "
                             f"(lines {first_line}-{first_line + len(df) - 1} of {path.name})")
        check_unit_interval(conf, f"confidence column {roles.confidence!r} in {path}")
    n = len(df)
    ts = (timestamps(df[roles.ts], roles.ts, now) if roles.ts is not None
          else (now + (first_row + np.arange(n, dtype=np.int64)) * 1e-3).tolist())   # == now + (first_row + i) * 1e-3
    preds = _text(df[roles.prediction])
    labels = _text(df[roles.label]) if roles.label else [None] * n
    confs = _floats(df[roles.confidence]) if roles.confidence else [None] * n
    lats: list[float | None] = [None] * n
    if roles.latency:
        try:
            lats = _floats(df[roles.latency])
        except (TypeError, ValueError) as exc:
            raise InputError(f"latency column {roles.latency!r} is not numeric ({path.name})") from exc
    inputs = _inputs_json(df[roles.features]) if roles.features else [None] * n
    if roles.label and None not in labels and None not in preds:
        correct: list[int | None] = list(map(int, map(operator.eq, labels, preds)))
    else:
        correct = [None if lab is None or pr is None else int(lab == pr) for lab, pr in zip(labels, preds)]
    return list(zip([endpoint_id] * n, ts, ["ingest"] * n, preds, confs, labels, correct, lats, inputs))


# the columns an ingested row sets; the others (error_kind, error_detail, status_code, probs_json) stay NULL.
# Leaving them out of the INSERT binds 9 values a row instead of 13: about a third less CPU in SQLite's executemany
ROW_COLUMNS = ("endpoint_id", "ts", "source", "prediction", "confidence", "label", "correct", "latency_ms",
               "inputs_json")


def _inputs_json(features: pd.DataFrame) -> list[str]:
    r"""``inputs_json`` of every row, by pandas' C JSON writer (one object per line; NaN -> null, 15
    significant digits: every value a CSV writes with up to 15 digits comes back exactly).

    >>> _inputs_json(pd.DataFrame({"a": [1.5, float("nan")], "b": ["x", 'q"']}))
    ['{"a":1.5,"b":"x"}', '{"a":null,"b":"q\\""}']
    """
    if not len(features):
        return []
    if all(_numeric(features[c]) for c in features.columns) and not any("}" in str(c) for c in features.columns):
        # numbers and names without "}": "},{" occurs only between two objects, so split the array there
        # (pandas' lines=True rescans the whole text in a Python-speed pass: about 40% of the JSON time)
        text = features.to_json(orient="records", double_precision=15)
        return text[1:-1].replace("},{", "}\n{").split("\n")
    text = features.to_json(orient="records", lines=True, double_precision=15)
    return text.rstrip("\n").split("\n")


def _numeric(col: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype)
