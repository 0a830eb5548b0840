"""The watcher: polls enabled endpoints on their own schedules, stores samples, analyses rolling windows."""

from __future__ import annotations

from typing import Any

__all__ = [
    "Analyzer",
    "CycleStats",
    "Scheduler",
    "is_alive",
    "main",
    "register_urls",
    "run_once",
    "start_background",
    "stop_background",
    "watcher_status",
]

_LAZY = {
    "run_once": "app.watcher.loop",
    "main": "app.watcher.loop",
    "CycleStats": "app.watcher.stats",
    "Scheduler": "app.watcher.scheduler",
    "Analyzer": "app.watcher.analysis",
    "start_background": "app.watcher.control",
    "stop_background": "app.watcher.control",
    "is_alive": "app.watcher.control",
    "watcher_status": "app.watcher.control",
    "register_urls": "app.watcher.endpoints",
}


def __getattr__(name: str) -> Any:
    """Import submodules on first use (the CLI stays fast to start)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'app.watcher' has no attribute {name!r}")
