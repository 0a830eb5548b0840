"""The RCA rule book: the fields of app/rca/rules.toml (root cause, severity tiers, reason) and its firings.

Conditions, their evaluation, the reason templates and the loader are those of ``app.rules``.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.rules import Condition, Rule, RuleBook, fired, holds, render
from app.rules import load_rules as load_book
from app.schemas import SEVERITIES, RootCause, Severity

__all__ = ["RULES_PATH", "CauseRule", "Firing", "RcaRules", "SeverityRule", "Tier", "firings", "load_rules"]

RULES_PATH = Path(__file__).with_name("rules.toml")

Facts = dict[str, Any]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tier(_Strict):
    min: float
    level: Severity


class SeverityRule(_Strict):
    """The severity of a firing: the first tier whose ``min`` the fact reaches (0 when it is not a number)."""

    fact: str
    tiers: list[Tier] = Field(min_length=1)

    def level(self, facts: Facts) -> Severity:
        v = facts.get(self.fact)
        value = float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else 0.0
        for t in self.tiers:
            if value >= t.min:
                return t.level
        return self.tiers[-1].level


class CauseRule(Rule):
    """One root-cause rule: when ``when`` holds, ``root_cause`` at a graded severity, explained by ``reason``."""

    root_cause: RootCause
    severity: SeverityRule
    escalate: Condition | None = None
    reason: str

    def grade(self, facts: Facts) -> Severity:
        level = self.severity.level(facts)
        if self.escalate is not None and holds(self.escalate, facts):
            level = SEVERITIES[min(SEVERITIES.index(level) + 1, len(SEVERITIES) - 1)]  # type: ignore[assignment]
        return level


class RcaRules(RuleBook):
    rules: list[CauseRule] = Field(min_length=1)  # type: ignore[assignment]


class Firing(_Strict):
    """One rule that fired: its id, root cause, graded severity and rendered reason."""

    rule_id: str
    root_cause: RootCause
    severity: Severity
    reason: str


@lru_cache(maxsize=4)
def load_rules(path: Path = RULES_PATH) -> RcaRules:
    """Read and validate the rule table (InputError naming the problem when it is invalid)."""
    return load_book(path, RcaRules, "RCA rules")


def firings(facts: Facts, rules: RcaRules | None = None) -> list[Firing]:
    """Every rule that fires, in priority order (a ``None`` fact in a reason reads ``None``, as it always has)."""
    rules = rules or load_rules()
    by_id = {r.id: r for r in rules.rules}
    return [Firing(rule_id=i, root_cause=by_id[i].root_cause, severity=by_id[i].grade(facts),
                   reason=render(by_id[i].reason, facts, none="None")) for i in fired(rules.rules, facts)]
