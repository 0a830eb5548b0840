"""Isolation Forest on the joint rows (features, confidence, latency): is the anomaly rate up?

Fit: the reference rows (NaN imputed with the reference medians) are split into ``n_folds``
parts, one forest per part; every reference row is scored by a forest that did not see it, and
the threshold is the ``1 - contamination`` quantile of those scores, so the reference anomaly
rate is honest rather than the optimistic in-sample rate. Current rows are scored by one of the
same forests (chosen at random per row), so both windows are "fresh" rows for the same models.

Score: the share of current rows above the threshold is compared with the reference share by a
one-sided Fisher exact test (``scipy.stats.fisher_exact``, alternative "greater"). Fisher rather
than a binomial test against a fixed rate because the reference rate is itself estimated from a
finite window (150 probes): treating it as known would raise false alarms.

Effect: the rise of the anomaly rate in percentage points; floor 0.05 (5 points).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from app.detection.base import Detector, TestResult, single_threaded
from app.detection.registry import register

__all__ = ["IsolationForestDetector"]


@register
class IsolationForestDetector(Detector):
    """Anomaly-rate test with an Isolation Forest fitted on the reference rows."""

    name = "isolation_forest"
    input_kind = "numeric"
    default_floor = 0.05
    effect_label = "anomaly-rate rise"
    min_rows = 10

    def __init__(self, *, effect_floor: float | None = None, seed: int = 0, contamination: float = 0.05,
                 n_estimators: int = 50, n_folds: int = 2, max_rows: int = 5000) -> None:
        super().__init__(effect_floor=effect_floor, seed=seed)
        if not 0 < contamination < 0.5 or n_estimators < 10 or n_folds < 2 or max_rows < 20:
            raise ValueError(f"bad isolation_forest parameters: contamination={contamination}, "
                             f"n_estimators={n_estimators}, n_folds={n_folds}, max_rows={max_rows}")
        self.contamination, self.n_estimators = float(contamination), int(n_estimators)
        self.n_folds, self.max_rows = int(n_folds), int(max_rows)

    def _forest(self, seed: int):  # type: ignore[no-untyped-def]
        from sklearn.ensemble import IsolationForest

        return IsolationForest(n_estimators=self.n_estimators, random_state=seed, n_jobs=1)

    def _prepare(self, x: np.ndarray) -> np.ndarray:
        x = np.where(np.isfinite(x), x, self.fill_)
        return x

    def _sub(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return x if x.shape[0] <= self.max_rows else x[rng.choice(x.shape[0], self.max_rows, replace=False)]

    def _fit(self, reference: np.ndarray) -> None:
        with single_threaded():
            self._fit_forests(reference)

    def _fit_forests(self, reference: np.ndarray) -> None:
        rng = np.random.default_rng(self.seed)
        with np.errstate(all="ignore"):
            med = np.nanmedian(np.where(np.isfinite(reference), reference, np.nan), axis=0)
        self.fill_ = np.where(np.isfinite(med), med, 0.0)
        x = self._sub(self._prepare(reference), rng)
        folds = rng.permutation(x.shape[0]) % self.n_folds
        oof = np.empty(x.shape[0])
        self.models_ = [self._forest(self.seed + k).fit(x[folds == k]) for k in range(self.n_folds)]
        for k in range(self.n_folds):  # rows of part k are scored by the forest of part k+1
            rows = folds == k
            oof[rows] = -self.models_[(k + 1) % self.n_folds].score_samples(x[rows])  # higher = more anomalous
        self.threshold_ = float(np.quantile(oof, 1.0 - self.contamination))
        self.n_ref_ = int(x.shape[0])
        self.k_ref_ = int((oof > self.threshold_).sum())

    def _score(self, current: np.ndarray) -> list[TestResult]:
        rng = np.random.default_rng(self.seed + 1)
        x = self._sub(self._prepare(current), rng)
        which = rng.integers(0, self.n_folds, x.shape[0])
        scores = np.empty(x.shape[0])
        with single_threaded():
            for j, model in enumerate(self.models_):
                if (which == j).any():
                    scores[which == j] = -model.score_samples(x[which == j])
        k, m = int((scores > self.threshold_).sum()), int(x.shape[0])
        res = stats.fisher_exact([[k, m - k], [self.k_ref_, self.n_ref_ - self.k_ref_]], alternative="greater")
        r_cur, r_ref = k / m, self.k_ref_ / self.n_ref_
        return [self.result("rows", r_cur, float(res.pvalue), r_cur - r_ref, self.n_ref_, m, delta=r_cur - r_ref,
                            detail=f"{r_cur:.1%} of current rows are outliers vs {r_ref:.1%} of reference rows")]
