"""The use cases: probe, window, suite, RCA, report and governance put together (analyze, compare, ingest)."""

__all__ = ["compare", "headline", "ingest", "report", "run", "target", "window"]
