"""Write a user-named output file safely: only a regular file or a new path, atomically (temp + rename)."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from app.errors import InputError, shown

__all__ = ["write_atomic"]


def _refuse_target(path: Path) -> None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise InputError(f"cannot use {shown(path)} as output: {exc.strerror or type(exc).__name__}") from None
    if stat.S_ISLNK(st.st_mode):
        raise InputError(f"refusing to write {shown(path)}: it is a symbolic link (give a regular file or a new path)")
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"refusing to write {shown(path)}: it is a directory (give a file name)")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"refusing to write {shown(path)}: it is a device, pipe or socket, not a regular file")


def write_atomic(path: str | Path, data: str) -> None:
    """Write ``data`` (UTF-8) to ``path``: a temp file in the same directory, fsynced, then renamed over it.

    Refuses (InputError, one line) a symlink, a directory, a device or any other non-regular file;
    a full disk says "disk full". A failure leaves ``path`` as it was and no temp file behind.
    """
    path = Path(path)
    _refuse_target(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the folder of {shown(path)}: {exc.strerror or type(exc).__name__}") from None
    fd, tmp = None, None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:100]}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fd = None
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        _refuse_target(path)            # it may have become a link meanwhile; rename never follows it anyway
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        why = "disk full" if exc.errno == errno.ENOSPC else (exc.strerror or type(exc).__name__)
        raise InputError(f"cannot write {shown(path)}: {why}") from None
    finally:
        if fd is not None:
            os.close(fd)
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
