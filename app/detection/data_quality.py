"""Data-quality checks between a reference table and a current one.

Per column (each a :class:`~app.detection.base.TestResult`, method ``data_quality.<check>``):

- ``missing_column``: in the reference, absent from the current window. Deterministic (no
  p-value): always flagged.
- ``new_column``: in the current window only; reported, never flagged (logs often gain columns).
- ``type_change``: the share of values that parse as numbers moved (numeric column now holding
  text, or the reverse). Fisher exact test on parse/no-parse counts; floor 0.02 (2% of values).
- ``nan_rate``: more missing values. One-sided Fisher exact test; floor 0.05 (5 points).
- ``out_of_range``: numeric values outside the reference's [min, max]. Under "same distribution"
  a new value falls outside the range of n reference values with probability 2/(n+1); the
  binomial test (``scipy.stats.binomtest``, one-sided) compares the current count with that, and
  the effect is the excess share. Floor 0.5: most values out of every range seen before is a unit,
  scaling or encoding fault; a merely shifted feature is the drift detectors' business.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from app.detection.base import Detector, TestResult, _describe
from app.detection.registry import register
from app.errors import InputError

__all__ = ["FLOORS", "DataQualityDetector", "numeric_share"]

FLOORS = {"missing_column": 0.5, "new_column": 1.0, "type_change": 0.02, "nan_rate": 0.05, "out_of_range": 0.5}


def numeric_share(col: pd.Series) -> tuple[int, int]:
    """(values that parse as numbers, non-missing values) of a column.

    >>> numeric_share(pd.Series(["1.5", "x", None, 3]))
    (2, 3)
    """
    present = col.dropna()
    if pd.api.types.is_bool_dtype(present) or pd.api.types.is_numeric_dtype(present):
        return int(present.size), int(present.size)
    parsed = pd.to_numeric(present.astype(str), errors="coerce")
    return int(parsed.notna().sum()), int(present.size)


@register
class DataQualityDetector(Detector):
    """Missing/new columns, type changes, NaN rate and out-of-range share per column."""

    name = "data_quality"
    input_kind = "frame"
    default_floor = 0.05
    effect_label = "share of values affected"
    same_columns = False
    min_rows = 1

    def _validate(self, data: Any, role: str) -> pd.DataFrame:
        if isinstance(data, pd.DataFrame):
            df = data
        else:
            arr = np.asarray(data, dtype=object)
            if arr.ndim != 2:
                raise InputError(f"{self.name}: {role} must be a 2-D table, got {_describe(arr)}")
            df = pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])
        if df.shape[1] == 0:
            raise InputError(f"{self.name}: {role} has no columns (shape {df.shape})")
        if df.shape[0] < self.min_rows:
            raise InputError(f"{self.name}: {role} has no rows (shape {df.shape})")
        return df

    def _r(self, col: str, check: str, stat: Any, p: Any, effect: Any, n: int, m: int, detail: str,
           deterministic: bool = False) -> TestResult:
        r = self.result(col, stat, p, effect, n, m, detail=detail, deterministic=deterministic)
        floor = FLOORS[check] if self.effect_floor == self.default_floor else self.effect_floor
        return replace(r, method=f"{self.name}.{check}", effect_floor=floor)

    def _fit(self, reference: pd.DataFrame) -> None:
        self.columns_ = [str(c) for c in reference.columns]
        self.stats_: dict[str, dict[str, Any]] = {}
        for c in reference.columns:
            col = reference[c]
            num, present = numeric_share(col)
            values = pd.to_numeric(col, errors="coerce")
            finite = values[np.isfinite(values.astype(float))] if num else values.iloc[:0]
            self.stats_[str(c)] = {
                "n": int(col.size), "nan": int(col.isna().sum()), "num": num, "present": present,
                "numeric": present > 0 and num / present >= 0.99,
                "min": float(finite.min()) if len(finite) else None, "max": float(finite.max()) if len(finite) else None,
                "n_finite": len(finite),
            }

    def _score(self, current: pd.DataFrame) -> list[TestResult]:
        out: list[TestResult] = []
        cur_cols = {str(c): c for c in current.columns}
        m = int(current.shape[0])
        for name in self.columns_:
            st = self.stats_[name]
            if name not in cur_cols:
                out.append(self._r(name, "missing_column", 1.0, None, 1.0, st["n"], 0,
                                   "column missing from the current data", deterministic=True))
                continue
            col = current[cur_cols[name]]
            out.extend(self._column(name, st, col, m))
        for name in cur_cols:
            if name not in self.stats_:
                out.append(self._r(name, "new_column", 0.0, None, 0.0, 0, m,
                                   "column not in the reference (not monitored)", deterministic=True))
        return out

    def _column(self, name: str, st: dict[str, Any], col: pd.Series, m: int) -> list[TestResult]:
        out = []
        nan = int(col.isna().sum())
        r_ref, r_cur = st["nan"] / st["n"], nan / m
        p = stats.fisher_exact([[nan, m - nan], [st["nan"], st["n"] - st["nan"]]], alternative="greater").pvalue
        out.append(self._r(name, "nan_rate", r_cur, p, r_cur - r_ref, st["n"], m,
                           f"missing values {r_ref:.1%} -> {r_cur:.1%}"))
        num, present = numeric_share(col)
        if present and st["present"]:
            s_ref, s_cur = st["num"] / st["present"], num / present
            if st["numeric"] or s_ref <= 0.01:
                p = stats.fisher_exact([[num, present - num], [st["num"], st["present"] - st["num"]]]).pvalue
                what = "numeric" if st["numeric"] else "text"
                out.append(self._r(name, "type_change", s_cur, p, abs(s_cur - s_ref), st["present"], present,
                                   f"was {what}: values parsing as numbers {s_ref:.1%} -> {s_cur:.1%}"))
        if st["numeric"] and st["min"] is not None and num:
            values = pd.to_numeric(col, errors="coerce").astype(float).to_numpy()
            values = values[np.isfinite(values)]
            if values.size:
                k = int(((values < st["min"]) | (values > st["max"])).sum())
                p0 = min(2.0 / (st["n_finite"] + 1), 1.0)
                p = stats.binomtest(k, values.size, p0, alternative="greater").pvalue if p0 < 1 else 1.0
                share = k / values.size
                out.append(self._r(name, "out_of_range", share, p, share - p0, st["n_finite"], values.size,
                                   f"{share:.1%} of values outside the reference range "
                                   f"[{st['min']:.4g}, {st['max']:.4g}] (expected {p0:.1%})"))
        return [r for r in out if not (isinstance(r.statistic, float) and math.isnan(r.statistic))]
