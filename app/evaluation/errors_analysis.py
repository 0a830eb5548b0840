"""Error analysis: the most confident false positives/negatives, per-slice confusion, and clusters of
error rows (seeded KMeans on standardised numeric features) with the case nearest each centroid."""

from __future__ import annotations

import numpy as np

from app.evaluation.loader import EvalData
from app.evaluation.results import ErrorCase, ErrorCluster, Errors, SliceConfusion
from app.evaluation.slices import iter_slices, slice_labels

__all__ = ["error_cases", "slice_confusion", "error_clusters", "analyze_errors"]

FIT_ROWS = 5000


def _predicted(data: EvalData, threshold: float) -> np.ndarray:
    if data.task == "binary":
        return (data.proba >= threshold).astype(int)
    return np.asarray(np.argmax(data.proba, axis=1), dtype=int)


def _case(data: EvalData, i: int, pred: np.ndarray, slice_text: dict[str, np.ndarray]) -> ErrorCase:
    y = int(data.y[i])
    if data.task == "binary":
        score = float(data.proba[i])
        kind = "false_positive" if pred[i] == 1 else "false_negative"
    else:
        score = float(data.proba[i, pred[i]])
        kind = "misclassified"
    rid = data.frame[data.id_column].iloc[i] if data.id_column else None
    return ErrorCase(
        row=int(data.rows[i]),
        id=None if rid is None else str(rid),
        label=data.classes[y],
        predicted=data.classes[int(pred[i])],
        score=score,
        kind=kind,
        slices={c: str(v[i]) for c, v in slice_text.items()},
    )


def _slice_text(data: EvalData) -> dict[str, np.ndarray]:
    return {c: slice_labels(data.frame[c]).to_numpy() for c in data.slice_columns}


def error_cases(data: EvalData, threshold: float = 0.5, top_k: int = 10) -> dict[str, list[ErrorCase]]:
    """Top ``top_k`` false positives (highest score first), false negatives (lowest score first) and, for
    multiclass, misclassified rows (most confident first)."""
    pred = _predicted(data, threshold)
    st = _slice_text(data)
    out: dict[str, list[ErrorCase]] = {"fp": [], "fn": [], "mis": []}
    if data.task == "binary":
        fp = np.flatnonzero((pred == 1) & (data.y == 0))
        fn = np.flatnonzero((pred == 0) & (data.y == 1))
        fp = fp[np.argsort(-data.proba[fp], kind="stable")][:top_k]
        fn = fn[np.argsort(data.proba[fn], kind="stable")][:top_k]
        out["fp"] = [_case(data, int(i), pred, st) for i in fp]
        out["fn"] = [_case(data, int(i), pred, st) for i in fn]
    else:
        wrong = np.flatnonzero(pred != data.y)
        conf = data.proba[wrong, pred[wrong]]
        out["mis"] = [_case(data, int(i), pred, st) for i in wrong[np.argsort(-conf, kind="stable")][:top_k]]
    return out


def slice_confusion(data: EvalData, threshold: float = 0.5) -> list[SliceConfusion]:
    """Confusion counts for every slice value (binary: tp/fp/tn/fn), highest error rate first."""
    pred = _predicted(data, threshold)
    rows = []
    for col, value, mask in iter_slices(data):
        y, p = data.y[mask], pred[mask]
        errors = int(np.sum(y != p))
        counts = {}
        if data.task == "binary":
            counts = {
                "tp": int(np.sum((p == 1) & (y == 1))),
                "fp": int(np.sum((p == 1) & (y == 0))),
                "tn": int(np.sum((p == 0) & (y == 0))),
                "fn": int(np.sum((p == 0) & (y == 1))),
            }
        rows.append(
            SliceConfusion(
                column=col, value=value, n=int(mask.sum()), errors=errors, error_rate=errors / int(mask.sum()), **counts
            )
        )
    rows.sort(key=lambda r: (-r.error_rate, -r.n, r.column, r.value))
    return rows


def _standardised(data: EvalData) -> tuple[np.ndarray, list[str]]:
    cols = [c for c in data.feature_columns if data.frame[c].nunique(dropna=True) > 1]
    if not cols:
        return data.proba.reshape(len(data.y), -1)[:, -1:].astype(float), ["score"]
    x = data.frame[cols].astype(float).replace([np.inf, -np.inf], np.nan)
    x = x.fillna(x.median()).fillna(0.0)
    z = (x - x.mean()) / x.std(ddof=0)
    return z.to_numpy(), cols


