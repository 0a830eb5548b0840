"""Reference/current windows for the drift benchmark: synthetic shifts and selection bias on bundled data.

Every window is generated from an integer seed only, so every library (mlfi and each peer, in
whichever virtualenv it runs) sees exactly the same rows for the same (cell, repetition).

Synthetic windows: ``d`` numeric N(0, 1) features ``f0..f{d-1}`` plus one binary categorical column
``cat`` (values "a"/"b", P(a) = 0.5). The feature that is shifted is drawn at random per repetition,
so a detector that breaks ties by column order gains nothing.

Selection-bias windows (breast_cancer, wine from scikit-learn): the rows are split at random into
two halves; the reference is one half, the current window is drawn without replacement from the
other half with probability proportional to ``exp(beta * z)`` where ``z`` is one standardised
feature (chosen at random per repetition). The control (``bias=False``) draws the current window
uniformly from the same half, so it has no shift at all.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Window", "SHIFTS", "REAL_SETS", "synthetic_window", "selection_bias_window", "cell_seed"]

#: shift name -> short description (the report uses these words)
SHIFTS: dict[str, str] = {
    "none": "no shift",
    "mean0.2": "mean +0.2 sd on one feature",
    "mean0.5": "mean +0.5 sd on one feature",
    "var1.5": "variance x1.5 on one feature",
    "all0.1": "mean +0.1 sd on all numeric features",
    "cat10": "class proportion 50% -> 60% on the binary categorical column",
    "tiny0.02": "mean +0.02 sd on one feature (negligible: should stay quiet)",
}

#: real bundled data sets used for the selection-bias shift
REAL_SETS = ("breast_cancer", "wine")


@dataclass(frozen=True)
class Window:
    """One benchmark case: reference and current frames plus the truth about the shift."""

    reference: pd.DataFrame
    current: pd.DataFrame
    shifted: tuple[str, ...]  # features that were actually changed (empty when none)
    accepted_first: tuple[str, ...]  # features that count as "the shifted one" when ranked first
    categorical: tuple[str, ...]  # categorical column names


def cell_seed(*parts: object) -> int:
    """Stable 32-bit seed from a cell description, independent of Python's hash randomisation.

    >>> cell_seed("mean0.2", 1000, 5, 3) == cell_seed("mean0.2", 1000, 5, 3)
    True
    """
    return zlib.crc32("|".join(map(str, parts)).encode())


def _frame(rng: np.random.Generator, n: int, d: int, p_a: float = 0.5) -> pd.DataFrame:
    data = rng.standard_normal((n, d))
    frame = pd.DataFrame(data, columns=[f"f{i}" for i in range(d)])
    frame["cat"] = np.where(rng.random(n) < p_a, "a", "b")
    return frame


def synthetic_window(shift: str, n: int, d: int, rep: int) -> Window:
    """Reference and current windows of ``n`` rows each, with ``shift`` applied to the current one.

    >>> w = synthetic_window("mean0.5", 200, 5, 0)
    >>> w.reference.shape, w.current.shape, len(w.shifted)
    ((200, 6), (200, 6), 1)
    """
    if shift not in SHIFTS:
        raise ValueError(f"unknown shift {shift!r}; known: {sorted(SHIFTS)}")
    rng = np.random.default_rng(cell_seed("synthetic", shift, n, d, rep))
    target = f"f{int(rng.integers(d))}"
    reference = _frame(rng, n, d)
    current = _frame(rng, n, d, p_a=0.6 if shift == "cat10" else 0.5)
    numeric = [f"f{i}" for i in range(d)]
    shifted: tuple[str, ...] = ()
    if shift in ("mean0.2", "mean0.5", "tiny0.02"):
        current[target] += {"mean0.2": 0.2, "mean0.5": 0.5, "tiny0.02": 0.02}[shift]
        shifted = (target,)
    elif shift == "var1.5":
        current[target] *= np.sqrt(1.5)
        shifted = (target,)
    elif shift == "all0.1":
        current[numeric] += 0.1
        shifted = tuple(numeric)
    elif shift == "cat10":
        shifted = ("cat",)
    accepted = shifted if len(shifted) == 1 else ()
    return Window(reference, current, shifted, accepted, ("cat",))


_REAL_CACHE: dict[str, pd.DataFrame] = {}


def _real(name: str) -> pd.DataFrame:
    if name not in _REAL_CACHE:
        from sklearn import datasets

        loader = {"breast_cancer": datasets.load_breast_cancer, "wine": datasets.load_wine}[name]
        _REAL_CACHE[name] = loader(as_frame=True).data.astype(float)
    return _REAL_CACHE[name]


#: how many rows the current window keeps from its half, and the selection strength
_REAL_SIZES = {"breast_cancer": 150, "wine": 50}
BETA = 1.0


def selection_bias_window(name: str, bias: bool, rep: int, beta: float = BETA) -> Window:
    """Reference half vs a (biased or uniform) draw from the other half of a bundled data set.

    Features correlated with the selected one at ``|r| >= 0.95`` on the whole data set (for example
    ``mean radius`` and ``mean perimeter``) also count as a correct first rank, because selection on
    one of them is selection on the other.

    >>> w = selection_bias_window("wine", True, 0)
    >>> len(w.current), len(w.shifted)
    (50, 1)
    """
    data = _real(name)
    rng = np.random.default_rng(cell_seed("real", name, bias, rep, beta))
    order = rng.permutation(len(data))
    half = len(data) // 2
    reference = data.iloc[order[:half]].reset_index(drop=True)
    pool = data.iloc[order[half:]].reset_index(drop=True)
    target = str(data.columns[int(rng.integers(data.shape[1]))])
    m = _REAL_SIZES[name]
    if bias:
        z = (pool[target] - data[target].mean()) / data[target].std()
        weights = np.exp(beta * z.to_numpy())
        chosen = rng.choice(len(pool), size=m, replace=False, p=weights / weights.sum())
    else:
        chosen = rng.choice(len(pool), size=m, replace=False)
    current = pool.iloc[np.sort(chosen)].reset_index(drop=True)
    if not bias:
        return Window(reference, current, (), (), ())
    corr = data.corr()[target].abs()
    accepted = tuple(str(c) for c in corr.index[corr >= 0.95])
    return Window(reference, current, (target,), accepted, ())
