"""The recommendation rule book: the fields of app/recommend/rules.toml (action, priority, evidence).

Conditions (``when``), their evaluation and the loader are those of ``app.rules``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from app.rules import Rule as BaseRule
from app.rules import RuleBook
from app.rules import load_rules as load_book
from app.schemas import Priority, Severity

__all__ = ["DEFAULT_RULES_PATH", "Rule", "RuleSet", "load_rules"]

DEFAULT_RULES_PATH = Path(__file__).with_name("rules.toml")


class Rule(BaseRule):
    """One recommendation rule: when ``when`` holds for a report, propose ``action``."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=96)
    action: str = Field(min_length=3, description="may use {feature} when per_feature is true")
    action_type: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    priority: Priority
    priority_by_severity: dict[Severity, Priority] = Field(default_factory=dict)
    rationale: str = Field(min_length=3, description="why this action; evidence of the report is appended")
    evidence_metrics: list[str] = Field(default_factory=list)
    knowledge_id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    per_feature: bool = False
    features_from: Literal["drifted", "attributed", "affected"] = Field(
        default="drifted", description="per_feature: drifted features, RCA-attributed ones, or both")
    max_features: int = Field(default=3, ge=1, le=20)
    weight: float = Field(default=0.0, description="tie-break inside one priority (higher first)")

    @model_validator(mode="after")
    def _feature_placeholder(self) -> Rule:
        if self.per_feature and "{feature}" not in self.action:
            raise ValueError(f"rule {self.id}: per_feature rules must use {{feature}} in the action")
        if not self.per_feature and "{feature}" in self.action:
            raise ValueError(f"rule {self.id}: {{feature}} in the action needs per_feature = true")
        return self

    def priority_for(self, severity: str) -> str:
        """The priority at ``severity`` (an override from ``priority_by_severity`` or the default)."""
        return str(self.priority_by_severity.get(severity, self.priority))  # type: ignore[call-overload]


class RuleSet(RuleBook):
    """The whole rules file: a version and the ordered list of rules (ids unique)."""

    rules: list[Rule] = Field(min_length=1)  # type: ignore[assignment]


def load_rules(path: str | Path | None = None) -> RuleSet:
    """Read and validate a TOML rules file (default: the shipped ``rules.toml``).

    Raises ``InputError`` with a one-line message naming the first problem.

    >>> from app.schemas import PRIORITIES
    >>> rs = load_rules()
    >>> rs.version >= 1 and all(r.priority in PRIORITIES for r in rs.rules)
    True
    """
    return load_book(path if path is not None else DEFAULT_RULES_PATH, RuleSet, "rules file")
