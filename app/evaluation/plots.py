"""Plotly figures of an evaluation (pure builders returning ``go.Figure``; no rendering, no streamlit)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from app.evaluation.loader import EvalData
from app.evaluation.metrics import LOWER_IS_BETTER
from app.evaluation.pipeline import split_models
from app.evaluation.results import Calibration, Comparison, Decision, EvaluationReport, SliceResult

__all__ = [
    "reliability_figure",
    "cost_curve_figure",
    "slice_heatmap",
    "model_slice_heatmap",
    "score_distribution_figure",
    "cost_ratio_figure",
    "all_figures",
]

HEATMAP_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "brier")


def reliability_figure(calibrations: dict[str, Calibration]) -> go.Figure:
    """Reliability diagram: observed positive rate against mean score per bin (marker size ~ count)."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfect", line={"dash": "dash", "color": "grey"}))
    for name, cal in calibrations.items():
        counts = np.array([b.count for b in cal.curve], dtype=float)
        size = 6 + 18 * np.sqrt(counts / counts.max()) if len(counts) else []
        fig.add_trace(
            go.Scatter(
                x=[b.mean_score for b in cal.curve],
                y=[b.observed_rate for b in cal.curve],
                mode="lines+markers",
                name=f"{name} (ECE {cal.ece:.3f})" if cal.ece is not None else name,
                marker={"size": size},
                customdata=counts,
                hovertemplate="mean score %{x:.3f}<br>observed %{y:.3f}<br>n=%{customdata}<extra></extra>",
            )
        )
    first = next(iter(calibrations.values()), None)
    fig.update_layout(
        title=f"Reliability diagram ({first.bins} {first.strategy} bins)" if first else "Reliability",
        xaxis_title="mean predicted score",
        yaxis_title="observed positive rate",
        xaxis_range=[0, 1],
        yaxis_range=[0, 1],
    )
    return fig


def cost_curve_figure(decisions: dict[str, Decision]) -> go.Figure:
    """Expected cost per row against threshold, with each model's cost-minimising threshold marked."""
    fig = go.Figure()
    for name, d in decisions.items():
        fig.add_trace(
            go.Scatter(
                x=[p.threshold for p in d.cost_curve],
                y=[p.expected_cost for p in d.cost_curve],
                mode="lines",
                name=name,
                line_shape="hv",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=[d.threshold],
                y=[d.expected_cost],
                mode="markers",
                marker={"size": 11, "symbol": "star"},
                name=f"{name} optimum t={d.threshold:.3f}",
            )
        )
    d0 = next(iter(decisions.values()), None)
    if d0 is not None:
        fig.add_vline(x=d0.bayes_threshold, line_dash="dot", annotation_text="Bayes threshold")
        fig.update_layout(title=f"Expected cost per row (cost FP={d0.cost_fp:g}, FN={d0.cost_fn:g})")
    fig.update_layout(xaxis_title="threshold (score >= t is positive)", yaxis_title="expected cost per row")
    return fig


def slice_heatmap(
    slices: list[SliceResult], overall: dict[str, float | None], metrics: tuple[str, ...] = HEATMAP_METRICS
) -> go.Figure:
    """Slices x metrics, coloured by how much better (blue) or worse (red) than overall; text = value."""
    rows = [f"{s.column}={s.value} (n={s.n})" for s in slices]
    z, text = [], []
    for s in slices:
        zr, tr = [], []
        for m in metrics:
            v, ref = s.metrics.get(m), overall.get(m)
            gap = None if v is None or ref is None else (ref - v if m in LOWER_IS_BETTER else v - ref)
            zr.append(gap)
            tr.append("n/a" if v is None else f"{v:.3f}")
        z.append(zr)
        text.append(tr)
    lim = max([abs(v) for r in z for v in r if v is not None] + [1e-9])
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(metrics),
            y=rows,
            text=text,
            texttemplate="%{text}",
            colorscale="RdBu",
            zmid=0,
            zmin=-lim,
            zmax=lim,
            colorbar={"title": "vs overall"},
        )
    )
    fig.update_layout(title="Slice metrics (colour: better/worse than overall)", yaxis_autorange="reversed")
    return fig


