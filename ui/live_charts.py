"""Plotly figures of what the detectors test: rolling value, baseline band, threshold, incident spans."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from app.views.drift_map import DriftGrid
from app.views.live import Threshold
from app.views.series import Band
from app.views.verdict import root_cause_label
from ui.charts import LAYOUT
from ui.components import SEVERITY_COLORS

__all__ = ["class_mix_chart", "drift_status_chart", "histogram_chart", "live_chart", "volume_chart"]

GRID = "rgba(0,0,0,0.06)"
CLASS_COLORS = ["#2563eb", "#f97316", "#1f9d55", "#7e3af2", "#e3a008", "#0891b2", "#9ca3af"]


def _spans(fig: go.Figure, spans: pd.DataFrame | None, metric: str) -> None:
    """Incident spans: strong shade on the metric that fired, faint on the other charts."""
    if spans is None or spans.empty:
        return
    for r in spans.itertuples():
        own = r.metric == metric
        # a label only on the metric that fired: plotly draws "new text" for an annotation without text
        label = ({"annotation_text": f"#{r.id} {root_cause_label(r.root_cause)}" + (" (open)" if r.open else ""),
                  "annotation_position": "bottom left", "annotation_font_size": 10} if own else {})
        fig.add_vrect(x0=pd.to_datetime(r.start, unit="s"), x1=pd.to_datetime(r.end, unit="s"),
                      fillcolor=SEVERITY_COLORS.get(r.severity, "#d62728"), opacity=0.16 if own else 0.05,
                      line_width=0, layer="below", **label)


def _finish(fig: go.Figure, title: str, subtitle: str | None = None) -> None:
    """Shared layout; a subtitle on its own line so a half-width chart at 1024 px never cuts its title."""
    fig.update_layout(**LAYOUT)
    if subtitle:
        fig.update_layout(title_text=f"{title}<br><sup>{subtitle}</sup>", margin={**LAYOUT["margin"], "t": 58})
    else:
        fig.update_layout(title_text=title)
    # few, horizontal time ticks: rotated ones were cut ("19:23:") in a half-width column
    fig.update_xaxes(nticks=5, tickangle=0)


def _markers(fig: go.Figure, markers: pd.DataFrame | None, y: float) -> None:
    if markers is None or markers.empty:
        return
    fig.add_trace(go.Scatter(
        x=markers["time"], y=[y] * len(markers), mode="markers", name="alerts",
        marker={"symbol": "triangle-down", "size": 10, "color": [SEVERITY_COLORS.get(s, "#d62728")
                                                            for s in markers["severity"]]},
        text=[f"{root_cause_label(rc)} ({sev}): {msg[:140]}" for rc, sev, msg in
              zip(markers["root_cause"], markers["severity"], markers["message"])],
        hovertemplate="%{text}<extra>alert</extra>"))


def live_chart(view: pd.DataFrame, column: str, title: str, *, color: str = "#2563eb", percent: bool = False,
               subtitle: str | None = None,
               band: Band | None = None, baseline: float | None = None, threshold: Threshold | None = None,
               markers: pd.DataFrame | None = None, spans: pd.DataFrame | None = None,
               ci: tuple[str, str] | None = None, buckets: pd.DataFrame | None = None,
               bucket_column: str | None = None, incomplete: bool = False) -> go.Figure:
    """The rolling value the verdict tests (bold), per-bucket values (faint), band, threshold, spans, markers."""
    fig = go.Figure()
    x0x1 = [view["time"].iloc[0], view["time"].iloc[-1]] if not view.empty else []
    if band is not None and x0x1:
        fig.add_trace(go.Scatter(x=x0x1 + x0x1[::-1], y=[band.high, band.high, band.low, band.low], fill="toself",
                                 mode="lines", fillcolor="rgba(31,157,85,0.12)", line={"width": 0},
                                 name="baseline band", hoverinfo="skip"))
    centre = band.centre if band is not None else baseline
    if centre is not None and x0x1:
        fig.add_trace(go.Scatter(x=x0x1, y=[centre] * 2, mode="lines", name="baseline", hoverinfo="skip",
                                 line={"color": "#1f9d55", "dash": "dash", "width": 1}))
    if threshold is not None and x0x1:
        fig.add_trace(go.Scatter(x=x0x1, y=[threshold.value] * 2, mode="lines", name=threshold.label,
                                 line={"color": "#d62728", "dash": "dot", "width": 1.5},
                                 hovertemplate=f"{threshold.label} %{{y}}<extra></extra>"))
    if buckets is not None and bucket_column and not buckets.empty and buckets[bucket_column].notna().any():
        fig.add_trace(go.Scatter(x=buckets["time"], y=buckets[bucket_column], mode="lines", name="per bucket",
                                 line={"color": color, "width": 1}, opacity=0.35, connectgaps=False))
        if incomplete:
            last = buckets.iloc[-1]
            fig.add_trace(go.Scatter(x=[last["time"]], y=[last[bucket_column]], mode="markers",
                                     name="bucket still filling", marker={"symbol": "circle-open", "size": 9,
                                                                          "color": color}))
    if ci is not None and not view.empty and view[ci[0]].notna().any():
        fig.add_trace(go.Scatter(x=list(view["time"]) + list(view["time"][::-1]),
                                 y=list(view[ci[1]]) + list(view[ci[0]][::-1]), fill="toself", mode="lines",
                                 fillcolor="rgba(37,99,235,0.14)", line={"width": 0}, name="95% interval",
                                 hoverinfo="skip"))
    if not view.empty:
        fig.add_trace(go.Scatter(x=view["time"], y=view[column], mode="lines", name="rolling window",
                                 line={"color": color, "width": 2.5}, connectgaps=True))
    ys = [v for v in [*(view[column].dropna().tolist() if not view.empty else []), centre,
                      threshold.value if threshold else None, band.high if band else None] if v is not None]
    top = max(ys, default=1.0)
    _markers(fig, markers, top * 1.05 if top else 1.0)
    _spans(fig, spans, column)
    _finish(fig, title, subtitle)
    if percent:
        fig.update_yaxes(tickformat=".0%", range=[0, min(1.12, max(0.05, top * 1.15))])
    return fig


def class_mix_chart(mix: pd.DataFrame, *, spans: pd.DataFrame | None = None,
                    markers: pd.DataFrame | None = None) -> go.Figure:
    """Stacked area of the predicted-class shares over time (silent failure = one class takes over)."""
    fig = go.Figure()
    for i, (cls, g) in enumerate(mix.groupby("cls", sort=False)):
        fig.add_trace(go.Scatter(x=g["time"], y=g["share"], mode="lines", stackgroup="mix", name=str(cls),
                                 line={"width": 0.5, "color": CLASS_COLORS[i % len(CLASS_COLORS)]},
                                 hovertemplate=f"{cls}: %{{y:.0%}}<extra></extra>"))
    _markers(fig, markers, 1.04)
    _spans(fig, spans, "class_mix")
    _finish(fig, "Predicted class mix")
    fig.update_yaxes(tickformat=".0%", range=[0, 1.08])
    return fig


def volume_chart(vol: pd.DataFrame, *, incomplete: bool = False) -> go.Figure:
    """Samples per minute per bucket (a dip means probes failed to run or logs stopped arriving)."""
    colors = ["#9ca3af"] * len(vol)
    if incomplete and colors:
        colors[-1] = "#e5e7eb"
    fig = go.Figure(go.Bar(x=vol["time"], y=vol["per_min"], marker_color=colors, name="samples / min",
                           hovertemplate="%{y:.0f} samples/min<extra></extra>"))
    _finish(fig, "Volume", "samples per minute" + (", pale bar still filling" if incomplete else ""))
    fig.update_layout(showlegend=False)
    return fig


def drift_status_chart(grid: DriftGrid, *, top: int = 25) -> go.Figure:
    """Variables × report time coloured by the verdict: red = drift detected, pale = tested, no drift."""
    times = pd.to_datetime(pd.Series(grid.times), unit="s")
    rows = grid.variables[:top]
    z = [[None if s is None else (1 if f else 0) for s, f in zip(grid.score[r], grid.flag[r])] for r in range(len(rows))]
    effect = [[None if s is None else round(s, 3) for s in grid.score[r]] for r in range(len(rows))]
    fig = go.Figure(go.Heatmap(z=z, x=times, y=rows, customdata=effect, zmin=0, zmax=1, showscale=False,
                               colorscale=[[0, "#e8f5ec"], [0.5, "#e8f5ec"], [0.5, "#d62728"], [1, "#d62728"]],
                               xgap=1, ygap=1,
                               hovertemplate="%{y}<br>%{x}<br>effect %{customdata}<extra></extra>"))
    fig.update_layout(title="Drift per variable (red = drift detected; hover for the effect size)",
                      height=max(240, 20 * len(rows) + 110), margin={"l": 10, "r": 10, "t": 40, "b": 10})
    fig.update_yaxes(autorange="reversed")
    return fig


def histogram_chart(reference: list, current: list, feature: str) -> go.Figure:
    """Reference vs current distribution of one feature (normalised so different sizes compare)."""
    fig = go.Figure()
    fig.add_trace(go.Histogram(x=reference, name=f"reference ({len(reference)})", histnorm="probability",
                               marker_color="#1f9d55", opacity=0.55))
    fig.add_trace(go.Histogram(x=current, name=f"current ({len(current)})", histnorm="probability",
                               marker_color="#d62728", opacity=0.55))
    fig.update_layout(**LAYOUT)
    fig.update_layout(barmode="overlay", title_text=f"{feature}: reference vs current", hovermode="closest")
    return fig
