"""loguru set-up: stderr plus a rotating file under the state dir.

Secrets are never passed to the logger, and ``diagnose=False`` keeps loguru from printing local variable
values (which could hold headers or keys) in tracebacks."""

from __future__ import annotations

import sys

from loguru import logger

from app.config import Settings

__all__ = ["setup_logging"]


def setup_logging(settings: Settings, *, quiet: bool = False) -> None:
    """Send logs to stderr (WARNING+ when ``quiet``) and to ``<state>/logs/mlfi.log`` (rotated)."""
    logger.remove()
    logger.add(sys.stderr, level="WARNING" if quiet else settings.log_level.upper(),
               format="<level>{level: <7}</level> {message}", backtrace=False, diagnose=False)
    try:
        settings.ensure_dirs()
        logger.add(settings.log_dir / "mlfi.log", level="DEBUG", rotation="10 MB", retention=5,
                   enqueue=False, encoding="utf-8", backtrace=False, diagnose=False)
    except OSError as exc:  # read-only state dir: keep stderr logging only
        logger.warning(f"file logging disabled: {exc}")
