"""The demo endpoint (a scikit-learn model with failure modes); only `mlfi serve-demo-model` and tests use it."""

__all__ = ["model"]
