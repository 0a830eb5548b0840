"""Read a CSV in byte blocks cut at row boundaries: sniffed delimiter, checked header, bounded memory.

Each block ends on a newline outside quotes, so a block is whole rows and its end is a byte offset the
ingest can commit as a resumable position (see :mod:`app.analysis.ingest`).
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from app.errors import InputError, shown

__all__ = ["BLOCK_BYTES", "MAX_COLUMNS", "CsvHead", "blocks", "parse_block", "read_head"]

BLOCK_BYTES = 4 << 20          # about 20-40 k rows of a 20-feature file: a few tens of MB in memory
MAX_COLUMNS = 2000
_SNIFF_BYTES = 64 << 10
_OTHER_DELIMITERS = (";", "\t", "|")


@dataclass(frozen=True)
class CsvHead:
    """The header of a CSV: its column names, delimiter, and the bytes of the header line."""

    columns: list[str]
    delimiter: str
    header: bytes        # the header line, newline included, without a byte-order mark
    header_end: int      # byte offset in the file where the first row starts


def _fields(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter), [])


def _delimiter(sample: str, path: Path) -> str:
    """``,`` unless the header is one field and another delimiter splits every sampled row alike.

    >>> _delimiter("a;b;c\\n1;2;3\\n", Path("x.csv"))
    ';'
    >>> _delimiter("a,b\\n1,2\\n", Path("x.csv"))
    ','
    """
    lines = [ln for ln in sample.splitlines()[:50] if ln.strip()]
    if not lines or len(_fields(lines[0], ",")) > 1:
        return ","
    for d in _OTHER_DELIMITERS:
        counts = {len(_fields(ln, d)) for ln in lines[:-1] or lines}
        if len(_fields(lines[0], d)) > 1:
            if counts == {len(_fields(lines[0], d))}:
                return d
            raise InputError(f"{path.name}: the header looks {d!r}-separated but the rows have "
                             f"{'/'.join(map(str, sorted(counts)))} fields: fix the file or save it comma-separated")
    return ","


def read_head(path: Path) -> CsvHead:
    """Header and delimiter of ``path`` (InputError: empty, binary, duplicate or too many columns)."""
    try:
        with path.open("rb") as fh:
            raw = fh.read(_SNIFF_BYTES)
    except OSError as exc:
        raise InputError(f"cannot read CSV {path}: {exc.strerror or exc}") from exc
    if not raw.strip():
        raise InputError(f"CSV {path} is empty")
    if b"\x00" in raw:
        raise InputError(f"CSV {path} is not text (it holds NUL bytes)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(raw) - 4:           # not just a character cut at the end of the sample
            raise InputError(f"cannot read CSV {path}: not UTF-8 text (byte {exc.start})") from exc
        text = raw[:exc.start].decode("utf-8-sig")
    nl = raw.find(b"\n")
    if nl < 0 and len(raw) == _SNIFF_BYTES:
        raise InputError(f"CSV {path}: the header line is longer than {_SNIFF_BYTES} bytes")
    header = raw if nl < 0 else raw[:nl + 1]
    delimiter = _delimiter(text, path)
    columns = [c.strip() for c in _fields(text.splitlines()[0], delimiter)]
    if len(columns) > MAX_COLUMNS:
        raise InputError(f"CSV {path} has {len(columns)} columns; at most {MAX_COLUMNS} are read")
    seen: dict[str, int] = {}
    for i, c in enumerate(columns, 1):
        if c in seen:
            raise InputError(f"CSV {path} names column {shown(c)} twice (columns {seen[c]} and {i}): "
                             "column names must be unique")
        seen[c] = i
    end = len(header)
    if header.startswith(b"\xef\xbb\xbf"):
        header = header[3:]
    return CsvHead(columns, delimiter, header if header.endswith(b"\n") else header + b"\n", end)


def _cut(buf: bytes) -> int:
    """Offset just after the last newline of ``buf`` that is outside quotes (0: no whole row yet)."""
    p = buf.rfind(b"\n")
    while p >= 0 and buf.count(b'"', 0, p) % 2:
        p = buf.rfind(b"\n", 0, p)
    return p + 1


def blocks(path: Path, start: int, block_bytes: int | None = None) -> Iterator[tuple[int, bytes]]:
    """``(end offset, bytes)`` of whole-row blocks from byte ``start`` (just after the header or a position)."""
    block_bytes = block_bytes or BLOCK_BYTES
    with path.open("rb") as fh:
        fh.seek(start)
        pos, carry = start, b""
        while True:
            chunk = fh.read(block_bytes)
            if not chunk:
                if carry.strip():
                    yield pos + len(carry), carry          # a last row without its newline
                return
            buf = carry + chunk
            cut = _cut(buf)
            if cut == 0:                 # one row longer than a block: read on
                carry = buf
                continue
            pos += cut
            carry = buf[cut:]
            yield pos, buf[:cut]


_EXPECTED = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def parse_block(head: CsvHead, block: bytes, path: Path, first_line: int) -> pd.DataFrame:
    """The rows of one block as a DataFrame with the header's columns; InputError naming the row that has
    more fields than the header. ``first_line`` is the file line number of the block's first row."""
    if b"\x00" in block:
        line = first_line + block.count(b"\n", 0, block.index(b"\x00"))
        raise InputError(f"{path.name} line {line} holds a NUL byte: not a text CSV")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pd.errors.ParserWarning)
        try:
            body = block if block.endswith(b"\n") else block + b"\n"
            df = pd.read_csv(io.BytesIO(head.header + body), sep=head.delimiter, index_col=False,
                             skipinitialspace=False, encoding="utf-8")
        except pd.errors.ParserError as exc:
            m = _EXPECTED.search(str(exc))
            if m:
                line = first_line + int(m.group(2)) - 2
                raise InputError(f"{path.name} line {line} has {m.group(3)} fields but the header names "
                                 f"{len(head.columns)} columns: quote values holding {head.delimiter!r}, "
                                 "or fix the row") from exc
            raise InputError(f"cannot read CSV {path}: {str(exc).splitlines()[0][:200]}") from exc
        except (UnicodeDecodeError, ValueError) as exc:
            raise InputError(f"cannot read CSV {path}: {str(exc).splitlines()[0][:200]}") from exc
    if any(issubclass(w.category, pd.errors.ParserWarning) for w in caught):
        text = block.decode("utf-8", "replace")
        for i, row in enumerate(csv.reader(io.StringIO(text), delimiter=head.delimiter)):
            if len(row) > len(head.columns):
                raise InputError(f"{path.name} line {first_line + i} has {len(row)} fields but the header names "
                                 f"{len(head.columns)} columns: quote values holding {head.delimiter!r}, "
                                 "or fix the row")
    df.columns = head.columns
    return df