def error_clusters(
    data: EvalData, threshold: float = 0.5, *, max_clusters: int = 4, seed: int = 0
) -> tuple[list[ErrorCluster], list[str], str]:
    """Cluster the error rows; ``k`` in 2..max_clusters is picked by silhouette (k=1 when too few errors).

    Features are the numeric feature columns standardised over ALL rows (so a centroid reads as "these
    errors sit 1.8 sd above the typical mean radius"); with no feature columns, the score is used.
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from threadpoolctl import threadpool_limits  # installed with scikit-learn

    pred = _predicted(data, threshold)
    wrong = np.flatnonzero(pred != data.y)
    z, cols = _standardised(data)
    if len(wrong) == 0:
        return [], cols, "no errors to cluster"
    ze = z[wrong]
    # fit on at most FIT_ROWS error rows (seeded sample) and assign every error row to its nearest centre
    fit_rows = np.random.default_rng(seed).choice(len(ze), FIT_ROWS, replace=False) if len(ze) > FIT_ROWS else None
    zf = ze if fit_rows is None else ze[fit_rows]
    best_k, labels = 1, np.zeros(len(wrong), dtype=int)
    best_score = -np.inf
    for k in range(2, min(max_clusters, len(wrong) // 3) + 1):
        with threadpool_limits(1):  # small problems: OpenMP threads only add contention (20x slower on 2 cores)
            km = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(zf)
        if len(set(km.labels_)) < 2:
            continue
        score = silhouette_score(zf, km.labels_, sample_size=min(len(zf), 2000), random_state=seed)
        if score > best_score:
            best_k, best_score, labels = k, score, km.predict(ze)
    sampled = "" if fit_rows is None else f", fitted on a seeded sample of {FIT_ROWS} of {len(ze)} error rows"
    method = (
        f"KMeans(n_clusters={best_k}, n_init=10, random_state={seed}) on {len(cols)} standardised "
        f"feature(s); k chosen by silhouette among 2..{max_clusters}{sampled}"
        if best_k > 1
        else "one cluster (too few errors or no better split)"
    )
    st = _slice_text(data)
    clusters = []
    for c in range(best_k):
        members = wrong[labels == c]
        if len(members) == 0:
            continue
        centre = z[members].mean(axis=0)
        rep = members[int(np.argmin(np.linalg.norm(z[members] - centre, axis=1)))]
        top = np.argsort(-np.abs(centre), kind="stable")[:4]
        kinds = (pred[members] == 1) & (data.y[members] == 0)
        scores = data.proba[members] if data.task == "binary" else data.proba[members, pred[members]]
        clusters.append(
            ErrorCluster(
                cluster=c,
                size=int(len(members)),
                false_positives=int(kinds.sum()) if data.task == "binary" else 0,
                false_negatives=int(len(members) - kinds.sum()) if data.task == "binary" else 0,
                mean_score=float(np.mean(scores)),
                profile={cols[j]: round(float(centre[j]), 3) for j in top},
                representative=_case(data, int(rep), pred, st),
            )
        )
    clusters.sort(key=lambda k: (-k.size, k.representative.row))
    return [c.model_copy(update={"cluster": i}) for i, c in enumerate(clusters)], cols, method


def analyze_errors(
    data: EvalData, threshold: float = 0.5, *, top_k: int = 10, max_clusters: int = 4, seed: int = 0
) -> Errors:
    """All error analysis for one model's rows."""
    cases = error_cases(data, threshold, top_k)
    pred = _predicted(data, threshold)
    clusters, cols, method = error_clusters(data, threshold, max_clusters=max_clusters, seed=seed)
    binary = data.task == "binary"
    return Errors(
        threshold=threshold if binary else None,
        n_errors=int(np.sum(pred != data.y)),
        n_false_positives=int(np.sum((pred == 1) & (data.y == 0))) if binary else None,
        n_false_negatives=int(np.sum((pred == 0) & (data.y == 1))) if binary else None,
        top_false_positives=cases["fp"],
        top_false_negatives=cases["fn"],
        top_misclassified=cases["mis"],
        per_slice_confusion=slice_confusion(data, threshold),
        clusters=clusters,
        cluster_features=cols,
        cluster_method=method,
    )
