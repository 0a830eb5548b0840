"""Failure signatures as data: the ``knowledge/signatures/*.md`` sections, read into validated models.

Each ``##`` section of a signature document is one signature, written as ``- key: value`` lines:
``id``, ``category``, ``subtype``, ``weight``, ``concrete`` (yes/no: does a match show the failure itself, not
only a symptom), ``requires`` (conditions, any of which must hold, separated by ``|``), ``supports`` and
``needs`` (comma-separated conditions that must all hold as well), ``supports`` and ``against`` (comma-separated
conditions that strengthen it or rule it out), then the prose a reader needs:
``symptoms``, ``check``, ``fix`` and ``source`` (the public write-up it comes from). A condition is a fact
name (holds when the fact is true or non-empty) or ``fact op number`` with op one of ``>= <= > <``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from app.diagnosis.vocab import CATEGORIES
from app.errors import InputError
from app.knowledge.corpus import DEFAULT_ROOT, parse_front_matter, split_sections

__all__ = ["SIGNATURE_DIR", "Condition", "Signature", "holds", "load_signatures", "parse_condition"]

SIGNATURE_DIR = DEFAULT_ROOT / "signatures"
_COND = re.compile(r"^\s*([a-z][a-z0-9_]*)\s*(?:(>=|<=|>|<)\s*(-?\d+(?:\.\d+)?))?\s*$")
_LINE = re.compile(r"^-\s*([a-z_]+):\s*(.*)$")


class Condition(BaseModel):
    """``fact`` alone (truthy) or ``fact op value``."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    fact: str
    op: str | None = None
    value: float | None = None

    def __str__(self) -> str:
        return self.fact if self.op is None else f"{self.fact} {self.op} {self.value:g}"


def parse_condition(text: str) -> Condition:
    """``"drop_val_test >= 0.1"`` -> Condition(fact, op, value); ValueError on anything else.

    >>> str(parse_condition(" cm_min_recall <= 0.3 ")), str(parse_condition("code_eval_on_train"))
    ('cm_min_recall <= 0.3', 'code_eval_on_train')
    """
    m = _COND.match(text)
    if not m:
        raise ValueError(f"bad condition {text!r}: expected 'fact' or 'fact op number'")
    return Condition(fact=m.group(1), op=m.group(2), value=float(m.group(3)) if m.group(3) else None)


def holds(c: Condition, facts: dict[str, Any]) -> bool:
    """Whether the condition holds on ``facts`` (a missing fact never holds).

    >>> holds(parse_condition("x >= 0.5"), {"x": 0.7}), holds(parse_condition("y"), {"y": []})
    (True, False)
    """
    v = facts.get(c.fact)
    if c.op is None:
        return bool(v) and v is not False
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    return {">=": v >= c.value, "<=": v <= c.value, ">": v > c.value, "<": v < c.value}[c.op]  # type: ignore[operator]


class Signature(BaseModel):
    """One failure signature (one knowledge section)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    doc_id: str
    section: str
    category: str
    subtype: str = Field(min_length=1)
    weight: float = Field(gt=0.0, le=1.0)
    concrete: bool
    requires: tuple[Condition, ...] = Field(min_length=1)
    needs: tuple[Condition, ...] = ()
    supports: tuple[Condition, ...] = ()
    against: tuple[Condition, ...] = ()
    explains: tuple[str, ...] = ()
    """Categories whose shared symptom this cause explains: a match counts against them by its own contribution
    when a drop was seen (a concrete leak explains the offline-to-production drop that drift reads as its sign)."""
    symptoms: str = Field(min_length=10)
    check: str = Field(min_length=10)
    fix: str = Field(min_length=10)
    source: str = Field(pattern=r"^https?://\S+$")

    @field_validator("category")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in CATEGORIES or v == "unknown":
            raise ValueError(f"unknown category {v!r}")
        return v

    @field_validator("explains", mode="before")
    @classmethod
    def _categories(cls, v: Any) -> Any:
        out = tuple(p.strip() for p in v.split(",") if p.strip()) if isinstance(v, str) else v
        bad = [c for c in out if c not in CATEGORIES or c == "unknown"]
        if bad:
            raise ValueError(f"explains: unknown category {bad[0]!r}")
        return out

    @field_validator("requires", "needs", "supports", "against", mode="before")
    @classmethod
    def _conditions(cls, v: Any) -> Any:
        if isinstance(v, str):
            sep = "|" if "|" in v else ","
            return tuple(parse_condition(p) for p in v.split(sep) if p.strip())
        return v


def _section_fields(text: str) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    key = None
    for line in text.splitlines():
        m = _LINE.match(line.strip())
        if m:
            key = m.group(1)
            fields[key] = m.group(2).strip()
        elif key and line.strip():
            fields[key] += " " + line.strip()
    if "concrete" in fields:
        fields["concrete"] = fields["concrete"].lower() in ("yes", "true")
    return fields


@lru_cache(maxsize=4)
def load_signatures(root: Path = SIGNATURE_DIR) -> tuple[Signature, ...]:
    """Every signature under ``root``; InputError naming the file and section when one is malformed."""
    out: list[Signature] = []
    for path in sorted(root.glob("*.md")):
        meta, body = parse_front_matter(path.read_text(encoding="utf-8"))
        doc_id = meta.get("id") or path.stem
        for section, text in split_sections(body, meta.get("title", path.stem)):
            fields = _section_fields(text)
            if "id" not in fields:
                continue  # an introduction, not a signature
            try:
                out.append(Signature(doc_id=doc_id, section=section, **fields))
            except (ValidationError, ValueError, TypeError) as exc:
                first = str(exc).splitlines()[0]
                raise InputError(f"signature {path.name} / {section}: {first}") from exc
    ids = [s.id for s in out]
    if len(set(ids)) != len(ids):
        raise InputError(f"duplicate signature ids in {root}")
    return tuple(out)
