"""The environment the watcher's analysis process is started with: what Python and the numeric libraries
need, never the caller's secrets (its settings travel as an argument, not as environment variables)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

__all__ = ["KEPT_NAMES", "KEPT_PREFIXES", "analysis_environ", "only_environ"]

KEPT_NAMES = frozenset({"PATH", "HOME", "USER", "LOGNAME", "LANG", "TZ", "TMPDIR", "TEMP", "TMP", "PYTHONPATH",
                        "PYTHONHOME", "PYTHONHASHSEED", "PYTHONUTF8", "PYTHONIOENCODING", "VIRTUAL_ENV",
                        "SYSTEMROOT", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                        "NUMEXPR_MAX_THREADS", "NUMBA_NUM_THREADS"})
KEPT_PREFIXES = ("LC_",)


def analysis_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """The subset of ``environ`` the analysis process gets.

    >>> sorted(analysis_environ({"PATH": "/bin", "LC_ALL": "C", "MLFI_AUDIT_KEY": "k", "AWS_SECRET": "s"}))
    ['LC_ALL', 'PATH']
    """
    return {k: v for k, v in environ.items() if k in KEPT_NAMES or k.startswith(KEPT_PREFIXES)}


@contextmanager
def only_environ(env: Mapping[str, str]) -> Iterator[None]:
    """Run the block (a child process being started) with ``os.environ`` reduced to ``env``; restored after.
    multiprocessing's spawn hands the current ``os.environ`` to the child and takes no environment of its own."""
    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(env)
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
