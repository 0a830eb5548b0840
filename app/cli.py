"""The `mlfi` command. Thin: parse flags, call the core, print. Every command module lives in app/commands/."""

from __future__ import annotations

import sys

import click

from app.commands import register_all
from app.errors import MlfiError, one_line

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mlfi", message="mlfi %(version)s")
def cli() -> None:
    """ML Failure Investigator: watch deployed models, detect drift, explain, recommend, govern."""


register_all(cli)


def _interrupted(*, from_console: bool) -> None:
    """Exit 130 after Ctrl-C. From the console (``mlfi``, ``python -m app``) the process ends at once with
    ``os._exit``: tearing down the interpreter with scipy and scikit-learn loaded takes seconds on a busy
    machine, and every transaction that was committed is already on disk (an open one was rolled back as the
    interrupt unwound it). Called in-process (tests, with ``argv``) it raises SystemExit as usual."""
    if not from_console:
        sys.exit(130)
    import os

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(130)


def _log_unexpected(exc: BaseException) -> str:
    """Write ``exc``'s traceback to the log file only (never to the terminal, never with local variable values, which
    could hold a prompt or a key: ``setup_logging`` turns loguru's ``diagnose`` off) and say where it went."""
    from loguru import logger

    try:
        from app.config import Settings
        from app.logging_setup import setup_logging

        settings = Settings()
        setup_logging(settings, quiet=True)
        where = f"the log file {settings.log_dir / 'mlfi.log'}"
    except Exception:  # noqa: BLE001 - no usable settings: drop loguru's default handler (it prints locals)
        logger.remove()
        return "no log file (the settings could not be read)"
    logger.opt(exception=exc).debug("unexpected error")
    return where


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the group; turn known errors into one line on stderr and exit 2."""
    try:
        rv = cli.main(args=argv, standalone_mode=False, prog_name="mlfi")
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("Error: aborted", err=True)
        _interrupted(from_console=argv is None)
    except click.exceptions.ClickException as exc:  # usage errors, bad option values
        click.echo(one_line(f"Error: {exc.format_message()}".replace("\n", " ")), err=True)
        sys.exit(2)
    except MlfiError as exc:
        click.echo(one_line(f"Error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"), err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - a bug of ours: one line for the user, the traceback in the log file
        where = _log_unexpected(exc)
        first = one_line(str(exc), 200)
        click.echo(f"Error: internal error ({type(exc).__name__}: {first}); details in {where}", err=True)
        sys.exit(1)
    if isinstance(rv, int):
        sys.exit(rv)
    sys.exit(0)
