"""Chi-square test of a categorical distribution (predicted classes, categorical features).

Small counts are handled the textbook way:

1. categories whose expected count is below 5 in either window are merged into one ``(other)``
   cell, rarest first, until every expected count is >= 5 or two cells remain;
2. the 2 x K table is then tested with ``scipy.stats.chi2_contingency(table, correction=False)`` --
   or, when expected counts are still below 5, with Fisher's exact test (``scipy.stats.fisher_exact``;
   exact for 2 x 2, Monte Carlo with a seeded generator for 2 x K). No Yates correction: it exists to
   protect small tables, which go to Fisher's exact test here, and on large ones it only costs power
   (measured: 10-point shift of a binary column at n=1000, 2-3 points of true-positive rate).

Effect size, one of two (``effect=``):

- ``"tv"`` (predicted classes): total-variation distance, half the L1 distance = the share of
  probability mass that moved. Floor 0.05, five percentage points: a 10-point class-proportion
  shift gives 0.10, a 1-point wobble at a million rows stays quiet. The root-cause rules read it
  as "share of predictions that moved".
- ``"psi"`` (categorical features): the population stability index over the levels,
  ``sum_k (q_k - p_k) ln(q_k / p_k)`` -- each level's change of share weighted by its relative
  change, so a change concentrated on a few rare levels counts. Floor 0.01, which a balanced
  binary column reaches at a 5-point shift (the TV floor's line) and a 50-level Zipf column when
  its 5 rarest-but-used levels double their share (2.4-3.3 % of the mass, PSI ~0.02). With TV and
  its 0.05 floor that shift was seen at 5,000 rows (sampling noise lifts the measured TV over the
  floor) and lost at 100,000 (the true TV, 0.03, is below it): a floor above a real change makes
  a larger sample see less. Here the true effect is above the floor, so the detection rate only
  grows with n (tested at 5k, 100k and 1M rows).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from app.detection.base import Detector, TestResult
from app.detection.psi import psi
from app.detection.registry import register

__all__ = ["EFFECT_FLOORS", "OTHER", "Chi2Detector", "category_counts", "merge_rare", "total_variation"]

OTHER = "(other)"
EFFECT_FLOORS = {"tv": 0.05, "psi": 0.01}


def category_counts(col: np.ndarray) -> Counter[str]:
    """Counts of the non-missing values of a column, as strings.

    >>> dict(category_counts(np.array(["a", None, "b", "a", float("nan")], dtype=object)))
    {'a': 2, 'b': 1}
    """
    counts = pd.Series(np.asarray(col, dtype=object)).dropna().value_counts(sort=False)
    out: Counter[str] = Counter()
    for v, k in counts.items():
        out[str(v)] += int(k)
    return out


def total_variation(p: dict[str, float], q: dict[str, float]) -> float:
    """Half the L1 distance between two distributions given as ``{category: share}``.

    >>> total_variation({"a": 0.5, "b": 0.5}, {"a": 0.6, "b": 0.4})
    0.1
    """
    keys = set(p) | set(q)
    return round(0.5 * sum(abs(p.get(k, 0.0) - q.get(k, 0.0)) for k in keys), 12)


def merge_rare(ref: dict[str, int], cur: dict[str, int], min_expected: float = 5.0) -> tuple[list[str], np.ndarray]:
    """Build the 2 x K table, merging categories with expected count < ``min_expected``.

    >>> cats, t = merge_rare({"a": 50, "b": 45, "c": 3, "d": 4}, {"a": 40, "b": 55, "c": 2, "d": 3})
    >>> cats, t.tolist()
    (['b', 'a', '(other)'], [[45, 50, 7], [55, 40, 5]])
    """
    cats = sorted(set(ref) | set(cur), key=lambda k: (-(ref.get(k, 0) + cur.get(k, 0)), k))
    table = np.array([[ref.get(k, 0) for k in cats], [cur.get(k, 0) for k in cats]], dtype=np.int64)
    while table.shape[1] > 2:
        col = table.sum(axis=0)
        expected = np.outer(table.sum(axis=1), col) / max(col.sum(), 1)
        if expected.min() >= min_expected:
            break
        # merge the two rarest categories (the merged cell keeps the name "(other)")
        order = np.argsort(col, kind="stable")
        i, j = sorted(order[:2])
        merged = table[:, i] + table[:, j]
        keep = [k for k in range(table.shape[1]) if k not in (i, j)]
        table = np.column_stack([table[:, keep], merged])
        cats = [cats[k] for k in keep] + [OTHER]
    return cats, table


@register
class Chi2Detector(Detector):
    """Chi-square (or Fisher exact) homogeneity test per categorical column."""

    name = "chi2"
    input_kind = "categorical"
    default_floor = 0.05
    effect_label = "total-variation distance"

    def __init__(self, *, effect_floor: float | None = None, seed: int = 0, min_expected: float = 5.0,
                 n_resamples: int = 4999, effect: str = "tv") -> None:
        if effect not in EFFECT_FLOORS:
            raise ValueError(f"effect must be one of {', '.join(EFFECT_FLOORS)}, got {effect!r}")
        super().__init__(effect_floor=EFFECT_FLOORS[effect] if effect_floor is None else effect_floor, seed=seed)
        if min_expected <= 0 or n_resamples < 99:
            raise ValueError(f"min_expected must be > 0 and n_resamples >= 99, got {min_expected}, {n_resamples}")
        self.effect = effect
        self.min_expected = float(min_expected)
        self.n_resamples = int(n_resamples)

    def _fit(self, reference: np.ndarray) -> None:
        self.counts_ = [category_counts(reference[:, j]) for j in range(reference.shape[1])]

    def test_table(self, table: np.ndarray) -> tuple[float, float, str]:
        """Chi-square on a 2 x K table, or Fisher's exact test when counts stay small."""
        table = table[:, table.sum(axis=0) > 0]
        if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
            return 0.0, 1.0, "one category"
        col = table.sum(axis=0)
        expected = np.outer(table.sum(axis=1), col) / col.sum()
        if expected.min() >= self.min_expected:
            res = stats.chi2_contingency(table, correction=False)
            return float(res.statistic), float(res.pvalue), "chi-square"
        if table.shape[1] == 2:
            res = stats.fisher_exact(table)
            return float(res.statistic), float(res.pvalue), "Fisher exact"
        rng = np.random.default_rng(self.seed)
        res = stats.fisher_exact(table, method=stats.MonteCarloMethod(n_resamples=self.n_resamples, rng=rng))
        return float(res.statistic), float(res.pvalue), "Fisher (Monte Carlo)"

    def _score(self, current: np.ndarray) -> list[TestResult]:
        out = []
        for j, name in enumerate(self.names_):
            ref, cur = self.counts_[j], category_counts(current[:, j])
            nr, nc = sum(ref.values()), sum(cur.values())
            if nr == 0 or nc == 0:
                out.append(self.result(name, None, None, None, nr, nc, detail="no values on one side"))
                continue
            _, table = merge_rare(dict(ref), dict(cur), self.min_expected)
            stat, p, how = self.test_table(table)
            pr = {k: v / nr for k, v in ref.items()}
            pc = {k: v / nc for k, v in cur.items()}
            tv = total_variation(pr, pc)
            keys = sorted(set(pr) | set(pc))
            eff = tv if self.effect == "tv" else psi(np.array([pr.get(k, 0.0) for k in keys]),
                                                     np.array([pc.get(k, 0.0) for k in keys]))
            moved = max(set(pr) | set(pc), key=lambda k: abs(pc.get(k, 0.0) - pr.get(k, 0.0)))
            detail = (f"{how}; largest change {moved!r}: {pr.get(moved, 0.0):.1%} -> {pc.get(moved, 0.0):.1%}"
                      + (f"; PSI {eff:.3f}, {tv:.1%} of the mass moved" if self.effect == "psi" else ""))
            out.append(self.result(name, stat, p, eff, nr, nc, delta=pc.get(moved, 0.0) - pr.get(moved, 0.0),
                                   detail=detail))
        return out

    @staticmethod
    def shares(counts: dict[str, Any]) -> dict[str, float]:
        """Normalise counts to shares."""
        total = sum(counts.values()) or 1
        return {k: v / total for k, v in counts.items()}
