"""Incidents group consecutive alerts; outcomes are tracked; similar past incidents are found and preferred."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from gov_helpers import EP, make_report

from app.governance import approve, audit, list_incidents, list_recommendations, on_report, similar_to_incident
from app.governance.similar import similarity

OTHER = "http://10.0.0.7:8080/v2/models/churn/infer"


def test_consecutive_alerts_are_one_incident_with_stable_recommendation_ids(store, settings):
    reps = [on_report(store, make_report("accuracy_drop", created_at=100.0 + i), settings) for i in range(5)]
    incs = list_incidents(store)
    assert len(incs) == 1 and incs[0].alert_count == 5 and incs[0].status == "open"
    assert incs[0].first_report_id == reps[0].report_id and incs[0].last_report_id == reps[-1].report_id
    assert all([r.id for r in rep.recommendations] == [r.id for r in reps[0].recommendations] for rep in reps)
    assert len(list_recommendations(store)) == len(reps[0].recommendations)      # stored once
    assert sum(e.event == "recommended" for e in audit.entries(store)) == 1
    assert {r.incident_id for r in reps} == {incs[0].id}
    saved = store.list_reports(EP, limit=10)
    assert all(len(r.recommendations) == len(reps[0].recommendations) for r in saved)   # contract: carried


def test_a_decision_shows_in_later_reports_of_the_same_incident(store, settings):
    first = on_report(store, make_report("accuracy_drop"), settings)
    approve(store, settings, first.recommendations[0].id, by="ana", reason="go", execute_now=False)
    later = on_report(store, make_report("accuracy_drop"), settings)
    assert later.recommendations[0].status == "approved"
    assert store.latest_report(EP).recommendations[0].status == "approved"


def test_healthy_report_resolves_and_has_no_recommendation(store, settings):
    on_report(store, make_report("accuracy_drop"), settings)
    healthy = on_report(store, make_report("none"), settings)
    assert healthy.recommendations == []
    inc = list_incidents(store)[0]
    assert inc.status == "resolved" and inc.outcome == "recovered" and inc.resolved_at is not None
    assert on_report(store, make_report("none"), settings).incident_id is None


def test_resolution_after_n_healthy_reports(store, settings):
    s = settings.model_copy(update={})
    object.__setattr__(s, "incident_resolve_after", 3)   # the setting the lead may expose as MLFI_INCIDENT_RESOLVE_AFTER
    on_report(store, make_report("latency_degradation", features=(), latency_p95=90.0), s)
    for _ in range(2):
        on_report(store, make_report("none"), s)
        assert list_incidents(store)[0].status == "open"
    on_report(store, make_report("none"), s)
    assert list_incidents(store)[0].status == "resolved"


def test_another_root_cause_supersedes_the_open_incident(store, settings):
    on_report(store, make_report("accuracy_drop"), settings)
    on_report(store, make_report("error_spike", error_rate=0.5, error_kinds={"timeout": 75}), settings)
    new, old = list_incidents(store)
    assert old.status == "resolved" and old.outcome == "superseded"
    assert new.status == "open" and new.root_cause == "error_spike"


def test_incidents_are_per_endpoint(store, settings):
    on_report(store, make_report("accuracy_drop"), settings)
    on_report(store, make_report("accuracy_drop", endpoint=OTHER), settings)
    assert len(list_incidents(store, status="open")) == 2


def test_outcome_of_an_approved_action_is_recorded(store, settings):
    rep = on_report(store, make_report("accuracy_drop", accuracy=0.60), settings)
    rb = next(r for r in rep.recommendations if r.action_type == "rollback")
    approve(store, settings, rb.id, by="ana", reason="go", execute_now=False)
    on_report(store, make_report("none"), settings)
    rec = next(r for r in list_recommendations(store) if r.id == rb.id)
    assert rec.outcome["result"] == "recovered" and rec.outcome["metric"] == "accuracy"
    assert rec.outcome["before"] == pytest.approx(0.60) and rec.outcome["after"] == pytest.approx(0.95)
    closed = [e for e in audit.entries(store) if e.event == "incident_closed"][-1]
    assert closed.payload["action_outcomes"][0]["recommendation_id"] == rb.id


def test_action_that_did_not_help_is_recorded_as_not_recovered(store, settings):
    rep = on_report(store, make_report("accuracy_drop"), settings)
    rt = next(r for r in rep.recommendations if r.action_type == "retrain")
    approve(store, settings, rt.id, by="ana", reason="go", execute_now=False)
    on_report(store, make_report("error_spike", error_rate=0.5, error_kinds={"http_error": 75}), settings)
    rec = next(r for r in list_recommendations(store) if r.id == rt.id)
    assert rec.outcome["result"] == "not_recovered"


def test_similarity_score():
    assert similarity("feature_drift", ["a"], "high", "feature_drift", ["a"], "high") == 1.0
    same_cause = similarity("feature_drift", ["a"], "high", "feature_drift", ["b"], "low")
    other_cause = similarity("feature_drift", ["a"], "high", "accuracy_drop", ["a"], "high")
    assert 0.5 <= same_cause < 1.0 and other_cause < same_cause


def test_similar_incident_lookup_finds_a_planted_past_incident(store, settings):
    # planted: months ago, on ANOTHER endpoint, the same root cause on the same feature, fixed by a rollback
    past = on_report(store, make_report("feature_drift", features=("worst area", "mean radius"), endpoint=OTHER,
                                        created_at=1_000.0), settings)
    rb = next(r for r in past.recommendations if r.action_type == "fix_upstream")
    approve(store, settings, rb.id, by="ana", reason="fixed unit bug", execute_now=False)
    on_report(store, make_report("none", endpoint=OTHER, created_at=2_000.0), settings)
    # noise: unrelated incidents
    on_report(store, make_report("latency_degradation", features=(), endpoint=OTHER, latency_p95=70.0), settings)
    on_report(store, make_report("error_spike", endpoint="http://z/p", error_rate=0.3, features=("mean texture",),
                                 error_kinds={"timeout": 40}), settings)
    now = on_report(store, make_report("feature_drift", features=("mean radius",)), settings)
    sims = now.similar_incidents
    assert sims and sims[0]["incident_id"] == past.incident_id
    assert sims[0]["endpoint"] == OTHER and sims[0]["same_endpoint"] is False and sims[0]["outcome"] == "recovered"
    assert sims[0]["actions"][0]["id"] == rb.id and sims[0]["actions"][0]["outcome"] == "recovered"
    assert all(s["root_cause"] == "feature_drift" for s in sims)
    assert [s.incident_id for s in similar_to_incident(store, now.incident_id)] == [s["incident_id"] for s in sims]


class _RanOk:
    """An in-process executor that applies to everything and succeeds (the action actually ran)."""

    name = "test"

    def applies(self, rec):
        return True

    def run(self, store, settings, rec, payload):
        return True, "done", {}


def test_recovery_is_credited_only_to_an_action_that_ran(store, settings):
    """An approved retrain that no executor ran is not "followed by recovery"; one that ran is."""
    for i, executors in enumerate(([], [_RanOk()])):
        ep = f"http://past{i}/p"
        rep = on_report(store, make_report("accuracy_drop", endpoint=ep), settings)
        rt = next(r for r in rep.recommendations if r.action_type == "retrain")
        approve(store, settings, rt.id, by="ana", reason="retrain", executors=executors)
        on_report(store, make_report("none", endpoint=ep), settings)
        rec = next(r for r in list_recommendations(store) if r.id == rt.id)
        assert rec.outcome["result"] == "recovered" and rec.outcome["ran"] is bool(executors)
    new = on_report(store, make_report("accuracy_drop", endpoint="http://new/p"), settings)
    retrain = next(r for r in new.recommendations if r.action_type == "retrain")
    assert "recovery in 1 of 1 past accuracy_drop incident(s)" in retrain.rationale


def test_ranking_prefers_actions_that_resolved_the_same_root_cause_before(store, settings):
    """Two HIGH actions for accuracy_drop: rollback ranks first by weight; after retrain worked twice it leads."""
    fresh = on_report(store, make_report("accuracy_drop", endpoint="http://fresh/p"), settings)
    order = [r.action_type for r in fresh.recommendations]
    assert order.index("rollback") < order.index("retrain")
    for i in range(2):
        ep = f"http://past{i}/p"
        rep = on_report(store, make_report("accuracy_drop", endpoint=ep), settings)
        rt = next(r for r in rep.recommendations if r.action_type == "retrain")
        approve(store, settings, rt.id, by="ana", reason="retrain", executors=[_RanOk()])   # it ran
        on_report(store, make_report("none", endpoint=ep), settings)
    new = on_report(store, make_report("accuracy_drop", endpoint="http://new/p"), settings)
    order = [r.action_type for r in new.recommendations]
    assert order.index("retrain") < order.index("rollback")
    retrain = next(r for r in new.recommendations if r.action_type == "retrain")
    assert "recovery in 2 of 2 past accuracy_drop incident(s)" in retrain.rationale
    assert retrain.priority == "HIGH"          # preference reorders within a priority, never inflates it


def test_preview_writes_nothing_and_predicts_the_stored_ids(store, settings):
    first = on_report(store, make_report("accuracy_drop"), settings)
    n_audit, n_reports = audit.count(store), len(store.list_reports(EP))
    prev = on_report(store, make_report("accuracy_drop"), settings, persist=False)
    assert [r.id for r in prev.recommendations] == [r.id for r in first.recommendations]
    assert audit.count(store) == n_audit and len(store.list_reports(EP)) == n_reports
    assert list_incidents(store)[0].alert_count == 1
    fresh = on_report(store, make_report("accuracy_drop", endpoint="http://never/seen"), settings, persist=False)
    assert fresh.recommendations and store.find_endpoint("http://never/seen") is None
