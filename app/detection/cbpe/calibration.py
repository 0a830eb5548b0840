"""Cross-fitted isotonic calibration of a model's confidence to P(its prediction is right).

CBPE (NannyML's confidence-based performance estimation) calibrates the model's class scores on
the labelled reference and averages them over an unlabelled window. Three weak spots are fixed here:

- the calibrator is judged *out of fold* (``n_folds`` stratified folds): the reference's own
  accuracy, calibration error and discrimination come from a calibrator that did not see the row,
  so a calibrator that merely memorised the reference cannot look good;
- each isotonic block's value is the Jeffreys estimate ``(k + 1/2) / (n + 1)``, never exactly 0 or
  1, so a top block that happened to be all right does not claim certainty (and zero variance);
- ``n_boot`` (Poisson) bootstrap refits give the calibration uncertainty that NannyML's band leaves out.

The fit reports its problems as plain sentences (too few labels, too few wrong predictions,
confidence that does not separate right from wrong, calibration that does not hold out of fold).

>>> rng = np.random.default_rng(0)
>>> conf = rng.uniform(0.5, 1.0, 2000)
>>> right = (rng.uniform(size=2000) < conf).astype(float)
>>> cal = ConfidenceCalibrator(seed=0).fit(conf, right)
>>> cal.fit_.problems
()
>>> bool(abs(cal.predict(np.array([0.75]))[0] - 0.75) < 0.06)
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CalibrationFit", "ConfidenceCalibrator", "auc_of", "expected_calibration_error"]


@dataclass(frozen=True)
class CalibrationFit:
    """What the reference says about the calibrator (all out-of-fold figures)."""

    n_labels: int
    n_wrong: int
    reference_accuracy: float
    oof_estimate: float        # mean out-of-fold calibrated probability on the reference
    oof_ece: float             # expected calibration error of the out-of-fold probabilities
    auc: float                 # how well the raw confidence separates right from wrong
    problems: tuple[str, ...]


def auc_of(score: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve of ``score`` for ``positive`` (ties count half); 0.5 when one class is empty.

    >>> auc_of(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1]))
    0.75
    """
    pos = positive.astype(bool)
    n1, n0 = int(pos.sum()), int((~pos).sum())
    if n1 == 0 or n0 == 0:
        return 0.5
    order = np.argsort(score, kind="mergesort")
    ranks = np.empty(score.size)
    s = score[order]
    _, first, counts = np.unique(s, return_index=True, return_counts=True)
    avg = first + (counts + 1) / 2.0                     # 1-based average rank of each tie group
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def expected_calibration_error(p: np.ndarray, y: np.ndarray, n_bins: int = 10) -> float:
    """Equal-mass binned ECE: mean over rows of |mean(p) - mean(y)| within the row's bin.

    >>> round(expected_calibration_error(np.array([0.9, 0.9, 0.1, 0.1]), np.array([1, 1, 0, 0]), 2), 6)
    0.1
    """
    order = np.argsort(p, kind="mergesort")
    bins = np.array_split(order, min(n_bins, p.size))
    return float(sum(abs(p[b].mean() - y[b].mean()) * b.size for b in bins if b.size) / p.size)


