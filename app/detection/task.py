"""Is an endpoint a classifier or a regressor? Decided once, from the predictions it returned.

Rule (``infer_task``): the predictions are a regression target when every one of them parses as a
finite number AND they are not a small set of class codes -- at least one is not an integer, or
there are more than ``MAX_CLASS_CODES`` distinct values. So ``"0"/"1"`` or ``"1".."9"`` answers
stay a classifier, ``"153.2"``, ``"0.37"`` or 400 distinct integer counts are a regressor, and any
non-numeric answer (``"benign"``) is a classifier. An explicit ``task`` always wins.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, Literal

import numpy as np

from app.errors import InputError

__all__ = ["MAX_CLASS_CODES", "TASKS", "Task", "as_float", "float_values", "infer_task", "resolve_task"]

Task = Literal["classification", "regression"]
TASKS = ("classification", "regression")
MAX_CLASS_CODES = 20


def as_float(v: Any) -> float | None:
    """A finite float from a number or a numeric string; ``None`` otherwise.

    >>> as_float("153.2"), as_float(3), as_float("cat"), as_float(float("nan")), as_float(True)
    (153.2, 3.0, None, None, None)
    """
    if v is None or isinstance(v, (bool, np.bool_)):
        return None
    try:
        f = float(v.strip()) if isinstance(v, str) else float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def float_values(values: Iterable[Any]) -> np.ndarray:
    """The finite numeric values among ``values`` (others dropped).

    >>> float_values(["1.5", None, "x", 2]).tolist()
    [1.5, 2.0]
    """
    out = [f for f in (as_float(v) for v in values) if f is not None]
    return np.asarray(out, dtype=float)


def infer_task(predictions: Iterable[Any]) -> Task:
    """``"regression"`` for numeric, non-class-code predictions, else ``"classification"``.

    >>> infer_task(["153.2", "97.1", "201.0"]), infer_task(["0", "1", "1"]), infer_task(["benign", "malignant"])
    ('regression', 'classification', 'classification')
    >>> infer_task([str(i) for i in range(300)]), infer_task([]), infer_task(["1", "2.5", "cat"])
    ('regression', 'classification', 'classification')
    """
    values = [v for v in predictions if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if not values:
        return "classification"
    parsed = [as_float(v) for v in values]
    distinct = {f for f in parsed if f is not None}
    if len(distinct) == 0 or any(f is None for f in parsed):
        return "classification"
    if any(not f.is_integer() for f in distinct) or len(distinct) > MAX_CLASS_CODES:
        return "regression"
    return "classification"


def resolve_task(explicit: str | None, predictions: Iterable[Any]) -> Task:
    """An explicit ``"classification"``/``"regression"`` wins; ``None`` or ``"auto"`` infers from the data.

    >>> resolve_task("regression", ["0", "1"]), resolve_task("auto", ["1.5", "2.5"])
    ('regression', 'regression')
    """
    if explicit in (None, "auto"):
        return infer_task(predictions)
    if explicit not in TASKS:
        raise InputError(f"unknown task {explicit!r}: choose auto, classification or regression")
    return explicit  # type: ignore[return-value]
