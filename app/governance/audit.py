"""Append-only, hash-chained audit log in the database, mirrored line by line to approvals.jsonl."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from app.atomic_file import append_durable
from app.config import Settings
from app.errors import AuditIntegrityError
from app.governance import checkpoints as cps
from app.storage import Store
from app.storage.governance.audit import (
    audit_rows,
    audit_tail,
    count_audit,
    has_audit_event,
    insert_audit_row,
    storable_actor,
)
from app.storage.governance.tx import Tx, locked, reading

__all__ = [
    "GENESIS",
    "KEY_EVENT",
    "AuditEntry",
    "VerifyResult",
    "append",
    "canonical",
    "check_chain",
    "checkpoint",
    "checkpoint_path",
    "count",
    "entries",
    "entry_hash",
    "key_of",
    "mirror_path",
    "read_mirror",
    "record",
    "require_intact",
    "verify",
    "verify_in",
]

GENESIS = "0" * 64
MIRROR_NAME = "approvals.jsonl"
KEY_EVENT = "audit_keyed"     # first entry hashed with MLFI_AUDIT_KEY; every later entry is keyed too


def key_of(settings: Settings) -> bytes | None:
    """The HMAC key (``MLFI_AUDIT_KEY``) as bytes, or None when unset or empty."""
    k = settings.audit_key
    return k.get_secret_value().encode("utf-8") if k is not None and k.get_secret_value() else None


def canonical(obj: Any) -> str:
    """Canonical JSON (sorted keys, no spaces): the exact text that is hashed.

    >>> canonical({"b": 1, "a": [1.5, "x"]})
    '{"a":[1.5,"x"],"b":1}'
    """
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=str)


def entry_hash(seq: int, ts: float, event: str, actor: str | None, payload: dict[str, Any], prev_hash: str,
               key: bytes | None = None) -> str:
    """SHA-256 (HMAC-SHA-256 with ``key``) over an entry's position, content and the previous entry's hash.

    >>> h1 = entry_hash(1, 10.0, "approved", "ana", {"id": "r1"}, GENESIS)
    >>> h1 == entry_hash(1, 10.0, "approved", "ana", {"id": "r1"}, GENESIS), len(h1)
    (True, 64)
    >>> h1 == entry_hash(2, 10.0, "approved", "ana", {"id": "r1"}, GENESIS)   # position is part of it
    False
    """
    body = canonical({"seq": seq, "ts": ts, "event": event, "actor": actor, "payload": payload, "prev_hash": prev_hash})
    if key is not None:
        return hmac.new(key, body.encode("utf-8"), hashlib.sha256).hexdigest()
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


class AuditEntry(BaseModel):
    """One audit-log entry (a line of approvals.jsonl is its JSON)."""

    seq: int
    ts: float
    event: str
    actor: str | None = None
    payload: dict[str, Any]
    prev_hash: str
    hash: str

    def recomputed(self, key: bytes | None = None) -> str:
        return entry_hash(self.seq, self.ts, self.event, self.actor, self.payload, self.prev_hash, key)


class VerifyResult(BaseModel):
    """Outcome of `verify`: ok, number of entries, and the first bad entry with a one-line message."""

    ok: bool
    entries: int
    mirror_entries: int
    first_bad_seq: int | None = None
    where: str | None = None          # "database" / "mirror" / "both"
    message: str


def mirror_path(settings: Settings) -> Path:
    return settings.audit_dir / MIRROR_NAME


def _row_entry(row: Any) -> AuditEntry:
    """An entry from a database row; a payload that is not the canonical JSON that was hashed cannot
    verify, so it is kept as its raw text (whose hash will not match)."""
    raw = row["payload_json"]
    try:
        payload = json.loads(raw)
        if not isinstance(payload, dict) or canonical(payload) != raw:
            raise ValueError("not canonical")
    except ValueError:
        payload = {"__unparsed__": raw}
    return AuditEntry(seq=row["seq"], ts=row["ts"], event=row["event"], actor=row["actor"],
                      payload=payload, prev_hash=row["prev_hash"], hash=row["hash"])


def entries(store: Store, *, limit: int | None = None, newest_first: bool = False,
            before_seq: int | None = None) -> list[AuditEntry]:
    """Entries from the database (oldest first unless ``newest_first``; ``before_seq``: seq below it)."""
    with reading(store) as conn:
        return [_row_entry(r) for r in audit_rows(conn, limit=limit, newest_first=newest_first, before_seq=before_seq)]


def read_mirror(settings: Settings) -> tuple[list[AuditEntry], str | None]:
    """Entries of the jsonl mirror, and an error naming the first line that does not parse (if any)."""
    path = mirror_path(settings)
    if not path.exists():
        return [], None
    out: list[AuditEntry] = []
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                return out, f"mirror line {lineno} is empty"
            try:
                out.append(AuditEntry.model_validate_json(line))
            except ValueError:
                return out, f"mirror line {lineno} is not a valid audit entry (corrupt file)"
    return out, None


def check_chain(items: list[AuditEntry], key: bytes | None = None) -> tuple[int, str] | None:
    """First problem in a chain as (seq, reason), or None when every link holds.

    Entries before the first ``KEY_EVENT`` entry are plain SHA-256 (logs written before a key was set);
    from it on every entry is an HMAC under ``key``. Without ``key`` keyed hashes cannot be recomputed,
    so only their links are checked (``verify`` then reports the log as unverifiable).

    >>> a = AuditEntry(seq=1, ts=1.0, event="e", payload={}, prev_hash=GENESIS, hash="")
    >>> a = a.model_copy(update={"hash": a.recomputed()})
    >>> check_chain([a]) is None, check_chain([a.model_copy(update={"event": "x"})])[1]
    (True, 'entry 1 was edited (its hash does not match its content)')
    """
    prev = GENESIS
    keyed = False
    for i, e in enumerate(items):
        keyed = keyed or e.event == KEY_EVENT
        expected = i + 1
        if e.seq != expected:
            if e.seq > expected and e.prev_hash != prev and all(x.seq != expected for x in items):
                return expected, f"entry {expected} is missing (deleted)"
            return e.seq, f"entry {e.seq} is out of place at position {expected} (inserted or reordered)"
        if (not keyed or key is not None) and e.hash != e.recomputed(key if keyed else None):
            return e.seq, f"entry {e.seq} was edited (its hash does not match its content)"
        if e.prev_hash != prev:
            return e.seq, (f"entry {e.seq} does not follow entry {e.seq - 1} "
                           "(an entry was inserted, deleted or reordered)")
        prev = e.hash
    return None


def verify(store: Store, settings: Settings, extra: list[cps.Checkpoint] | None = None) -> VerifyResult:
    """Check the database chain, the mirror chain, that both hold the same entries, and that the log is
    consistent with every stored checkpoint and every one in ``extra``.

    Runs under the write lock, so an append in flight (mirror line written, database row not yet
    committed) is never mistaken for tampering; on a state directory this process cannot write (a store
    opened read-only) it reads without the lock: nothing can append there.
    """
    with (reading(store) if getattr(store, "read_only", False) else locked(store)) as conn:
        return verify_in(conn, settings, extra)


def checkpoint_path(settings: Settings) -> Path:
    return settings.audit_dir / cps.STORE_NAME


def verify_in(conn: Tx, settings: Settings, extra: list[cps.Checkpoint] | None = None) -> VerifyResult:
    """`verify` inside the caller's `locked` transaction."""
    key = key_of(settings)
    db = [_row_entry(r) for r in audit_rows(conn)]
    mirror, parse_err = read_mirror(settings)
    n_db, n_m = len(db), len(mirror)

    def bad(seq: int | None, where: str, msg: str) -> VerifyResult:
        return VerifyResult(ok=False, entries=n_db, mirror_entries=n_m, first_bad_seq=seq, where=where,
                            message=f"audit log broken ({where}): {msg}")

    if (p := check_chain(db, key)) is not None:
        return bad(p[0], "database", p[1])
    if (p := check_chain(mirror, key)) is not None:
        return bad(p[0], "mirror", p[1])
    if parse_err is not None:
        return bad(n_m + 1, "mirror", parse_err)
    for a, b in zip(db, mirror):
        if a.hash != b.hash:
            return bad(a.seq, "both", f"entry {a.seq} differs between the database and {MIRROR_NAME}")
    if n_db != n_m:
        first = min(n_db, n_m) + 1
        side = "mirror" if n_m < n_db else "database"
        return bad(first, side, f"entry {first} is missing from the {side} "
                   f"(database has {n_db} entries, {MIRROR_NAME} has {n_m})")
    hashes = [e.hash for e in db]
    stored = cps.load(checkpoint_path(settings)) if checkpoint_path(settings).exists() else []
    for cp in [*stored, *(extra or [])]:
        if (why := cps.check(cp, hashes, key, GENESIS)) is not None:
            return bad(min(cp.entries, n_db + 1), "checkpoint", why)
    if key is None and (first := next((e.seq for e in db if e.event == KEY_EVENT), None)) is not None:
        return bad(first, "key", f"entries from {first} on are keyed: set MLFI_AUDIT_KEY to verify them")
    held = f"; {len(stored) + len(extra or [])} checkpoint(s) hold" if stored or extra else ""
    return VerifyResult(ok=True, entries=n_db, mirror_entries=n_m,
                        message=f"audit log intact: {n_db} entries, hash chain and mirror agree{held}")