def _pooled(ux: np.ndarray, w: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(block centres, Jeffreys block probabilities) of the isotonic fit of k/w on sorted distinct ux."""
    from sklearn.isotonic import isotonic_regression

    m = w > 0
    ux, w, k = ux[m], w[m], k[m]
    fitted = isotonic_regression(k / w, sample_weight=w, increasing=True)
    edges = np.flatnonzero(np.r_[True, np.abs(np.diff(fitted)) > 1e-12])  # first index of each block
    n_b, k_b = np.add.reduceat(w, edges), np.add.reduceat(k, edges)
    return np.add.reduceat(ux * w, edges) / n_b, (k_b + 0.5) / (n_b + 1.0)


def _isotonic(x: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(block centres, Jeffreys block probabilities) of the (weighted) isotonic fit of y (0/1) on x."""
    ux, inv = np.unique(x, return_inverse=True)
    wt = np.ones(x.size) if weight is None else weight
    return _pooled(ux, np.bincount(inv, weights=wt, minlength=ux.size), np.bincount(inv, weights=wt * y, minlength=ux.size))


class ConfidenceCalibrator:
    """Isotonic map from confidence to P(correct), fitted on labelled reference pairs.

    Parameters: ``n_folds`` for the out-of-fold diagnostics, ``n_boot`` bootstrap refits for the
    calibration uncertainty, and the thresholds that make a fit a problem: fewer than
    ``min_labels`` labelled pairs or ``min_wrong`` wrong predictions, an AUC of confidence vs
    correctness below ``min_auc``, an out-of-fold ECE above ``max_ece``.
    """

    def __init__(self, *, n_folds: int = 5, n_boot: int = 40, min_labels: int = 100, min_wrong: int = 5,
                 min_auc: float = 0.6, max_ece: float = 0.1, seed: int = 0) -> None:
        if n_folds < 2 or n_boot < 2:
            raise ValueError(f"n_folds and n_boot must be >= 2, got {n_folds}, {n_boot}")
        if not (0.5 <= min_auc < 1.0) or not (0.0 < max_ece < 1.0):
            raise ValueError(f"min_auc must be in [0.5, 1) and max_ece in (0, 1), got {min_auc}, {max_ece}")
        if min_labels < 2 or min_wrong < 0:
            raise ValueError(f"min_labels must be >= 2 and min_wrong >= 0, got {min_labels}, {min_wrong}")
        self.n_folds, self.n_boot, self.seed = int(n_folds), int(n_boot), int(seed)
        self.min_labels, self.min_wrong, self.min_auc, self.max_ece = int(min_labels), int(min_wrong), min_auc, max_ece

    def fit(self, confidence: np.ndarray, correct: np.ndarray) -> ConfidenceCalibrator:
        """Learn the map and its bootstrap copies; ``fit_`` holds the out-of-fold diagnostics."""
        c, y = np.asarray(confidence, dtype=float), np.asarray(correct, dtype=float)
        if c.shape != y.shape or c.ndim != 1:
            raise ValueError(f"confidence and correct must be 1-D of one length, got shapes {c.shape} and {y.shape}")
        keep = np.isfinite(c) & np.isfinite(y)
        c, y = c[keep], (y[keep] > 0.5).astype(float)
        if c.size < 2:
            raise ValueError(f"need at least 2 labelled pairs with a confidence to calibrate, got {c.size}")
        rng = np.random.default_rng(self.seed)
        ux, inv = np.unique(c, return_inverse=True)
        self.centres_, self.values_ = _pooled(ux, np.bincount(inv, minlength=ux.size).astype(float),
                                              np.bincount(inv, weights=y, minlength=ux.size))
        self.boot_ = []
        for _ in range(self.n_boot):                        # Poisson bootstrap: row weights ~ Poisson(1)
            wt = rng.poisson(1.0, c.size).astype(float)
            self.boot_.append(_pooled(ux, np.bincount(inv, weights=wt, minlength=ux.size),
                                      np.bincount(inv, weights=wt * y, minlength=ux.size)))
        self.min_confidence_ = float(c.min())
        self.fit_ = self._diagnose(c, y, rng)
        return self

    def _oof(self, c: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        fold = np.empty(c.size, dtype=int)
        for cls in (0.0, 1.0):                              # stratified: wrong rows spread over the folds
            idx = np.flatnonzero(y == cls)
            fold[idx] = rng.permutation(idx.size) % self.n_folds
        p = np.empty(c.size)
        for k in range(self.n_folds):
            test = fold == k
            if not test.any() or test.all():
                p[test] = y.mean()
                continue
            centres, values = _isotonic(c[~test], y[~test])
            p[test] = np.interp(c[test], centres, values)
        return p

    def _diagnose(self, c: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> CalibrationFit:
        n, wrong = int(c.size), int((y == 0).sum())
        oof = self._oof(c, y, rng)
        ece, auc = expected_calibration_error(oof, y), auc_of(c, y)
        problems = []
        if n < self.min_labels:
            problems.append(f"only {n} labelled reference predictions with a confidence (need {self.min_labels})")
        if wrong < self.min_wrong:
            problems.append(f"only {wrong} wrong predictions in the reference (need {self.min_wrong}) "
                            "to learn what low confidence means")
        elif wrong and n - wrong and auc < self.min_auc:        # undefined when one class is empty
            problems.append(f"confidence barely separates right from wrong predictions on the reference "
                            f"(AUC {auc:.2f} < {self.min_auc:.2f}): a change in accuracy would not show in it")
        if n >= self.min_labels and ece > self.max_ece:
            problems.append(f"calibration does not hold out of fold on the reference (ECE {ece:.3f} > {self.max_ece})")
        return CalibrationFit(n_labels=n, n_wrong=wrong, reference_accuracy=float(y.mean()),
                              oof_estimate=float(oof.mean()), oof_ece=ece, auc=auc, problems=tuple(problems))

    def _check(self) -> None:
        if not hasattr(self, "centres_"):
            raise RuntimeError("ConfidenceCalibrator is not fitted: call fit(confidence, correct) first")

    def predict(self, confidence: np.ndarray) -> np.ndarray:
        """Calibrated P(correct) for each confidence (clipped to the reference's range)."""
        self._check()
        return np.interp(np.asarray(confidence, dtype=float), self.centres_, self.values_)

    def predict_boot(self, confidence: np.ndarray) -> np.ndarray:
        """Calibrated P(correct) under each bootstrap refit, shape (n_boot, len(confidence))."""
        self._check()
        c = np.asarray(confidence, dtype=float)
        return np.vstack([np.interp(c, centres, values) for centres, values in self.boot_])
