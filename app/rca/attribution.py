"""Feature-level attribution: which inputs drive a shift (or the errors, or the low confidence).

Two models, one method. For drift, a classifier learns reference-vs-current rows (the domain
classifier, seeded, at most ``max_rows`` rows per side); for an accuracy drop, an error spike, a
confidence drop or slower answers, a *surrogate* model learns the correctness / failure /
confidence / latency of each current row from its inputs. ``shap.TreeExplainer`` explains the
model; each feature's mean |SHAP| share is combined half-and-half with a univariate share:

- drift: -log10 of the feature's BH-adjusted p-value (0 for unflagged features);
- surrogate targets: |AUC - 0.5| x 2 between the two outcome groups (binary targets) or
  |Spearman rho| (continuous targets).

The result, ``rca.features``, is ranked by that combined score, each with plain evidence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from scipy import stats

from app.detection.base import single_threaded
from app.detection.drift import feature_results
from app.detection.suite import SuiteResult
from app.schemas import FeatureAttribution

__all__ = ["Target", "explain_drift", "explain_outcome", "shap_shares"]

TargetKind = Literal["binary", "continuous"]


@dataclass(frozen=True)
class Target:
    """What a surrogate explains: values per current row, their kind and a phrase for the evidence."""

    values: np.ndarray
    kind: TargetKind
    text: str


def shap_shares(model: object, x: np.ndarray, seed: int, max_rows: int = 1000) -> np.ndarray:
    """Mean |SHAP| per feature of a fitted tree model, normalised to sum to 1 (zeros if all zero)."""
    import shap

    rng = np.random.default_rng(seed)
    rows = x if x.shape[0] <= max_rows else x[rng.choice(x.shape[0], max_rows, replace=False)]
    with single_threaded():
        values = shap.TreeExplainer(model).shap_values(rows)
    values = np.asarray(values[1] if isinstance(values, list) else values)
    if values.ndim == 3:  # (rows, features, classes)
        values = values[..., -1]
    mean_abs = np.abs(values).mean(axis=0)
    total = float(mean_abs.sum())
    return mean_abs / total if total > 0 else np.zeros_like(mean_abs)


def _norm(v: np.ndarray) -> np.ndarray:
    total = float(v.sum())
    return v / total if total > 0 else np.zeros_like(v)


def _combine(names: list[str], shap_share: np.ndarray, uni: np.ndarray, evidence: list[str],
             top_k: int) -> list[FeatureAttribution]:
    uni_share = _norm(np.clip(uni, 0, None))
    score = 0.5 * shap_share + 0.5 * uni_share if uni_share.sum() > 0 else shap_share
    order = np.argsort(-score, kind="stable")
    return [FeatureAttribution(name=names[i], score=round(float(score[i]), 4), evidence=evidence[i])
            for i in order[:top_k] if score[i] > 0]


def explain_drift(x_ref: np.ndarray, x_cur: np.ndarray, names: list[str], suite: SuiteResult, *, seed: int = 0,
                  max_rows: int = 5000, top_k: int = 10) -> list[FeatureAttribution]:
    """Rank features by their part in the reference-vs-current difference."""
    from app.detection.domain_classifier import domain_model

    rng = np.random.default_rng(seed)

    def sub(a: np.ndarray) -> np.ndarray:
        return a if a.shape[0] <= max_rows else a[rng.choice(a.shape[0], max_rows, replace=False)]

    xr, xc = sub(x_ref), sub(x_cur)
    x = np.vstack([xr, xc])
    y = np.r_[np.zeros(len(xr)), np.ones(len(xc))]
    with single_threaded():
        model = domain_model(seed, len(y)).fit(x, y)
    shap_share = shap_shares(model, xc, seed)
    per = feature_results(suite)
    uni = np.zeros(len(names))
    evidence = []
    for i, n in enumerate(names):
        tests = per.get(n, [])
        flagged = [t for t in tests if t.drift_detected]
        head = (flagged or tests)[0] if (flagged or tests) else None
        if flagged:
            p = min(t.p_adjusted for t in flagged if t.p_adjusted is not None)
            uni[i] = min(300.0, -math.log10(max(p, 1e-300)))
        bits = []
        if head is not None:
            p_txt = f"{head.p_adjusted:.2g}" if head.p_adjusted is not None else "n/a"
            bits.append(f"{head.method}: {head.detail} (adjusted p {p_txt}{', flagged' if flagged else ''})")
        bits.append(f"{shap_share[i]:.0%} of the mean |SHAP| of a reference-vs-current classifier")
        evidence.append("; ".join(bits))
    return _combine(names, shap_share, uni, evidence, top_k)


def _association(col: np.ndarray, target: Target) -> tuple[float, str]:
    ok = np.isfinite(col) & np.isfinite(target.values)
    c, t = col[ok], target.values[ok]
    if c.size < 5 or np.ptp(c) == 0 or np.ptp(t) == 0:
        return 0.0, "no variation"
    if target.kind == "binary":
        a, b = c[t == 1], c[t == 0]
        u = stats.mannwhitneyu(a, b).statistic
        auc = float(u) / (a.size * b.size)
        return abs(auc - 0.5) * 2, f"median {np.median(a):.4g} where {target.text} vs {np.median(b):.4g} elsewhere"
    rho = float(stats.spearmanr(c, t).statistic)
    if not math.isfinite(rho):
        return 0.0, "no variation"
    return abs(rho), f"Spearman rho {rho:+.2f} with {target.text}"


def explain_outcome(x_cur: np.ndarray, names: list[str], target: Target, *, seed: int = 0,
                    top_k: int = 10) -> list[FeatureAttribution]:
    """Rank features by how well they explain an outcome in the current window (surrogate + SHAP)."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    ok = np.isfinite(target.values)
    x, t = x_cur[ok], target.values[ok]
    if x.shape[0] < 10 or np.ptp(t) == 0:
        return []
    leaf = max(5, min(20, x.shape[0] // 20))
    params = {"max_iter": 60, "learning_rate": 0.1, "max_leaf_nodes": 15, "min_samples_leaf": leaf,
              "l2_regularization": 1.0, "early_stopping": False, "random_state": seed}
    with single_threaded():
        model = (HistGradientBoostingClassifier(**params) if target.kind == "binary"
                 else HistGradientBoostingRegressor(**params)).fit(x, t)
    shap_share = shap_shares(model, x, seed)
    kept = replace(target, values=t)    # the rows with an outcome (failed requests have none)
    uni, evidence = np.zeros(len(names)), []
    for i, n in enumerate(names):
        uni[i], text = _association(x[:, i], kept)
        evidence.append(f"{shap_share[i]:.0%} of the mean |SHAP| of a surrogate model of {target.text}; {text}")
    return _combine(names, shap_share, uni, evidence, top_k)
