"""Score every category from the rules, pick the primary (leakage only with concrete evidence), list conflicts."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from app.diagnosis.rules import Rule, RuleSet
from app.diagnosis.signals import Signals
from app.diagnosis.vocab import FAILURE_CATEGORIES
from app.rules import facts_in, fired, render

__all__ = ["CategoryScore", "Conflict", "FiredRule", "TaxonomyResult", "classify", "strength"]


class FiredRule(BaseModel):
    """A rule whose condition held, with the numbers that made it hold."""

    rule_id: str
    category: str
    subtype: str | None
    kind: str
    concrete: bool
    weight: float
    strength: float
    contribution: float
    statement: str
    values: dict[str, Any]
    sources: list[str]
    cite_doc: str
    cite_section: str
    action: str | None = None


class CategoryScore(BaseModel):
    category: str
    score: float
    support: float
    counter: float
    rules: list[str] = Field(default_factory=list)


class Conflict(BaseModel):
    categories: list[str]
    scores: list[float]
    reason: str


class TaxonomyResult(BaseModel):
    primary: str
    subtype: str | None
    primary_score: float
    runner_up_score: float
    secondary_risks: list[str]
    scores: list[CategoryScore]
    conflicts: list[Conflict]
    fired: list[FiredRule]
    concrete_leakage: bool
    leakage_audit_recommended: bool

    def score_of(self, category: str) -> float:
        return next((s.score for s in self.scores if s.category == category), 0.0)


def strength(rule: Rule, values: dict[str, Any]) -> float:
    """How far past its threshold the rule's scale signal is: min + (1 - min) * clip((v - from) / (to - from)).

    >>> from app.diagnosis.rules import load_rules
    >>> gap = next(r for r in load_rules().rules if r.id == "overfit.gap")
    >>> [strength(gap, {"gap_train_heldout": g}) for g in (0.05, 0.125, 0.4)]
    [0.4, 0.7, 1.0]
    """
    if rule.scale is None:
        return 1.0
    v = values.get(rule.scale.fact)
    if not isinstance(v, (int, float)) or rule.scale.to == rule.scale.from_:
        return 1.0
    frac = (float(v) - rule.scale.from_) / (rule.scale.to - rule.scale.from_)
    return round(rule.scale.min + (1.0 - rule.scale.min) * min(max(frac, 0.0), 1.0), 6)


def _fire(rules: RuleSet, sig: Signals) -> list[FiredRule]:
    out = []
    by_id = {r.id: r for r in rules.rules}
    for r in (by_id[i] for i in fired(rules.rules, sig.values)):
        st = strength(r, sig.values)
        names = facts_in(r.when) + ([r.scale.fact] if r.scale else [])
        used = {n: sig.values[n] for n in dict.fromkeys(names) if n in sig.values}
        srcs = list(dict.fromkeys(part for n in used if n in sig.sources for part in sig.sources[n].split("; ")))
        out.append(
            FiredRule(
                rule_id=r.id,
                category=r.category,
                subtype=r.subtype,
                kind=r.kind,
                concrete=r.concrete,
                weight=r.weight,
                strength=st,
                contribution=round(r.weight * st, 6),
                statement=render(r.statement, sig.values, missing="n/a"),
                values=used,
                sources=srcs,
                cite_doc=r.cite.doc,
                cite_section=r.cite.section,
                action=render(r.action, sig.values, missing="n/a") if r.action else None,
            )
        )
    return out


def classify(sig: Signals, rules: RuleSet, extra: list[FiredRule] | None = None) -> TaxonomyResult:
    """Scores for every category, the primary and secondary categories, and the conflicts between them.

    ``extra``: evidence fired outside the rules file (the failure signatures of ``knowledge/signatures``),
    scored exactly like a rule.
    """
    th, order = rules.thresholds, rules.tie_order
    fired = _fire(rules, sig) + list(extra or [])
    scores = []
    for cat in FAILURE_CATEGORIES:
        sup = sum(f.contribution for f in fired if f.category == cat and f.kind == "support")
        cnt = sum(f.contribution for f in fired if f.category == cat and f.kind == "counter")
        scores.append(
            CategoryScore(
                category=cat,
                score=round(min(max(sup - cnt, 0.0), 1.0), 6),
                support=round(sup, 6),
                counter=round(cnt, 6),
                rules=[f.rule_id for f in fired if f.category == cat],
            )
        )
    by = {s.category: s.score for s in scores}
    concrete = any(f.concrete and f.category == "data_leakage" and f.kind == "support" for f in fired)

    def rank(c: str) -> tuple[float, int]:
        return (-by[c], order.index(c) if c in order else len(order))

    candidates = sorted(
        (c for c in FAILURE_CATEGORIES if by[c] >= th.primary_min and (c != "data_leakage" or concrete)), key=rank
    )
    primary = candidates[0] if candidates else "unknown"
    conflicts: list[Conflict] = []
    if by["data_leakage"] >= th.primary_min and not concrete:
        conflicts.append(
            Conflict(
                categories=["data_leakage"],
                scores=[by["data_leakage"]],
                reason="leakage scored high but no concrete leakage evidence was found, so it is "
                "not the primary category",
            )
        )
    for a, b in rules.exclusive_pairs:
        if by[a] >= th.secondary_min and by[b] >= th.secondary_min:
            conflicts.append(
                Conflict(categories=[a, b], scores=[by[a], by[b]], reason=f"{a} and {b} point in opposite directions")
            )
    if len(candidates) >= 2 and by[candidates[0]] - by[candidates[1]] <= th.conflict_margin:
        conflicts.append(
            Conflict(
                categories=candidates[:2],
                scores=[by[candidates[0]], by[candidates[1]]],
                reason=f"close call: scores within {th.conflict_margin:.2f}",
            )
        )
    audit = (
        primary == "data_leakage"
        or by["data_leakage"] >= th.leakage_audit_min
        or concrete
        or any(sig.get(f"{k}_data_leakage") for k in ("worry", "stated"))
    )
    secondary = [c for c in sorted(FAILURE_CATEGORIES, key=rank) if c != primary and by[c] >= th.secondary_min]
    if audit and primary != "data_leakage" and "data_leakage" not in secondary:
        secondary.append("data_leakage")
    sup_primary = sorted(
        (f for f in fired if f.category == primary and f.kind == "support"), key=lambda f: (-f.contribution, f.rule_id)
    )
    others = sorted((by[c] for c in FAILURE_CATEGORIES if c != primary), reverse=True)
    return TaxonomyResult(
        primary=primary,
        subtype=sup_primary[0].subtype if sup_primary else None,
        primary_score=by.get(primary, max(by.values(), default=0.0)),
        runner_up_score=others[0] if others else 0.0,
        secondary_risks=secondary,
        scores=scores,
        conflicts=conflicts,
        fired=fired,
        concrete_leakage=concrete,
        leakage_audit_recommended=audit,
    )
