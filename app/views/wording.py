"""Words for the screen instead of constants, snake_case and Python literals (gates, metric names, booleans)."""

from __future__ import annotations

from typing import Any

__all__ = ["GATE_WORDS", "METRIC_WORDS", "decision_line", "metric_name", "words"]

GATE_WORDS = {
    "BLOCKED_PENDING_HUMAN_REVIEW": "Blocked until a person reviews it",
    "REVIEW_RECOMMENDED": "Review recommended",
    "CLEAR": "Clear to deploy",
}
METRIC_WORDS = {
    "roc_auc": "ROC AUC", "pr_auc": "PR AUC", "auc": "AUC", "f1": "F1", "f1_macro": "F1 (macro)",
    "f1_weighted": "F1 (weighted)", "mae": "MAE", "rmse": "RMSE", "mse": "MSE", "r2": "R²", "ece": "ECE",
    "log_loss": "log loss", "brier": "Brier score", "accuracy": "accuracy", "balanced_accuracy": "balanced accuracy",
    "precision": "precision", "recall": "recall", "mape": "MAPE",
}


def metric_name(name: str) -> str:
    """A metric's name as people write it.

    >>> metric_name("roc_auc"), metric_name("balanced_accuracy"), metric_name("val_top5")
    ('ROC AUC', 'balanced accuracy', 'val top5')
    """
    return METRIC_WORDS.get(name, METRIC_WORDS.get(name.lower(), name.replace("_", " ")))


def words(value: Any) -> str:
    """Any scalar the pipeline emits, as words: booleans, gate constants, snake_case, None.

    >>> words(True), words(False), words(None), words("BLOCKED_PENDING_HUMAN_REVIEW"), words("data_leakage")
    ('yes', 'no', '—', 'Blocked until a person reviews it', 'data leakage')
    >>> words("roc_auc"), words("NOT_ASSESSED")
    ('ROC AUC', 'not assessed')
    """
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    if text in GATE_WORDS:
        return GATE_WORDS[text]
    if text.lower() in METRIC_WORDS:
        return METRIC_WORDS[text.lower()]
    if "_" in text and " " not in text:
        return text.replace("_", " ").lower() if text.isupper() else text.replace("_", " ")
    return text


def decision_line(status: str, decided_by: str | None, decided_at_text: str | None) -> str:
    """What happened to a recommendation, in words (a superseded one was never decided by anybody).

    >>> decision_line("superseded", None, None)
    'Superseded: the incident closed before anybody decided; it can no longer be approved.'
    >>> decision_line("approved", "ana", "5 min ago")
    'Approved by ana 5 min ago.'
    """
    if status == "superseded":
        return "Superseded: the incident closed before anybody decided; it can no longer be approved."
    verb = {"executed": "Approved and executed", "execution_failed": "Approved, execution failed"}.get(
        status, status.replace("_", " ").capitalize())
    who = f" by {decided_by}" if decided_by else ""
    when = f" {decided_at_text}" if decided_at_text else ""
    return f"{verb}{who}{when}."
