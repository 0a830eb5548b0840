"""The one rule evaluator: does a condition hold for the facts, and which rules fire (ids, in file order)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from app.rules.schema import Group, Rule, Test
from app.schemas import SEVERITIES

__all__ = ["MISSING", "facts_in", "fired", "holds", "lookup"]

Facts = Mapping[str, Any]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


def lookup(facts: Facts, name: str) -> Any:
    """The fact called ``name`` (a key, else a dotted path into nested mappings), or ``MISSING``.

    >>> lookup({"a": {"b": 1}}, "a.b"), lookup({"a.b": 2}, "a.b"), lookup({"a": {}}, "a.c") is MISSING
    (1, 2, True)
    """
    if name in facts:
        return facts[name]
    cur: Any = facts
    for part in name.split("."):
        if not isinstance(cur, Mapping) or part not in cur:
            return MISSING
        cur = cur[part]
    return cur


def _ordered(v: Any, ref: Any) -> tuple[Any, Any] | None:
    """The pair to compare with < and >, or None when they are not comparable (a bool is not a number)."""
    if isinstance(v, str) and isinstance(ref, str) and v in SEVERITIES and ref in SEVERITIES:
        return SEVERITIES.index(v), SEVERITIES.index(ref)
    if isinstance(v, bool) != isinstance(ref, bool):
        return None
    return v, ref


def _test(t: Test, facts: Facts) -> bool:
    v = lookup(facts, t.fact)
    unknown = v is MISSING or v is None
    if t.op == "exists":
        return not unknown
    if t.op == "absent":
        return unknown
    if t.op == "empty":
        return unknown or (hasattr(v, "__len__") and len(v) == 0)
    if t.op == "is_false":
        return unknown or v is False
    if t.op == "is_true":
        return v is True
    if unknown or (isinstance(v, float) and math.isnan(v)):
        return False  # an unknown fact satisfies no test (e.g. accuracy without labels)
    if t.op == "nonempty":
        return bool(v)
    if t.op == "==":
        return bool(v == t.value)
    if t.op == "!=":
        return bool(v != t.value)
    if t.op == "in":
        return v in t.value
    if t.op == "not_in":
        return v not in t.value
    if t.op == "contains":
        return isinstance(v, (list, tuple, set, dict, str)) and t.value in v
    pair = _ordered(v, t.value)
    if pair is None:
        return False
    a, b = pair
    try:
        return bool({">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b}[t.op])
    except TypeError:
        return False


def holds(cond: Test | Group, facts: Facts) -> bool:
    """Whether ``cond`` holds for ``facts``.

    A test on a missing, ``None`` or NaN fact is false, except ``absent``, ``empty`` and ``is_false``;
    ordered comparisons of two severity names follow the severity order; a bool is never a number.

    >>> g = Group.model_validate({"all": [{"fact": "severity", "op": ">=", "value": "medium"}],
    ...                           "not": {"fact": "delta.accuracy", "op": "<", "value": -0.02}})
    >>> holds(g, {"severity": "high", "delta": {"accuracy": 0.0}}), holds(g, {"severity": "low"})
    (True, False)
    >>> holds(Test(fact="flag", op=">=", value=1), {"flag": True}), holds(Test(fact="x", op="absent"), {})
    (False, True)
    """
    if isinstance(cond, Test):
        return _test(cond, facts)
    if cond.all is not None and not all(holds(c, facts) for c in cond.all):
        return False
    if cond.any is not None and not any(holds(c, facts) for c in cond.any):
        return False
    return cond.not_ is None or not holds(cond.not_, facts)


def fired(rules: Sequence[Rule], facts: Facts) -> list[str]:
    """The ids of the rules whose ``when`` holds for ``facts``, in the order of ``rules``.

    >>> rs = [Rule.model_validate({"id": i, "when": {"fact": "x", "op": ">", "value": t}}) for i, t in (("a", 1), ("b", 0))]
    >>> fired(rs, {"x": 2}), fired(rs, {"x": 0.5}), fired(rs, {})
    (['a', 'b'], ['b'], [])
    """
    return [r.id for r in rules if holds(r.when, facts)]


def facts_in(cond: Test | Group) -> list[str]:
    """Names of the facts a condition reads (in order, unique).

    >>> facts_in(Group.model_validate({"any": [{"fact": "a", "op": "exists"}], "not": {"fact": "b", "op": "is_true"}}))
    ['a', 'b']
    """
    if isinstance(cond, Test):
        return [cond.fact]
    out: list[str] = []
    for c in [*(cond.all or []), *(cond.any or []), *([cond.not_] if cond.not_ is not None else [])]:
        out += [n for n in facts_in(c) if n not in out]
    return out
