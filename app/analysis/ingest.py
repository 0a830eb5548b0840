"""CSV input: read a logged-predictions file, guess its role columns, ingest its rows as samples."""

from __future__ import annotations

import ctypes
import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from app.analysis.csv_stream import CsvHead, blocks, parse_block, read_head
from app.analysis.ingest_rows import ROW_COLUMNS, Roles, chunk_rows
from app.analysis.prefetch import prefetch
from app.errors import InputError
from app.storage import Store

__all__ = ["IngestOutcome", "guess_columns", "ingest_csv", "read_csv", "refuse_probed"]


_COLUMN_ALIASES = {
    "prediction": ("prediction", "pred", "predicted", "y_pred", "label_pred"),
    "confidence": ("confidence", "score", "probability", "proba", "y_score"),
    "label": ("label", "target", "y_true", "actual", "ground_truth"),
    "ts": ("ts", "timestamp", "time", "datetime"),
    "latency_ms": ("latency_ms", "latency"),
}


def _pick(df: pd.DataFrame, given: str | None, role: str) -> str | None:
    if given:
        if given not in df.columns:
            raise InputError(f"column {given!r} not in the CSV (columns: {', '.join(map(str, df.columns[:12]))})")
        return given
    for c in _COLUMN_ALIASES[role]:
        if c in df.columns:
            return c
    return None


def guess_columns(reference: pd.DataFrame, current: pd.DataFrame, *, target: str | None = None,
                  prediction_column: str | None = None,
                  confidence_column: str | None = None) -> tuple[str | None, str | None, str | None]:
    """Fill in the label / prediction / confidence columns a user did not name, from common names
    present in BOTH files (the same aliases `mlfi ingest` uses), so they are not tested as features.

    >>> df = pd.DataFrame({"x": [1.0], "prediction": [1], "score": [0.9], "label": [1]})
    >>> guess_columns(df, df)
    ('label', 'prediction', 'score')
    """
    common = reference.columns.intersection(current.columns)
    both = pd.DataFrame(columns=common)

    def pick(given: str | None, role: str) -> str | None:
        if given:
            return given   # validated by compare_frames with its own message
        return _pick(both, None, role)

    return pick(target, "label"), pick(prediction_column, "prediction"), pick(confidence_column, "confidence")


def _existing_file(path: str | Path) -> Path:
    p = Path(path)
    if not p.exists():
        raise InputError(f"file not found: {p}")
    if not p.is_file():
        raise InputError(f"not a file: {p}")
    return p


def read_csv(path: str | Path) -> pd.DataFrame:
    """Read a whole CSV or raise InputError with one line (missing, a directory, unreadable, empty, a
    delimiter other than ``,`` that does not split every row alike, duplicate column names, a row with more
    fields than the header). A ``;``/tab/``|``-separated file is read with its own delimiter."""
    p = _existing_file(path)
    head = read_head(p)
    try:
        with p.open("rb") as fh:
            fh.seek(head.header_end)
            body = fh.read()
    except OSError as exc:
        raise InputError(f"cannot read CSV {p}: {exc.strerror or exc}") from exc
    df = parse_block(head, body, p, first_line=2) if body.strip() else pd.DataFrame(columns=head.columns)
    if df.empty:
        raise InputError(f"CSV {p} has no rows")
    return df


@dataclass(frozen=True)
class IngestOutcome:
    """What one `mlfi ingest` run stored: rows added now, and rows of the file stored by earlier runs."""

    ingested: int
    resumed_after: int


def _roles(head: CsvHead, path: Path, prediction_column: str | None, confidence_column: str | None,
           label_column: str | None, ts_column: str | None) -> Roles:
    cols = pd.DataFrame(columns=head.columns)
    pred = _pick(cols, prediction_column, "prediction")
    if pred is None:
        raise InputError(f"no prediction column in {path}: pass --prediction-column")
    conf, lab = _pick(cols, confidence_column, "confidence"), _pick(cols, label_column, "label")
    tcol, lat = _pick(cols, ts_column, "ts"), _pick(cols, None, "latency_ms")
    roles = {pred, conf, lab, tcol, lat}
    return Roles(pred, conf, lab, tcol, lat, [c for c in head.columns if c not in roles])


def _resume_point(store: Store, name: str, path: Path, head: CsvHead) -> tuple[int | None, int, int, hashlib._Hash]:
    """(position id, byte offset, rows done, sha256 of the bytes before the offset) of the longest recorded
    position whose bytes this file starts with; else a fresh start after the header."""
    hasher = hashlib.sha256()
    best: tuple[int | None, int, int, hashlib._Hash] | None = None
    size = path.stat().st_size
    positions = [p for p in store.ingest_positions(name) if p.byte_offset <= size] if store.find_endpoint(name) else []
    done = 0
    with path.open("rb") as fh:
        for pos in positions:
            while done < pos.byte_offset:
                buf = fh.read(min(1 << 20, pos.byte_offset - done))
                if not buf:
                    break
                hasher.update(buf)
                done += len(buf)
            if done == pos.byte_offset and hasher.hexdigest() == pos.prefix_sha256:
                best = (pos.id, pos.byte_offset, pos.rows_done, hasher.copy())
    if best is not None:
        return best
    fresh = hashlib.sha256()
    with path.open("rb") as fh:
        fresh.update(fh.read(head.header_end))
    return None, head.header_end, 0, fresh


