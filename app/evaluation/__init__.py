"""Evaluation as decisions: metrics, calibration, slices, error analysis and cost-based thresholds."""

from app.evaluation.loader import EvalData, prepare, read_predictions
from app.evaluation.pipeline import EvalOptions, evaluate
from app.evaluation.results import EvaluationReport

__all__ = ["EvalData", "EvalOptions", "EvaluationReport", "evaluate", "load", "prepare", "read_predictions"]


def load(path: str, **spec: object) -> EvalData:
    """Read ``path`` and validate it with :func:`prepare` (``label=``, ``score=``, ``slices=``, ...)."""
    return prepare(read_predictions(path), **spec)  # type: ignore[arg-type]
