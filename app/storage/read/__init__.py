"""Read models for the dashboard and /metrics: bounded queries that views and the collector turn into output."""

__all__ = ["buckets", "endpoints", "metrics", "reports", "sample_counts", "series"]
