"""The one rules-file loader: read TOML with tomllib and validate it with the rule book's pydantic model."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from app.errors import InputError

__all__ = ["load_rules"]

M = TypeVar("M", bound=BaseModel)


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err.get("loc", ()))
    return f"{loc}: {err.get('msg', 'invalid')}" if loc else str(err.get("msg", "invalid"))


def load_rules(path: str | Path, model: type[M], what: str = "rules file") -> M:
    """Read the TOML file at ``path`` and validate it as ``model``.

    Raises ``InputError`` with one line naming ``what`` and the first problem (unreadable file, bad
    TOML, or the location of the first invalid or unknown field).

    >>> from app.rules.schema import RuleBook
    >>> load_rules("missing.toml", RuleBook, "test rules")
    Traceback (most recent call last):
    ...
    app.errors.InputError: cannot read test rules missing.toml: No such file or directory
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {what} {p}: {exc.strerror or exc}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{what} {p.name} is not valid TOML: {str(exc).splitlines()[0]}") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"invalid {what} {p.name}: {_first_error(exc)}") from exc
