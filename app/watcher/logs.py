"""Failure logging for the watcher that never prints local variables (they may hold headers or keys)."""

from __future__ import annotations

import traceback

from loguru import logger

__all__ = ["log_failure"]


def log_failure(message: str, exc: BaseException) -> None:
    """Log ``message`` and the exception's traceback at ERROR, without loguru's variable annotations.

    ``logger.exception`` with loguru's ``diagnose`` mode shows the values of local variables, which
    in the watcher include probe targets (headers) and settings (keys); this prints frames only.
    """
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=8)).rstrip()
    logger.error(f"{message}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}\n{tb}")
