"""Read and validate a predictions file (or frame) into arrays ready for evaluation."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from loguru import logger

from app.errors import InputError

__all__ = ["EvalData", "read_predictions", "prepare"]

_TRUE = {"1", "true", "yes", "y", "t", "positive", "pos"}
_FALSE = {"0", "false", "no", "n", "f", "negative", "neg"}


@dataclass(frozen=True)
class EvalData:
    """Validated predictions. ``proba`` is (n,) positive-class scores (binary) or (n, k) (multiclass)."""

    frame: pd.DataFrame  # the rows, indexed by their 0-based position in the file
    y: np.ndarray
    proba: np.ndarray
    classes: list[str]
    label: str
    score_columns: list[str]
    slice_columns: list[str] = field(default_factory=list)
    feature_columns: list[str] = field(default_factory=list)
    model_column: str | None = None
    id_column: str | None = None

    @property
    def task(self) -> str:
        return "binary" if self.proba.ndim == 1 else "multiclass"

    @property
    def rows(self) -> np.ndarray:
        return np.asarray(self.frame.index.to_numpy(), dtype=int)

    def subset(self, mask: np.ndarray) -> EvalData:
        """The same data restricted to the rows where ``mask`` is true."""
        return EvalData(
            self.frame[mask],
            self.y[mask],
            self.proba[mask],
            self.classes,
            self.label,
            self.score_columns,
            self.slice_columns,
            self.feature_columns,
            self.model_column,
            self.id_column,
        )


def read_predictions(path: str | Path | bytes) -> pd.DataFrame:
    """Read a CSV of predictions (a path, or the file's bytes); any failure becomes a one-line ``InputError``."""
    p: Path | str = "<upload>" if isinstance(path, bytes) else Path(path)
    if isinstance(p, Path) and not p.is_file():
        raise InputError(f"predictions file not found: {p}")
    try:
        df = pd.read_csv(io.BytesIO(path) if isinstance(path, bytes) else p)
    except pd.errors.EmptyDataError as e:
        raise InputError(f"predictions file is empty: {p}") from e
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OSError) as e:
        raise InputError(f"cannot read {p} as CSV: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from e
    if df.empty:
        raise InputError(f"predictions file has no data rows: {p}")
    return df.reset_index(drop=True)


def _need(df: pd.DataFrame, col: str, what: str) -> None:
    if col not in df.columns:
        cols = ", ".join(map(str, df.columns[:12])) + (", ..." if len(df.columns) > 12 else "")
        raise InputError(f"{what} column {col!r} not found (columns: {cols})")


def _scores(df: pd.DataFrame, cols: list[str]) -> np.ndarray:
    out = []
    for c in cols:
        raw = df[c]
        num = pd.to_numeric(raw, errors="coerce")
        bad = num.isna() & raw.notna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(f"score column {c!r} has a non-numeric value {raw.iloc[i]!r} at row {i}")
        if num.isna().any():
            raise InputError(
                f"score column {c!r} has {int(num.isna().sum())} missing values "
                f"(first at row {int(np.flatnonzero(num.isna().to_numpy())[0])})"
            )
        v = num.to_numpy(dtype=float)
        if (v < 0).any() or (v > 1).any() or not np.isfinite(v).all():
            i = int(np.flatnonzero((v < 0) | (v > 1) | ~np.isfinite(v))[0])
            raise InputError(
                f"score column {c!r} has values outside [0, 1] (e.g. {v[i]} at row {i}); scores must be probabilities"
            )
        out.append(v)
    return np.column_stack(out)


def _binary_labels(lab: pd.Series, col: str, positive_label: str | None) -> tuple[np.ndarray, list[str]]:
    text = lab.astype(str).str.strip()
    values = sorted(text.unique())
    if len(values) < 2:
        raise InputError(f"label column {col!r} has only one class ({values[0]}); evaluation needs both classes")
    if len(values) > 2:
        raise InputError(
            f"label column {col!r} has {len(values)} classes; for multiclass pass one score column "
            "per class (--score p_a,p_b,...)"
        )
    if positive_label is not None:
        pos = str(positive_label)
        if pos not in values:
            raise InputError(f"--positive-label {pos!r} is not a value of label column {col!r} ({', '.join(values)})")
    else:
        num = pd.to_numeric(pd.Series(values), errors="coerce")
        lower = {v.lower() for v in values}
        if num.notna().all() and set(num.tolist()) == {0.0, 1.0}:
            pos = values[int(np.argmax(num.to_numpy()))]
        elif len(lower & _TRUE) == 1 and len(lower & _FALSE) == 1:
            pos = next(v for v in values if v.lower() in _TRUE)
        else:
            raise InputError(
                f"label values are {values[0]!r} and {values[1]!r}: say which one is positive with --positive-label"
            )
    neg = next(v for v in values if v != pos)
    return (text == pos).to_numpy().astype(int), [neg, pos]


def _multiclass_labels(lab: pd.Series, col: str, score_cols: list[str]) -> tuple[np.ndarray, list[str]]:
    text = lab.astype(str).str.strip()
    uniq = set(text.unique())
    if len(uniq) < 2:
        raise InputError(f"label column {col!r} has only one class ({next(iter(uniq))}); evaluation needs two or more")
    if uniq <= set(score_cols):
        return text.map({c: i for i, c in enumerate(score_cols)}).to_numpy().astype(int), list(score_cols)
    num = pd.to_numeric(text, errors="coerce")
    if num.notna().all() and (num == num.round()).all() and num.min() >= 0 and num.max() < len(score_cols):
        return num.to_numpy().astype(int), list(score_cols)
    raise InputError(
        f"multiclass labels in {col!r} must be class indices 0..{len(score_cols) - 1} or the score "
        f"column names ({', '.join(score_cols)})"
    )


MODEL_COLUMN_NAMES = ("model", "model_name", "model_id", "model_version")


def _guess_model_column(df: pd.DataFrame, taken: set[str | None]) -> str | None:
    """A column named like a model identifier with 2-20 values: rows of several models must not be pooled.

    >>> _guess_model_column(pd.DataFrame({"Model": ["a", "b"], "y": [0, 1]}), {"y"})
    'Model'
    >>> _guess_model_column(pd.DataFrame({"model": ["a", "a"]}), set()) is None
    True
    """
    for c in df.columns:
        if c in taken or str(c).strip().lower() not in MODEL_COLUMN_NAMES:
            continue
        if 2 <= df[c].nunique(dropna=True) <= 20:
            logger.info(f"rows come from {df[c].nunique()} models in column {c!r}: evaluating them separately "
                           "(pass --model-column '' to pool them)")
            return str(c)
    return None


def prepare(
    df: pd.DataFrame,
    *,
    label: str,
    score: str | list[str],
    slices: list[str] | None = None,
    model_column: str | None = None,
    id_column: str | None = None,
    features: list[str] | None = None,
    positive_label: str | None = None,
) -> EvalData:
    """Validate ``df`` and build :class:`EvalData`; raise ``InputError`` with one line on any problem."""
    score_cols = [score] if isinstance(score, str) else list(score)
    score_cols = [c.strip() for c in score_cols if c.strip()]
    if not score_cols:
        raise InputError("no score column given (--score)")
    if df.empty:
        raise InputError("predictions have no rows")
    df = df.reset_index(drop=True)  # row numbers in the output are 0-based positions
    _need(df, label, "label")
    for c in score_cols:
        _need(df, c, "score")
    slices = list(slices or [])
    for c in slices:
        _need(df, c, "slice")
    if model_column is None:
        model_column = _guess_model_column(df, {label, *score_cols, *slices, id_column})
    model_column = model_column or None       # "" means: pool every row as one model, on purpose
    for opt, what in ((model_column, "model"), (id_column, "id")):
        if opt:
            _need(df, opt, what)
    if df[label].isna().any():
        i = int(np.flatnonzero(df[label].isna().to_numpy())[0])
        raise InputError(f"label column {label!r} has {int(df[label].isna().sum())} missing values (first at row {i})")
    p = _scores(df, score_cols)
    if len(score_cols) == 1:
        y, classes = _binary_labels(df[label], label, positive_label)
        proba = p[:, 0]
    else:
        sums = p.sum(axis=1)
        if np.any(np.abs(sums - 1) > 0.01):
            i = int(np.flatnonzero(np.abs(sums - 1) > 0.01)[0])
            raise InputError(f"per-class scores must sum to 1 on each row (row {i} sums to {sums[i]:.4f})")
        y, classes = _multiclass_labels(df[label], label, score_cols)
        proba = p
    reserved = {label, *score_cols, *slices, model_column, id_column}
    if features is None:
        features = [
            c
            for c in df.columns
            if c not in reserved and pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])
        ]
    else:
        for c in features:
            _need(df, c, "feature")
            if not pd.api.types.is_numeric_dtype(df[c]):
                raise InputError(f"feature column {c!r} is not numeric")
    return EvalData(df, y, proba, classes, label, score_cols, slices, list(features), model_column, id_column)
