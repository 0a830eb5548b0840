"""Detector registry: detectors register by name; callers dispatch through it, never an if-chain."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any, TypeVar

from app.detection.base import Detector
from app.errors import InputError

__all__ = ["create", "get", "names", "register"]

_REGISTRY: dict[str, type[Detector]] = {}
_loaded = False

D = TypeVar("D", bound=type[Detector])


def register(cls: D) -> D:
    """Class decorator: make a detector available under ``cls.name``."""
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise TypeError(f"{cls.__name__} has no detector name")
    if name in _REGISTRY and _REGISTRY[name] is not cls:
        raise TypeError(f"detector name {name!r} is already registered by {_REGISTRY[name].__name__}")
    _REGISTRY[name] = cls
    return cls


def _load() -> None:
    global _loaded
    if not _loaded:
        # every module of the package is imported; those holding a detector register it (``@register``)
        package = importlib.import_module("app.detection")
        for mod in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"app.detection.{mod.name}")
        _loaded = True


def names(kind: str | None = None) -> list[str]:
    """Registered detector names (optionally only those taking ``kind`` input), sorted.

    >>> {"ks", "chi2", "welch"} <= set(names())
    True
    >>> "ks" in names("numeric") and "chi2" not in names("numeric")
    True
    """
    _load()
    return sorted(n for n, c in _REGISTRY.items() if kind is None or c.input_kind == kind)


def get(name: str) -> type[Detector]:
    """The detector class registered as ``name`` (InputError listing the known names otherwise)."""
    _load()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise InputError(f"unknown detector {name!r}: choose one of {', '.join(sorted(_REGISTRY))}") from None


def create(name: str, **params: Any) -> Detector:
    """Instantiate the detector registered as ``name`` with its hyper-parameters."""
    return get(name)(**params)
