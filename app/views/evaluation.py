"""Read model of the Evaluation page: columns of a predictions CSV and one evaluation with figures and tables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go

from app.evaluation import EvalOptions, EvaluationReport, evaluate, prepare, read_predictions
from app.evaluation.plots import all_figures
from app.evaluation.report import render_html, summary_text
from app.evaluation.sample import SAMPLE_PATH
from app.evaluation.tables import report_tables

__all__ = ["SAMPLE_PATH", "ColumnSpec", "Evaluation", "columns", "run", "sample_bytes"]


@dataclass(frozen=True)
class ColumnSpec:
    """Which columns of the CSV hold the label, the score(s), the slices, the model and the case id."""

    label: str
    scores: tuple[str, ...]
    slices: tuple[str, ...] = ()
    model: str | None = None
    case_id: str | None = None


@dataclass(frozen=True)
class Evaluation:
    """One evaluation as the page shows it: the report, its figures, tables, summary and HTML export."""

    report: EvaluationReport
    figures: dict[str, go.Figure]
    tables: dict[str, list[dict[str, Any]]]
    summary: str
    html: str


def sample_bytes() -> bytes:
    """The shipped example predictions (breast cancer, two models) as CSV bytes."""
    return SAMPLE_PATH.read_bytes()


def columns(raw: bytes) -> list[str]:
    """The column names of a predictions CSV (an ``InputError`` when it cannot be read)."""
    return [str(c) for c in read_predictions(raw).columns]


def run(raw: bytes, spec: ColumnSpec, opts: EvalOptions) -> Evaluation:
    """Evaluate the predictions in ``raw`` with the chosen columns and costs."""
    frame = read_predictions(raw)
    data = prepare(
        frame,
        label=spec.label,
        score=list(spec.scores),
        slices=list(spec.slices),
        model_column=spec.model,
        id_column=spec.case_id,
    )
    report = evaluate(data, opts, source="upload" if raw != sample_bytes() else SAMPLE_PATH.name)
    figures = all_figures(report, data)
    return Evaluation(
        report=report,
        figures=figures,
        tables=report_tables(report),
        summary=summary_text(report),
        html=render_html(report, figures),
    )
