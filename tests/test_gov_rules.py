"""Recommendation rules are validated data; the engine fires, cites, de-duplicates, ranks, and ids stably."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from gov_helpers import make_report

from app.errors import InputError
from app.knowledge.corpus import load_corpus
from app.recommend import Preference, build_facts, default_rules, fired_rules, load_rules, recommend
from app.recommend.engine import priority_rank
from app.schemas import ROOT_CAUSES

RULE = {"id": "r1", "action": "Do it", "action_type": "retrain", "priority": "HIGH", "rationale": "because",
        "knowledge_id": "playbook-retrain", "when": {"all": [{"fact": "root_cause", "op": "==", "value": "x"}]}}


def _toml_value(v):
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return ("true" if v else "false") if isinstance(v, bool) else json.dumps(v)


def _write(tmp_path, data, name="rules.toml"):
    """Rules files are TOML: write ``data`` (a version and a list of rules) as one."""
    p = tmp_path / name
    lines = [f"version = {data['version']}"]
    for rule in data["rules"]:
        lines += ["", "[[rules]]", *(f"{k} = {_toml_value(v)}" for k, v in rule.items())]
    p.write_text("\n".join(lines) + "\n")
    return p


def _write_json(tmp_path, data):
    p = tmp_path / "rules.json"
    p.write_text(json.dumps(data, indent=1))
    return p


@pytest.mark.parametrize("mutate,msg", [
    (lambda r: r.update(actoin="typo"), "actoin"),                                   # misspelt field: fails loudly
    (lambda r: r["when"]["all"][0].update(op="equals"), "op"),
    (lambda r: r["when"]["all"][0].pop("value"), "needs a value"),
    (lambda r: r.update(priority="URGENT"), "priority"),
    (lambda r: r.update(when={}), "at least one of all / any / not"),
    (lambda r: r.update(per_feature=True), "{feature}"),
    (lambda r: r["when"]["all"][0].update(op="in"), "list value"),
])
def test_invalid_rules_fail_with_one_line(tmp_path, mutate, msg):
    rule = json.loads(json.dumps(RULE))
    mutate(rule)
    with pytest.raises(InputError) as ei:
        load_rules(_write(tmp_path, {"version": 1, "rules": [rule]}))
    assert msg in str(ei.value) and "\n" not in str(ei.value)


def test_duplicate_ids_and_bad_files(tmp_path):
    with pytest.raises(InputError, match="duplicate rule id: r1"):
        load_rules(_write(tmp_path, {"version": 1, "rules": [RULE, RULE]}))
    bad = tmp_path / "r.toml"
    bad.write_text("version = [")
    with pytest.raises(InputError, match="not valid TOML"):
        load_rules(bad)
    with pytest.raises(InputError, match="cannot read"):
        load_rules(tmp_path / "missing.toml")


def test_a_rules_file_drives_recommend_and_json_is_not_a_rules_format(tmp_path):
    with pytest.raises(InputError, match="not valid TOML"):
        load_rules(_write_json(tmp_path, {"version": 1, "rules": [RULE]}))
    rs = load_rules(_write(tmp_path, {"version": 1, "rules": [RULE]}))
    rep = make_report("accuracy_drop")
    assert recommend(rep, scope="s", ruleset=rs) == []
    rep.rca.root_cause = "x"  # type: ignore[assignment]
    assert [r.rule_id for r in recommend(rep, scope="s", ruleset=rs)] == ["r1"]


def test_every_knowledge_id_is_a_real_document():
    docs = {c.doc_id: c.path for c in load_corpus()}
    for rule in default_rules().rules:
        assert rule.knowledge_id in docs, rule.id
        assert docs[rule.knowledge_id].startswith("knowledge/monitoring/")


@pytest.mark.parametrize("cause", [c for c in ROOT_CAUSES if c != "none"])
def test_every_root_cause_gets_a_cited_actionable_recommendation(cause):
    rep = make_report(cause, error_rate=0.3, error_kinds={"http_error": 45})
    recs = recommend(rep, scope="incident:1")
    assert recs, cause
    assert all(r.status == "pending" and r.priority != "NONE" and r.knowledge_id for r in recs)
    assert all("Evidence:" in r.rationale and cause in r.rationale and "150 samples" in r.rationale for r in recs)


def test_healthy_report_gets_no_recommendation():
    assert recommend(make_report("none"), scope="x") == []


def test_rationale_cites_this_incidents_numbers():
    rep = make_report("accuracy_drop", accuracy=0.62)
    rb = next(r for r in recommend(rep, scope="i") if r.action_type == "rollback")
    assert "accuracy 0.95 -> 0.62" in rb.rationale
    up = next(r for r in recommend(rep, scope="i") if r.action_type == "fix_upstream")
    assert up.action == "Fix the upstream pipeline for feature mean radius"
    assert "'mean radius' (ks, p=9.6e-08, effect 0.44)" in up.rationale      # the adjusted p-value is cited


def test_per_feature_rules_expand_and_stay_capped():
    rep = make_report("feature_drift", features=tuple(f"f{i}" for i in range(6)))
    ups = [r for r in recommend(rep, scope="i") if r.action_type == "fix_upstream"]
    assert [r.model_extra["feature"] for r in ups] == ["f0", "f1", "f2"]
    assert len({r.id for r in ups}) == 3


def test_same_action_from_two_rules_is_merged_and_the_more_specific_wins():
    rep = make_report("latency_degradation", "high", features=(), latency_p95=95.0)
    plain = recommend(rep, scope="i", protocol="generic")
    kserve = recommend(rep, scope="i", protocol="kserve-v1")
    scale_plain = [r for r in plain if r.action_type == "scale_serving"]
    scale_k = [r for r in kserve if r.action_type == "scale_serving"]
    assert len(scale_plain) == len(scale_k) == 1
    assert scale_k[0].rule_id == "latency-scale-kserve" and "InferenceService" in scale_k[0].action
    assert set(scale_k[0].model_extra["rule_ids"]) == {"latency-scale", "latency-scale-kserve"}
    assert scale_plain[0].id == scale_k[0].id                                 # one action, one id


def test_severity_sets_priority_and_ranking_is_by_priority():
    crit = recommend(make_report("accuracy_drop", "critical"), scope="i")
    low = recommend(make_report("accuracy_drop", "low"), scope="i")
    assert next(r for r in crit if r.action_type == "rollback").priority == "CRITICAL"
    assert next(r for r in low if r.action_type == "rollback").priority == "MEDIUM"
    for recs in (crit, low):
        ranks = [priority_rank(r.priority) for r in recs]
        assert ranks == sorted(ranks)


def test_stable_ids_depend_on_endpoint_incident_and_action():
    rep = make_report("accuracy_drop")
    a = [r.id for r in recommend(rep, scope="incident:1")]
    assert a == [r.id for r in recommend(rep, scope="incident:1")]
    assert not set(a) & {r.id for r in recommend(rep, scope="incident:2")}
    other = make_report("accuracy_drop", endpoint="http://b/p")
    assert not set(a) & {r.id for r in recommend(other, scope="incident:1")}


def test_preference_reorders_only_within_a_priority():
    rep = make_report("accuracy_drop", "high")
    base = [r.action_type for r in recommend(rep, scope="i")]
    pref = {"retrain": Preference(successes=3, trials=3, note="History: worked 3/3.")}
    new = recommend(rep, scope="i", preferences=pref)
    assert [r.action_type for r in new].index("retrain") < [r.action_type for r in new].index("rollback")
    assert base.index("rollback") < base.index("retrain")
    assert next(r for r in new if r.action_type == "retrain").rationale.endswith("History: worked 3/3.")
    failing = {"rollback": Preference(successes=0, trials=4)}
    assert [r.action_type for r in recommend(rep, scope="i", preferences=failing)][-1] == "rollback"


def test_accept_baseline_only_when_quality_held():
    """Quality = the detection's verdicts (a flagged loss is a contributing cause), not raw noisy deltas."""
    ok = make_report("feature_drift", "high", accuracy=0.95, confidence=0.93)
    noisy = make_report("feature_drift", "high", accuracy=0.93, confidence=0.93)     # not significant
    assert "accept_baseline" in [r.action_type for r in recommend(ok, scope="i")]
    assert "accept_baseline" in [r.action_type for r in recommend(noisy, scope="i")]
    for cause in ("accuracy_drop", "confidence_drop", "error_spike", "silent_failure"):
        bad = make_report("feature_drift", "medium", accuracy=0.80, confidence=0.93)
        bad.rca.contributing = [cause]
        assert "accept_baseline" not in [r.action_type for r in recommend(bad, scope="i")], cause
    crit = make_report("feature_drift", "critical", accuracy=0.95, confidence=0.93)
    assert "accept_baseline" not in [r.action_type for r in recommend(crit, scope="i")]
    unlabeled = make_report("feature_drift", "medium", accuracy=None, confidence=0.93)
    assert "accept_baseline" in [r.action_type for r in recommend(unlabeled, scope="i")]