def require_intact(conn: Tx, settings: Settings) -> None:
    """Inside a `locked` transaction: raise AuditIntegrityError (one line) unless the whole log verifies."""
    res = verify_in(conn, settings)
    if not res.ok:
        raise AuditIntegrityError(f"{res.message}; refusing to write (run `mlfi audit --verify`)")


def _tail_matches(conn: Tx, settings: Settings) -> tuple[int, str]:
    """Last (seq, hash) of the database, after checking the mirror ends at the same entry."""
    seq, last = audit_tail(conn) or (0, GENESIS)
    path = mirror_path(settings)
    tail = _last_line(path)
    if tail is None:
        if seq:
            raise AuditIntegrityError(f"audit mirror {path.name} is missing or empty but the database has {seq} "
                                      "entries; refusing to write (run `mlfi audit --verify`)")
        return seq, last
    try:
        entry = AuditEntry.model_validate_json(tail)
    except ValueError as exc:
        raise AuditIntegrityError(f"audit mirror {path.name} is corrupt (last line does not parse); "
                                  "refusing to write (run `mlfi audit --verify`)") from exc
    if entry.seq != seq or entry.hash != last:
        raise AuditIntegrityError(f"audit mirror {path.name} ends at entry {entry.seq} but the database at entry "
                                  f"{seq}; refusing to write (run `mlfi audit --verify`)")
    return seq, last


