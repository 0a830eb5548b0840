"""Read models for the dashboard: bounded queries that views turn into tables and charts."""

__all__ = ["buckets", "endpoints", "reports", "series"]
