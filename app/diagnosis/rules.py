"""The taxonomy rule book: the fields of taxonomy_rules.toml (category, weight, scale, citation, thresholds).

Conditions (``when``), their evaluation, the statement templates and the loader are those of ``app.rules``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.diagnosis.vocab import CATEGORIES
from app.rules import Rule as BaseRule
from app.rules import RuleBook
from app.rules import load_rules as load_book

__all__ = ["RULES_PATH", "Cite", "Rule", "RuleSet", "Scale", "Thresholds", "load_rules"]

RULES_PATH = Path(__file__).with_name("taxonomy_rules.toml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Scale(_Strict):
    """How strongly a rule fires: from ``min`` at ``from`` to 1 at ``to`` of the fact's value."""

    fact: str
    from_: float = Field(alias="from")
    to: float
    min: float = Field(0.5, ge=0.0, le=1.0)


class Cite(_Strict):
    doc: str
    section: str


class Rule(BaseRule):
    """One taxonomy rule: when ``when`` holds, add (support) or subtract (counter) weight x strength."""

    category: str
    subtype: str | None = None
    kind: Literal["support", "counter"]
    concrete: bool = False
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


class RuleSet(RuleBook):
    """The rules file: the rules plus the thresholds and patterns the taxonomy uses."""

    description: str
    thresholds: Thresholds
    exclusive_pairs: list[tuple[str, str]]
    tie_order: list[str]
    future_feature_patterns: list[str]
    identifier_patterns: list[str]
    rules: list[Rule] = Field(min_length=1)  # type: ignore[assignment]


@lru_cache(maxsize=4)
def load_rules(path: Path = RULES_PATH) -> RuleSet:
    """Parse and validate the rules file (cached per path; the file is read-only data)."""
    return load_book(path, RuleSet, "taxonomy rules file")
