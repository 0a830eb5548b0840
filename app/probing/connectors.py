"""Plugs in every protocol: each module registers its connector on import (one module per protocol).

The order here is the order of ``--protocol`` choices and of the names in error messages.
"""

from __future__ import annotations

import importlib

__all__: list[str] = []

for _module in ("generic", "mlflow", "kserve_v1", "open_inference_v2", "gradio", "hf"):
    importlib.import_module(f"app.probing.{_module}")