def _last_line(path: Path) -> str | None:
    if not path.exists() or path.stat().st_size == 0:
        return None
    with path.open("rb") as fh:
        size = fh.seek(0, os.SEEK_END)
        chunk = 1 << 16
        data = b""
        while size > 0:
            step = min(chunk, size)
            size -= step
            fh.seek(size)
            data = fh.read(step) + data
            if data.rstrip(b"\n").count(b"\n") >= 1 or size == 0:
                break
    text = data.decode("utf-8", errors="replace")
    if not text.endswith("\n"):
        return text.rsplit("\n", 1)[-1] + "\x00"   # a torn last line never parses
    lines = text.rstrip("\n").split("\n")
    return lines[-1]


def append(conn: Tx, settings: Settings, event: str, actor: str | None, payload: dict[str, Any],
           *, now: float | None = None) -> AuditEntry:
    """Append one entry inside the caller's `locked` transaction: database row, then the mirror line.

    The mirror is written (and fsynced) before the transaction commits, so a failing write rolls the
    database back; a mismatch found before writing raises AuditIntegrityError and writes nothing.
    With ``MLFI_AUDIT_KEY`` set on a log that is not keyed yet, a ``KEY_EVENT`` entry goes first; a
    keyed log refuses writes without the key.
    """
    seq, prev = _tail_matches(conn, settings)
    key = key_of(settings)
    keyed = has_audit_event(conn, KEY_EVENT)
    if keyed and key is None:
        raise AuditIntegrityError("the audit log is keyed: set MLFI_AUDIT_KEY to write to it")
    if actor is not None:
        actor = storable_actor(conn, actor)           # hash exactly what the database can store
    ts = round(time.time() if now is None else now, 6)
    todo: list[tuple[str, str | None, dict[str, Any]]] = []
    if key is not None and not keyed:
        todo.append((KEY_EVENT, None, {"note": "entries from here on are HMAC-SHA-256 under MLFI_AUDIT_KEY"}))
    todo.append((event, actor, json.loads(canonical(payload))))   # plain JSON types only, exactly what is hashed
    written: list[AuditEntry] = []
    for ev, who, body in todo:
        entry = AuditEntry(seq=seq + 1, ts=ts, event=ev, actor=who, payload=body, prev_hash=prev, hash="")
        entry = entry.model_copy(update={"hash": entry.recomputed(key)})
        insert_audit_row(conn, seq=entry.seq, ts=entry.ts, event=ev, actor=who, payload_json=canonical(body),
                         prev_hash=prev, hash=entry.hash)
        written.append(entry)
        seq, prev = entry.seq, entry.hash
    # a failing write (disk full) raises InputError, cuts any partial line and rolls the database back
    append_durable(mirror_path(settings), "".join(canonical(e.model_dump()) + "\n" for e in written),
                   f"audit mirror {MIRROR_NAME}")
    return written[-1]


def checkpoint(store: Store, settings: Settings, *, now: float | None = None) -> cps.Checkpoint:
    """Verify the log, then sign (with the key) a checkpoint of it and store it beside the mirror."""
    with locked(store) as conn:
        require_intact(conn, settings)
        hashes = [str(r["hash"]) for r in audit_rows(conn)]
        cp = cps.make(hashes, key_of(settings), time.time() if now is None else now, GENESIS)
        cps.append_stored(checkpoint_path(settings), cp)
    return cp


def record(store: Store, settings: Settings, event: str, actor: str | None, payload: dict[str, Any]) -> AuditEntry:
    """Append one entry in its own locked transaction."""
    with locked(store) as conn:
        return append(conn, settings, event, actor, payload)


def count(store: Store) -> int:
    return count_audit(store.engine)
