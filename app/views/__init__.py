"""Pure-Python queries and aggregations behind the dashboard pages (status, KPIs, series, drift, forms, export ...)."""

from __future__ import annotations

__all__ = [
    "attribution",
    "decisions",
    "diagnosis",
    "drift_map",
    "endpoint_form",
    "estimate",
    "evaluation",
    "export",
    "incidents",
    "kpis",
    "live",
    "overview",
    "series",
    "status",
    "verdict",
    "wording",
]
