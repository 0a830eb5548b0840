"""Mean/scale CUSUM for a continuous signal (confidence, log latency) on baseline normal scores.

Each value ``y = transform(x)`` (identity, or ``log`` for latency) is turned into a normal score
``z = Phi^-1(F0(y))`` through the baseline's quantiles ``F0``: whatever the skew of the baseline
(confidence piled up near 1, long latency tails), a healthy ``z`` is close to N(0, 1), so the Gaussian
thresholds hold. The scores are bounded (|z| <= 2.8) because ``F0`` is clipped to [0.25%, 99.75%]: one
slow answer of a busy client adds at most a bounded amount to a chart.

Charts: mean shifts ``+-delta`` (``direction`` "up", "down" or "both"; default deltas 0.5, 1, 2 sd)
with increment ``delta z - delta^2 / 2``, and scale rises ``sigma`` (default 1.5, 2.5) with increment
``-ln sigma + z^2 (1 - sigma^-2) / 2``. Practical floor: ``tolerance`` (in the units of ``y``) is taken
off a rise and added to a drop before scoring (latency: ``ln 1.2``, a +20% slow-down is tolerated),
and shifts below half the smallest ``delta`` have a negative drift and never alarm.

Untolerated charts (``raw_deltas``, against ``raw_quantiles``, default the same quantiles): mean shifts of
``delta`` sd scored without the tolerance, so a large change is caught near its own bound instead of at
the delay of the smaller alternative the tolerance leaves of it (a 2 sd slow-down the tolerance and the
jitter widening shrink to 0.7 sd). A chart at ``delta`` drifts down on any shift below ``delta / 2`` sd, so
:func:`untolerated_deltas` keeps only the deltas whose half is at least the practical floor in the units of
``y``: a change within the tolerance still never alarms.

Scale tolerance (``scale_tolerance``, units of ``y``): the scale charts score each value moved that much towards the
baseline median, so a spread that differs from the baseline's by less than the practical floor does not count (the
upper tail of a confidence piled up under 1 spans 0.9997-0.99999, where a 150-sample baseline's quantiles can be off
by a few 1e-4, which made every such value a 2.8 sd outlier and the scale chart rise on healthy data).

Binned shift charts (``bin_deltas``, against the same quantiles as the untolerated ones): the alternative "every
value moved by ``delta`` sd" scored as the exact log-likelihood ratio of the values' bins on their own scale
(:mod:`app.detection.sequential.shiftbins`), not as a normal-score mean shift: a skewed signal (confidence piled up
under 1) keeps its shift's information (0.62 instead of 0.42 nats per sample for Beta(9, 1.5) moved down by 0.10).

False-alarm budget: ``false_alarm_every`` healthy samples between false alarms. Expected delay after a
shift of ``delta`` sd: ``h / (delta^2 / 2)`` (Lorden's bound ``2 ln(ARL0) / delta^2``).
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from statistics import NormalDist
from typing import Any

import numpy as np
from scipy.special import ndtri

from app.detection.sequential.base import SequentialDetector
from app.detection.sequential.shiftbins import bin_edges, bin_probabilities, shift_llr

__all__ = ["MeanScaleCusum", "baseline_quantiles", "robust_sd", "untolerated_deltas"]

_PROBS = [i / 200 for i in range(1, 200)]  # 0.5% .. 99.5%
_CLIP = 0.0025
_INV = NormalDist().inv_cdf
_P = np.array(_PROBS)
_SD_SPAN = _INV(0.84) - _INV(0.16)           # z distance between the 16 % and 84 % quantiles (about 2 sd)
RAW_DELTAS = (1.0, 2.5)
TRANSFORMS = {"identity": lambda v: v, "log": lambda v: math.log(max(v, 1e-9))}


def baseline_quantiles(values: Sequence[float], transform: str = "identity") -> list[float]:
    """The 199 baseline quantiles (0.5% steps) of ``transform(values)`` that :class:`MeanScaleCusum` needs.

    >>> baseline_quantiles(list(range(201)))[:3]
    [1.0, 2.0, 3.0]
    """
    f = TRANSFORMS[transform]
    ys = sorted(f(float(v)) for v in values if v is not None and math.isfinite(float(v)))
    if len(ys) < 20:
        raise ValueError(f"need at least 20 finite baseline values, got {len(ys)}")
    out = []
    for p in _PROBS:
        pos = p * (len(ys) - 1)
        lo = math.floor(pos)
        hi = min(lo + 1, len(ys) - 1)
        out.append(ys[lo] + (ys[hi] - ys[lo]) * (pos - lo))
    return out


def untolerated_deltas(quantiles: Sequence[float], floor: float,
                       candidates: Sequence[float] = RAW_DELTAS) -> tuple[float, ...]:
    """The candidate deltas (sd units) whose half-shift ``delta * sd / 2`` is at least ``floor`` (units of ``y``).

    ``sd`` is read from the 16 % and 84 % quantiles (robust to the tails). A chart at such a delta drifts down
    on every shift smaller than ``floor``, so it needs no tolerance subtracted.

    >>> q = baseline_quantiles([NormalDist(0.8, 0.1).inv_cdf(i / 1000) for i in range(1, 1000)])
    >>> untolerated_deltas(q, 0.02), untolerated_deltas(q, 0.08), untolerated_deltas(q, 0.2)
    ((1.0, 2.5), (2.5,), ())
    """
    sd = robust_sd(quantiles)
    return tuple(float(d) for d in candidates if sd > 0 and d * sd / 2 >= floor)


def robust_sd(quantiles: Sequence[float]) -> float:
    """The sd read from the 16 % and 84 % baseline quantiles (robust to the tails)."""
    return (quantiles[_PROBS.index(0.84)] - quantiles[_PROBS.index(0.16)]) / _SD_SPAN


class MeanScaleCusum(SequentialDetector):
    """Gaussian mean-shift and scale-rise CUSUM charts on normal scores against baseline quantiles.

    Examples
    --------
    >>> import random
    >>> rng = random.Random(3)
    >>> q = baseline_quantiles([rng.gauss(0, 1) for _ in range(2000)])
    >>> det = MeanScaleCusum(quantiles=q, direction="up", false_alarm_every=10_000)
    >>> stream = [rng.gauss(0, 1) for _ in range(300)] + [rng.gauss(2, 1) for _ in range(100)]
    >>> next(i for i, x in enumerate(stream) if det.update(x).drift_detected) >= 300
    True
    """

    kind = "mean_scale"

    def __init__(self, *, quantiles: Sequence[float], transform: str = "identity", direction: str = "both",
                 tolerance: float = 0.0, deltas: Sequence[float] = (0.5, 1.0, 2.0),
                 sigmas: Sequence[float] = (1.5, 2.5), raw_deltas: Sequence[float] = (),
                 raw_quantiles: Sequence[float] | None = None, bin_deltas: Sequence[float] = (),
                 scale_tolerance: float = 0.0, false_alarm_every: float = 10_000.0) -> None:
        if transform not in TRANSFORMS:
            raise ValueError(f"transform must be one of {sorted(TRANSFORMS)}, got {transform!r}")
        if direction not in ("up", "down", "both"):
            raise ValueError(f"direction must be 'up', 'down' or 'both', got {direction!r}")
        if len(quantiles) != len(_PROBS) or any(b < a for a, b in itertools.pairwise(quantiles)):
            raise ValueError(f"quantiles must be {len(_PROBS)} sorted values from baseline_quantiles()")
        if raw_quantiles is not None and (len(raw_quantiles) != len(_PROBS)
                                          or any(b < a for a, b in itertools.pairwise(raw_quantiles))):
            raise ValueError(f"raw_quantiles must be {len(_PROBS)} sorted values from baseline_quantiles()")
        if any(d <= 0 for d in raw_deltas) or any(d <= 0 for d in bin_deltas):
            raise ValueError(f"raw_deltas and bin_deltas must be > 0, got {list(raw_deltas)}, {list(bin_deltas)}")
        if not scale_tolerance >= 0:
            raise ValueError(f"scale_tolerance must be >= 0, got {scale_tolerance}")
        if tolerance < 0 or any(d <= 0 for d in deltas) or any(s <= 1 for s in sigmas) or not (deltas or sigmas):
            raise ValueError(f"need tolerance >= 0, deltas > 0, sigmas > 1; got {tolerance}, {deltas}, {sigmas}")
        self.quantiles = [float(q) for q in quantiles]
        self.transform, self.direction, self.tolerance = transform, direction, float(tolerance)
        self.scale_tolerance = float(scale_tolerance)
        self.deltas, self.sigmas = sorted(float(d) for d in deltas), sorted(float(s) for s in sigmas)
        signs = {"up": [1.0], "down": [-1.0], "both": [1.0, -1.0]}[direction]
        self._means = [s * d for s in signs for d in self.deltas]
        self.raw_deltas = sorted(float(d) for d in raw_deltas)
        self.raw_quantiles = None if raw_quantiles is None else [float(q) for q in raw_quantiles]
        self._raw_means = [s * d for s in signs for d in self.raw_deltas]
        # binned shift charts (shiftbins): the alternative "values moved by delta sd", against the untolerated quantiles
        self.bin_deltas = sorted(float(d) for d in bin_deltas)
        self._bin_means = [s * d for s in signs for d in self.bin_deltas]
        bq = self.quantiles if self.raw_quantiles is None else self.raw_quantiles
        self._edges = bin_edges(bq)
        sd = robust_sd(bq)
        self._bin_llr = np.stack([shift_llr(bq, self._edges, m * sd) for m in self._bin_means], axis=1) \
            if self._bin_means else np.zeros((len(self._edges) + 1, 0))
        p0 = bin_probabilities(bq, self._edges)
        p1 = p0[:, None] * np.exp(self._bin_llr)
        self._bin_kl0 = [float(v) for v in -(p0 @ self._bin_llr)]
        self._bin_kl1 = [float(v) for v in (p1 * self._bin_llr).sum(axis=0)]
        self._edges_l, self._bin_llr_l = self._edges.tolist(), self._bin_llr.tolist()
        super().__init__(false_alarm_every=false_alarm_every)

    def score(self, y: float, quantiles: Sequence[float] | None = None) -> float:
        """Normal score of a transformed value against the baseline quantiles (or ``quantiles``)."""
        q = self.quantiles if quantiles is None else quantiles
        i = bisect_right(q, y)
        j = bisect_left(q, y, 0, i)
        if j < i:       # y is a tied quantile (a point mass, e.g. confidences rounded to 1.0): mid-rank
            a = _PROBS[j - 1] if j > 0 else 0.0
            b = _PROBS[i] if i < len(q) else 1.0
            return _INV(min(max((a + b) / 2, _CLIP), 1 - _CLIP))
        if i == 0:
            u = _PROBS[0] if y == q[0] else _CLIP
        elif i == len(q):
            u = 1 - _CLIP if y > q[-1] else _PROBS[-1]
        else:
            lo, hi = q[i - 1], q[i]
            u = _PROBS[i - 1] + (_PROBS[i] - _PROBS[i - 1]) * ((y - lo) / (hi - lo) if hi > lo else 0.5)
        return _INV(min(max(u, _CLIP), 1 - _CLIP))

    def scores(self, y: np.ndarray, quantiles: Sequence[float] | None = None) -> np.ndarray:
        """:meth:`score` of every value of ``y`` at once (same cases, on arrays)."""
        q = np.asarray(self.quantiles if quantiles is None else quantiles)
        i, j = np.searchsorted(q, y, "right"), np.searchsorted(q, y, "left")
        nq = len(q)
        pad = np.concatenate(([0.0], _P, [1.0]))          # pad[k + 1] = _PROBS[k], pad[0] = 0, pad[-1] = 1
        tied = (pad[j] + pad[i + 1]) / 2                  # mid-rank of a tied quantile (a point mass)
        lo, hi = q[np.maximum(i - 1, 0)], q[np.minimum(i, nq - 1)]
        frac = np.where(hi > lo, (y - lo) / np.where(hi > lo, hi - lo, 1.0), 0.5)
        inner = _P[np.maximum(i - 1, 0)] + (_P[np.minimum(i, nq - 1)] - _P[np.maximum(i - 1, 0)]) * frac
        u = np.where(j < i, tied, np.where(i == 0, _CLIP, np.where(i == nq, 1 - _CLIP, inner)))
        return ndtri(np.clip(u, _CLIP, 1 - _CLIP))

    def _towards_median(self, y: Any) -> Any:
        """``y`` moved ``scale_tolerance`` towards the baseline median (never past it): what the scale charts score."""
        med, tol = self.quantiles[len(self.quantiles) // 2], self.scale_tolerance
        return np.where(y - tol > med, y - tol, np.where(y + tol < med, y + tol, med))

    def llr_many(self, xs: Sequence[Any]) -> np.ndarray:
        """:meth:`llr` of many values at once: values x charts (the bootstrap of the thresholds scores every
        baseline atom against every redrawn baseline)."""
        x = np.asarray(xs, dtype=float)
        y = np.log(np.maximum(x, 1e-9)) if self.transform == "log" else x
        z = self.scores(y)
        z_up = self.scores(y - self.tolerance) if self.tolerance else z
        z_down = self.scores(y + self.tolerance) if self.tolerance else z
        cols = [m * (z_up if m > 0 else z_down) - m * m / 2 for m in self._means]
        zs = self.scores(self._towards_median(y)) if self.scale_tolerance else z
        cols += [-math.log(s) + zs * zs * (1 - 1 / (s * s)) / 2 for s in self.sigmas]
        if self._raw_means:
            zr = self.scores(y, self.raw_quantiles) if self.raw_quantiles is not None else z
            cols += [m * zr - m * m / 2 for m in self._raw_means]
        if self._bin_means:
            cols += list(self._bin_llr[np.searchsorted(self._edges, y, side="right")].T)
        return np.stack(cols, axis=1)

    def labels(self) -> list[str]:
        return ([f"mean {m:+g} sd" for m in self._means] + [f"scale x{s:g}" for s in self.sigmas]
                + [f"mean {m:+g} sd untolerated" for m in self._raw_means]
                + [f"shift {m:+g} sd binned" for m in self._bin_means])

    def llr(self, x: Any) -> list[float]:
        y = TRANSFORMS[self.transform](float(x))
        z = self.score(y)
        z_up = self.score(y - self.tolerance) if self.tolerance else z
        z_down = self.score(y + self.tolerance) if self.tolerance else z
        out = [m * (z_up if m > 0 else z_down) - m * m / 2 for m in self._means]
        zs = self.score(float(self._towards_median(y))) if self.scale_tolerance else z
        out += [-math.log(s) + zs * zs * (1 - 1 / (s * s)) / 2 for s in self.sigmas]
        if self._raw_means:
            zr = self.score(y, self.raw_quantiles) if self.raw_quantiles is not None else z
            out += [m * zr - m * m / 2 for m in self._raw_means]
        if self._bin_means:
            out += self._bin_llr_l[bisect_right(self._edges_l, y)]
        return out

    def kl0(self) -> list[float]:
        return ([m * m / 2 for m in self._means] + [math.log(s) + 1 / (2 * s * s) - 0.5 for s in self.sigmas]
                + [m * m / 2 for m in self._raw_means] + self._bin_kl0)

    def kl1(self) -> list[float]:
        return ([m * m / 2 for m in self._means] + [-math.log(s) + s * s / 2 - 0.5 for s in self.sigmas]
                + [m * m / 2 for m in self._raw_means] + self._bin_kl1)

    def healthy_atoms(self) -> tuple[list[Any], list[float] | None]:
        q = self.quantiles
        return ([math.exp(v) for v in q] if self.transform == "log" else list(q)), None

    def recovery_chart(self, chart: int) -> int:
        n_d = len(self.deltas)
        first_raw = len(self._means) + len(self.sigmas)
        first_bin = first_raw + len(self._raw_means)
        if chart >= first_bin:      # binned: recover on the smallest tolerated shift of the same sign
            sign = (chart - first_bin) // max(len(self.bin_deltas), 1)
            return sign * n_d if n_d else chart
        if chart >= first_raw:      # untolerated: recover on the smallest tolerated shift of the same sign
            sign = (chart - first_raw) // max(len(self.raw_deltas), 1)
            return sign * n_d if n_d else chart
        if chart < len(self._means):
            return chart - 1 if chart % n_d else chart  # mean charts: per sign, deltas ascending
        return chart - 1 if chart > len(self._means) else chart  # scale charts, sigmas ascending

    def params(self) -> dict[str, Any]:
        return {"quantiles": list(self.quantiles), "transform": self.transform, "direction": self.direction,
                "tolerance": self.tolerance, "deltas": list(self.deltas), "sigmas": list(self.sigmas),
                "raw_deltas": list(self.raw_deltas), "raw_quantiles": self.raw_quantiles,
                "bin_deltas": list(self.bin_deltas), "scale_tolerance": self.scale_tolerance}
