"""Prometheus metrics of mlfi's state, read from the store at scrape time (``GET /metrics``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["exposition"]

if TYPE_CHECKING:
    from app.observability.collector import MlfiCollector


def exposition(collector: MlfiCollector) -> tuple[bytes, str]:
    """The Prometheus text exposition of ``collector``'s metrics and its content type."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return generate_latest(registry), CONTENT_TYPE_LATEST
