"""Quantile sketches of baseline features, for ``MLFI_STORE_INPUTS=none``: the baseline file keeps each
feature's distribution as ``SKETCH_POINTS`` interpolated quantiles, never the rows or the raw values.

The sketch is the feature's empirical quantile function read at the mid-ranks ``(i + 0.5) / M``
with linear interpolation between neighbouring values. Rebuilt into a reference sample of the
original size (:func:`expand`), its empirical CDF differs from the raw one by at most ``1 / (2M)``
in rank (0.5 % for M = 100) plus the interpolation between two neighbouring raw values; a KS
statistic moves by at most that much. Joint rows are gone, so a sketched baseline turns the
multivariate tests off (``notes["detection"]``).

Mergeable: next to the quantile points the baseline keeps, per numeric feature, the counts of its
values between them (``notes["sketch"]["counts"]``, a :class:`~app.detection.histogram_sketch.HistogramSketch`
whose edges are the points). Windows binned on the same edges (any watcher, any time range) merge into
it by adding counts (:func:`absorb`); the reference is then read off the merged counts. Counts are
integers, so merging stores no value either.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from app.detection.histogram_sketch import HistogramSketch
from app.errors import InputError
from app.schemas import Baseline, FeatureReference

__all__ = ["SKETCH_POINTS", "absorb", "expand", "expand_categories", "histograms", "is_sketch", "quantile_sketch",
           "sketch_baseline", "sketch_frame"]

SKETCH_POINTS = 100
_OFF = {"multivariate": False, "classifier": "never", "isolation_forest": False}
_QS = {"p01": 0.01, "p05": 0.05, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p95": 0.95, "p99": 0.99}


def quantile_sketch(values: list[float], points: int = SKETCH_POINTS) -> list[float]:
    """``points`` quantiles at mid-ranks (fewer when fewer values), linearly interpolated.

    >>> quantile_sketch([4.0, 1.0, 3.0, 2.0], points=2)
    [1.75, 3.25]
    """
    arr = np.sort(np.asarray(values, dtype=float))
    if arr.size == 0:
        return []
    m = min(points, arr.size)
    return [float(v) for v in np.quantile(arr, (np.arange(m) + 0.5) / m)]


def expand(points: list[float], n: int) -> np.ndarray:
    """A reference sample of ``n`` values read off the sketch's piecewise-linear quantile function.

    >>> expand([1.0, 3.0], 4).tolist()
    [1.0, 1.5, 2.5, 3.0]
    """
    if not points or n <= 0:
        return np.asarray([], dtype=float)
    m = len(points)
    levels = (np.arange(n) + 0.5) / n
    return np.interp(levels, (np.arange(m) + 0.5) / m, np.asarray(points, dtype=float))


def expand_categories(categories: dict[str, float], n: int) -> list[str]:
    """``n`` category values in the stored proportions (largest remainder), most frequent first.

    >>> expand_categories({"a": 0.5, "b": 0.3, "c": 0.2}, 10)
    ['a', 'a', 'a', 'a', 'a', 'b', 'b', 'b', 'c', 'c']
    """
    if not categories or n <= 0:
        return []
    raw = {k: p * n for k, p in categories.items()}
    counts = {k: int(v) for k, v in raw.items()}
    for k in sorted(raw, key=lambda k: raw[k] - counts[k], reverse=True)[: n - sum(counts.values())]:
        counts[k] += 1
    return [k for k, c in sorted(counts.items(), key=lambda kv: -kv[1]) for _ in range(c)]


def _sketch_feature(f: FeatureReference) -> FeatureReference:
    if f.kind != "numeric":
        return f.model_copy(update={"values": []})
    pts = quantile_sketch([float(v) for v in f.values])
    q = {k: float(v) for k, v in zip(_QS, np.interp(list(_QS.values()), (np.arange(len(pts)) + 0.5) / len(pts), pts))} \
        if pts else {}
    return f.model_copy(update={"values": pts, "quantiles": q, "min": pts[0] if pts else None,
                                "max": pts[-1] if pts else None})


def sketch_baseline(b: Baseline) -> Baseline:
    """The baseline with feature rows dropped and every feature's values replaced by its quantile sketch,
    plus the counts of the values between the sketch's points (mergeable, see the module)."""
    n = max((len(f.values) for f in b.features.values()), default=0)
    features = {k: _sketch_feature(f) for k, f in b.features.items()}
    counts = {k: list(HistogramSketch.from_values([float(v) for v in b.features[k].values], f.values).counts)
              for k, f in features.items() if f.kind == "numeric" and f.values}
    notes: dict[str, Any] = dict(b.notes)
    notes["sketch"] = {"points": SKETCH_POINTS, "n": n, "rank_error": 1 / (2 * SKETCH_POINTS), "counts": counts}
    notes["detection"] = {**_OFF, **(notes.get("detection") or {})}
    return b.model_copy(update={"feature_rows": [], "notes": notes, "features": features})


def histograms(b: Baseline) -> dict[str, HistogramSketch]:
    """The mergeable per-feature sketches of a sketched baseline (numeric features with counts)."""
    counts = (b.notes.get("sketch") or {}).get("counts") or {}
    return {k: HistogramSketch(tuple(float(e) for e in b.features[k].values), tuple(int(c) for c in v))
            for k, v in counts.items() if k in b.features}


def absorb(b: Baseline, windows: dict[str, HistogramSketch]) -> Baseline:
    """The sketched baseline with window sketches (over its own edges) merged in; ``n`` grows accordingly."""
    if not is_sketch(b):
        raise InputError("only a sketched baseline (MLFI_STORE_INPUTS=none) absorbs window sketches")
    own = histograms(b)
    merged = {k: own[k].merge(h) if k in own else h for k, h in windows.items()}
    counts = {**{k: list(h.counts) for k, h in own.items()}, **{k: list(h.counts) for k, h in merged.items()}}
    sk = dict(b.notes["sketch"])
    sk.update(counts=counts, n=max((sum(c) for c in counts.values()), default=int(sk.get("n") or 0)))
    return b.model_copy(update={"notes": {**b.notes, "sketch": sk}})


def is_sketch(b: Baseline) -> bool:
    return bool(b.notes.get("sketch"))


def sketch_frame(b: Baseline, seed: int = 0) -> pd.DataFrame | None:
    """The reference feature frame rebuilt from a sketched baseline (each column in its own seeded order)."""
    n = int(b.notes.get("sketch", {}).get("n") or 0)
    if not b.features or n <= 0:
        return None
    rng = np.random.default_rng(seed)
    hists = histograms(b)
    cols: dict[str, Any] = {}
    for k, f in b.features.items():
        if f.kind != "numeric":
            vals: Any = np.asarray(expand_categories(f.categories, n), object)
        else:      # read off the (possibly merged) counts when the baseline has them, else off the points
            vals = hists[k].quantiles(n) if k in hists and hists[k].n else expand(f.values, n)
        cols[k] = vals[rng.permutation(len(vals))] if len(vals) == n else np.resize(vals, n)
    return pd.DataFrame(cols)
