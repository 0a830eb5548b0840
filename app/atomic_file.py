"""Safe file writes: a user-named output only to a regular file or a new path, atomically (temp + rename);
durable appends that undo a partial line. A full disk says "disk full"."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from app.errors import InputError, shown

__all__ = ["append_durable", "os_reason", "write_atomic"]


def os_reason(exc: OSError) -> str:
    """A short reason for an OSError: "disk full" for ENOSPC/EDQUOT, else its strerror."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "disk full"
    return exc.strerror or type(exc).__name__


def append_durable(path: Path, text: str, what: str) -> None:
    """Append ``text`` to ``path`` and fsync; on failure cut the file back to its old size and raise
    InputError naming ``what`` ("disk full" when the disk is full), so no torn line is left behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    size = path.stat().st_size if path.exists() else 0
    try:
        with path.open("a", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        try:
            os.truncate(path, size)
        except OSError:
            pass
        raise InputError(f"cannot write the {what}: {os_reason(exc)}") from None


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
        raise InputError(f"cannot write {shown(path)}: {os_reason(exc)}") from None
    finally:
        if fd is not None:
            os.close(fd)
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
