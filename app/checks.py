"""Input checks shared by the commands that read user files (one concept: reject values that cannot be
what the column claims to be, with a one-line reason)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from app.errors import InputError

__all__ = ["check_unit_interval"]


def check_unit_interval(values: pd.Series, what: str) -> None:
    """Raise ``InputError`` when a probability-like column has a finite value outside [0, 1].

    >>> check_unit_interval(pd.Series([0.2, None, 1.0]), "confidence")
    >>> check_unit_interval(pd.Series([0.2, 7.5]), "confidence")
    Traceback (most recent call last):
    ...
    app.errors.InputError: confidence has values outside [0, 1] (e.g. 7.5 at row 1): confidences must be probabilities
    """
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(np.isfinite(v) & ((v < 0) | (v > 1)))
    if bad.size:
        i = int(bad[0])
        raise InputError(f"{what} has values outside [0, 1] (e.g. {v[i]:g} at row {i}): confidences must be probabilities")
