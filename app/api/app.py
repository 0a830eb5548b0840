"""`create_app(settings)`: the FastAPI application with its store, routers, auth scheme and error handlers."""

from __future__ import annotations

import gc
import importlib
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app import __version__
from app.api.limits import BodyLimit
from app.api.problems import Problem, install_handlers
from app.api.routes import ROUTERS
from app.config import Settings
from app.storage import Store

__all__ = ["create_app", "from_env", "serving_app"]


def create_app(settings: Settings, *, store: Store | None = None) -> FastAPI:
    """One application over ``settings``' database (or ``store``); mounts every router of app.api.routes."""
    app = FastAPI(title="mlfi", version=__version__,
                  description="ML Failure Investigator: ingest, analysis and decisions over HTTP. "
                              "Every route except /health and /ready needs `Authorization: Bearer TOKEN` "
                              "(`mlfi tokens create`). Errors are application/problem+json (RFC 9457).")
    app.state.settings = settings
    app.state.store = store if store is not None else Store.from_settings(settings)
    install_handlers(app)
    for name in ROUTERS:
        app.include_router(importlib.import_module(f"app.api.routes.{name}").router)
    app.include_router(importlib.import_module("app.api.metrics").router)     # GET /metrics (Prometheus)
    app.add_middleware(BodyLimit, max_bytes=settings.api_max_body_bytes)
    app.router.on_startup.append(lambda: _start_runner(app))
    app.router.on_shutdown.append(lambda: _close_runner(app))
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def from_env() -> FastAPI:
    """The application over the settings of the environment: the factory each uvicorn worker process calls
    (`mlfi serve-api --workers N`)."""
    from app.logging_setup import setup_logging

    settings = Settings()
    settings.ensure_dirs()
    setup_logging(settings, quiet=False)
    return serving_app(settings)


def _body_schemas() -> dict[str, Any]:
    """Schemas of request bodies that a route parses itself (declared with ``openapi_extra``), with the
    models they refer to hoisted into components."""
    from app.api.routes.predictions import BatchIn

    out: dict[str, Any] = {}
    for model in (BatchIn,):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        out.update(schema.pop("$defs", {}))
        out[model.__name__] = schema
    return out


def _start_runner(app: FastAPI) -> None:
    """Resume the analyses requested over HTTP that no process runs (queued when a service stopped, or
    orphaned by a dead one), now and periodically (app.api.analysis_runner)."""
    from app.api.analysis_runner import AnalysisRunner

    if getattr(app.state, "analysis_runner", None) is None:
        app.state.analysis_runner = AnalysisRunner(app.state.settings)
    app.state.analysis_runner.start()
    if getattr(app.state, "freeze_gc", False):
        gc.freeze()


def serving_app(settings: Settings) -> FastAPI:
    """The application `mlfi serve-api` runs: what was imported by the time it serves (and after its first
    batch) is frozen out of the collector's full passes, which walk the whole heap: a 1,000-row batch makes
    tens of thousands of objects, and those passes cost about a tenth of its CPU. (Process-wide, hence not
    in ``create_app``, which tests also use in-process.)"""
    app = create_app(settings)
    app.state.freeze_gc = True
    return app


def _close_runner(app: FastAPI) -> None:
    """Finish the analysis requested over HTTP that is running (POST /api/v1/analyses) before exiting."""
    runner = getattr(app.state, "analysis_runner", None)
    if runner is not None:
        runner.close()


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated schema plus the Problem schema that the problem+json responses refer to."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(_body_schemas())
        app.openapi_schema = schema
    return app.openapi_schema