def test_protocol_and_error_mix_are_facts():
    rep = make_report("error_spike", error_rate=0.4, error_kinds={"timeout": 50, "http_error": 10})
    facts = build_facts(rep, protocol="mlflow")
    assert facts["protocol"] == "mlflow" and facts["error_share"]["timeout"] == pytest.approx(50 / 150)
    fired = {r.id for r in fired_rules(default_rules(), facts)}
    assert {"errors-investigate", "errors-timeouts-scale"} <= fired and "errors-rollback" not in fired


def test_contributing_cause_gets_its_own_lower_priority():
    rep = make_report("feature_drift", "critical", accuracy=0.95, confidence=0.93)
    rep.rca.contributing = ["latency_degradation"]
    scale = next(r for r in recommend(rep, scope="i") if r.action_type == "scale_serving")
    assert scale.priority == "LOW" and scale.rule_id == "latency-contributing-scale"
    main = make_report("latency_degradation", "critical", features=(), latency_p95=300.0)
    assert next(r for r in recommend(main, scope="i") if r.action_type == "scale_serving").priority == "CRITICAL"


def test_per_feature_actions_only_for_drifted_features():
    rep = make_report("accuracy_drop", features=("mean radius",))
    rep.drift["features"]["mean radius"]["drift_detected"] = False    # attributed, but did not drift
    assert "fix_upstream" not in [r.action_type for r in recommend(rep, scope="i")]
