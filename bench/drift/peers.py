"""Detector adapters for the drift benchmark: mlfi and its peers behind one calling convention.

A *family* is a callable ``(reference, current, categorical) -> dict[variant, Decision]``: one call
of the underlying library may yield several decisions (Evidently gives both its dataset-level
verdict and its per-column flags from the same report). ``Decision.ranking`` lists the features
from most to least drifted by the library's own per-feature score, or is ``None`` when the library
gives no per-feature score.

Families (each imported lazily, so the harness runs in any environment that has the one it needs):

- ``mlfi``       ``app.detection.feature_drift`` at its defaults (dataset flag + its own ranking)
- ``ks``         scipy: two-sample KS on numeric columns, chi-square on categorical ones,
                 Bonferroni at alpha = 0.05 (the honest textbook peer)
- ``alibi``      Alibi Detect ``KSDrift`` (default: Bonferroni, p = 0.05), categorical column as 0/1
- ``evidently``  Evidently ``DataDriftPreset`` (its defaults: KS/Z-test up to 1000 rows, normed
                 Wasserstein / Jensen-Shannon above); variants ``evidently_preset`` (dataset drift =
                 share of drifted columns >= 0.5) and ``evidently_any`` (any column flagged)
- ``nannyml``    NannyML ``UnivariateDriftCalculator`` at its defaults (Jensen-Shannon, 10 chunks,
                 standard-deviation thresholds from the reference chunks); drift = any chunk alert
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Decision", "FAMILIES", "VARIANTS", "get_family"]

ALPHA = 0.05

# The peers' usage telemetry is switched off: this machine has no network, and a failing upload
# would add retries (seconds) to the timings and noise to the logs.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")


@dataclass(frozen=True)
class Decision:
    """A library's verdict on one window: dataset-level drift flag and per-feature ranking."""

    flag: bool
    ranking: list[str] | None


Family = Callable[[pd.DataFrame, pd.DataFrame, Sequence[str]], dict[str, Decision]]


def _rank(scores: dict[str, tuple[float, ...]]) -> list[str]:
    """Features sorted by descending score tuples (ties keep column order)."""
    return sorted(scores, key=lambda c: scores[c], reverse=True)


def _neglog(p: float) -> float:
    return math.inf if p <= 0 else -math.log10(p)


def ks_family(ref: pd.DataFrame, cur: pd.DataFrame, categorical: Sequence[str]) -> dict[str, Decision]:
    """KS per numeric column, chi-square per categorical column, Bonferroni over all columns."""
    from scipy import stats

    pvals: dict[str, float] = {}
    scores: dict[str, tuple[float, ...]] = {}
    for col in ref.columns:
        if col in categorical:
            levels = sorted(set(ref[col]) | set(cur[col]))
            table = np.array([[int((ref[col] == v).sum()) for v in levels], [int((cur[col] == v).sum()) for v in levels]])
            table = table[:, table.sum(axis=0) > 0]
            if table.shape[1] < 2:
                p, stat = 1.0, 0.0
            else:
                stat, p, _, _ = stats.chi2_contingency(table, correction=False)
            # comparable effect: Cramer's V is on the same 0..1 scale as the KS statistic
            effect = math.sqrt(stat / table.sum()) if table.sum() else 0.0
        else:
            res = stats.ks_2samp(ref[col].to_numpy(), cur[col].to_numpy())
            p, effect = float(res.pvalue), float(res.statistic)
        pvals[col] = float(p)
        scores[col] = (_neglog(float(p)), effect)
    k = len(pvals)
    flag = any(p < ALPHA / k for p in pvals.values())
    return {"ks_bonferroni": Decision(flag, _rank(scores))}


def alibi_family(ref: pd.DataFrame, cur: pd.DataFrame, categorical: Sequence[str]) -> dict[str, Decision]:
    """Alibi Detect KSDrift at its defaults; categorical columns encoded as 0/1 codes."""
    from alibi_detect.cd import KSDrift

    cols = list(ref.columns)
    x_ref, x_cur = _codes(ref, cur, categorical)
    det = KSDrift(x_ref, p_val=ALPHA)
    out = det.predict(x_cur, return_p_val=True, return_distance=True)["data"]
    p, dist = np.atleast_1d(out["p_val"]), np.atleast_1d(out["distance"])
    scores = {c: (_neglog(float(p[i])), float(dist[i])) for i, c in enumerate(cols)}
    return {"alibi_ksdrift": Decision(bool(out["is_drift"]), _rank(scores))}


