"""app.rules: the one condition schema, evaluator, formatter and loader behind RCA, recommendations and diagnosis."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.errors import InputError
from app.rules import MISSING, Group, Rule, RuleBook, Test, facts_in, fired, holds, load_rules, lookup, render


def cond(data: dict) -> Test | Group:  # type: ignore[type-arg]
    return Rule.model_validate({"id": "r", "when": data}).when


# ------------------------------------------------------------------ schema
@pytest.mark.parametrize("data,where", [
    ({"fact": "x", "op": "==", "valeu": 1}, "valeu"),                       # misspelt test field
    ({"fakt": "x", "op": "==", "value": 1}, "fakt"),                        # misspelt fact: read as a group
    ({"al": [{"fact": "x", "op": "exists"}]}, "al"),                        # misspelt group field
    ({"all": [{"fact": "x", "op": "equals", "value": 1}]}, "op"),           # unknown operator
    ({"fact": "x", "op": ">="}, "needs a value"),
    ({"fact": "x", "op": "in", "value": "a"}, "list value"),
    ({}, "at least one of all / any / not"),
    ({"all": []}, "at least 1 item"),
    ({"not": {"none": [{"fact": "x", "op": "exists"}]}}, "none"),           # the old recommend spelling
])
def test_the_schema_rejects_misspelt_and_incomplete_conditions(data: dict, where: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValidationError) as ei:
        cond(data)
    assert where in str(ei.value)


def test_a_rule_and_a_rule_book_forbid_unknown_fields_and_duplicate_ids() -> None:
    rule = {"id": "a", "when": {"fact": "x", "op": "exists"}}
    with pytest.raises(ValidationError, match="wehn"):
        Rule.model_validate({"id": "a", "wehn": rule["when"]})
    with pytest.raises(ValidationError, match="duplicate rule id: a"):
        RuleBook.model_validate({"version": 1, "rules": [rule, rule]})
    with pytest.raises(ValidationError, match="verison"):
        RuleBook.model_validate({"verison": 1, "version": 1, "rules": [rule]})


# ------------------------------------------------------------------ evaluator
def test_all_any_not_semantics() -> None:
    a, b = {"fact": "a", "op": "is_true"}, {"fact": "b", "op": "is_true"}
    truth = [(x, y) for x in (True, False) for y in (True, False)]
    for x, y in truth:
        f = {"a": x, "b": y}
        assert holds(cond({"all": [a, b]}), f) is (x and y)
        assert holds(cond({"any": [a, b]}), f) is (x or y)
        assert holds(cond({"not": a}), f) is (not x)
        assert holds(cond({"all": [a], "not": b}), f) is (x and not y)        # the parts of one group are and-ed
        assert holds(cond({"any": [a, b], "not": {"all": [a, b]}}), f) is (x != y)  # nested: exclusive or


@pytest.mark.parametrize("op,value,fact,expected", [
    ("==", True, True, True), ("==", "x", "y", False), ("!=", "x", "y", True),
    (">", 0.5, 0.6, True), (">=", 0.5, 0.5, True), ("<", 0.0, -0.1, True), ("<=", 0.0, 0.1, False),
    (">=", "medium", "high", True), ("<=", "high", "critical", False),   # severities compare by their order
    (">=", 1, True, False),                                              # a bool is not a number
    (">", 0.0, "text", False),                                           # incomparable: false, not an error
    ("in", ["a", "b"], "a", True), ("not_in", ["a", "b"], "a", False),
    ("contains", "x", ["x", "y"], True), ("contains", "x", 3, False),
    ("nonempty", None, [], False), ("empty", None, [], True), ("exists", None, 0, True),
    ("is_true", None, 1, False), ("is_false", None, False, True),
])
def test_operators(op: str, value: object, fact: object, expected: bool) -> None:
    assert holds(Test(fact="f", op=op, value=value), {"f": fact}) is expected  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [MISSING, None, float("nan")])
def test_an_unknown_fact_satisfies_no_test_but_absent_empty_and_is_false(value: object) -> None:
    facts = {} if value is MISSING else {"f": value}
    for op, v in (("==", 1.0), ("!=", 1.0), (">", 0.0), ("<", 1.0), ("in", [1.0]), ("nonempty", None), ("is_true", None)):
        assert not holds(Test(fact="f", op=op, value=v), facts), (op, value)  # type: ignore[arg-type]
    unknown = value is not None and value is not MISSING   # NaN is a value: it exists, but compares to nothing
    assert holds(Test(fact="f", op="exists"), facts) is unknown
    assert holds(Test(fact="f", op="absent"), facts) is not unknown
    assert holds(Test(fact="f", op="is_false"), facts) is not unknown


def test_dotted_facts_and_keys_with_dots() -> None:
    facts = {"delta": {"accuracy": -0.2}, "a.b": 1}
    assert lookup(facts, "delta.accuracy") == -0.2 and lookup(facts, "a.b") == 1
    assert lookup(facts, "delta.latency") is MISSING and lookup(facts, "delta.accuracy.x") is MISSING
    assert holds(Test(fact="delta.accuracy", op="<", value=-0.1), facts)


def test_the_evaluator_returns_the_ids_that_fired_in_rule_order() -> None:
    rules = [Rule.model_validate({"id": i, "when": {"fact": "x", "op": ">=", "value": t}})
             for i, t in (("high", 0.8), ("low", 0.1), ("mid", 0.5), ("never", 2.0))]
    assert fired(rules, {"x": 0.9}) == ["high", "low", "mid"]
    assert fired(rules, {"x": 0.6}) == ["low", "mid"]
    assert fired(list(reversed(rules)), {"x": 0.9}) == ["mid", "low", "high"]
    assert fired(rules, {}) == []


def test_facts_in_lists_what_a_condition_reads() -> None:
    c = cond({"all": [{"fact": "a", "op": "exists"}, {"any": [{"fact": "b", "op": "exists"}, {"fact": "a", "op": "absent"}]}],
              "not": {"fact": "c", "op": "is_true"}})
    assert facts_in(c) == ["a", "b", "c"]


# ------------------------------------------------------------------ formatter
def test_the_formatter_fills_templates_from_facts() -> None:
    facts = {"rate": 0.25, "name": "age", "n": 3, "none": None}
    assert render("{rate:.0%} of {n} on '{name}'", facts) == "25% of 3 on 'age'"
    assert render("{absent} / {none}", facts) == "? / ?"
    assert render("{absent} / {none}", facts, missing="n/a", none="None") == "n/a / None"
    assert render("{name:.2f}", facts) == "age"                        # a format that does not fit: str()
    assert render("a[[, b {rate:.1f}]][[, c {absent}]].", facts) == "a, b 0.2."
    assert render("{{literal}} {n}", facts) == "{literal} 3"


# ------------------------------------------------------------------ loader
def test_the_loader_reads_toml_and_names_the_first_problem(tmp_path: Path) -> None:
    p = tmp_path / "r.toml"
    p.write_text('version = 1\n[[rules]]\nid = "a"\nwhen = { fact = "x", op = ">=", value = 1 }\n')
    book = load_rules(p, RuleBook, "test rules")
    assert fired(book.rules, {"x": 2}) == ["a"]
    p.write_text('version = 1\n[[rules]]\nid = "a"\nwhen = { fact = "x", op = ">=", valeu = 1 }\n')
    with pytest.raises(InputError, match=re.escape("invalid test rules r.toml: rules.0.when.test.valeu")):
        load_rules(p, RuleBook, "test rules")
    p.write_text('{"version": 1}')
    with pytest.raises(InputError, match="test rules r.toml is not valid TOML"):
        load_rules(p, RuleBook, "test rules")
    with pytest.raises(InputError, match="cannot read test rules"):
        load_rules(tmp_path / "missing.toml", RuleBook, "test rules")
