"""Canonical names: splits, metrics (with aliases and direction) and the contract's categories."""

from __future__ import annotations

import re

__all__ = [
    "BOUNDED_METRICS",
    "CATEGORIES",
    "ERROR_METRICS",
    "FAILURE_CATEGORIES",
    "GATES",
    "METRIC_ALIASES",
    "SPLITS",
    "SPLIT_ALIASES",
    "canonical_metric",
    "canonical_split",
    "is_error_metric",
]

SPLITS = ("train", "validation", "test", "production")
CATEGORIES = (
    "data_leakage",
    "overfitting",
    "underfitting",
    "class_imbalance",
    "data_drift",
    "label_noise",
    "data_quality",
    "training_instability",
    "evaluation_error",
    "unknown",
)
FAILURE_CATEGORIES = CATEGORIES[:-1]
GATES = ("BLOCKED_PENDING_HUMAN_REVIEW", "REVIEW_RECOMMENDED", "CLEAR")

SPLIT_ALIASES = {
    "train": "train",
    "training": "train",
    "trn": "train",
    "in-sample": "train",
    "in_sample": "train",
    "validation": "validation",
    "val": "validation",
    "valid": "validation",
    "dev": "validation",
    "development": "validation",
    "holdout": "test",
    "hold-out": "test",
    "cv": "validation",
    "cross-validation": "validation",
    "cross_validation": "validation",
    "eval": "validation",
    "test": "test",
    "testing": "test",
    "held-out test": "test",
    "held-out": "test",
    "unseen": "test",
    "out-of-time": "test",
    "oot": "test",
    "production": "production",
    "prod": "production",
    "live": "production",
    "online": "production",
    "serving": "production",
    "deployment": "production",
    "deployed": "production",
    "real-world": "production",
    "offline": "test",
    "out-of-sample": "test",
    "out of time": "test",
    "out-of-time test": "test",
    "in-time": "validation",
    "in-time test": "validation",
    "in-sample test": "validation",
    "backtest": "test",
    "back-test": "test",
    "a/b test": "production",
    "shadow": "production",
    "canary": "production",
    "pilot": "production",
    # a second, new or external test set was drawn from another population than the training data: it plays the
    # part of production (further from the fit data than the first test set)
    "test2": "production",
    "test_2": "production",
    "test 2": "production",
    "second test": "production",
    "new test": "production",
    "new_test": "production",
    "external": "production",
    "external test": "production",
    "external_test": "production",
    "ood": "production",
    "out-of-distribution": "production",
    "original test": "test",
    "original_test": "test",
}

# canonical metric -> aliases (lower case, already stripped of punctuation differences)
METRIC_ALIASES = {
    "accuracy": ("accuracy", "acc"),
    "balanced_accuracy": ("balanced accuracy", "balanced_accuracy"),
    "roc_auc": ("roc auc", "roc-auc", "roc_auc", "auroc", "auc", "auc-roc", "auc roc", "rocauc"),
    "pr_auc": ("pr auc", "pr-auc", "pr_auc", "auprc", "average precision", "average_precision", "ap"),
    "f1": ("f1", "f1-score", "f1 score", "f1_score", "f-score", "f score"),
    # class-averaged (macro) vs prevalence-weighted (micro/weighted) F1: their gap is an imbalance signal
    "macro_f1": (
        "macro f1",
        "f1 macro",
        "macro-f1",
        "macro_f1",
        "macro-averaged f1",
        "macro averaged f1",
        "macro avg f1",
    ),
    "micro_f1": (
        "micro f1",
        "f1 micro",
        "micro-f1",
        "micro_f1",
        "micro-averaged f1",
        "micro averaged f1",
        "weighted f1",
        "weighted-f1",
        "f1 weighted",
    ),
    "precision": ("precision", "ppv"),
    "recall": ("recall", "sensitivity", "tpr", "true positive rate", "hit rate", "detection rate"),
    "log_loss": ("log loss", "logloss", "log_loss", "cross-entropy", "cross entropy", "bce"),
    "loss": ("loss",),
    "rmse": ("rmse", "root mean squared error"),
    "mse": ("mse", "mean squared error"),
    "mae": ("mae", "mean absolute error"),
    "mape": ("mape",),
    "wer": ("wer", "word error rate"),
    "cer": ("cer", "character error rate"),
    "perplexity": ("perplexity", "ppl"),
    "r2": ("r2", "r^2", "r²", "r-squared", "r squared"),
}
ERROR_METRICS = frozenset({"log_loss", "loss", "rmse", "mse", "mae", "mape", "wer", "cer", "perplexity"})
RATE_ERRORS = frozenset({"wer", "cer"})  # error rates on a fixed scale: a share of words or characters wrong
BOUNDED_METRICS = frozenset(
    {
        "score",
        "accuracy",
        "balanced_accuracy",
        "roc_auc",
        "pr_auc",
        "f1",
        "macro_f1",
        "micro_f1",
        "precision",
        "recall",
        "minority_recall",
        "minority_precision",
        "minority_f1",
    }
)
_ALIAS_TO_METRIC = {a: m for m, aliases in METRIC_ALIASES.items() for a in aliases}
_ALIAS_TO_METRIC.update({m: m for m in ("minority_recall", "minority_precision", "minority_f1")})


def canonical_split(name: str) -> str | None:
    """Map a split alias to train/validation/test/production (None if unknown).

    >>> canonical_split("Val"), canonical_split("prod"), canonical_split("banana")
    ('validation', 'production', None)
    """
    return SPLIT_ALIASES.get(name.strip().lower())


def canonical_metric(name: str) -> str:
    """Map a metric alias to its canonical name; unknown names are kept in snake_case.

    >>> canonical_metric("AUC"), canonical_metric("F1-score"), canonical_metric("My Metric")
    ('roc_auc', 'f1', 'my_metric')
    """
    key = " ".join(name.strip().lower().replace("_", " ").split())
    for candidate in (key, key.replace(" ", "_"), key.replace(" ", "-"), name.strip().lower()):
        if candidate in _ALIAS_TO_METRIC:
            return _ALIAS_TO_METRIC[candidate]
    return re.sub(r"[^a-z0-9]+", "_", key).strip("_")


def is_error_metric(metric: str) -> bool:
    """True when lower is better (losses and errors).

    >>> is_error_metric("rmse"), is_error_metric("roc_auc")
    (True, False)
    """
    return metric in ERROR_METRICS
