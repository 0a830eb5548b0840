"""Imports every protocol module so each registers its connector (one module per protocol)."""

from __future__ import annotations

from app.probing import generic, gradio, hf, kserve_v1, mlflow, open_inference_v2  # noqa: F401

__all__: list[str] = []
