"""Schema of the recommendation rules (data, not code) and the loader that validates them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import tomllib
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from app.errors import InputError
from app.schemas import Priority, Severity

__all__ = ["DEFAULT_RULES_PATH", "OPS", "Condition", "Group", "Rule", "RuleSet", "load_rules"]

DEFAULT_RULES_PATH = Path(__file__).with_name("rules.toml")

OPS = ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "contains", "nonempty", "empty", "exists")
Op = Literal["eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "contains", "nonempty", "empty", "exists"]
_UNARY = {"nonempty", "empty", "exists"}


class Condition(BaseModel):
    """One test on one fact of the report, e.g. ``{fact="root_cause", op="eq", value="accuracy_drop"}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fact: str = Field(min_length=1)
    op: Op
    value: Any = None

    @model_validator(mode="after")
    def _value_present(self) -> Condition:
        if self.op not in _UNARY and self.value is None:
            raise ValueError(f"condition on {self.fact!r} with op {self.op!r} needs a value")
        if self.op in ("in", "not_in") and not isinstance(self.value, list):
            raise ValueError(f"op {self.op!r} on {self.fact!r} needs a list value")
        return self


class Group(BaseModel):
    """``all`` of its children hold (and) / ``any`` holds (or) / ``none`` holds (not); nestable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    all: list[Condition | Group] = Field(default_factory=list)
    any: list[Condition | Group] = Field(default_factory=list)
    none: list[Condition | Group] = Field(default_factory=list)

    @model_validator(mode="after")
    def _not_empty(self) -> Group:
        if not (self.all or self.any or self.none):
            raise ValueError("a condition group needs at least one of all / any / none")
        return self


class Rule(BaseModel):
    """One recommendation rule: when ``when`` holds for a report, propose ``action``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=96)
    when: Group
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


class RuleSet(BaseModel):
    """The whole rules file: a version and the ordered list of rules (ids unique)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1)
    rules: list[Rule] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> RuleSet:
        seen: set[str] = set()
        for r in self.rules:
            if r.id in seen:
                raise ValueError(f"duplicate rule id: {r.id}")
            seen.add(r.id)
        return self


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err.get("loc", ()))
    return f"{loc}: {err.get('msg', 'invalid')}" if loc else str(err.get("msg", "invalid"))


def load_rules(path: str | Path | None = None) -> RuleSet:
    """Read and validate a TOML or JSON rules file (default: the shipped ``rules.toml``).

    Raises ``InputError`` with a one-line message naming the first problem.

    >>> from app.schemas import PRIORITIES
    >>> rs = load_rules()
    >>> rs.version >= 1 and all(r.priority in PRIORITIES for r in rs.rules)
    True
    """
    p = Path(path) if path is not None else DEFAULT_RULES_PATH
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read rules file {p}: {exc.strerror or exc}") from exc
    try:
        data: dict[str, Any] = json.loads(raw) if p.suffix == ".json" else tomllib.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"rules file {p.name} is not valid {'JSON' if p.suffix == '.json' else 'TOML'}: "
                         f"{str(exc).splitlines()[0]}") from exc
    try:
        return RuleSet.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"rules file {p.name} is invalid: {_first_error(exc)}") from exc
