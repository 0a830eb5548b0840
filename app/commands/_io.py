"""What every command module shares: the invocation's Settings and printing one result (JSON or human)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from typing import Any

import click

from app.config import Settings
from app.errors import MlfiError

__all__ = ["RegistryChoice", "emit", "get_settings", "protocol_choices", "settings_store"]


def get_settings(ctx: click.Context) -> Settings:
    """The one Settings object of this invocation (built lazily, once)."""
    root = ctx.find_root()
    if root.obj is None:
        root.obj = {}
    if "settings" not in root.obj:
        try:
            settings = Settings()
        except Exception as exc:  # pydantic ValidationError -> one line naming the variable
            raise MlfiError(f"invalid settings: {_settings_problem(exc)}") from exc
        try:
            settings.ensure_dirs()
        except OSError as exc:
            raise MlfiError(f"cannot use the state directory {settings.data_dir}: {exc.strerror or exc} "
                            "(set MLFI_HOME to a writable directory)") from exc
        root.obj["settings"] = settings
    return root.obj["settings"]  # type: ignore[no-any-return]


def settings_store(ctx: click.Context, *, quiet: bool = True, read_only: bool = False) -> tuple[Settings, Any]:
    """The invocation's Settings and a Store on its database, with logging set up. The store is disposed when
    the command ends, so its pooled connections close (and SQLite checkpoints its WAL) then, not whenever
    garbage collection happens to run: an in-process caller sees the files settle when ``main`` returns."""
    from app.logging_setup import setup_logging
    from app.storage import Store

    settings = get_settings(ctx)
    setup_logging(settings, quiet=quiet)
    store = Store.from_settings(settings, read_only=read_only)
    ctx.call_on_close(store.dispose)
    return settings, store


def _settings_problem(exc: Exception) -> str:
    """``MLFI_ALPHA: Input should be a valid number`` from a pydantic ValidationError (first error)."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            first = errors()[0]
            field = "_".join(str(p) for p in first.get("loc", ()) if p != "__root__")
            return f"MLFI_{field.upper()}: {first.get('msg', 'invalid value')}" if field else str(first.get("msg"))
        except (IndexError, TypeError):
            pass
    return str(exc).splitlines()[0]


def _finite(obj: Any) -> Any:
    """Replace NaN/inf floats by None, recursively, so the output is valid JSON.

    >>> _finite({"a": [1.0, float("nan")], "b": float("inf")})
    {'a': [1.0, None], 'b': None}
    """
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def emit(data: Any, as_json: bool, human: str | None = None) -> None:
    """Print one JSON document on stdout (``--json``) or a human summary."""
    if as_json:
        click.echo(data if isinstance(data, str) else
                   json.dumps(_finite(data), indent=2, default=str, allow_nan=False))
    else:
        click.echo(human if human is not None else json.dumps(_finite(data), indent=2, default=str))


class RegistryChoice(click.Choice):  # type: ignore[type-arg]
    """A ``click.Choice`` whose values come from a registry, read when click first needs them (parsing,
    ``--help``), so building the command group does not import the registry's heavy modules."""

    def __init__(self, load: Callable[[], Sequence[str]]) -> None:
        self._load = load
        self._loaded: tuple[str, ...] | None = None
        self.case_sensitive = True

    @property  # type: ignore[override]
    def choices(self) -> tuple[str, ...]:
        if self._loaded is None:
            self._loaded = tuple(self._load())
        return self._loaded

    @choices.setter
    def choices(self, value: Sequence[str]) -> None:
        self._loaded = tuple(value)


def protocol_choices() -> tuple[str, ...]:
    """``auto`` and every registered wire protocol (app.probing pulls in pandas: imported on demand)."""
    from app.probing import PROTOCOLS

    return ("auto", *PROTOCOLS)