def _return_freed_blocks() -> None:
    """Have glibc give every freed allocation of 128 KiB or more back to the system at once. Each block makes
    a few multi-MB strings; by default glibc raises its mmap threshold after freeing one and then keeps such
    memory in a heap that fragments: traced per block over 1M rows, RSS wandered between 184 and 238 MB, and
    with the fixed threshold it stayed at 189-193 MB (also over 3M rows). Nothing changes on another C library."""
    try:
        ctypes.CDLL(None).mallopt(-3, 128 << 10)       # M_MMAP_THRESHOLD (glibc); a missing symbol is no error
    except (AttributeError, OSError):
        pass


def refuse_probed(store: Store, name: str) -> None:
    """An endpoint the watcher probes takes no logged rows (InputError): probe and logged traffic never mix."""
    existing = store.find_endpoint(name)
    if existing and existing.protocol not in (None, "", "ingest"):
        raise InputError(f"endpoint {name!r} is probed over HTTP (protocol {existing.protocol}): ingest its logged "
                         f"predictions under another name, e.g. --endpoint '{name}-logs'")


@dataclass(frozen=True)
class _BadBlock:
    """A block whose values cannot be stored: the consumer raises ``error`` after committing the blocks before."""

    error: InputError


def _prepared(head: CsvHead, path: Path, roles: Roles, offset: int, rows_done: int, hasher: hashlib._Hash,
              eid: list[int], min_rows: int) -> Iterator[tuple[int, list[tuple[Any, ...]], str] | _BadBlock]:
    """``(end offset, samples rows, sha256 of the file up to the end)`` of each block from ``offset``; a
    :class:`_BadBlock` (and nothing after it) for the first block whose values cannot be stored."""
    now, first = time.time(), True
    line = 2 + rows_done           # file line of the next row (rows holding quoted newlines shift it)
    for end, block in blocks(path, offset):
        df = parse_block(head, block, path, first_line=line)
        if first and len(df) < min_rows and end == path.stat().st_size and not rows_done:
            raise InputError(f"{path.name} has {len(df)} rows: too few to learn a baseline from (at least {min_rows})")
        try:
            rows = chunk_rows(df, roles, eid[0], path=path, first_line=line, now=now, first_row=rows_done)
        except InputError as exc:
            yield _BadBlock(exc)
            return
        hasher.update(block)
        rows_done += len(rows)
        yield end, rows, hasher.hexdigest()
        line += block.count(b"\n")
        first = False


def ingest_csv(store: Store, name: str, path: str | Path, *, prediction_column: str | None = None,
               confidence_column: str | None = None, label_column: str | None = None,
               ts_column: str | None = None, min_rows: int = 0) -> IngestOutcome:
    """Append logged predictions as samples (source 'ingest'), streaming the file in blocks.

    Each block's rows and the file position after them are committed in one transaction, keyed by the
    sha256 of the file's bytes up to that position: a crash or Ctrl-C mid-file neither loses nor doubles
    rows, and running the same command again resumes after the last stored block (a file that grew since is
    read from where it ended; one fully ingested adds nothing). A file of fewer than ``min_rows`` rows is
    refused before anything is stored. An endpoint the watcher probes is refused: its logs go under
    another name, so probing is never silently switched off and probe and logged traffic never mix.
    """
    refuse_probed(store, name)
    p = _existing_file(path)
    head = read_head(p)
    roles = _roles(head, p, prediction_column, confidence_column, label_column, ts_column)
    if not store.keeps_inputs:          # MLFI_STORE_INPUTS=none: feature values never reach the database
        roles = Roles(roles.prediction, roles.confidence, roles.label, roles.ts, roles.latency, [])
    position, offset, rows_done, hasher = _resume_point(store, name, p, head)
    _return_freed_blocks()
    resumed_after, added = rows_done, 0
    eid = [0]                        # the endpoint's id once known: rows made before that carry 0
    prepared = _prepared(head, p, roles, offset, rows_done, hasher, eid, min_rows)
    # the next block is parsed and hashed in a background thread while this one is written (pandas' parser and
    # SQLite's steps and fsyncs release the GIL; its JSON writer and the driver's binding do not, so the two
    # mostly take turns: about 4 % less wall time on 300k rows, one more block in memory). The blocks still
    # commit in file order, each with its own position.
    for item in prefetch(prepared, depth=1, name="mlfi-ingest-read"):
        if isinstance(item, _BadBlock):
            if added or resumed_after:
                raise InputError(f"{item.error} (rows 1-{rows_done} are stored: fix the file and run the same "
                                 "command again to resume after them)") from item.error
            raise item.error
        end, rows, digest = item
        if not eid[0]:               # created only once the first block is known to be good
            eid[0] = store.upsert_endpoint(name, protocol="ingest").id
        if rows and rows[0][0] != eid[0]:
            rows = [(eid[0], *r[1:]) for r in rows]
        rows_done += len(rows)
        position = store.add_ingest_chunk(eid[0], ROW_COLUMNS, rows, position, digest, end, rows_done)
        added += len(rows)
    if not added and not resumed_after:
        raise InputError(f"CSV {p} has no rows")
    return IngestOutcome(added, resumed_after)
