"""The HTTP service (FastAPI): thin routes over the same core functions as the CLI; auth, problem+json errors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["create_app"]

if TYPE_CHECKING:
    from fastapi import FastAPI

    from app.config import Settings


def create_app(settings: Settings, **kwargs: Any) -> FastAPI:
    """The application (see ``app.api.app.create_app``); imported lazily so `mlfi tokens` does not load FastAPI."""
    from app.api.app import create_app as _create

    return _create(settings, **kwargs)