def _codes(ref: pd.DataFrame, cur: pd.DataFrame, categorical: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    ref, cur = ref.copy(), cur.copy()
    for col in categorical:
        levels = {v: i for i, v in enumerate(sorted(set(ref[col]) | set(cur[col])))}
        ref[col] = ref[col].map(levels)
        cur[col] = cur[col].map(levels)
    return ref.to_numpy(dtype=np.float32), cur.to_numpy(dtype=np.float32)


def evidently_family(ref: pd.DataFrame, cur: pd.DataFrame, categorical: Sequence[str]) -> dict[str, Decision]:
    """Evidently DataDriftPreset: dataset verdict (share >= 0.5) and any-column verdict."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    numeric = [c for c in ref.columns if c not in categorical]
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=list(categorical))
    snap = Report([DataDriftPreset()]).run(
        Dataset.from_pandas(cur, data_definition=definition), Dataset.from_pandas(ref, data_definition=definition)
    )
    share = 0.0
    flags: dict[str, bool] = {}
    scores: dict[str, tuple[float, ...]] = {}
    for metric in snap.dict()["metrics"]:
        cfg = metric["config"]
        if cfg["type"].endswith("DriftedColumnsCount"):
            share = float(metric["value"]["share"])
            continue
        if not cfg["type"].endswith("ValueDrift"):
            continue
        col, method, thr, value = cfg["column"], cfg["method"], float(cfg["threshold"]), float(metric["value"])
        if "p_value" in method:
            flags[col] = value <= thr if method.startswith("K-S") else value < thr
            # how far past the threshold, on a log scale: comparable across methods
            scores[col] = (_neglog(value) - _neglog(thr),)
        else:
            flags[col] = value >= thr
            scores[col] = (math.log10(max(value, 1e-300) / thr),)
    ranking = _rank(scores)
    return {
        "evidently_preset": Decision(share >= 0.5, ranking),
        "evidently_any": Decision(any(flags.values()), ranking),
    }


def nannyml_family(ref: pd.DataFrame, cur: pd.DataFrame, categorical: Sequence[str]) -> dict[str, Decision]:
    """NannyML univariate drift at its defaults; drift when any chunk of any column alerts."""
    import nannyml as nml

    cols = list(ref.columns)
    calc = nml.UnivariateDriftCalculator(column_names=cols, treat_as_categorical=list(categorical) or None)
    calc.fit(ref)
    table = calc.calculate(cur).filter(period="analysis").to_df()
    flag = False
    scores: dict[str, tuple[float, ...]] = {}
    for col in cols:
        method = [m for (c, m, f) in table.columns if c == col and f == "value"][0]
        alerts = table[(col, method, "alert")].astype(bool)
        values = table[(col, method, "value")].astype(float)
        upper = table[(col, method, "upper_threshold")].astype(float).replace(0.0, np.nan)
        flag = flag or bool(alerts.any())
        scores[col] = (int(alerts.sum()), float(np.nanmean(values / upper)) if upper.notna().any() else 0.0)
    return {"nannyml_any_alert": Decision(flag, _rank(scores))}


def mlfi_family(ref: pd.DataFrame, cur: pd.DataFrame, categorical: Sequence[str]) -> dict[str, Decision]:
    """mlfi's feature_drift at its defaults: (results, ranking, dataset_drift)."""
    import app.detection as detection

    fn = detection.feature_drift  # the package's lazy attribute (the function)
    if not callable(fn):  # older trees: a submodule of the same name shadowed the function
        fn = fn.feature_drift
    out = fn(ref, cur)
    if hasattr(out, "ranking") and hasattr(out, "dataset_drift"):
        ranking, dataset_drift = out.ranking, out.dataset_drift
    else:  # a plain (features, ranking, dataset_drift) tuple
        _features, ranking, dataset_drift = out
    return {"mlfi": Decision(bool(dataset_drift), [str(r) for r in ranking] if ranking is not None else None)}


FAMILIES: dict[str, Family] = {
    "mlfi": mlfi_family,
    "ks": ks_family,
    "alibi": alibi_family,
    "evidently": evidently_family,
    "nannyml": nannyml_family,
}

#: family -> the decision variants it yields, in report order
VARIANTS: dict[str, tuple[str, ...]] = {
    "mlfi": ("mlfi",),
    "ks": ("ks_bonferroni",),
    "alibi": ("alibi_ksdrift",),
    "evidently": ("evidently_preset", "evidently_any"),
    "nannyml": ("nannyml_any_alert",),
}


def get_family(name: str) -> Family:
    """The adapter for one library family (ValueError naming the known ones otherwise)."""
    if name not in FAMILIES:
        raise ValueError(f"unknown detector family {name!r}; known: {sorted(FAMILIES)}")
    return FAMILIES[name]
