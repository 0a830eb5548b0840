"""The condition schema shared by every rule book: tests on named facts, nested in all / any / not groups.

A condition is either a *test* ``{fact, op, value}`` or a *group* ``{all = [...], any = [...], not = {...}}``
(each part optional, at least one given). Every model forbids unknown fields, so a misspelt key in a
rules file fails loudly when it is loaded.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

__all__ = ["OPS", "Condition", "Group", "Op", "Rule", "RuleBook", "Test"]

Op = Literal["==", "!=", ">", ">=", "<", "<=", "in", "not_in", "contains",
             "exists", "absent", "empty", "nonempty", "is_true", "is_false"]
OPS: tuple[str, ...] = Op.__args__  # type: ignore[attr-defined]
UNARY = frozenset({"exists", "absent", "empty", "nonempty", "is_true", "is_false"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Test(_Strict):
    """One test on one fact, e.g. ``{fact = "root_cause", op = "==", value = "accuracy_drop"}``.

    ``fact`` is a key of the facts, or a dotted path into nested facts (``delta.accuracy``).

    >>> Test(fact="x", op="exists").value is None
    True
    >>> try:
    ...     Test(fact="x", op=">=")
    ... except ValueError as e:
    ...     print("needs a value" in str(e))
    True
    """

    __test__ = False  # not a pytest class

    fact: str = Field(min_length=1)
    op: Op
    value: Any = None

    @model_validator(mode="after")
    def _value_fits_op(self) -> Test:
        if self.op not in UNARY and self.value is None:
            raise ValueError(f"test on {self.fact!r} with op {self.op!r} needs a value")
        if self.op in ("in", "not_in") and not isinstance(self.value, list):
            raise ValueError(f"op {self.op!r} on {self.fact!r} needs a list value")
        return self


def _kind(v: Any) -> str:
    if isinstance(v, dict):
        return "test" if "fact" in v else "group"
    return "test" if isinstance(v, Test) else "group"


# resolved below, once Group exists, so that rule books in other modules can use it without forward references
Condition = Annotated[Annotated[Test, Tag("test")] | Annotated["Group", Tag("group")], Discriminator(_kind)]


class Group(_Strict):
    """``all`` of its conditions hold, ``any`` (at least one) holds, ``not`` does not hold; nestable."""

    all: list[Condition] | None = Field(default=None, min_length=1)
    any: list[Condition] | None = Field(default=None, min_length=1)
    not_: Condition | None = Field(default=None, alias="not")

    @model_validator(mode="after")
    def _not_empty(self) -> Group:
        if self.all is None and self.any is None and self.not_ is None:
            raise ValueError("a condition group needs at least one of all / any / not")
        return self

Condition = Annotated[Annotated[Test, Tag("test")] | Annotated[Group, Tag("group")], Discriminator(_kind)]  # type: ignore[misc]


class Rule(_Strict):
    """What every rule has: an id (recorded in the audit log when it fires) and its condition."""

    id: str = Field(min_length=1)
    when: Condition


class RuleBook(_Strict):
    """A rules file: a format version and the ordered rules, whose ids are unique."""

    version: int = Field(ge=1)
    rules: list[Rule] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> RuleBook:
        seen: set[str] = set()
        for r in self.rules:
            if r.id in seen:
                raise ValueError(f"duplicate rule id: {r.id}")
            seen.add(r.id)
        return self

