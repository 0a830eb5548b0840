"""Rule-based root cause: decided tests -> facts -> the first rule that fires (rules in rules.toml).

The rules are data (``app/rca/rules.toml``, validated with ``extra="forbid"``); ``app.rules`` evaluates
them. The root cause is the first firing rule in priority order; the distinct root causes
of the other firing rules are ``contributing``; ``evidence`` names the rules that fired and the
tests behind them, so a reader (and the audit log) can see why.
"""

from __future__ import annotations

from typing import Any

from app.detection.suite import SuiteResult
from app.rca.facts import extract_facts
from app.rca.rules import Firing, RcaRules, firings
from app.schemas import RCA, Metrics

__all__ = ["Verdict", "root_cause"]


class Verdict:
    """The RCA verdict plus the facts and firings it came from (for reports and tests)."""

    def __init__(self, rca: RCA, facts: dict[str, Any], firings: list[Firing]) -> None:
        self.rca, self.facts, self.firings = rca, facts, firings

    @property
    def rule_ids(self) -> list[str]:
        return [f.rule_id for f in self.firings]


def _no_finding(suite: SuiteResult) -> str:
    n = suite.n_tests
    return (f"No significant change from the baseline: {n} statistical test{'s' if n != 1 else ''}, "
            f"Benjamini-Hochberg-corrected at alpha={suite.alpha:g}, with effect-size floors.")


def root_cause(suite: SuiteResult, metrics: Metrics, baseline: Metrics | None,
               rules: RcaRules | None = None) -> Verdict:
    """Name the root cause, its severity and a plain-English reason."""
    facts = extract_facts(suite, metrics, baseline)
    fired = firings(facts, rules)
    if not fired:
        return Verdict(RCA(root_cause="none", severity="none", failure_reason=_no_finding(suite)), facts, [])
    head = fired[0]
    contributing = list(dict.fromkeys(str(f.root_cause) for f in fired[1:] if f.root_cause != head.root_cause))
    reason = head.reason
    others = [f for f in fired[1:] if f.root_cause in contributing]
    seen: set[str] = set()
    also = []
    for f in others:
        if f.root_cause not in seen:
            seen.add(f.root_cause)
            also.append(f.root_cause.replace("_", " "))
    if also:
        reason += f" Also changed: {', '.join(also)}."
    evidence = [f"rule {f.rule_id} -> {f.root_cause} ({f.severity})" for f in fired]
    evidence += [f"{r.method} on {r.name}: {r.detail}" for r in suite.all if r.drift_detected][:20]
    return Verdict(RCA(root_cause=head.root_cause, severity=head.severity, failure_reason=reason,
                         contributing=contributing, evidence=evidence), facts, fired)
