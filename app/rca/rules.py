"""Root-cause rules as data: the TOML table, its pydantic schema (extra="forbid"), the evaluator."""

from __future__ import annotations

import math
import string
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.errors import InputError
from app.schemas import SEVERITIES, RootCause, Severity

__all__ = [
    "RULES_PATH",
    "Condition",
    "Firing",
    "Rule",
    "RuleSet",
    "SeverityRule",
    "Tier",
    "evaluate",
    "load_rules",
    "render",
]

RULES_PATH = Path(__file__).with_name("rules.toml")

Signals = dict[str, Any]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Strict):
    signal: str
    op: Literal["==", "!=", ">", ">=", "<", "<="]
    value: float | bool | str

    def holds(self, signals: Signals) -> bool:
        """Whether the condition holds; an unknown or missing signal satisfies nothing.

        >>> Condition(signal="x", op=">=", value=0.5).holds({"x": 0.7}), Condition(signal="y", op="==", value=True).holds({})
        (True, False)
        """
        v = signals.get(self.signal)
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return False
        try:
            return bool({"==": lambda: v == self.value, "!=": lambda: v != self.value, ">": lambda: v > self.value,
                         ">=": lambda: v >= self.value, "<": lambda: v < self.value,
                         "<=": lambda: v <= self.value}[self.op]())
        except TypeError:
            return False


class Tier(_Strict):
    min: float
    level: Severity


class SeverityRule(_Strict):
    signal: str
    tiers: list[Tier] = Field(min_length=1)

    def level(self, signals: Signals) -> Severity:
        v = signals.get(self.signal)
        value = float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else 0.0
        for t in self.tiers:
            if value >= t.min:
                return t.level
        return self.tiers[-1].level


class Rule(_Strict):
    id: str
    root_cause: RootCause
    all: list[Condition] = Field(default_factory=list)
    any: list[Condition] = Field(default_factory=list)
    severity: SeverityRule
    escalate: list[Condition] = Field(default_factory=list)
    reason: str

    def fires(self, signals: Signals) -> bool:
        return all(c.holds(signals) for c in self.all) and (not self.any or any(c.holds(signals) for c in self.any))

    def grade(self, signals: Signals) -> Severity:
        level = self.severity.level(signals)
        if any(c.holds(signals) for c in self.escalate):
            level = SEVERITIES[min(SEVERITIES.index(level) + 1, len(SEVERITIES) - 1)]  # type: ignore[assignment]
        return level


class RuleSet(_Strict):
    rule: list[Rule] = Field(min_length=1)


class Firing(_Strict):
    """One rule that fired: its id, root cause, graded severity and rendered reason."""

    rule_id: str
    root_cause: RootCause
    severity: Severity
    reason: str


@lru_cache(maxsize=4)
def load_rules(path: Path = RULES_PATH) -> RuleSet:
    """Read and validate the rule table (InputError naming the problem when it is invalid)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        rules = RuleSet.model_validate(data)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"cannot read RCA rules {path}: {exc}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InputError(f"invalid RCA rules {path.name}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from exc
    ids = [r.id for r in rules.rule]
    if len(ids) != len(set(ids)):
        raise InputError(f"invalid RCA rules {path.name}: duplicate rule ids")
    return rules


class _Safe(string.Formatter):
    def get_value(self, key: Any, args: Any, kwargs: Any) -> Any:
        return kwargs.get(key, "?")

    def format_field(self, value: Any, format_spec: str) -> str:
        try:
            return str(super().format_field(value, format_spec))
        except (ValueError, TypeError):
            return str(value)


def render(template: str, signals: Signals) -> str:
    """Fill a reason template; unknown fields become ``?`` and bad formats fall back to ``str``.

    >>> render("{a:.0%} of {b}, {c}", {"a": 0.5, "b": "x"})
    '50% of x, ?'
    """
    return str(_Safe().format(template, **signals))


def evaluate(signals: Signals, rules: RuleSet | None = None) -> list[Firing]:
    """Every rule that fires, in priority order."""
    rules = rules or load_rules()
    return [Firing(rule_id=r.id, root_cause=r.root_cause, severity=r.grade(signals), reason=render(r.reason, signals))
            for r in rules.rule if r.fires(signals)]
