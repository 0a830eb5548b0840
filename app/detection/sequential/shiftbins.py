"""Binned location-shift likelihood ratios: the alternative "the values moved by ``d``", as it looks on their own scale.

The normal-score charts of :mod:`~app.detection.sequential.meanscale` turn a shift of a skewed signal into
something that is no longer a normal mean shift: confidence piled up under 1 and moved down by 0.10 (about one
sd) scores as a 0.85 sd normal-score shift, 0.36 nats per sample against the 0.62 the shift carries. Here the
alternative is the shift itself: the healthy law ``F0`` is the baseline's quantiles (the 199 of
:func:`~app.detection.sequential.meanscale.baseline_quantiles`, equal weights, the same atoms the thresholds are
simulated and bootstrapped on), the values are put into ``bins`` bins of about equal healthy probability (edges
at the baseline's 1/bins quantiles; tied edges, a point mass such as confidences of 1.0, merge into one bin) and
the shifted law's bin probabilities are those of the atoms moved by ``d``. The increment of a value in bin ``j``
is ``ln(p1_j / p0_j)`` with ``p1 = (1 - eps) p1_shift + eps p0``: the exact log-likelihood ratio of the binned
values (so Wald's threshold and the KLs hold for them), bounded below by ``ln eps`` so one healthy-looking value
costs a bounded amount (a shift never empties a bin entirely in practice).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["BINS", "EPS", "bin_edges", "bin_probabilities", "shift_llr"]

BINS = 20
EPS = 0.02


def bin_edges(quantiles: Sequence[float], bins: int = BINS) -> np.ndarray:
    """Interior bin edges: the baseline quantiles at ``1/bins, 2/bins, ...`` (199 quantiles in 0.5 % steps), ties merged.

    >>> bin_edges([float(i) for i in range(1, 200)], bins=4).tolist()
    [50.0, 100.0, 150.0]
    """
    q = np.asarray(quantiles, dtype=float)
    idx = [round(k * (len(q) + 1) / bins) - 1 for k in range(1, bins)]
    return np.unique(q[idx])


def shift_llr(quantiles: Sequence[float], edges: np.ndarray, shift: float, eps: float = EPS) -> np.ndarray:
    """Per-bin increments ``ln(p1_j / p0_j)`` for the alternative "every value moved by ``shift``" (units of the
    values; negative = down), bins ``searchsorted(edges, y, 'right')``; ``p0`` and the shifted ``p1`` are the
    shares of the baseline atoms (``quantiles``) in each bin before and after the move.

    >>> q = [float(i) for i in range(1, 200)]
    >>> llr = shift_llr(q, bin_edges(q, bins=4), -50.0)
    >>> bool(llr[0] > 0 > llr[-1]), round(float(llr[-1]), 2)   # the top bin empties: ln eps
    (True, -3.91)
    """
    q = np.asarray(quantiles, dtype=float)
    p0 = bin_probabilities(q, edges)
    p1 = bin_probabilities(q + shift, edges)
    p1 = (1.0 - eps) * p1 + eps * p0
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(p0 > 0, np.log(p1 / np.where(p0 > 0, p0, 1.0)), 0.0)


def bin_probabilities(quantiles: Sequence[float], edges: np.ndarray) -> np.ndarray:
    """``p0``: the shares of the baseline atoms in each bin (the healthy law the charts assume)."""
    q = np.asarray(quantiles, dtype=float)
    return np.bincount(np.searchsorted(edges, q, side="right"), minlength=len(edges) + 1) / len(q)
