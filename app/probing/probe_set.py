"""Probe sets (feature rows + optional labels from a CSV) and payload templates with ``{{feature}}`` slots."""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.errors import InputError

__all__ = [
    "LABEL_COLUMN_GUESSES",
    "ProbeSet",
    "default_probe_set_path",
    "load_template",
    "render_template",
    "template_slots",
]

LABEL_COLUMN_GUESSES = ("target", "label")
_SLOT = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")


def default_probe_set_path() -> Path:
    """The shipped demo probe set: breast-cancer features + a ``target`` label column."""
    return Path(__file__).resolve().parents[2] / "data" / "samples" / "demo_probe_set.csv"


def _py(value: Any) -> Any:
    """A CSV cell as a plain JSON-able Python value (NaN -> None, numpy scalars -> float/int/str)."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) else value
    return value


@dataclass
class ProbeSet:
    """Rows to send to an endpoint, each with its true label when the probe set has a label column."""

    features: list[str]
    records: list[dict[str, Any]]
    labels: list[Any] | None = None
    label_column: str | None = None
    source: str = ""
    template: Any = field(default=None, repr=False)

    @classmethod
    def from_csv(cls, path: str | Path, label_column: str | None = None,
                 template: str | Path | None = None) -> ProbeSet:
        """Load a CSV. Without ``label_column``, a column named ``target`` or ``label`` is the label.

        Raises :class:`InputError` for a missing/empty/unreadable file or an unknown label column.
        """
        import pandas as pd

        p = Path(path)
        if not p.is_file():
            raise InputError(f"probe set not found: {p}")
        try:
            df = pd.read_csv(p)
        except Exception as exc:  # pandas raises several types (EmptyDataError, ParserError, UnicodeError)
            raise InputError(f"cannot read probe set {p.name}: {str(exc).splitlines()[0][:120]}") from exc
        if df.empty:
            raise InputError(f"probe set {p.name} has no rows")
        if label_column is not None and label_column not in df.columns:
            raise InputError(f"label column {label_column!r} not in probe set {p.name} "
                             f"(columns: {', '.join(map(str, df.columns[:8]))}{'...' if df.shape[1] > 8 else ''})")
        if label_column is None:
            label_column = next((c for c in LABEL_COLUMN_GUESSES if c in df.columns), None)
        features = [str(c) for c in df.columns if c != label_column]
        if not features:
            raise InputError(f"probe set {p.name} has no feature columns")
        records = [{str(k): _py(v) for k, v in rec.items() if k != label_column}
                   for rec in df.to_dict(orient="records")]
        labels = [_py(v) for v in df[label_column].tolist()] if label_column else None
        tpl = load_template(template) if template is not None else None
        if tpl is not None:
            missing = [s for s in template_slots(tpl) if s not in features and s not in _SPECIAL]
            if missing:
                raise InputError(f"payload template uses columns not in the probe set: {', '.join(missing[:5])}")
        return cls(features, records, labels, label_column, str(p), tpl)

    @classmethod
    def from_rows(cls, rows: Sequence[dict[str, Any]], labels: Sequence[Any] | None = None) -> ProbeSet:
        """Build a probe set from in-memory rows (all rows share the first row's columns)."""
        if not rows:
            raise InputError("a probe set needs at least one row")
        if labels is not None and len(labels) != len(rows):
            raise InputError(f"{len(labels)} labels for {len(rows)} rows")
        return cls(list(rows[0]), [dict(r) for r in rows], list(labels) if labels is not None else None)

    def __len__(self) -> int:
        return len(self.records)

    def missing(self, columns: Sequence[str]) -> list[str]:
        """The given columns (e.g. a model's inputs) that this probe set lacks."""
        have = set(self.features)
        return [c for c in columns if c not in have]

    def order(self, n: int, seed: int = 0) -> list[int]:
        """Indices of ``n`` probe rows: a seeded shuffle of the set, cycled (re-shuffled) when ``n`` exceeds it."""
        if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
            raise InputError(f"number of probes must be a positive integer, got {n!r}")
        rng = random.Random(seed)
        order: list[int] = []
        while len(order) < n:
            idx = list(range(len(self.records)))
            rng.shuffle(idx)
            order.extend(idx)
        return order[:n]

    def row(self, i: int) -> tuple[dict[str, Any], Any | None]:
        """The (row, label) pair at index ``i`` (a copy of the row)."""
        return dict(self.records[i]), self.labels[i] if self.labels is not None else None

    def rows(self, n: int, seed: int = 0) -> list[tuple[dict[str, Any], Any | None]]:
        """``n`` (row, label) pairs in :meth:`order` (all built at once: for a long run use ``order`` + ``row``)."""
        return [self.row(i) for i in self.order(n, seed)]


_SPECIAL = ("row", "values", "columns")


def load_template(path: str | Path) -> Any:
    """Read a JSON payload template (InputError when missing or not JSON)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"payload template not found: {p}")
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"payload template {p.name} is not valid JSON: {str(exc)[:100]}") from exc


def template_slots(template: Any) -> list[str]:
    """Names of the ``{{slots}}`` used in a template, in order of first use.

    >>> template_slots({"x": "{{a}}", "y": ["{{ b }}", "id-{{a}}"]})
    ['a', 'b']
    """
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, str):
            for m in _SLOT.finditer(node):
                if m.group(1) not in found:
                    found.append(m.group(1))
        elif isinstance(node, dict):
            for k, v in node.items():
                walk(k)
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(template)
    return found


def render_template(template: Any, row: dict[str, Any]) -> Any:
    """Fill a template with one row. A string that is exactly ``{{name}}`` takes the value with its type;
    ``{{row}}`` is the whole row, ``{{values}}`` its values, ``{{columns}}`` its names.

    >>> render_template({"inputs": [{"name": "x", "data": ["{{values}}"]}], "id": "p-{{a}}"}, {"a": 1, "b": 2.5})
    {'inputs': [{'name': 'x', 'data': [[1, 2.5]]}], 'id': 'p-1'}
    >>> render_template({"n": "{{a}}"}, {"a": 3})
    {'n': 3}
    """
    special = {"row": dict(row), "values": list(row.values()), "columns": list(row)}

    def value_of(name: str) -> Any:
        if name in row:
            return row[name]
        if name in special:
            return special[name]
        raise InputError(f"payload template slot {{{{{name}}}}} is not a column of the probe row")

    def fill(node: Any) -> Any:
        if isinstance(node, str):
            whole = _SLOT.fullmatch(node.strip())
            if whole:
                return value_of(whole.group(1))
            return _SLOT.sub(lambda m: str(value_of(m.group(1))), node)
        if isinstance(node, dict):
            return {fill(k) if isinstance(k, str) else k: fill(v) for k, v in node.items()}
        if isinstance(node, list):
            return [fill(v) for v in node]
        return node

    return fill(template)
