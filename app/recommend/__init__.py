"""Rule-engine recommender: rules as data (rules.toml) -> ranked, de-duplicated, cited actions."""

from app.recommend.engine import Preference, default_rules, recommend, stable_id
from app.recommend.facts import build_facts, fired_rules
from app.recommend.rules import Rule, RuleSet, load_rules

__all__ = [
           "Preference",
           "Rule",
           "RuleSet",
           "build_facts",
           "default_rules",
           "fired_rules",
           "load_rules",
           "recommend",
           "stable_id",
]
