"""Pure-Python queries and aggregations behind the dashboard (status, KPIs, series, drift, forms, export)."""

from __future__ import annotations

__all__ = ["attribution", "decisions", "drift_map", "endpoint_form", "export", "incidents", "kpis", "overview", "series", "status", "verdict"]
