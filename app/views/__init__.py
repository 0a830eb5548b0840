"""Pure-Python queries and aggregations behind the dashboard (status, KPIs, series, drift, forms, export)."""

from __future__ import annotations

__all__ = ["status", "overview", "kpis", "series", "drift_map", "incidents", "endpoint_form", "decisions", "export"]
