"""CSV input: read a logged-predictions file, guess its role columns, ingest its rows as samples."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from app.checks import check_unit_interval
from app.errors import InputError
from app.schemas import Sample
from app.storage import Store

__all__ = ["guess_columns", "ingest_csv", "read_csv"]


_COLUMN_ALIASES = {
    "prediction": ("prediction", "pred", "predicted", "y_pred", "label_pred"),
    "confidence": ("confidence", "score", "probability", "proba", "y_score"),
    "label": ("label", "target", "y_true", "actual", "ground_truth"),
    "ts": ("ts", "timestamp", "time", "datetime"),
    "latency_ms": ("latency_ms", "latency"),
}


def _pick(df: pd.DataFrame, given: str | None, role: str) -> str | None:
    if given:
        if given not in df.columns:
            raise InputError(f"column {given!r} not in the CSV (columns: {', '.join(map(str, df.columns[:12]))})")
        return given
    for c in _COLUMN_ALIASES[role]:
        if c in df.columns:
            return c
    return None


def guess_columns(reference: pd.DataFrame, current: pd.DataFrame, *, target: str | None = None,
                  prediction_column: str | None = None,
                  confidence_column: str | None = None) -> tuple[str | None, str | None, str | None]:
    """Fill in the label / prediction / confidence columns a user did not name, from common names
    present in BOTH files (the same aliases `mlfi ingest` uses), so they are not tested as features.

    >>> df = pd.DataFrame({"x": [1.0], "prediction": [1], "score": [0.9], "label": [1]})
    >>> guess_columns(df, df)
    ('label', 'prediction', 'score')
    """
    common = reference.columns.intersection(current.columns)
    both = pd.DataFrame(columns=common)

    def pick(given: str | None, role: str) -> str | None:
        if given:
            return given   # validated by compare_frames with its own message
        return _pick(both, None, role)

    return pick(target, "label"), pick(prediction_column, "prediction"), pick(confidence_column, "confidence")


def read_csv(path: str | Path) -> pd.DataFrame:
    """Read a CSV or raise InputError with one line (missing, a directory, unreadable, empty)."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"file not found: {p}")
    if not p.is_file():
        raise InputError(f"not a file: {p}")
    try:
        df = pd.read_csv(p)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as exc:
        raise InputError(f"cannot read CSV {p}: {str(exc).splitlines()[0]}") from exc
    if df.empty:
        raise InputError(f"CSV {p} has no rows")
    return df


_EARLIEST_TS = 946684800.0          # 2000-01-01: logged predictions older than that are a wrong column


def _timestamps(col: pd.Series, name: str, now: float) -> list[float]:
    """Epoch seconds from dates or epoch numbers (seconds, or milliseconds when that large); rows without a
    time get ``now``. A column whose times fall before 2000 or after tomorrow is not a timestamp column.

    >>> _timestamps(pd.Series(["2026-01-02T00:00:00Z", None]), "ts", 1.8e9)
    [1767312000.0, 1800000000.0]
    >>> _timestamps(pd.Series([1767312000000]), "ts", 1.8e9)
    [1767312000.0]
    >>> _timestamps(pd.Series([0, 1]), "label", 1.8e9)
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
        lo, hi = (pd.to_datetime(v, unit="s", utc=True).strftime("%Y-%m-%d") for v in (known.min(), known.max()))
        raise InputError(f"timestamp column {name!r} holds times from {lo} to {hi}: not a timestamp column "
                         "(dates or epoch seconds after 2000 expected)")
    return [now if pd.isna(v) else float(v) for v in vals]


def ingest_csv(store: Store, name: str, path: str | Path, *, prediction_column: str | None = None,
               confidence_column: str | None = None, label_column: str | None = None,
               ts_column: str | None = None) -> int:
    """Append logged predictions as samples (source 'ingest'); one transaction, all rows or none.

    An endpoint the watcher probes is refused: its logs go under another name, so probing is never silently
    switched off and probe and logged traffic never mix in one window.
    """
    existing = store.find_endpoint(name)
    if existing and existing.protocol not in (None, "", "ingest"):
        raise InputError(f"endpoint {name!r} is probed over HTTP (protocol {existing.protocol}): ingest its logged "
                         f"predictions under another name, e.g. --endpoint '{name}-logs'")
    df = read_csv(path)
    pred = _pick(df, prediction_column, "prediction")
    if pred is None:
        raise InputError(f"no prediction column in {path}: pass --prediction-column")
    conf = _pick(df, confidence_column, "confidence")
    lab = _pick(df, label_column, "label")
    tcol = _pick(df, ts_column, "ts")
    lat = _pick(df, None, "latency_ms")
    if conf is not None and not pd.api.types.is_numeric_dtype(df[conf]):
        raise InputError(f"confidence column {conf!r} is not numeric")
    if conf is not None:
        check_unit_interval(df[conf], f"confidence column {conf!r} in {path}")
    now = time.time()
    if tcol is not None:
        times = _timestamps(df[tcol], tcol, now)
    else:
        times = [now + i * 1e-3 for i in range(len(df))]
    feature_cols = [c for c in df.columns if c not in {pred, conf, lab, tcol, lat}]
    records = df.to_dict(orient="records")
    samples = []
    for i, r in enumerate(records):
        inputs = {c: (None if pd.isna(r[c]) else r[c]) for c in feature_cols}
        c = r[conf] if conf else None
        samples.append(Sample(endpoint=name, ts=float(times[i]), source="ingest", inputs=inputs or None,
                              prediction=None if pd.isna(r[pred]) else str(r[pred]),
                              confidence=None if c is None or pd.isna(c) else float(c),
                              label=None if lab is None or pd.isna(r[lab]) else str(r[lab]),
                              latency_ms=None if lat is None or pd.isna(r[lat]) else float(r[lat])))
    store.upsert_endpoint(name, protocol="ingest")
    return store.add_samples(samples)
