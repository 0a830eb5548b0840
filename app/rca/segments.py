"""Segments: regions of feature space where the current window diverges or its problems concentrate.

A shallow decision tree (depth ``max_depth``, leaves of at least ``min_share`` of the rows, seeded)
is grown either on reference-vs-current rows (where did the traffic move?) or on an outcome of
the current rows (where do errors / low confidence / slow answers concentrate?). Every node of
the tree (not only the leaves) is a candidate region; regions are scored by the excess they
explain (extra share of current rows, or outcome gap x share) and picked greedily without
overlap, so two bad sibling leaves are reported as their parent. Each region's path is rendered
as readable conditions -- bounds on one feature merged, categories listed:
``mean radius > 17.2 and mean texture <= 20.1`` -- with its share of the current window and a
metric comparing it with the rest.

A region is reported only when it is significant. The tree is grown on one random half of the rows
and each region is tested on the other half (a split chosen on the same rows always looks
significant), one-sided (Fisher exact on counts, Welch's t on a continuous outcome), below
``ALPHA`` divided by the number of candidate regions (Bonferroni). So a noise split of a healthy
window is not shown as an "affected segment".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from app.detection.base import single_threaded
from app.schemas import Segment

__all__ = ["ALPHA", "drift_segments", "node_rules", "outcome_segments", "render_conditions", "significant"]

ALPHA = 0.01

Bounds = dict[int, list[float]]  # feature index -> [lower (exclusive), upper (inclusive)]


def node_rules(tree: Any) -> tuple[dict[int, Bounds], dict[int, int]]:
    """For every non-root node of a fitted sklearn tree: the feature intervals on its path; and parents."""
    t = tree.tree_
    out: dict[int, Bounds] = {}
    parent: dict[int, int] = {}

    def walk(node: int, bounds: Bounds) -> None:
        if node != 0:
            out[node] = bounds
        if t.children_left[node] == -1:
            return
        f, thr = int(t.feature[node]), float(t.threshold[node])
        lo, hi = bounds.get(f, [-np.inf, np.inf])
        left, right = int(t.children_left[node]), int(t.children_right[node])
        parent[left] = parent[right] = node
        walk(left, {**bounds, f: [lo, min(hi, thr)]})
        walk(right, {**bounds, f: [max(lo, thr), hi]})

    walk(0, {})
    return out, parent


def _lineage(node: int, parent: dict[int, int]) -> set[int]:
    out = {node}
    while node in parent:
        node = parent[node]
        out.add(node)
    return out


def _pick(candidates: list[tuple[float, int, Segment]], parent: dict[int, int], top_k: int) -> list[Segment]:
    """Best-scoring regions, none an ancestor or descendant of another."""
    chosen: list[tuple[int, Segment]] = []
    for _, node, seg in sorted(candidates, key=lambda c: -c[0]):
        if any(node in _lineage(n, parent) or n in _lineage(node, parent) for n, _ in chosen):
            continue
        chosen.append((node, seg))
        if len(chosen) == top_k:
            break
    return [seg for _, seg in chosen]


def _num(x: float) -> str:
    return f"{x:.4g}"


def render_conditions(bounds: Bounds, names: Sequence[str], levels: dict[int, list[str]] | None = None) -> str:
    """Readable conditions for one leaf.

    >>> render_conditions({0: [17.2, np.inf], 1: [-np.inf, 20.1]}, ["mean radius", "mean texture"])
    'mean radius > 17.2 and mean texture <= 20.1'
    >>> render_conditions({0: [1.5, 4.0], 1: [-np.inf, 0.5]}, ["x", "city"], {1: ["north", "south"]})
    "1.5 < x <= 4 and city = 'north'"
    """
    levels = levels or {}
    parts = []
    for f in sorted(bounds):
        lo, hi = bounds[f]
        name = names[f]
        if f in levels:
            inside = [lv for code, lv in enumerate(levels[f]) if lo < code <= hi]
            if not inside or len(inside) == len(levels[f]):
                continue
            parts.append(f"{name} = {inside[0]!r}" if len(inside) == 1 else
                         f"{name} in {{{', '.join(repr(v) for v in inside)}}}")
        elif np.isfinite(lo) and np.isfinite(hi):
            parts.append(f"{_num(lo)} < {name} <= {_num(hi)}")
        elif np.isfinite(lo):
            parts.append(f"{name} > {_num(lo)}")
        elif np.isfinite(hi):
            parts.append(f"{name} <= {_num(hi)}")
    return " and ".join(parts) or "all rows"


def _impute(x: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        med = np.nanmedian(np.where(np.isfinite(x), x, np.nan), axis=0)
    med = np.where(np.isfinite(med), med, 0.0)
    return np.where(np.isfinite(x), x, med)


def significant(p: float, candidates: int, alpha: float = ALPHA) -> bool:
    """Bonferroni: ``p`` below ``alpha`` / number of candidate regions.

    >>> significant(0.001, 6), significant(0.005, 6)
    (True, False)
    """
    return bool(np.isfinite(p) and p < alpha / max(1, candidates))


def _halves(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Indices of two random halves of ``n`` rows: one grows the tree, the other tests its regions."""
    perm = rng.permutation(n)
    return np.sort(perm[: n // 2]), np.sort(perm[n // 2:])


def _fisher_greater(k1: int, n1: int, k2: int, n2: int) -> float:
    """One-sided Fisher exact p-value that the share k1/n1 exceeds k2/n2."""
    from scipy import stats

    return float(stats.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]], alternative="greater").pvalue)


