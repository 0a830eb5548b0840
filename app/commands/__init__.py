"""CLI command modules; each adds its commands to the `mlfi` group. Imports stay lazy for speed."""

from __future__ import annotations

import importlib

import click

__all__ = ["register_all"]

# one module per area; each exposes `register(group)`
_MODULES = ("monitor", "demo", "watch", "governance", "diagnose", "evaluate", "dashboard")


def register_all(group: click.Group) -> None:
    for name in _MODULES:
        try:
            mod = importlib.import_module(f"app.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"app.commands.{name}":
                continue  # area not built yet
            raise
        mod.register(group)
