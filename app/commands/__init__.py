"""CLI command modules; each adds its commands to the `mlfi` group. Heavy imports stay inside the commands, for start-up speed."""

from __future__ import annotations

import importlib

import click

__all__ = ["register_all"]

# one module per area; each exposes `register(group)`
_MODULES = ("monitor", "demo", "watch", "governance", "diagnose", "evaluate", "dashboard", "storage", "api")


def register_all(group: click.Group) -> None:
    for name in _MODULES:
        importlib.import_module(f"app.commands.{name}").register(group)