def drift_segments(x_ref: np.ndarray, x_cur: np.ndarray, names: Sequence[str], *, levels: dict[int, list[str]] | None = None,
                   max_depth: int = 2, min_share: float = 0.05, top_k: int = 3, seed: int = 0,
                   max_rows: int = 5000) -> list[Segment]:
    """Regions over-represented in the current window compared with the reference."""
    from sklearn.tree import DecisionTreeClassifier

    rng = np.random.default_rng(seed)

    def sub(a: np.ndarray) -> np.ndarray:
        return a if a.shape[0] <= max_rows else a[rng.choice(a.shape[0], max_rows, replace=False)]

    xr, xc = sub(x_ref), sub(x_cur)
    if min(len(xr), len(xc)) < 10:
        return []
    x = _impute(np.vstack([xr, xc]))
    y = np.r_[np.zeros(len(xr)), np.ones(len(xc))]
    fit, hold = _halves(len(y), rng)
    leaf_min = max(5, int(min_share * len(fit)))
    with single_threaded():
        tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=leaf_min, class_weight="balanced",
                                      random_state=seed).fit(x[fit], y[fit])
    paths = tree.decision_path(x).tocsc()
    rules, parent = node_rules(tree)
    found = []
    for node, bounds in rules.items():
        m = paths[:, node].toarray().ravel().astype(bool)
        s_cur, s_ref = float(m[y == 1].mean()), float(m[y == 0].mean())
        if s_cur < min_share or s_cur < 1.5 * s_ref + 1e-12 or s_cur - s_ref < 0.05:
            continue
        mh, yh = m[hold], y[hold]
        p = _fisher_greater(int(mh[yh == 1].sum()), int((yh == 1).sum()), int(mh[yh == 0].sum()), int((yh == 0).sum()))
        if not significant(p, len(rules)):
            continue
        lift = s_cur / s_ref if s_ref > 0 else float("inf")
        metric = (f"{s_cur:.0%} of current rows vs {s_ref:.0%} of reference rows"
                  + (f" ({lift:.1f}x)" if np.isfinite(lift) else " (new region)"))
        found.append((s_cur - s_ref, node, Segment(description=render_conditions(bounds, names, levels),
                                                   share=round(s_cur, 4), metric=metric,
                                                   value=round(lift, 3) if np.isfinite(lift) else None)))
    return _pick(found, parent, top_k)


def outcome_segments(x: np.ndarray, outcome: np.ndarray, names: Sequence[str], *, what: str, higher_is_worse: bool,
                     binary: bool, levels: dict[int, list[str]] | None = None, max_depth: int = 2,
                     min_share: float = 0.05, top_k: int = 3, seed: int = 0) -> list[Segment]:
    """Regions of the current window where an outcome (error, low confidence, latency) concentrates."""
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    ok = np.isfinite(outcome)
    x, y = _impute(x[ok]), outcome[ok]
    if len(y) < 20 or np.ptp(y) == 0:
        return []
    fit, hold = _halves(len(y), np.random.default_rng(seed))
    leaf_min = max(5, int(min_share * len(fit)))
    cls = DecisionTreeClassifier if binary else DecisionTreeRegressor
    with single_threaded():
        tree = cls(max_depth=max_depth, min_samples_leaf=leaf_min, random_state=seed).fit(x[fit], y[fit])
    paths, overall = tree.decision_path(x).tocsc(), float(y.mean())
    rules, parent = node_rules(tree)
    sign = 1.0 if higher_is_worse else -1.0
    spread = float(np.std(y)) or 1.0
    found = []
    for node, bounds in rules.items():
        m = paths[:, node].toarray().ravel().astype(bool)
        v = float(y[m].mean())
        gap = sign * (v - overall)
        worse_enough = (gap >= 0.1 and v >= 1.5 * overall) if binary else gap >= 0.5 * spread
        mh, yh = m[hold], y[hold]
        if not worse_enough or mh.all() or not mh.any():
            continue
        if not significant(_outcome_p(yh[mh], yh[~mh], binary=binary, higher_is_worse=higher_is_worse), len(rules)):
            continue
        shown = f"{v:.0%} vs {overall:.0%}" if binary else f"{v:.4g} vs {overall:.4g}"
        found.append((gap * m.mean(), node, Segment(description=render_conditions(bounds, names, levels),
                                                    share=round(float(m.mean()), 4),
                                                    metric=f"{what} {shown} overall", value=round(v, 6))))
    return _pick(found, parent, top_k)


def _outcome_p(inside: np.ndarray, outside: np.ndarray, *, binary: bool, higher_is_worse: bool) -> float:
    """One-sided p-value that the outcome is worse inside the region than outside it."""
    from scipy import stats

    a, b = (inside, outside) if higher_is_worse else (-inside, -outside)
    if binary:
        hi_in, hi_out = (int(inside.sum()), int(outside.sum())) if higher_is_worse else \
            (int((inside == 0).sum()), int((outside == 0).sum()))
        return _fisher_greater(hi_in, len(inside), hi_out, len(outside))
    if len(a) < 2 or len(b) < 2:
        return 1.0
    res = stats.ttest_ind(a, b, equal_var=False, alternative="greater")
    return float(res.pvalue) if np.isfinite(res.pvalue) else 1.0
