"""One change, one incident (issue 11 item 2): inside a sequential episode later analyses refine the open
incident in place (audited), healthy windowed reports do not close it, a recovery alarm resolves it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from gov_helpers import make_report

from app.governance import audit, list_incidents, on_report


def _refined(store):
    return [e for e in audit.entries(store) if e.event == "incident_refined"]


def test_one_change_is_one_incident_refined_in_place_and_audited(store, settings):
    on_report(store, make_report("accuracy_drop", "medium", created_at=100.0), settings,
              change_point=(90.0, 7), episode="change")
    on_report(store, make_report("feature_drift", "low", created_at=110.0), settings,
              change_point=(90.0, 7), episode="change")          # a weak finding of the same change
    on_report(store, make_report("none", created_at=120.0), settings, change_point=(90.0, 7), episode="ongoing")
    on_report(store, make_report("latency_degradation", "critical", created_at=130.0), settings,
              change_point=(90.0, 7), episode="ongoing")
    incs = list_incidents(store)
    assert len(incs) == 1                                        # never a second incident, never superseded
    inc = incs[0]
    assert inc.status == "open"                                  # a healthy window did not end the episode
    assert inc.severity == "critical" and inc.alert_count == 3   # three alerts; the worst severity
    assert inc.root_cause == "latency_degradation"               # the worst finding names it
    assert (inc.change_point_at, inc.detection_delay_samples) == (90.0, 7)
    moves = [(e.payload["incident_id"], e.payload["root_cause"], e.payload["severity"]) for e in _refined(store)]
    assert moves == [(inc.id, ["accuracy_drop", "latency_degradation"], ["medium", "critical"])]


def test_a_weaker_finding_never_replaces_the_root_cause(store, settings):
    on_report(store, make_report("accuracy_drop", "critical", created_at=100.0), settings, episode="change")
    on_report(store, make_report("prediction_drift", "low", created_at=110.0), settings, episode="ongoing")
    inc = list_incidents(store)[0]
    assert (inc.root_cause, inc.severity, inc.alert_count) == ("accuracy_drop", "critical", 2)
    assert _refined(store) == []                                 # nothing changed: nothing to audit


def test_the_recovery_alarm_resolves_and_its_report_opens_nothing(store, settings):
    on_report(store, make_report("accuracy_drop", created_at=100.0), settings, episode="change")
    rep = on_report(store, make_report("prediction_drift", "low", created_at=150.0), settings, episode="recovered")
    incs = list_incidents(store)
    assert len(incs) == 1 and incs[0].status == "resolved" and incs[0].outcome == "recovered"
    assert rep.incident_id == incs[0].id
    on_report(store, make_report("none", created_at=160.0), settings, episode="recovered")   # nothing open: no-op
    assert len(list_incidents(store)) == 1
    closed = [e for e in audit.entries(store) if e.event == "incident_closed"]
    assert [e.payload["outcome"] for e in closed] == ["recovered"]


def test_without_an_episode_the_cadence_rules_hold(store, settings):
    on_report(store, make_report("accuracy_drop", created_at=100.0), settings)
    on_report(store, make_report("latency_degradation", created_at=110.0), settings)
    assert [(i.root_cause, i.outcome) for i in list_incidents(store)] == [
        ("latency_degradation", None), ("accuracy_drop", "superseded")]


def test_an_unknown_episode_is_refused(store, settings):
    with pytest.raises(ValueError):
        on_report(store, make_report("accuracy_drop"), settings, episode="maybe")


def test_the_alarm_opens_the_incident_when_the_window_shows_nothing_yet(store, settings):
    from app.analysis.headline import alarm_evidence

    quiet = alarm_evidence(make_report("none", created_at=100.0), signal="correctness",
                           statement="rate 1.0% -> 41.0%, CUSUM 12.9 >= threshold 12.6, 6 samples since the change point")
    on_report(store, quiet, settings, change_point=(95.0, 6), episode="change")
    on_report(store, make_report("accuracy_drop", "high", created_at=120.0), settings, episode="change")
    incs = list_incidents(store)
    assert len(incs) == 1 and incs[0].status == "open"              # the alarm opened it; the suite refined it
    assert (incs[0].root_cause, incs[0].severity) == ("accuracy_drop", "high")
    assert (incs[0].change_point_at, incs[0].detection_delay_samples) == (95.0, 6)
    assert "CUSUM 12.9" in quiet.rca.evidence[-1] and "sequential test on correctness" in quiet.rca.failure_reason
    seen = alarm_evidence(make_report("latency_degradation", "high"), signal="correctness", statement="S >= h")
    assert seen.rca.root_cause == "latency_degradation"               # a window finding stays the finding
    conf = alarm_evidence(make_report("none"), signal="confidence", statement="scale x1.5, CUSUM 13 >= 12")
    assert conf.rca.root_cause == "none" and conf.rca.evidence[-1].startswith("sequential confidence")
