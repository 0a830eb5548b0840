"""The `mlfi` command. Thin: parse flags, call the core, print. Every command module lives in app/commands/."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

import click

from app.config import Settings
from app.errors import MlfiError, one_line

__all__ = ["cli", "emit", "get_settings", "main"]


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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mlfi", message="mlfi %(version)s")
def cli() -> None:
    """ML Failure Investigator: watch deployed models, detect drift, explain, recommend, govern."""


def _register() -> None:
    from app.commands import register_all

    register_all(cli)


_register()


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the group; turn known errors into one line on stderr and exit 2."""
    try:
        rv = cli.main(args=argv, standalone_mode=False, prog_name="mlfi")
    except click.exceptions.Abort:
        click.echo("Error: aborted", err=True)
        sys.exit(130)
    except click.exceptions.ClickException as exc:  # usage errors, bad option values
        click.echo(one_line(f"Error: {exc.format_message()}".replace("\n", " ")), err=True)
        sys.exit(2)
    except MlfiError as exc:
        click.echo(one_line(f"Error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"), err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - a bug of ours: one line for the user, the traceback in the log file
        from loguru import logger

        logger.opt(exception=exc).debug("unexpected error")
        first = one_line(str(exc), 200)
        click.echo(f"Error: internal error ({type(exc).__name__}: {first}); details in the log file "
                   "under the state dir (logs/mlfi.log)", err=True)
        sys.exit(1)
    if isinstance(rv, int):
        sys.exit(rv)
    sys.exit(0)
