"""Rules as data: one condition schema, one evaluator, one formatter and one TOML loader for every rule book."""

from app.rules.evaluate import MISSING, facts_in, fired, holds, lookup
from app.rules.format import render
from app.rules.load import load_rules
from app.rules.schema import OPS, Condition, Group, Rule, RuleBook, Test

__all__ = [
    "MISSING",
    "OPS",
    "Condition",
    "Group",
    "Rule",
    "RuleBook",
    "Test",
    "facts_in",
    "fired",
    "holds",
    "load_rules",
    "lookup",
    "render",
]
