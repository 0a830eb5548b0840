"""Plotly figure builders for the pages (presentation only; the numbers come from ``app.views``)."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from app.views.drift_map import DriftGrid
from app.views.series import Band
from ui.components import SEVERITY_COLORS

__all__ = ["CONFIG", "LAYOUT", "attribution_bar", "diagnosis_heatmap", "drift_heatmap", "metric_chart"]

CONFIG = {"displayModeBar": False, "responsive": True}   # fewer DOM nodes per chart; zoom/pan still work

# legend under the plot (a legend above it collides with the title in a narrow column)
LAYOUT = {"height": 300, "margin": {"l": 10, "r": 10, "t": 40, "b": 10}, "hovermode": "x unified",
          "title": {"x": 0.0, "xanchor": "left", "y": 0.97, "yanchor": "top"},
          "legend": {"orientation": "h", "yanchor": "top", "y": -0.3, "xanchor": "left", "x": 0.0,
                     "font": {"size": 11}}}


def _markers(fig: go.Figure, markers: pd.DataFrame, y: float) -> None:
    if markers is None or markers.empty:
        return
    fig.add_trace(go.Scatter(
        x=markers["time"], y=[y] * len(markers), mode="markers", name="alerts",
        marker={"symbol": "triangle-down", "size": 11, "color": [SEVERITY_COLORS.get(s, "#d62728")
                                                            for s in markers["severity"]],
                    "line": {"width": 1, "color": "white"}},
        text=[f"{rc} ({sev}): {msg[:140]}" for rc, sev, msg in
              zip(markers["root_cause"], markers["severity"], markers["message"])],
        hovertemplate="%{text}<extra>alert</extra>"))


def metric_chart(df: pd.DataFrame, column: str, title: str, *, color: str = "#2563eb",
                 band: Band | None = None, baseline: float | None = None, markers: pd.DataFrame | None = None,
                 percent: bool = False, extra: tuple[str, str] | None = None) -> go.Figure:
    """Line chart of one per-bucket metric with an optional baseline band / line and alert markers."""
    fig = go.Figure()
    if band is not None and not df.empty:
        x = [df["time"].iloc[0], df["time"].iloc[-1]]
        fig.add_trace(go.Scatter(x=x + x[::-1], y=[band.high, band.high, band.low, band.low], fill="toself", mode="lines",
                                 fillcolor="rgba(31,157,85,0.12)", line={"width": 0}, name="baseline band",
                                 hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=x, y=[band.centre] * 2, mode="lines", name="baseline",
                                 line={"color": "#1f9d55", "dash": "dash", "width": 1}, hoverinfo="skip"))
    elif baseline is not None and not df.empty:
        fig.add_trace(go.Scatter(x=[df["time"].iloc[0], df["time"].iloc[-1]], y=[baseline] * 2, mode="lines",
                                 name="baseline", line={"color": "#1f9d55", "dash": "dash", "width": 1},
                                 hoverinfo="skip"))
    if not df.empty:
        fig.add_trace(go.Scatter(x=df["time"], y=df[column], mode="lines", name=title,
                                 line={"color": color, "width": 2}, connectgaps=False))
        if extra is not None:
            fig.add_trace(go.Scatter(x=df["time"], y=df[extra[0]], mode="lines", name=extra[1],
                                     line={"color": color, "width": 1, "dash": "dot"}))
        top = max([v for v in (df[column].max(), band.high if band else None, baseline) if v is not None and pd.notna(v)]
                  or [1.0])
        _markers(fig, markers if markers is not None else pd.DataFrame(), float(top) * 1.05 if top else 1.0)
    fig.update_layout(**LAYOUT)
    fig.update_layout(title_text=title)
    if percent:   # a share: from 0, with headroom for the markers, never past 105 %
        vals = [v for v in [*(df[column].dropna().tolist() if not df.empty else []), baseline] if v is not None]
        fig.update_yaxes(tickformat=".0%", range=[0, min(1.12, max(0.05, max(vals, default=0.0) * 1.15))])
    return fig


def drift_heatmap(grid: DriftGrid) -> go.Figure:
    """Heatmap: variables × report time, colour = effect size, an x where drift was detected."""
    times = pd.to_datetime(pd.Series(grid.times), unit="s")
    zmax = max([0.5] + [v for row in grid.score for v in row if v is not None])
    fig = go.Figure(go.Heatmap(z=grid.score, x=times, y=grid.variables, colorscale="YlOrRd", zmin=0, zmax=zmax,
                               colorbar={"title": "effect"},
                               hovertemplate="%{y}<br>%{x}<br>effect %{z:.3f}<extra></extra>"))
    # one marker per flagged cell (cheaper to draw than a text label in every cell)
    flagged = [(times.iloc[c], v) for r, v in enumerate(grid.variables) for c, f in enumerate(grid.flag[r]) if f]
    if flagged:
        fig.add_trace(go.Scatter(x=[x for x, _ in flagged], y=[y for _, y in flagged], mode="markers",
                                 marker={"symbol": "x-thin", "size": 8, "line": {"width": 2, "color": "#111827"}},
                                 name="drift detected", hoverinfo="skip", showlegend=False))
    fig.update_layout(title="Drift per feature over time (x = drift detected)",
                      height=max(260, 22 * len(grid.variables) + 120), margin={"l": 10, "r": 10, "t": 40, "b": 10})
    fig.update_yaxes(autorange="reversed")
    return fig


def attribution_bar(df: pd.DataFrame, title: str, axis: str) -> go.Figure:
    """Horizontal bar chart of feature attribution scores (largest on top), titled after the method used."""
    d = df.iloc[::-1]
    fig = go.Figure(go.Bar(x=d["score"], y=d["feature"], orientation="h", marker_color="#f97316",
                           text=[f"{v:.3f}" for v in d["score"]], textposition="auto",
                           hovertext=d["evidence"], hovertemplate="%{y}: %{x:.3f}<br>%{hovertext}<extra></extra>"))
    fig.update_layout(title={"text": title, "font": {"size": 14}}, height=max(240, 28 * len(d) + 90),
                      margin={"l": 10, "r": 10, "t": 40, "b": 10}, xaxis_title=axis)
    return fig


def diagnosis_heatmap(grid: pd.DataFrame) -> go.Figure:
    """Stored diagnoses per category (rows) and month (columns), counts written in the cells."""
    return px.density_heatmap(
        grid, x="month", y="category", z="count", histfunc="sum", text_auto=True, color_continuous_scale="Reds"
    )
