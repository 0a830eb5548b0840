"""The taxonomy rules as data: a pydantic schema (misspelt fields fail loudly) and the condition evaluator."""

from __future__ import annotations

import json
import re
import string
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from app.diagnosis.vocab import CATEGORIES
from app.errors import InputError

__all__ = [
    "RULES_PATH",
    "Cite",
    "Condition",
    "Leaf",
    "Rule",
    "RuleSet",
    "Scale",
    "Thresholds",
    "holds",
    "load_rules",
    "render",
    "signals_in",
]

RULES_PATH = Path(__file__).with_name("taxonomy_rules.json")
Op = Literal[">=", ">", "<=", "<", "==", "is_true", "is_false", "present", "absent"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Leaf(_Strict):
    signal: str
    op: Op
    value: float | None = None

    @model_validator(mode="after")
    def _needs_value(self) -> Leaf:
        if self.op in (">=", ">", "<=", "<", "==") and self.value is None:
            raise ValueError(f"condition on {self.signal!r} with op {self.op!r} needs a value")
        return self


class Condition(_Strict):
    all: list[Condition | Leaf] | None = None
    any: list[Condition | Leaf] | None = None
    not_: Condition | Leaf | None = Field(None, alias="not")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Scale(_Strict):
    signal: str
    from_: float = Field(alias="from")
    to: float
    min: float = Field(0.5, ge=0.0, le=1.0)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Cite(_Strict):
    doc: str
    section: str


class Rule(_Strict):
    id: str
    category: str
    subtype: str | None
    kind: Literal["support", "counter"]
    concrete: bool = False
    when: Condition | Leaf
    weight: float = Field(gt=0.0, le=1.0)
    statement: str
    cite: Cite
    scale: Scale | None = None
    action: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Rule:
        if self.category not in CATEGORIES or self.category == "unknown":
            raise ValueError(f"rule {self.id}: unknown category {self.category!r}")
        if self.kind == "support" and not self.subtype:
            raise ValueError(f"rule {self.id}: a support rule needs a subtype")
        return self


class Thresholds(_Strict):
    primary_min: float
    secondary_min: float
    conflict_margin: float
    leakage_audit_min: float


class RuleSet(_Strict):
    version: int
    description: str
    thresholds: Thresholds
    exclusive_pairs: list[tuple[str, str]]
    tie_order: list[str]
    future_feature_patterns: list[str]
    identifier_patterns: list[str]
    rules: list[Rule]

    @model_validator(mode="after")
    def _unique(self) -> RuleSet:
        ids = [r.id for r in self.rules]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise ValueError(f"duplicate rule ids: {sorted(dup)}")
        return self


@lru_cache(maxsize=4)
def load_rules(path: Path = RULES_PATH) -> RuleSet:
    """Parse and validate the rules file (cached per path; the file is read-only data)."""
    try:
        return RuleSet.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError, ValidationError) as exc:
        raise InputError(f"invalid taxonomy rules file {Path(path).name}: {str(exc).splitlines()[0]}") from exc


def holds(cond: Condition | Leaf, values: dict[str, Any]) -> bool:
    """Evaluate a condition; a numeric comparison on a missing signal is False.

    >>> holds(Leaf(signal="gap", op=">=", value=0.1), {"gap": 0.28})
    True
    >>> holds(Condition(all=[Leaf(signal="gap", op=">=", value=0.1), Leaf(signal="x", op="absent")]), {"gap": 0.2})
    True
    """
    if isinstance(cond, Leaf):
        v = values.get(cond.signal)
        if cond.op == "present":
            return v is not None
        if cond.op == "absent":
            return v is None
        if cond.op == "is_true":
            return v is True
        if cond.op == "is_false":
            return v is False or v is None
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            return False
        x = float(cond.value)  # type: ignore[arg-type]
        return {">=": v >= x, ">": v > x, "<=": v <= x, "<": v < x, "==": v == x}[cond.op]
    if cond.all is not None and not all(holds(c, values) for c in cond.all):
        return False
    if cond.any is not None and not any(holds(c, values) for c in cond.any):
        return False
    if cond.not_ is not None and holds(cond.not_, values):
        return False
    return True


def signals_in(cond: Condition | Leaf) -> list[str]:
    """Names of the signals a condition reads (in order, unique)."""
    if isinstance(cond, Leaf):
        return [cond.signal]
    out: list[str] = []
    for c in (cond.all or []) + (cond.any or []) + ([cond.not_] if cond.not_ is not None else []):
        out += [s for s in signals_in(c) if s not in out]
    return out


class _Fmt(string.Formatter):
    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def get_value(self, key: Any, args: Any, kwargs: Any) -> Any:
        return self.values.get(key)

    def format_field(self, value: Any, format_spec: str) -> str:
        if value is None:
            return "n/a"
        try:
            return format(value, format_spec)
        except (TypeError, ValueError):
            return str(value)


_OPTIONAL = re.compile(r"\[\[(.*?)\]\]")


def render(template: str, values: dict[str, Any]) -> str:
    """Fill a statement template with signal values; missing ones read ``n/a``, and an optional ``[[...]]``
    part is dropped when a value it names is missing.

    >>> render("gap {gap:.3f}, jump {jump:+.2f}[[, drop {drop:.2f}]]", {"gap": 0.28})
    'gap 0.280, jump n/a'
    """
    fmt = _Fmt(values)

    def _opt(m: re.Match[str]) -> str:
        names = [f for _, f, _, _ in string.Formatter().parse(m.group(1)) if f]
        return fmt.format(m.group(1)) if all(values.get(n) is not None for n in names) else ""

    return fmt.format(_OPTIONAL.sub(_opt, template)) if "[[" in template else fmt.format(template)
