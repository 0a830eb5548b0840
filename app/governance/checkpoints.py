"""Signed audit checkpoints (entry count + head hash + time), certificate-transparency style.

A checkpoint kept outside the state directory (a file on write-once storage, the alert webhook) lets
`mlfi audit --verify` see a cut tail or a rewritten prefix: the log must still hold at least that many
entries, and its entry number ``entries`` must still have hash ``head``. With ``MLFI_AUDIT_KEY`` the
checkpoint is signed (HMAC-SHA-256), so nobody without the key can forge one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ValidationError

from app.errors import InputError

__all__ = ["DOMAIN", "STORE_NAME", "Checkpoint", "append_stored", "check", "load", "make", "signature"]

DOMAIN = "mlfi-audit-checkpoint-v1"    # signed text prefix: a checkpoint signature is never an entry hash
STORE_NAME = "checkpoints.jsonl"


class Checkpoint(BaseModel):
    """The log had ``entries`` entries, the last with hash ``head``, at ``ts``; ``signature`` is None unkeyed."""

    entries: int
    head: str
    ts: float
    signature: str | None = None

    def when(self) -> str:
        return datetime.fromtimestamp(self.ts, tz=UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def signature(key: bytes, entries: int, head: str, ts: float) -> str:
    """HMAC-SHA-256 of the checkpoint's fields under ``key``.

    >>> signature(b"k", 3, "ab", 1.0) == signature(b"k", 3, "ab", 1.0) != signature(b"k", 2, "ab", 1.0)
    True
    """
    body = DOMAIN + json.dumps({"entries": entries, "head": head, "ts": ts}, sort_keys=True, separators=(",", ":"))
    return hmac.new(key, body.encode("utf-8"), hashlib.sha256).hexdigest()


def make(hashes: list[str], key: bytes | None, ts: float, genesis: str) -> Checkpoint:
    """A checkpoint of a log whose entry hashes are ``hashes`` (oldest first)."""
    head = hashes[-1] if hashes else genesis
    ts = round(ts, 6)
    return Checkpoint(entries=len(hashes), head=head, ts=ts,
                      signature=signature(key, len(hashes), head, ts) if key is not None else None)


def check(cp: Checkpoint, hashes: list[str], key: bytes | None, genesis: str) -> str | None:
    """Why the log (entry ``hashes``) contradicts ``cp``, or None when it is consistent with it."""
    name = f"checkpoint of {cp.when()} ({cp.entries} entries)"
    # an unsigned checkpoint (written without a key) is still checked: it can only add constraints
    if key is not None and cp.signature is not None and not hmac.compare_digest(
            cp.signature, signature(key, cp.entries, cp.head, cp.ts)):
        return f"{name} has a bad signature (forged, edited, or signed with another key)"
    if len(hashes) < cp.entries:
        return f"the log was cut: {name} but the log has only {len(hashes)} (tail truncated)"
    head = hashes[cp.entries - 1] if cp.entries else genesis
    if head != cp.head:
        return f"entry {cp.entries} does not match the {name} (the log was rewritten)"
    return None


def load(path: Path) -> list[Checkpoint]:
    """Checkpoints in a file: one JSON object per line (or a single JSON object). InputError when unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read checkpoint file {str(path)[:80]}: {type(exc).__name__}") from None
    out: list[Checkpoint] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(Checkpoint.model_validate_json(line))
        except ValidationError:
            raise InputError(f"checkpoint file {str(path)[:80]} line {lineno} is not a checkpoint") from None
    return out


def append_stored(path: Path, cp: Checkpoint) -> None:
    """Append ``cp`` to a checkpoint file (created if missing), fsynced; InputError when it cannot."""
    from app.atomic_file import append_durable

    append_durable(path, cp.model_dump_json() + "\n", f"checkpoint file {str(path)[:80]}")