def model_slice_heatmap(comparison: Comparison) -> go.Figure:
    """Slices x models on the comparison metric, coloured within each row (blue = better than the row's mean,
    red = worse) so small-valued slices do not wash out the rest; the text gives values, * the winner."""
    models = list(comparison.overall)
    rows = ["overall"] + [f"{s.column}={s.value}" for s in comparison.slices]
    vals = [[comparison.overall[m] for m in models]] + [[s.values.get(m) for m in models] for s in comparison.slices]
    winners = [comparison.overall_winner] + [s.winner for s in comparison.slices]
    sign = -1.0 if comparison.metric in LOWER_IS_BETTER else 1.0
    z = []
    for r in vals:
        defined = [v for v in r if v is not None]
        mean = float(np.mean(defined)) if defined else 0.0
        scale = max(abs(mean), 1e-12)
        z.append([None if v is None else sign * (v - mean) / scale for v in r])
    text = [
        [("n/a" if v is None else f"{v:.4f}") + (" *" if m == w else "") for m, v in zip(models, r, strict=True)]
        for r, w in zip(vals, winners, strict=True)
    ]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=models,
            y=rows,
            text=text,
            texttemplate="%{text}",
            colorscale="RdBu",
            zmid=0,
            colorbar={"title": "vs row mean"},
        )
    )
    fig.update_layout(title=f"{comparison.metric} by slice and model (* = best)", yaxis_autorange="reversed")
    return fig


def score_distribution_figure(data: EvalData, threshold: float = 0.5) -> go.Figure:
    """Score histograms split by outcome (TP/FP/TN/FN; multiclass: correct/wrong confidence)."""
    fig = go.Figure()
    if data.task == "binary":
        pred = data.proba >= threshold
        groups = {
            "true positive": pred & (data.y == 1),
            "false positive": pred & (data.y == 0),
            "true negative": ~pred & (data.y == 0),
            "false negative": ~pred & (data.y == 1),
        }
        scores = data.proba
    else:
        right = np.argmax(data.proba, axis=1) == data.y
        groups = {"correct": right, "misclassified": ~right}
        scores = data.proba.max(axis=1)
    for name, mask in groups.items():
        fig.add_trace(
            go.Histogram(
                x=scores[mask],
                name=f"{name} ({int(mask.sum())})",
                xbins={"start": 0, "end": 1, "size": 0.05},
                opacity=0.7,
            )
        )
    if data.task == "binary":
        fig.add_vline(x=threshold, line_dash="dash", annotation_text=f"threshold {threshold:g}")
    fig.update_layout(barmode="overlay", title="Score distribution by outcome", xaxis_title="score", yaxis_title="rows")
    return fig


def cost_ratio_figure(comparison: Comparison) -> go.Figure:
    """Each model's minimum expected cost (normalised costs) against cost_fn / cost_fp, log scale."""
    fig = go.Figure()
    for m in comparison.overall:
        pts = [p for p in comparison.by_cost_ratio if p.costs]
        fig.add_trace(
            go.Scatter(
                x=[p.ratio_from for p in pts], y=[p.costs[m] for p in pts if p.costs], mode="lines+markers", name=m
            )
        )
    fig.update_layout(
        title="Which model wins at which cost ratio (lower is better)",
        xaxis_type="log",
        xaxis_title="cost_fn / cost_fp",
        yaxis_title="min expected cost per row (costs sum to 1)",
    )
    return fig


def all_figures(report: EvaluationReport, data: EvalData) -> dict[str, go.Figure]:
    """Every figure for ``report`` (built from the same ``data``), keyed by a file-safe name."""
    per_model = split_models(data)
    first = per_model[report.model] if report.model else data
    cals = {m: s.calibration for m, s in report.models.items()} or {"model": report.calibration}
    figs = {"reliability": reliability_figure(cals)}
    if report.decision is not None:
        decs = {m: s.decision for m, s in report.models.items() if s.decision} or {"model": report.decision}
        figs["cost_curve"] = cost_curve_figure(decs)
    if report.slices:
        figs["slice_heatmap"] = slice_heatmap(report.slices, report.metrics)
    figs["score_distribution"] = score_distribution_figure(first, report.threshold or 0.5)
    if report.comparison is not None:
        if report.comparison.slices:
            figs["model_slice_heatmap"] = model_slice_heatmap(report.comparison)
        if report.comparison.by_cost_ratio:
            figs["cost_ratio"] = cost_ratio_figure(report.comparison)
    return figs
