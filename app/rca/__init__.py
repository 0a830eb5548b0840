"""Root-cause analysis: rule-based verdict, SHAP feature attribution and readable segments."""

from __future__ import annotations

from app.rca.explain import explain
from app.rca.root_cause import Verdict, root_cause
from app.rca.rules import load_rules

__all__ = ["Verdict", "explain", "load_rules", "root_cause"]
