"""Plotly chart of the label-free accuracy estimate (band) against the realised accuracy, per analysis window."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

__all__ = ["estimate_chart"]

_LAYOUT = {"height": 300, "margin": {"l": 10, "r": 10, "t": 40, "b": 10}, "hovermode": "x unified",
           "title": {"text": "Accuracy: estimated without labels vs realised", "x": 0.0, "xanchor": "left"},
           "legend": {"orientation": "h", "yanchor": "top", "y": -0.3, "xanchor": "left", "x": 0.0},
           "yaxis": {"tickformat": ".0%", "rangemode": "tozero"}}


def estimate_chart(df: pd.DataFrame) -> go.Figure:
    """Band and estimate per window; windows flagged unreliable as hollow red markers; realised where labelled."""
    fig = go.Figure()
    has = df[df["estimated_accuracy"].notna()]
    if not has.empty:
        x = has["time"].tolist()
        fig.add_trace(go.Scatter(x=x + x[::-1], y=has["estimate_high"].tolist() + has["estimate_low"].tolist()[::-1],
                                 fill="toself", mode="lines", line={"width": 0}, fillcolor="rgba(37,99,235,0.15)",
                                 name="95% band", hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=has["time"], y=has["estimated_accuracy"], mode="lines+markers", name="estimated",
                                 line={"color": "#2563eb", "width": 2}))
        bad = has[has["estimate_unreliable"].astype(bool)]
        if not bad.empty:
            fig.add_trace(go.Scatter(x=bad["time"], y=bad["estimated_accuracy"], mode="markers", name="unreliable",
                                     marker={"symbol": "circle-open", "size": 12, "color": "#d62728"},
                                     text=bad["estimate_reason"], hovertemplate="%{text}<extra>unreliable</extra>"))
    real = df[df["realised_accuracy"].notna()]
    if not real.empty:
        fig.add_trace(go.Scatter(x=real["time"], y=real["realised_accuracy"], mode="lines+markers", name="realised",
                                 line={"color": "#1f9d55", "width": 1, "dash": "dot"}))
    fig.update_layout(**_LAYOUT)
    return fig
