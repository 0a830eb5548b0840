"""Rule engine: fire rules on a report, build cited recommendations, de-duplicate, rank, stable ids."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from app.recommend.facts import build_facts, fired_rules
from app.recommend.rules import Rule, RuleSet, load_rules
from app.rules import render
from app.schemas import PRIORITIES, Recommendation, Report

__all__ = ["Preference", "default_rules", "evidence_text", "priority_rank", "recommend", "stable_id"]


@dataclass(frozen=True)
class Preference:
    """What past incidents say about an action type for this root cause (from governance.similar)."""

    successes: int = 0
    trials: int = 0
    note: str = ""
    incident_ids: tuple[int, ...] = field(default_factory=tuple)

    @property
    def score(self) -> float:
        """Laplace-smoothed success rate minus the prior 0.5: > 0 means it worked more often than not.

        >>> Preference(2, 2).score > Preference(0, 0).score == 0.0 > Preference(0, 3).score
        True
        """
        return (self.successes + 1) / (self.trials + 2) - 0.5


def priority_rank(priority: str) -> int:
    """0 for CRITICAL ... 4 for NONE (lower sorts first).

    >>> priority_rank("CRITICAL") < priority_rank("LOW")
    True
    """
    return PRIORITIES.index(priority)


@lru_cache(maxsize=1)
def default_rules() -> RuleSet:
    """The shipped rules file, parsed once per process (immutable)."""
    return load_rules()


def stable_id(endpoint: str, scope: str, key: str) -> str:
    """Deterministic id of a recommendation: sha256 of (endpoint, incident scope, action key), 16 hex.

    >>> stable_id("http://x/predict", "incident:3", "rollback") == stable_id("http://x/predict", "incident:3", "rollback")
    True
    >>> len(stable_id("a", "b", "c"))
    16
    """
    raw = f"{endpoint}\x1f{scope}\x1f{key}".encode()
    return hashlib.sha256(raw).hexdigest()[:16]


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 1e-3 and v != 0 else f"{v:.3f}".rstrip("0").rstrip(".")
    return str(v)


def _test_phrase(res: Mapping[str, Any]) -> str:
    parts = [str(res.get("method", "test"))]
    p = res.get("p_value_adjusted", res.get("p_value"))
    if p is not None:
        parts.append(f"p={p:.2g}")
    if res.get("effect_size") is not None:
        parts.append(f"effect {_fmt(float(res['effect_size']))}")
    return ", ".join(parts)


def evidence_text(report: Report, facts: Mapping[str, Any], rule: Rule, feature: str | None = None) -> str:
    """One sentence citing this report's numbers: root cause, the rule's metrics, drifted features."""
    bits = [f"{report.rca.root_cause} ({report.rca.severity}) on {report.metrics.total_samples} samples"]
    for m in rule.evidence_metrics:
        cur, base = facts["metrics"].get(m), facts["baseline"].get(m)
        if isinstance(cur, (int, float)) and isinstance(base, (int, float)):
            bits.append(f"{m} {_fmt(float(base))} -> {_fmt(float(cur))}")
        elif isinstance(cur, (int, float)):
            bits.append(f"{m} {_fmt(float(cur))}")
    feats: dict[str, Any] = report.drift.get("features") or {}
    names = [feature] if feature else list(facts["drifted_features"])[:3]
    cited = [f"'{n}' ({_test_phrase(_as_dict(feats[n]))})" for n in names if n in feats]
    attributed = {f.name: f for f in report.rca.features}
    quality = {q.get("column"): q for q in (report.drift.get("data_quality") or {}).get("flagged", [])}
    if feature and feature in quality:             # a failed data-quality check says more than an attribution
        q = quality[feature]
        bits.append(f"'{feature}' failed the {str(q.get('check', '')).replace('_', ' ')} check ({q.get('detail')})")
    elif feature and feature in attributed:
        cited.append(f"attribution score {_fmt(attributed[feature].score)}")
    if cited:
        bits.append("drift in " + ", ".join(cited))
    for key in ("confidence_distribution", "prediction_distribution"):
        res = _as_dict(report.drift.get(key))
        if res.get("drift_detected"):
            bits.append(f"{key.replace('_', ' ')} shifted ({_test_phrase(res)})")
    return "Evidence: " + "; ".join(bits) + "."


def _as_dict(res: Any) -> dict[str, Any]:
    if res is None:
        return {}
    return res if isinstance(res, dict) else dict(res.model_dump())


def _expand(rule: Rule, facts: Mapping[str, Any]) -> list[str | None]:
    if not rule.per_feature:
        return [None]
    return list(facts[f"{rule.features_from}_features"])[: rule.max_features]


def recommend(report: Report, *, scope: str, ruleset: RuleSet | None = None, protocol: str | None = None,
              preferences: Mapping[str, Preference] | None = None) -> list[Recommendation]:
    """Ranked, de-duplicated recommendations (status ``pending``) for ``report``.

    ``scope`` identifies the incident (e.g. ``"incident:7"``) so the same action in the same incident
    always gets the same id; ``preferences`` (per action type) lifts actions that resolved the same
    root cause before, inside one priority. A healthy report (root cause ``none``) gets none.
    Every recommendation records ``rule_id`` (the winner) and ``rule_ids`` (all rules that proposed it).
    """
    if report.rca.root_cause == "none":
        return []
    rs = ruleset or default_rules()
    prefs = preferences or {}
    facts = build_facts(report, protocol=protocol)
    order = {r.id: i for i, r in enumerate(rs.rules)}
    best: dict[str, tuple[Rule, str | None, str]] = {}
    proposers: dict[str, list[str]] = {}
    for rule in fired_rules(rs, facts):
        prio = rule.priority_for(report.rca.severity)
        for feat in _expand(rule, facts):
            key = rule.action_type + (f":{feat}" if feat else "")
            proposers.setdefault(key, []).append(rule.id)
            cur = best.get(key)
            if cur is None or (priority_rank(prio), -rule.weight) < (priority_rank(cur[2]), -cur[0].weight):
                best[key] = (rule, feat, prio)
    recs: list[tuple[tuple[Any, ...], Recommendation]] = []
    for key, (rule, feat, prio) in best.items():
        pref = prefs.get(rule.action_type, Preference())
        rationale = f"{rule.rationale} {evidence_text(report, facts, rule, feat)}"
        if pref.note:
            rationale += f" {pref.note}"
        rec = Recommendation.model_validate({
            "id": stable_id(report.endpoint, scope, key), "action": render(rule.action, {"feature": feat}),
            "priority": prio, "rationale": rationale, "status": "pending", "action_type": rule.action_type,
            "rule_id": rule.id, "knowledge_id": rule.knowledge_id, "rule_ids": proposers[key], "feature": feat,
            "root_cause": report.rca.root_cause, "past_success": round(pref.score, 3)})
        recs.append(((priority_rank(prio), -pref.score, -rule.weight, order[rule.id], key), rec))
    recs.sort(key=lambda kv: kv[0])
    return [r for _, r in recs]
